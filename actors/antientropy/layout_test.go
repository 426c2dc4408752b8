package antientropy

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/dynonode/dynonode/actors/ring"
)

// drawCluster draws 1-2 DCs of 1-3 racks of 1-3 nodes with random
// distinct tokens per rack.
func drawCluster(t *rapid.T) []ring.Node {
	var nodes []ring.Node
	for d := range rapid.IntRange(1, 2).Draw(t, "dcs") {
		for r := range rapid.IntRange(1, 3).Draw(t, "racks") {
			n := rapid.IntRange(1, 3).Draw(t, "nodes")
			tokens := rapid.SliceOfNDistinct(rapid.Uint32(), n, n, rapid.ID[uint32]).Draw(t, "tokens")
			for i, tok := range tokens {
				nodes = append(nodes, ring.Node{ID: fmt.Sprintf("d%d-r%d-n%d", d, r, i), DC: fmt.Sprintf("dc%d", d),
					Rack: fmt.Sprintf("r%d", r), Tokens: []uint32{tok}})
			}
		}
	}
	return nodes
}

func layoutFor(t require.TestingT, nodes []ring.Node, local string) *layout {
	r, err := ring.New(ring.Config{Nodes: nodes, Local: local})
	require.NoError(t, err)
	return newLayout(r)
}

// TestLayoutSegmentsHaveOneOwnerPerRack: every token's owner in every
// rack is its segment's owner there, so two owners of a segment hold the
// same keys; the sharing is symmetric and the fingerprint is the same
// whichever node the ring is built for.
func TestLayoutSegmentsHaveOneOwnerPerRack(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes := drawCluster(t)
		lays := map[string]*layout{}
		for _, n := range nodes {
			lays[n.ID] = layoutFor(t, nodes, n.ID)
		}
		l := lays[nodes[0].ID]
		for _, tok := range append(rapid.SliceOf(rapid.Uint32()).Draw(t, "keys"), 0, 1<<32-1) {
			seg := l.segment(tok)
			for _, n := range nodes {
				want, _ := l.ring.OwnerInRack(n.DC, n.Rack, tok)
				require.Equal(t, want, l.owner(seg, n.DC, n.Rack), "token %d segment %d rack %s/%s", tok, seg, n.DC, n.Rack)
			}
		}
		for _, a := range nodes {
			require.Equal(t, l.sum, lays[a.ID].sum)
			for _, b := range nodes {
				ab, ba := lays[a.ID].shared(b), lays[b.ID].shared(a)
				require.Equal(t, ab, ba, "%s and %s", a.ID, b.ID)
				if a.DC == b.DC && a.Rack == b.Rack {
					require.Empty(t, ab)
				}
				for _, i := range ab {
					require.True(t, lays[a.ID].own[i] && lays[b.ID].own[i])
				}
			}
		}
	})
}

// TestLayoutFingerprintSeesTokens: moving one token changes the layout's
// fingerprint (two nodes with different rings never compare digests).
func TestLayoutFingerprintSeesTokens(t *testing.T) {
	nodes := []ring.Node{{ID: "a", DC: "dc", Rack: "r1", Tokens: []uint32{0}}, {ID: "b", DC: "dc", Rack: "r2", Tokens: []uint32{0}}}
	before := layoutFor(t, nodes, "a").sum
	nodes[1].Tokens = []uint32{7}
	require.NotEqual(t, before, layoutFor(t, nodes, "a").sum)
}

// TestLeafIgnoresInPlaceMark: a copied value (which loses the in-place
// mark) digests as its source; another version does not.
func TestLeafIgnoresInPlaceMark(t *testing.T) {
	kh := keyHash([]byte("k"))
	require.Equal(t, leafOf(kh, []byte("00000000000000010000000an")), leafOf(kh, []byte("r00000000000000010000000an")))
	require.NotEqual(t, leafOf(kh, []byte("00000000000000010000000an")), leafOf(kh, []byte("00000000000000020000000an")))
	require.NotEqual(t, leafOf(kh, []byte("00000000000000010000000an")), leafOf(keyHash([]byte("k2")), []byte("00000000000000010000000an")))
}
