package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// hintBound is how long after both nodes are back every hint has reached
// its target's redis: a few heartbeats (250 ms here) for the failure
// detector to see it up, then hints_replay_rate (10,000/s by default).
const hintBound = 10 * time.Second

// TestHintsSurviveKillNine is issue 20's check on real processes: three
// racks with a redis-server each. node3 is killed (kill -9); 200 keys are
// written through node1, half at DC_ONE, half at DC_QUORUM; node1 is
// killed too; both restart. node3's redis, counted directly, holds every
// key with its value within hintBound: node1 wrote its hints to its log
// (hints_dir) and replayed them after the restart, with no client read.
func TestHintsSurviveKillNine(t *testing.T) {
	nodes := startCluster(t, 190, "  heartbeat_interval: 250\n  timeout: 1000\n", "dc1/r1", "dc1/r2", "dc1/r3")
	n1, n3 := nodes[0], nodes[2]
	for _, n := range []*clusterNode{n1, nodes[1]} {
		eventuallyTrue(t, 5*time.Second, func() bool { up, _ := upAccordingTo(t, n, n3.dyn); return up }, "node3 up at start")
	}
	n3.proc.Kill()
	const keys = 200
	write := func(level string, from, to int) {
		code, _ := httpGet(t, "http://"+n1.stats+"/set_consistency/write/"+level)
		require.Equal(t, http.StatusOK, code)
		c := testproc.DialRESP(t, n1.listen)
		for i := from; i < to; i++ {
			require.Equal(t, "+OK\r\n", c.Do("SET", fmt.Sprintf("key:%d", i), fmt.Sprintf("value:%d", i)), "%s write %d with node3 down", level, i)
		}
	}
	write("dc_one", 0, keys/2)
	write("dc_quorum", keys/2, keys)
	// A write's hint is made when its failure is known: at once for a
	// node known to be down, by the request timeout (1 s) otherwise.
	time.Sleep(1500 * time.Millisecond)
	n1.proc.Kill()
	n3.proc.Restart()
	n1.proc.Restart()
	restarted := time.Now()
	r3 := testproc.DialRESP(t, n3.redis.Addr)
	missing := func() int {
		n := 0
		for i := range keys {
			if r3.Do("GET", fmt.Sprintf("key:%d", i)) != bulkOf(fmt.Sprintf("value:%d", i)) {
				n++
			}
		}
		return n
	}
	eventuallyTrue(t, hintBound, func() bool { return missing() == 0 }, "node3's redis holds every key written while it was down")
	t.Logf("node3's redis complete %s after both restarted", time.Since(restarted).Round(10*time.Millisecond))
	code, body := httpGet(t, "http://"+n1.stats+"/hints")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"replayed":`)
	t.Logf("node1's /hints: %s", body)
}
