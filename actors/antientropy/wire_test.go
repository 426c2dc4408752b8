package antientropy

import (
	"testing"

	"github.com/dynonode/dynonode/internal/wiretest"
	"pgregory.net/rapid"
)

// syncPlain is Sync as it was before it encoded itself: msgpack's
// reflection on it is the wire form to keep.
type syncPlain struct {
	Session uint64
	From    string
	Layout  uint64
	Horizon int64
	Bits    uint8
	Segs    []uint32
	Leaves  [][]uint64
}

func genSync() *rapid.Generator[Sync] {
	u := rapid.SampledFrom([]uint64{0, 1, 127, 128, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1<<64 - 1})
	i := rapid.SampledFrom([]int64{0, 1, -1, -32, -33, 127, 128, -129, 1 << 40, -1 << 40, 1<<63 - 1, -1 << 63})
	return rapid.Custom(func(t *rapid.T) Sync {
		s := Sync{Session: u.Draw(t, "session"), From: rapid.SampledFrom([]string{"", "dc1-r1-n1", "é\x00"}).Draw(t, "from"),
			Layout: u.Draw(t, "layout"), Horizon: i.Draw(t, "horizon"), Bits: uint8(u.Draw(t, "bits"))}
		if n := rapid.IntRange(-1, 8).Draw(t, "segs"); n >= 0 {
			s.Segs = make([]uint32, n)
			for k := range s.Segs {
				s.Segs[k] = uint32(u.Draw(t, "seg"))
			}
		}
		if n := rapid.IntRange(-1, 5).Draw(t, "leaves"); n >= 0 {
			s.Leaves = make([][]uint64, n)
			for k := range s.Leaves {
				if m := rapid.IntRange(-1, 6).Draw(t, "leaf"); m >= 0 {
					s.Leaves[k] = make([]uint64, m)
					for j := range s.Leaves[k] {
						s.Leaves[k][j] = u.Draw(t, "digest")
					}
				}
			}
		}
		return s
	})
}

// TestSyncWireIdentical: the hand-written codec writes reflection's bytes
// and reads them back to what reflection reads.
func TestSyncWireIdentical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		wiretest.Identical(t, genSync().Draw(t, "sync"), toPlain)
	})
}

// TestSyncDecodeLikeReflection: on damaged bytes the hand-written decoder
// accepts nothing reflection refuses, and decodes alike.
func TestSyncDecodeLikeReflection(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		wiretest.DecodesLikeReflection(t, toPlain(genSync().Draw(t, "sync")), toPlain)
	})
}

func toPlain(s Sync) syncPlain { return syncPlain(s) }
