package datastore

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/transport"
	"github.com/stretchr/testify/require"
)

// wait bounds every wait for a Result in these tests.
const wait = 10 * time.Second

func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// recorder forwards the Results and Stats it receives to channels.
// acked is the Reply the recorder gives a request acknowledged by its ID
// (store.Acks).
const acked = "(acked)"

type recorder struct {
	results chan<- store.Result
	stats   chan<- Stats
}

func (r *recorder) Receive(_ actors.Context, m any) {
	switch m := m.(type) {
	case store.Result:
		r.results <- m
	case store.Results:
		for _, res := range m.Results {
			r.results <- res
		}
	case store.Acks:
		for _, id := range m.IDs {
			r.results <- store.Result{ID: id, Reply: []byte(acked)}
		}
	case Stats:
		r.stats <- m
	}
}

// harness is one adapter on a transport node, and a recorder that sends it
// Execs and collects the Results.
type harness struct {
	t       testing.TB
	node    *transport.Node
	ds, me  actors.Addr
	results chan store.Result
	stats   chan Stats
	opts    Options
	nextID  uint64
}

func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	n, err := transport.Start(transport.Options{ID: "n1", Seed: 1, Log: quietLog()})
	require.NoError(t, err)
	t.Cleanup(func() { n.Close(5 * time.Second) })
	h := &harness{t: t, node: n, results: make(chan store.Result, 1<<16), stats: make(chan Stats, 16)}
	h.me = n.Spawn("rec", func() actors.Behaviour { return &recorder{results: h.results, stats: h.stats} })
	require.False(t, h.me.IsZero())
	if opts.Counters == nil {
		opts.Counters = &Counters{}
	}
	if opts.Log == nil {
		opts.Log = quietLog()
	}
	opts.Deliver = n.Send
	h.opts = opts
	h.ds = n.Spawn("ds", New(opts))
	require.False(t, h.ds.IsZero())
	return h
}

// send issues one Exec and returns its ID.
func (h *harness) send(args ...string) uint64 {
	h.nextID++
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	h.node.Send(h.me, h.ds, store.Exec{ID: h.nextID, Args: b})
	return h.nextID
}

// next waits for the next Result.
func (h *harness) next() store.Result {
	h.t.Helper()
	select {
	case r := <-h.results:
		return r
	case <-time.After(wait):
		h.t.Fatalf("no Result within %s", wait)
	}
	return store.Result{}
}

// do sends one Exec and returns its Result.
func (h *harness) do(args ...string) store.Result {
	h.t.Helper()
	id := h.send(args...)
	r := h.next()
	require.Equal(h.t, id, r.ID, "Result for another request")
	return r
}

// reply sends one Exec and requires a datastore reply.
func (h *harness) reply(args ...string) string {
	h.t.Helper()
	r := h.do(args...)
	require.Empty(h.t, r.Failure, "%q failed", strings.Join(args, " "))
	return string(r.Reply)
}

// collect waits for the Results of ids, requiring exactly one each, and
// then that no stray Result follows within quiet.
func (h *harness) collect(ids []uint64, quiet time.Duration) map[uint64]store.Result {
	h.t.Helper()
	want := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	got := make(map[uint64]store.Result, len(ids))
	deadline := time.After(wait)
	for len(got) < len(ids) {
		select {
		case r := <-h.results:
			require.True(h.t, want[r.ID], "Result for unknown request %d", r.ID)
			_, dup := got[r.ID]
			require.False(h.t, dup, "second Result for request %d: %+v", r.ID, r)
			got[r.ID] = r
		case <-deadline:
			h.t.Fatalf("%d of %d Results within %s", len(got), len(ids), wait)
		}
	}
	select {
	case r := <-h.results:
		h.t.Fatalf("stray Result after all were answered: %+v", r)
	case <-time.After(quiet):
	}
	return got
}

// eventually retries args until the datastore answers want.
func (h *harness) eventually(want string, args ...string) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	var last store.Result
	for time.Now().Before(deadline) {
		last = h.do(args...)
		if last.Failure == "" && string(last.Reply) == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("%q never answered %q within %s; last Result %+v", strings.Join(args, " "), want, wait, last)
}

// statsMsg asks the adapter for its counters with a GetStats message.
func (h *harness) statsMsg() Stats {
	h.t.Helper()
	h.node.Send(h.me, h.ds, GetStats{})
	select {
	case s := <-h.stats:
		return s
	case <-time.After(wait):
		h.t.Fatal("no Stats reply")
	}
	return Stats{}
}

// inspect runs f on the adapter's state inside its turn.
func (h *harness) inspect(f func(a *adapter)) {
	h.t.Helper()
	require.NoError(h.t, h.node.Inspect("ds", wait, func(b actors.Behaviour) { f(b.(*adapter)) }))
}

// requireBalanced checks the counters once nothing is in flight.
func (h *harness) requireBalanced() {
	h.t.Helper()
	require.Eventually(h.t, func() bool { return h.opts.Counters.Snapshot().InFlight == 0 }, wait, time.Millisecond)
	s := h.opts.Counters.Snapshot()
	require.Equal(h.t, s.Requests, s.Responses+s.Errors, "every request answered once: %+v", s)
}

// stop stops the adapter and waits for its goroutines to end.
func (h *harness) stop() {
	h.t.Helper()
	h.node.Stop("ds")
	require.Eventually(h.t, func() bool { return Goroutines() == 0 }, wait, time.Millisecond,
		"adapter goroutines left after Stop")
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

// pool returns the adapter's current pool (read inside its turn).
func (h *harness) pool() *pool {
	var p *pool
	h.inspect(func(a *adapter) { p = a.pool })
	return p
}
