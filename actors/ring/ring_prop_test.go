package ring

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// Property tests. rapid prints the failing seed and a minimal example; replay
// with go test -run <test> -rapid.seed=N.

// tokenGen favours the edges of the token space, where wrap-around bugs live.
var tokenGen = rapid.OneOf(
	rapid.Uint32(),
	rapid.Uint32Range(0, 16),
	rapid.Uint32Range(math.MaxUint32-16, math.MaxUint32),
)

// drawCluster draws 1-3 DCs of 1-3 racks of 1-4 nodes holding 1-3 tokens
// each, listed in a random order, and a random local node.
func drawCluster(t *rapid.T) Config {
	names := []string{"us-east", "eu-west", "ap-south", "b", "a"}
	dcs := rapid.SliceOfNDistinct(rapid.SampledFrom(names), 1, 3, rapid.ID[string]).Draw(t, "dcs")
	var nodes []Node
	for _, dc := range dcs {
		racks := rapid.SliceOfNDistinct(rapid.SampledFrom(names), 1, 3, rapid.ID[string]).Draw(t, "racks")
		for _, rack := range racks {
			perNode := rapid.SliceOfN(rapid.IntRange(1, 3), 1, 4).Draw(t, "tokens per node")
			total := 0
			for _, k := range perNode {
				total += k
			}
			tokens := rapid.SliceOfNDistinct(tokenGen, total, total, rapid.ID[uint32]).Draw(t, "tokens")
			for i, k := range perNode {
				nodes = append(nodes, Node{
					ID: fmt.Sprintf("%s/%s/%d", dc, rack, i), DC: dc, Rack: rack,
					Tokens: tokens[:k:k],
				})
				tokens = tokens[k:]
			}
		}
	}
	nodes = rapid.Permutation(nodes).Draw(t, "node order")
	local := rapid.SampledFrom(nodes).Draw(t, "local").ID
	return Config{Nodes: nodes, Local: local}
}

// naiveOwner is the ownership rule written as plainly as possible: the
// holder of the smallest token >= t, or else of the smallest token.
func naiveOwner(nodes []Node, dc, rack string, t uint32) NodeID {
	var best, lowest NodeID
	var bestTok, lowestTok uint32
	haveBest, haveLowest := false, false
	for _, n := range nodes {
		if n.DC != dc || n.Rack != rack {
			continue
		}
		for _, tok := range n.Tokens {
			if tok >= t && (!haveBest || tok < bestTok) {
				best, bestTok, haveBest = n.ID, tok, true
			}
			if !haveLowest || tok < lowestTok {
				lowest, lowestTok, haveLowest = n.ID, tok, true
			}
		}
	}
	if haveBest {
		return best
	}
	return lowest
}

func nodeByID(nodes []Node, id NodeID) (Node, bool) {
	for _, n := range nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// (a) Every token and every key has exactly one owner per rack, it is a
// member of that rack, and it is the one the plain rule names.
func TestPropOneOwnerPerRackInRack(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawCluster(t)
		cfg.Hash = rapid.SampledFrom(Hashes()).Draw(t, "hash")
		r, err := New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		key := rapid.SliceOfN(rapid.Byte(), 1, 40).Draw(t, "key")
		tok := rapid.OneOf(tokenGen, rapid.Just(r.Token(key))).Draw(t, "token")
		for _, dc := range r.DCs() {
			for _, rack := range r.Racks(dc) {
				got, ok := r.OwnerInRack(dc, rack, tok)
				if !ok {
					t.Fatalf("rack %s/%s listed but not found", dc, rack)
				}
				n, _ := nodeByID(cfg.Nodes, got)
				if n.DC != dc || n.Rack != rack {
					t.Fatalf("owner %q of %d in %s/%s is in %s/%s", got, tok, dc, rack, n.DC, n.Rack)
				}
				if want := naiveOwner(cfg.Nodes, dc, rack, tok); got != want {
					t.Fatalf("owner of %d in %s/%s = %q, plain rule says %q", tok, dc, rack, got, want)
				}
				byKey, _ := r.KeyOwnerInRack(dc, rack, key)
				if want := naiveOwner(cfg.Nodes, dc, rack, r.Token(key)); byKey != want {
					t.Fatalf("owner of key %x in %s/%s = %q, plain rule says %q", key, dc, rack, byKey, want)
				}
			}
		}
	})
}

// inRanges reports whether t falls in one of the ranges (pred(T), T] of the
// given tokens on a continuum holding all, with wrap-around.
func inRanges(t uint32, mine, all []uint32) bool {
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	for _, T := range mine {
		i, _ := slices.BinarySearch(sorted, T)
		if i == 0 {
			// The smallest token owns [0, T] and (largest, max].
			if t <= T || t > sorted[len(sorted)-1] {
				return true
			}
		} else if sorted[i-1] < t && t <= T {
			return true
		}
	}
	return false
}

