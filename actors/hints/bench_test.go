package hints

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/hlc"
)

// BenchmarkHintMemory reports what a waiting hint costs the manager's
// heap (heap-B/hint) against its framed size in the log (log-B/hint):
// 100,000 hints of SET with a 16-byte key and a 64-byte value, for a
// target that is down.
func BenchmarkHintMemory(b *testing.B) {
	const n = 100_000
	value := make([]byte, 64)
	for range b.N {
		m, c := started(&testing.T{}, Config{})
		m.Receive(c, gossip.View{Down: map[string]bool{"n2": true}})
		c.sent = nil
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range n {
			m.Receive(c, Hint{Target: "n2", Args: [][]byte{[]byte("SET"), []byte(fmt.Sprintf("key:%012d", i)), value},
				Version: hlc.Version{TS: hlc.Timestamp{Wall: int64(i)}, Node: "127.0.0.1:8101"}})
		}
		c.sent = nil // the log's records are not the manager's
		runtime.GC()
		runtime.ReadMemStats(&after)
		st := m.Snapshot(c.now)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/hint")
		b.ReportMetric(float64(st.Targets[0].Bytes)/n, "log-B/hint")
		runtime.KeepAlive(m)
	}
}
