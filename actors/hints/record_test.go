package hints

import (
	"bytes"
	"testing"

	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func genRecord() *rapid.Generator[Record] {
	return rapid.Custom(func(t *rapid.T) Record {
		if rapid.IntRange(0, 4).Draw(t, "kind") == 0 {
			return Record{Delivered: true, Seq: rapid.Uint64().Draw(t, "seq")}
		}
		return Record{
			Seq:     rapid.Uint64().Draw(t, "seq"),
			Created: rapid.Int64().Draw(t, "created"),
			Version: hlc.Version{TS: hlc.Timestamp{Wall: rapid.Int64().Draw(t, "wall"), Logical: rapid.Uint32().Draw(t, "logical")},
				Node: rapid.StringN(0, 30, -1).Draw(t, "node")},
			Args: rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 40), 1, 5).Draw(t, "args"),
		}
	})
}

func normalize(r Record) Record {
	for i, a := range r.Args {
		if a == nil {
			r.Args[i] = []byte{}
		}
	}
	return r
}

// Records written are read back as they were, in order, and every prefix
// of a log reads back as the records wholly in it, the rest reported
// damaged: a torn tail never yields a record that was not written.
func TestRecordsRoundTripAndTornTails(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		recs := rapid.SliceOfN(genRecord(), 1, 6).Draw(t, "records")
		var log []byte
		var ends []int
		for _, r := range recs {
			log = AppendRecord(log, r)
			ends = append(ends, len(log))
		}
		got, good, err := ReadRecords(log)
		require.NoError(t, err)
		require.Equal(t, len(log), good)
		require.Len(t, got, len(recs))
		for i := range recs {
			require.Equal(t, normalize(recs[i]), normalize(got[i]))
			if !recs[i].Delivered {
				require.Equal(t, RecordSize(recs[i].Args, recs[i].Version.Node), ends[i]-max(0, func() int {
					if i == 0 {
						return 0
					}
					return ends[i-1]
				}()), "RecordSize is the framed size")
			}
		}
		cut := rapid.IntRange(0, len(log)-1).Draw(t, "cut")
		got, good, err = ReadRecords(log[:cut])
		whole := 0
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		require.Len(t, got, whole)
		require.Equal(t, func() int {
			if whole == 0 {
				return 0
			}
			return ends[whole-1]
		}(), good)
		if good < cut {
			require.ErrorIs(t, err, ErrDamaged)
		} else {
			require.NoError(t, err)
		}
	})
}

// A flipped byte anywhere is caught: the records before it read back, the
// damaged one and those after do not.
func TestRecordsFlippedByte(t *testing.T) {
	var log []byte
	var ends []int
	for i := range 5 {
		log = AppendRecord(log, Record{Seq: uint64(i + 1), Created: 7, Version: hlc.Version{TS: hlc.Timestamp{Wall: 9}, Node: "n1"},
			Args: [][]byte{[]byte("SET"), []byte("k"), bytes.Repeat([]byte{'v'}, i)}})
		ends = append(ends, len(log))
	}
	for at := range log {
		for _, bit := range []byte{1, 0x80} {
			bad := bytes.Clone(log)
			bad[at] ^= bit
			got, good, err := ReadRecords(bad)
			require.ErrorIs(t, err, ErrDamaged, "flip at %d", at)
			before := 0
			for before < len(ends) && ends[before] <= at {
				before++
			}
			require.Len(t, got, before, "flip at %d", at)
			require.LessOrEqual(t, good, at)
		}
	}
}

// FuzzReadRecords: whatever the bytes, no panic, good never past the
// input, and the good prefix reads back as the same records (each of
// which encodes back to its own bytes: never a record that was not
// written).
func FuzzReadRecords(f *testing.F) {
	f.Add(AppendRecord(nil, Record{Seq: 1, Args: [][]byte{[]byte("SET"), []byte("k"), []byte("v")}}))
	f.Add(AppendRecord(AppendRecord(nil, Record{Seq: 2, Args: [][]byte{[]byte("DEL"), []byte("k")}}), Record{Delivered: true, Seq: 2}))
	f.Add([]byte{magic, 0, 0, 0, 1, 0, 0, 0, 0, 9})
	f.Add([]byte{magic, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, good, err := ReadRecords(b)
		require.LessOrEqual(t, good, len(b))
		if err == nil {
			require.Equal(t, len(b), good)
		}
		var again []byte
		for _, r := range recs {
			again = AppendRecord(again, r)
		}
		require.True(t, bytes.Equal(b[:good], again), "the records read are exactly the bytes they came from")
	})
}