// (b) Adding a node with fresh tokens to one rack moves exactly the tokens in
// the new node's ranges, all of them to the new node, and nothing in other racks.
func TestPropAddNodeMovesOnlyItsRanges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawCluster(t)
		before, err := New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		host := rapid.SampledFrom(cfg.Nodes).Draw(t, "rack of new node")
		var rackTokens []uint32
		for _, n := range cfg.Nodes {
			if n.DC == host.DC && n.Rack == host.Rack {
				rackTokens = append(rackTokens, n.Tokens...)
			}
		}
		fresh := rapid.Custom(func(t *rapid.T) uint32 {
			v := tokenGen.Draw(t, "fresh")
			if slices.Contains(rackTokens, v) {
				t.Skip("token already taken")
			}
			return v
		})
		newTokens := rapid.SliceOfNDistinct(fresh, 1, 3, rapid.ID[uint32]).Draw(t, "new tokens")
		added := Node{ID: "new", DC: host.DC, Rack: host.Rack, Tokens: newTokens}
		after, err := New(Config{Nodes: append(slices.Clone(cfg.Nodes), added), Local: cfg.Local})
		if err != nil {
			t.Fatalf("New with added node: %v", err)
		}
		all := append(slices.Clone(rackTokens), newTokens...)

		// Probe tokens next to the new ones as well as anywhere.
		near := rapid.Custom(func(t *rapid.T) uint32 {
			base := rapid.SampledFrom(newTokens).Draw(t, "base")
			return base + uint32(rapid.IntRange(-1, 1).Draw(t, "delta"))
		})
		probes := rapid.SliceOfN(rapid.OneOf(tokenGen, near), 1, 20).Draw(t, "probes")
		moved := 0
		for _, tok := range probes {
			for _, dc := range before.DCs() {
				for _, rack := range before.Racks(dc) {
					o1, _ := before.OwnerInRack(dc, rack, tok)
					o2, _ := after.OwnerInRack(dc, rack, tok)
					if dc != host.DC || rack != host.Rack {
						if o1 != o2 {
							t.Fatalf("token %d in untouched rack %s/%s moved %q -> %q", tok, dc, rack, o1, o2)
						}
						continue
					}
					if o1 != o2 && o2 != "new" {
						t.Fatalf("token %d moved %q -> %q, not to the new node", tok, o1, o2)
					}
					if want := inRanges(tok, newTokens, all); (o2 == "new") != want {
						t.Fatalf("token %d: new node owns it = %v, in its ranges = %v", tok, o2 == "new", want)
					}
					if o1 != o2 {
						moved++
					}
				}
			}
		}
		t.Logf("%d probes moved", moved)
	})
}

// (c) Replicas lists every rack exactly once, local rack first, then local DC
// racks by name, then remote DCs and racks by name; each entry is that rack's
// key owner; and the result does not depend on the order nodes were listed in.
func TestPropReplicas(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawCluster(t)
		tag, _ := ParseHashTag("{}")
		cfg.HashTag = tag
		r, err := New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		key := rapid.OneOf(
			rapid.SliceOfN(rapid.Byte(), 0, 30),
			rapid.Just([]byte("{}")),
			rapid.Just([]byte("a{}b")),
		).Draw(t, "key")
		got := r.Replicas(key, nil)

		type dcRack struct{ dc, rack string }
		var racks []dcRack
		for _, n := range cfg.Nodes {
			if !slices.Contains(racks, dcRack{n.DC, n.Rack}) {
				racks = append(racks, dcRack{n.DC, n.Rack})
			}
		}
		if len(got) != len(racks) || len(got) != r.NumRacks() {
			t.Fatalf("%d replicas for %d racks", len(got), len(racks))
		}
		local, _ := nodeByID(cfg.Nodes, cfg.Local)
		rank := func(x dcRack) int {
			switch {
			case x.dc == local.DC && x.rack == local.Rack:
				return 0
			case x.dc == local.DC:
				return 1
			}
			return 2
		}
		wantOrder := slices.Clone(racks)
		slices.SortFunc(wantOrder, func(a, b dcRack) int {
			return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.dc, b.dc), cmp.Compare(a.rack, b.rack))
		})
		hashed := tag.Extract(key)
		for i, rep := range got {
			if (dcRack{rep.DC, rep.Rack}) != wantOrder[i] {
				t.Fatalf("replica %d is %s/%s, want %v (all: %+v)", i, rep.DC, rep.Rack, wantOrder[i], got)
			}
			if rep.LocalDC != (rep.DC == local.DC) {
				t.Fatalf("replica %d LocalDC = %v in %s, local DC %s", i, rep.LocalDC, rep.DC, local.DC)
			}
			want := naiveOwner(cfg.Nodes, rep.DC, rep.Rack, r.Token(key))
			switch {
			case len(hashed) == 0 && i == 0:
				want = cfg.Local
			case len(hashed) == 0:
				want = naiveOwner(cfg.Nodes, rep.DC, rep.Rack, 0)
			}
			if rep.Node != want {
				t.Fatalf("replica %d in %s/%s is %q, want %q", i, rep.DC, rep.Rack, rep.Node, want)
			}
		}

		// Deterministic: again, and from a reshuffled node list.
		if again := r.Replicas(key, nil); !slices.Equal(again, got) {
			t.Fatalf("second call differs: %+v vs %+v", again, got)
		}
		cfg.Nodes = rapid.Permutation(cfg.Nodes).Draw(t, "reshuffle")
		r2, err := New(cfg)
		if err != nil {
			t.Fatalf("New reshuffled: %v", err)
		}
		if other := r2.Replicas(key, nil); !slices.Equal(other, got) {
			t.Fatalf("node order changed replicas: %+v vs %+v", other, got)
		}
	})
}
