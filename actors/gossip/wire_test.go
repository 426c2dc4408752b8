package gossip

import (
	"testing"

	"github.com/dynonode/dynonode/internal/wiretest"
	"pgregory.net/rapid"
)

// The shapes Digest and Member had before they encoded themselves:
// msgpack's reflection on these is the wire form to keep.
type (
	digestPlain struct{ Members []memberPlain }
	memberPlain struct {
		ID         string
		DC, Rack   string
		Tokens     []uint32
		State      State
		Generation uint64
		Heartbeat  uint64
		Left       bool
		Versions   uint8
	}
)

func plainDigest(g Digest) digestPlain {
	var p digestPlain
	if g.Members != nil {
		p.Members = make([]memberPlain, len(g.Members))
	}
	for i, m := range g.Members {
		p.Members[i] = memberPlain(m)
	}
	return p
}

func genDigest() *rapid.Generator[Digest] {
	str := rapid.SampledFrom([]string{"", "dc1-r1-n1", "dc1", "r2", "é\x00", string(make([]byte, 300))})
	num := rapid.SampledFrom([]uint64{0, 1, 127, 128, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1<<64 - 1})
	member := rapid.Custom(func(t *rapid.T) Member {
		m := Member{ID: str.Draw(t, "id"), DC: str.Draw(t, "dc"), Rack: str.Draw(t, "rack"),
			State: State(num.Draw(t, "state")), Generation: num.Draw(t, "gen"), Heartbeat: num.Draw(t, "hb"),
			Left: rapid.Bool().Draw(t, "left"), Versions: uint8(num.Draw(t, "versions"))}
		if n := rapid.IntRange(-1, 20).Draw(t, "tokens"); n >= 0 {
			m.Tokens = make([]uint32, n)
			for i := range m.Tokens {
				m.Tokens[i] = uint32(num.Draw(t, "token"))
			}
		}
		return m
	})
	return rapid.Custom(func(t *rapid.T) Digest {
		n := rapid.IntRange(-1, 12).Draw(t, "members")
		if n < 0 {
			return Digest{}
		}
		return Digest{Members: rapid.SliceOfN(member, n, n).Draw(t, "list")}
	})
}

// TestDigestWireIdentical: the hand-written codec writes reflection's bytes
// and reads them back to what reflection reads.
func TestDigestWireIdentical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		wiretest.Identical(t, genDigest().Draw(t, "digest"), plainDigest)
	})
}

// TestDigestDecodeLikeReflection: on damaged bytes the hand-written
// decoder accepts nothing reflection refuses, and decodes alike.
func TestDigestDecodeLikeReflection(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		wiretest.DecodesLikeReflection(t, plainDigest(genDigest().Draw(t, "digest")), plainDigest)
	})
}
