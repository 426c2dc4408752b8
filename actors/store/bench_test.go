package store

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/dynonode/dynonode/actors/hlc"
)

// benchEngine returns an engine holding n keys, each with a 64-byte value.
func benchEngine(n int) (*Engine, [][]byte) {
	e := NewEngine(Options{})
	keys := make([][]byte, n)
	val := make([]byte, 64)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%06d", i))
		e.Exec(t0, [][]byte{[]byte("SET"), keys[i], val}, nil)
	}
	return e, keys
}

func BenchmarkSet64(b *testing.B) {
	e, keys := benchEngine(10_000)
	args := [][]byte{[]byte("SET"), nil, make([]byte, 64)}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		args[1] = keys[i%len(keys)]
		dst = e.Exec(t0, args, dst[:0])
	}
}

func BenchmarkGet64(b *testing.B) {
	e, keys := benchEngine(10_000)
	args := [][]byte{[]byte("GET"), nil}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		args[1] = keys[i%len(keys)]
		dst = e.Exec(t0, args, dst[:0])
	}
}

// BenchmarkGet64Spread reads 100,000 keys in a scattered order, as
// redis-benchmark -r 100000 does: the keyspace no longer fits the caches,
// so the cost is the lookup's memory accesses.
func BenchmarkGet64Spread(b *testing.B) {
	e, keys := benchEngine(100_000)
	args := [][]byte{[]byte("GET"), nil}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		args[1] = keys[(i*7919)%len(keys)] // 7919 is prime: every key, scattered
		dst = e.Exec(t0, args, dst[:0])
	}
}

// BenchmarkMemoryPerKey reports the live heap per key of a keyspace of
// 16-byte keys holding 64-byte strings (redis-benchmark's key:__rand_int__
// and -d 64) as B/key: written without versions, with versions (from
// three nodes), and deleted under versions (what a tombstone costs).
func BenchmarkMemoryPerKey(b *testing.B) {
	const n = 200_000
	for _, mode := range []string{"unversioned", "versioned", "tombstones"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				e := NewEngine(Options{})
				args := [][]byte{[]byte("SET"), nil, make([]byte, 64)}
				del := [][]byte{[]byte("DEL"), nil}
				for i := range n {
					args[1] = fmt.Appendf(nil, "key:%012d", i)
					if mode == "unversioned" {
						e.Exec(t0, args, nil)
						continue
					}
					v := hlc.Version{TS: hlc.Timestamp{Wall: int64(i) + 1}, Node: benchNodes[i%3]}
					if mode == "tombstones" {
						del[1] = args[1]
						e.ExecVersion(t0, del, v, nil)
						continue
					}
					e.ExecVersion(t0, args, v, nil)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/key")
				runtime.KeepAlive(e)
			}
		})
	}
}

var benchNodes = []string{"dc1-r1-n1", "dc1-r2-n1", "dc1-r3-n1"}

// BenchmarkSet64Versioned is BenchmarkSet64 with every SET under a newer
// version.
func BenchmarkSet64Versioned(b *testing.B) {
	e, keys := benchEngine(10_000)
	args := [][]byte{[]byte("SET"), nil, make([]byte, 64)}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		args[1] = keys[i%len(keys)]
		dst, _ = e.ExecVersion(t0, args, hlc.Version{TS: hlc.Timestamp{Wall: int64(i) + 1}, Node: benchNodes[i%3]}, dst[:0])
	}
}

// BenchmarkBatchGet64Spread runs GETs over 100,000 scattered keys in
// batches of 16, as the embedded store receives a pipeline, with and
// without loading the batch's keys first (keyspace.warm); ns/op is per
// command.
func BenchmarkBatchGet64Spread(b *testing.B) {
	for _, warm := range []bool{false, true} {
		b.Run(fmt.Sprintf("warm=%v", warm), func(b *testing.B) {
			e, keys := benchEngine(100_000)
			s := &embedded{engine: e}
			batch := make([]Exec, warmAhead)
			for i := range batch {
				batch[i].Args = [][]byte{[]byte("GET"), nil}
			}
			dst := make([]byte, 0, 256)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += len(batch) {
				for j := range batch {
					batch[j].Args[1] = keys[((i+j)*7919)%len(keys)]
				}
				if warm {
					s.warm(batch)
				}
				for _, x := range batch {
					dst = e.Exec(t0, x.Args, dst[:0])
				}
			}
		})
	}
}

// BenchmarkHLLMemory reports what a sketch costs: 2,000 keys each holding
// a sketch of n distinct elements, in the engine (live heap per key) and
// in a real redis-server given the same PFADDs (used_memory per key), and
// the engine's figure as a ratio of Redis's (ratio). Sketches of 100 and
// 1,000 elements are sparse, of 5,000 dense.
func BenchmarkHLLMemory(b *testing.B) {
	const keys = 2000
	r := dialRedis(b)
	usedMemory := func() float64 {
		info := string(r.do(strArgs("INFO", "memory")))
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatal(err)
				}
				return n
			}
		}
		b.Fatalf("no used_memory in %q", info)
		return 0
	}
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("elements=%d", n), func(b *testing.B) {
			for range b.N {
				r.do(strArgs("FLUSHALL"))
				redisBefore := usedMemory()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				e := NewEngine(Options{})
				for k := range keys {
					key := fmt.Appendf(nil, "hll:%06d", k)
					for from := 0; from < n; from += 500 {
						args := [][]byte{[]byte("PFADD"), key}
						for i := from; i < min(from+500, n); i++ {
							args = append(args, fmt.Appendf(nil, "%d:%d", k, i))
						}
						e.Exec(t0, args, nil)
						r.do(args)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				engine := float64(after.HeapAlloc-before.HeapAlloc) / keys
				redis := (usedMemory() - redisBefore) / keys
				b.ReportMetric(engine, "B/key")
				b.ReportMetric(redis, "redisB/key")
				b.ReportMetric(engine/redis, "ratio")
				runtime.KeepAlive(e)
			}
		})
	}
}
