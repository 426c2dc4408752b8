package gossip

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
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

// codecEncode encodes v as msg.Codec's encoder is configured.
func codecEncode(t require.TestingT, v any) []byte {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	e.UseArrayEncodedStructs(true)
	e.UseCompactInts(true)
	require.NoError(t, e.Encode(v))
	return buf.Bytes()
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
		g := genDigest().Draw(t, "digest")
		want := codecEncode(t, plainDigest(g))
		require.Equal(t, want, codecEncode(t, g), "codec settings")
		got, err := msgpack.Marshal(g)
		require.NoError(t, err)
		require.Equal(t, want, got, "default settings")

		var plain digestPlain
		require.NoError(t, msgpack.Unmarshal(want, &plain))
		var back Digest
		require.NoError(t, msgpack.Unmarshal(want, &back))
		require.Equal(t, plain, plainDigest(back))
		require.Equal(t, g, back)
	})
}

// TestDigestDecodeLikeReflection: on damaged and foreign bytes the
// hand-written decoder accepts nothing reflection refuses, and what both
// accept decodes to the same value. (It refuses more: map-encoded structs,
// and lengths the input cannot back, before allocating.)
func TestDigestDecodeLikeReflection(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := codecEncode(t, plainDigest(genDigest().Draw(t, "digest")))
		for range rapid.IntRange(0, 4).Draw(t, "damage") {
			if len(b) == 0 {
				break
			}
			i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
			switch rapid.IntRange(0, 2).Draw(t, "how") {
			case 0:
				b[i] = rapid.Byte().Draw(t, "byte")
			case 1:
				b = b[:i]
			case 2: // an integer where members, nil, arrays were
				b = append(b[:i:i], append(codecEncode(t, num(rapid.Uint64().Draw(t, "n"))), b[i:]...)...)
			}
		}
		var plain digestPlain
		errPlain := msgpack.Unmarshal(b, &plain)
		var got Digest
		if err := msgpack.Unmarshal(b, &got); err == nil {
			require.NoError(t, errPlain, "% x: reflection refuses what the codec accepts", b)
			require.Equal(t, plain, plainDigest(got), "% x", b)
		}
	})
}

type num uint64
