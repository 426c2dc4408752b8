package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// metricOf reads one unlabelled counter or gauge from a cluster node's
// /metrics.
func metricOf(t *testing.T, n *clusterNode, name string) float64 {
	t.Helper()
	code, body := httpGet(t, "http://"+n.stats+"/metrics")
	require.Equal(t, 200, code)
	p := expfmt.NewTextParser(model.UTF8Validation)
	m, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	return value(m, name)
}

// TestReplicaStallLosesNoWrites: one rack's redis stops (SIGSTOP) under a
// pipelined DC_ONE write load until that rack's node has more than half
// its datastore queue filled and its admission gate holds the peer reader;
// then it resumes. Every acknowledged write must reach all three racks,
// with no request refused for a full queue and no peer message dropped.
// (Before the gate, a replica that fell behind took its peer's backlog in
// one rush and refused thousands of replica writes: make bench saw racks
// end up to 160 keys short.)
func TestReplicaStallLosesNoWrites(t *testing.T) {
	nodes := startCluster(t, 90, "  timeout: 10000\n", "dc1/r1", "dc1/r2", "dc1/r3")
	require.Equal(t, "+OK\r\n", testproc.DialRESP(t, nodes[0].listen).Do("SET", "warm", "up"))
	for _, n := range nodes[1:] {
		eventuallyEqual(t, bulkOf("up"), func() string { return testproc.DialRESP(t, n.redis.Addr).Do("GET", "warm") }, "replicated")
	}

	// The load: writers pipelining 64 SETs of distinct keys at a time
	// through node 0, bounded in batches and in time.
	const writers, depth, maxBatches = 8, 64, 8000
	var (
		acked atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
		errs  = make(chan error, writers)
	)
	ok := bytes.Repeat([]byte("+OK\r\n"), depth)
	for w := range writers {
		c, err := net.DialTimeout("tcp", nodes[0].listen, 5*time.Second)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(60 * time.Second)
			got := make([]byte, len(ok))
			var batch []byte
			for b := 0; b < maxBatches && !stop.Load() && time.Now().Before(deadline); b++ {
				batch = batch[:0]
				for i := range depth {
					batch = append(batch, testproc.Command("SET", fmt.Sprintf("w%d:%d:%d", w, b, i), "value")...)
				}
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := c.Write(batch); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				if _, err := io.ReadFull(c, got); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				if !bytes.Equal(got, ok) {
					errs <- fmt.Errorf("writer %d: replies %q", w, got)
					return
				}
				acked.Add(depth)
			}
		}()
	}
	finish := func() {
		stop.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}

	victim := nodes[2]
	require.Eventually(t, func() bool { return acked.Load() >= 5000 }, 20*time.Second, time.Millisecond, "load running")
	require.NoError(t, victim.redis.Stop())
	held := false
	for deadline := time.Now().Add(20 * time.Second); !held && time.Now().Before(deadline); {
		held = metricOf(t, victim, "dynonode_admission_waits_total") > 0
		if !held {
			time.Sleep(5 * time.Millisecond)
		}
	}
	queued := metricOf(t, victim, "dynonode_datastore_requests_in_flight")
	require.NoError(t, victim.redis.Signal(syscall.SIGCONT))
	require.True(t, held, "the stalled rack's node never held its admission gate")
	t.Logf("gate held with %.0f requests queued for the stopped redis", queued)
	time.Sleep(300 * time.Millisecond) // the load goes on while the rack catches up
	finish()

	// And "warm", the versions' companion hash __dyno:v and anti-entropy's
	// data marker __dyno:m, which redis shows directly (dynonode's own
	// DBSIZE does not count them).
	want := fmt.Sprintf(":%d\r\n", acked.Load()+3)
	t.Logf("%d writes acknowledged", acked.Load())
	for _, n := range nodes {
		direct := testproc.DialRESP(t, n.redis.Addr)
		deadline := time.Now().Add(20 * time.Second)
		got := direct.Do("DBSIZE")
		for got != want && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			got = direct.Do("DBSIZE")
		}
		require.Equal(t, want, got, "keys in rack %s's redis", n.rack)
		require.Zero(t, metricOf(t, n, "dynonode_datastore_queue_full_total"), "rack %s refused requests", n.rack)
		require.Zero(t, metricOf(t, n, "dynonode_peer_messages_dropped_total"), "rack %s dropped peer messages", n.rack)
	}
}
