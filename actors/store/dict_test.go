package store

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestDictModel: random sets and deletes (enough to cross the shrink
// threshold many times) against a map and an ordered slice: contents,
// insertion order, and a SCAN cursor taken before the changes that still
// returns every key present throughout exactly once.
func TestDictModel(t *testing.T) {
	shrinks := 0
	rapid.Check(t, func(rt *rapid.T) {
		d := newDict[int]()
		model := map[string]int{}
		var order []string
		keySpace := rapid.IntRange(300, 1500).Draw(rt, "keyspace")
		key := func(i int) string { return fmt.Sprintf("f%d", i) }
		// Phases that mostly add, then mostly delete, grow a dict past
		// shrinkFrom and take it under an eighth of its peak.
		ops := rapid.IntRange(1000, 4000).Draw(rt, "ops")
		sets := 5
		for op := range ops {
			switch op {
			case 0:
				sets = 9
			case ops * 2 / 5:
				sets = 1
			case ops * 4 / 5:
				sets = 5
			}
			k := key(rapid.IntRange(0, keySpace-1).Draw(rt, "key"))
			if rapid.IntRange(0, 9).Draw(rt, "op") < sets {
				v := rapid.Int().Draw(rt, "v")
				_, had := model[k]
				require.Equal(rt, !had, d.set([]byte(k), v))
				if !had {
					order = append(order, k)
				}
				model[k] = v
			} else {
				if len(order) > 0 && rapid.IntRange(0, 9).Draw(rt, "existing") < 8 {
					k = order[rapid.IntRange(0, len(order)-1).Draw(rt, "which")]
				}
				_, had := model[k]
				peak := d.peak
				require.Equal(rt, had, d.del([]byte(k)))
				if d.peak < peak {
					shrinks++
				}
				if had {
					delete(model, k)
					for i, o := range order {
						if o == k {
							order = append(order[:i], order[i+1:]...)
							break
						}
					}
				}
			}
			require.Equal(rt, len(model), d.len())
		}
		require.Equal(rt, append([]string{}, order...), append([]string{}, d.keys()...))
		for k, v := range model {
			got, ok := d.get([]byte(k))
			require.True(rt, ok, k)
			require.Equal(rt, v, got, k)
		}
		require.LessOrEqual(rt, len(d.index), d.live)
		require.Equal(rt, len(model), len(d.index))
		// A scan in small steps returns the keys in order, once each.
		var scanned []string
		cursor := uint64(0)
		for {
			cursor = d.scan(cursor, 7, func(k string, _ int) { scanned = append(scanned, k) })
			if cursor == 0 {
				break
			}
		}
		require.Equal(rt, append([]string{}, order...), append([]string{}, scanned...))
	})
	t.Logf("dicts shrunk %d times", shrinks)
}

// TestDictGivesBackMemory: a hash that held 200,000 fields and keeps 1%
// of them holds a small fraction of its peak memory, its order and a SCAN
// cursor taken at the peak intact.
func TestDictGivesBackMemory(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	d := newDict[int]()
	const n = 200_000
	for i := range n {
		d.set(fmt.Appendf(nil, "field:%d", i), i)
	}
	peak := heap() - base
	var first []string
	cursor := d.scan(0, 10, func(k string, _ int) { first = append(first, k) })
	require.Len(t, first, 10)
	for i := range n {
		if i%100 != 0 {
			require.True(t, d.del(fmt.Appendf(nil, "field:%d", i)))
		}
	}
	after := heap() - base
	require.Less(t, after, peak/8, "heap after deleting 99%% of the fields (peak %d bytes)", peak)
	require.Equal(t, n/100, d.len())
	require.Equal(t, "field:100", d.keys()[1])
	// The cursor from the peak continues after field:9, with the survivors.
	var rest []string
	for cursor != 0 {
		cursor = d.scan(cursor, 1000, func(k string, _ int) { rest = append(rest, k) })
	}
	require.Equal(t, n/100-1, len(rest), "field:0 came before the cursor")
	require.Equal(t, "field:100", rest[0])
	runtime.KeepAlive(d)
}
