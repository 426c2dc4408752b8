package datastore

import (
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/dynonode/dynonode/netio/admit"
	"github.com/stretchr/testify/require"
)

// slack is how late past Timeout a timeout Failure may arrive (-race, a
// loaded 2-core machine).
const slack = 750 * time.Millisecond

func requirePrefix(t *testing.T, prefix, failure string) {
	t.Helper()
	require.True(t, strings.HasPrefix(failure, prefix), "Failure %q, want prefix %q", failure, prefix)
}

// Killing the datastore fails everything in flight exactly once; requests
// succeed again once it is back.
func TestRedisKilledMidRequest(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Connections: 2, Preconnect: true,
		InitialBackoff: 20 * time.Millisecond, RetryTimeout: 200 * time.Millisecond})
	require.Equal(t, "+OK\r\n", h.reply("SET", "k", "v"))

	// Hold the replies, so the requests are certainly in flight at the kill.
	require.NoError(t, r.Stop())
	var ids []uint64
	for range 200 {
		ids = append(ids, h.send("GET", "k"))
	}
	require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().InFlight == 200 }, wait, time.Millisecond)
	r.Kill()
	for _, res := range h.collect(ids, 100*time.Millisecond) {
		requirePrefix(t, FailConnLost+": ", res.Failure)
		require.Empty(t, res.Reply)
	}
	requirePrefix(t, FailRefused+": redis "+r.Addr+" is not reachable: dial tcp "+r.Addr, h.do("GET", "k").Failure)

	r.Restart()
	h.eventually("$-1\r\n", "GET", "k") // a fresh redis-server: k is gone
	require.Equal(t, "+OK\r\n", h.reply("SET", "k", "v"))

	// Killed under a steady pipelined load: replies or Failures, one each.
	ids = ids[:0]
	for range 2000 {
		ids = append(ids, h.send("GET", "k"))
	}
	r.Kill()
	replies, failures := 0, 0
	for _, res := range h.collect(ids, 100*time.Millisecond) {
		if res.Failure == "" {
			require.Equal(t, bulk("v"), string(res.Reply))
			replies++
			continue
		}
		require.Empty(t, res.Reply)
		failures++
	}
	t.Logf("killed under load: %d replies, %d failures", replies, failures)
	r.Restart()
	h.eventually("+PONG\r\n", "PING")
	h.requireBalanced()
	require.NotZero(t, h.opts.Counters.Snapshot().Reconnects)
}

// A stopped (SIGSTOP) datastore accepts connections and never answers:
// requests time out within Timeout, the connection is closed, and it
// recovers on SIGCONT.
func TestRedisStoppedTimesOut(t *testing.T) {
	r := testproc.Redis(t)
	const timeout = 300 * time.Millisecond
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Timeout: timeout, Preconnect: true})
	require.Equal(t, "+PONG\r\n", h.reply("PING"))
	require.NoError(t, r.Stop())
	t.Cleanup(func() { _ = r.Signal(syscall.SIGCONT) })

	for round := range 2 { // the second round runs on a fresh connection
		start := time.Now()
		var ids []uint64
		for range 5 {
			ids = append(ids, h.send("GET", "k"))
		}
		got := h.collect(ids, 0)
		elapsed := time.Since(start)
		require.GreaterOrEqual(t, elapsed, timeout-10*time.Millisecond, "round %d", round)
		require.Less(t, elapsed, timeout+slack, "round %d: Failures took %s", round, elapsed)
		requirePrefix(t, FailTimeout+": no reply within 300ms", got[ids[0]].Failure)
		for _, id := range ids[1:] {
			require.Equal(t, FailClosedAfterTimeout, got[id].Failure)
		}
	}
	require.EqualValues(t, 2, h.opts.Counters.Snapshot().Timeouts)

	require.NoError(t, r.Signal(syscall.SIGCONT))
	h.eventually("+PONG\r\n", "PING")
	h.requireBalanced()
}

// Beyond MaxInFlight on every connection, Exec fails fast instead of
// queueing without bound.
func TestQueueFull(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Timeout: 500 * time.Millisecond, MaxInFlight: 10,
		Connections: 2, Preconnect: true})
	require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().Connected == 2 }, wait, time.Millisecond)
	require.NoError(t, r.Stop())
	t.Cleanup(func() { _ = r.Signal(syscall.SIGCONT) })
	var ids []uint64
	for range 25 {
		ids = append(ids, h.send("PING"))
	}
	// The five refused come back first, long before the timeouts.
	for range 5 {
		res := h.next()
		require.Equal(t, FailQueueFull, res.Failure)
		require.Greater(t, res.ID, uint64(20))
	}
	got := h.collect(ids[:20], 0)
	for _, res := range got {
		require.Contains(t, []string{FailTimeout + ": no reply within 500ms", FailClosedAfterTimeout}, res.Failure)
	}
	require.EqualValues(t, 5, h.opts.Counters.Snapshot().QueueFull)
	require.NoError(t, r.Signal(syscall.SIGCONT))
	h.eventually("+PONG\r\n", "PING")
	h.requireBalanced()
}

// TestAdmissionGate: a connection holds the node's admission gate from the
// moment its queue reaches half of MaxInFlight until the replies bring it
// back to a quarter, and lets go when its session ends with requests
// queued (a timeout): nothing is left holding the gate.
func TestAdmissionGate(t *testing.T) {
	r := testproc.Redis(t)
	gate := &admit.Gate{}
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Timeout: 2 * time.Second, MaxInFlight: 10,
		Preconnect: true, Gate: gate, Counters: &Counters{Gate: gate}})
	require.Equal(t, "+PONG\r\n", h.reply("PING"))

	require.NoError(t, r.Stop())
	var ids []uint64
	for range 4 {
		ids = append(ids, h.send("PING"))
	}
	require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().InFlight == 4 }, wait, time.Millisecond)
	require.False(t, gate.Held(), "4 queued of 10: under half")
	ids = append(ids, h.send("PING"))
	require.Eventually(t, gate.Held, wait, time.Millisecond, "5 queued of 10: held")
	require.NoError(t, r.Signal(syscall.SIGCONT))
	for id, res := range h.collect(ids, 0) {
		require.Equal(t, "+PONG\r\n", string(res.Reply), "request %d", id)
	}
	require.False(t, gate.Held(), "the replies emptied the queue")

	// A session that ends (here: timed out) releases the gate too.
	require.NoError(t, r.Stop())
	t.Cleanup(func() { _ = r.Signal(syscall.SIGCONT) })
	ids = ids[:0]
	for range 7 {
		ids = append(ids, h.send("PING"))
	}
	require.Eventually(t, gate.Held, wait, time.Millisecond)
	for _, res := range h.collect(ids, 0) {
		require.NotEmpty(t, res.Failure)
	}
	require.False(t, gate.Held(), "the timed-out session's queue was answered")
	require.NoError(t, r.Signal(syscall.SIGCONT))
	h.eventually("+PONG\r\n", "PING")
	require.False(t, gate.Held())
	require.Zero(t, h.opts.Counters.Snapshot().QueueFull)
	h.requireBalanced()
}

// With AutoEject, FailureLimit consecutive failures (here timeouts of a
// stopped datastore) eject the server: the next request fails fast with
// FailEjected, without a dial; after RetryTimeout it is tried again.
func TestAutoEject(t *testing.T) {
	r := testproc.Redis(t)
	const timeout, retry = 200 * time.Millisecond, 500 * time.Millisecond
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, AutoEject: true, FailureLimit: 2, Timeout: timeout,
		RetryTimeout: retry, Preconnect: true})
	require.Equal(t, "+PONG\r\n", h.reply("PING"))
	require.NoError(t, r.Stop())
	t.Cleanup(func() { _ = r.Signal(syscall.SIGCONT) })
	requirePrefix(t, FailTimeout, h.do("PING").Failure)
	requirePrefix(t, FailTimeout, h.do("PING").Failure) // a new connection: the kernel accepts for a stopped process

	start := time.Now()
	ejected := h.do("PING")
	require.Equal(t, FailEjected, ejected.Failure, "third request after two failures")
	require.Equal(t, store.KindDatastore, ejected.Kind, "an ejection counts as the datastore's failure")
	require.Less(t, time.Since(start), timeout, "failed fast")
	s := h.opts.Counters.Snapshot()
	require.EqualValues(t, 1, s.Ejections)
	require.EqualValues(t, 1, s.Reconnects, "no dial while ejected")

	time.Sleep(retry + 50*time.Millisecond)
	requirePrefix(t, FailTimeout, h.do("PING").Failure) // retried: dialled again
	require.EqualValues(t, 2, h.opts.Counters.Snapshot().Reconnects)
	require.Equal(t, FailEjected, h.do("PING").Failure, "a failed retry ejects again")
	require.EqualValues(t, 2, h.opts.Counters.Snapshot().Ejections)

	require.NoError(t, r.Signal(syscall.SIGCONT))
	h.eventually("+PONG\r\n", "PING") // after the ejection ends
	require.Zero(t, h.pool().failures.Load(), "a reply ends the failure streak")
	h.requireBalanced()
}

// Stopping the adapter answers what is pending, closes its connections and
// ends every goroutine it started.
func TestStopLeavesNothingBehind(t *testing.T) {
	r := testproc.Redis(t)
	before := runtime.NumGoroutine()
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Connections: 4, Preconnect: true})
	require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().Connected == 4 }, wait, time.Millisecond)
	require.EqualValues(t, 8, Goroutines(), "a reader and a writer per connection")
	require.Equal(t, "+PONG\r\n", h.reply("PING"))

	require.NoError(t, r.Stop())
	t.Cleanup(func() { _ = r.Signal(syscall.SIGCONT) })
	var ids []uint64
	for range 20 {
		ids = append(ids, h.send("PING"))
	}
	require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().InFlight == 20 }, wait, time.Millisecond)
	h.stop()
	for _, res := range h.collect(ids, 50*time.Millisecond) {
		require.Equal(t, FailStopped, res.Failure)
	}
	s := h.opts.Counters.Snapshot()
	require.Zero(t, s.Connected)
	require.Zero(t, s.InFlight)
	require.Equal(t, s.Requests, s.Responses+s.Errors)

	h.node.Close(5 * time.Second)
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
