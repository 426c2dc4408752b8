package main

import (
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/netio/frontend"
	"github.com/dynonode/dynonode/transport"
)

// clientHost is the runtime as the client listener sees it: it counts each
// connection's requests in flight (read, not yet written back) and, while
// the node drains, refuses to start new connections. The counts are per
// connection, so the request path shares no lock or counter between
// connections; InFlight sums them when asked.
type clientHost struct {
	*transport.Node
	draining atomic.Bool
	conns    sync.Map // connection name -> *atomic.Int64
}

var _ frontend.Host = (*clientHost)(nil)

func newClientHost(n *transport.Node) *clientHost { return &clientHost{Node: n} }

// Spawn starts a connection's actors. A connection starts with its writer
// ("<conn>/w"), which gets the connection's counter and takes answered
// requests off it.
func (h *clientHost) Spawn(name string, p actors.Producer) actors.Addr {
	if h.draining.Load() {
		return actors.Addr{}
	}
	conn, isWriter := strings.CutSuffix(name, "/w")
	if !isWriter {
		return h.Node.Spawn(name, p)
	}
	n := new(atomic.Int64)
	h.conns.Store(conn, n)
	return h.Node.Spawn(name, func() actors.Behaviour { return &countingWriter{Behaviour: p(), n: n} })
}

// Send counts the requests a read loop hands to its coordinator.
func (h *clientHost) Send(from, to actors.Addr, m any) {
	var k int
	switch m := m.(type) {
	case coord.Requests:
		k = len(m.Cmds)
		if m.ProtocolError != nil {
			k++
		}
	case coord.MCRequests:
		k = len(m.Reqs)
		if m.Fatal != nil {
			k++
		}
	}
	if k > 0 {
		if n, ok := h.conns.Load(to.Name); ok {
			n.(*atomic.Int64).Add(int64(k))
		}
	}
	h.Node.Send(from, to, m)
}

// Stop forgets a connection when its coordinator stops: what it still
// owed, nobody will read.
func (h *clientHost) Stop(name string) {
	h.conns.Delete(name)
	h.Node.Stop(name)
}

// InFlight is the requests read from clients and not yet answered.
func (h *clientHost) InFlight() int64 {
	var total int64
	h.conns.Range(func(_, v any) bool {
		total += max(v.(*atomic.Int64).Load(), 0)
		return true
	})
	return total
}

// countingWriter wraps a connection's writer: once it has written a batch
// of replies, those requests are no longer in flight.
type countingWriter struct {
	actors.Behaviour
	n *atomic.Int64
}

func (w *countingWriter) Receive(ctx actors.Context, m any) {
	w.Behaviour.Receive(ctx, m)
	if r, ok := m.(coord.Replies); ok {
		w.n.Add(-int64(r.Answered))
	}
}

// drain stops taking new client connections and waits, up to grace, for
// the open ones to get the replies they are owed; the caller then closes
// them.
func drain(h *clientHost, fe *frontend.Listener, grace time.Duration, log *slog.Logger) {
	h.draining.Store(true)
	log.Info("draining: refusing new client connections", "in_flight", h.InFlight(), "connections", fe.Active.Load(), "grace", grace.String())
	deadline := time.Now().Add(grace)
	pending := func() int64 { return owed(h, fe) }
	for pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if left := pending(); left > 0 {
		log.Warn("drain grace period over: closing client connections with requests unanswered", "in_flight", left)
		return
	}
	log.Info("drained: every pending reply was written")
}

// owed is how many requests clients are owed replies for: read and not
// yet answered by the actors (h.InFlight), or answered and not yet taken
// by the socket (fe.Unwritten: a writer actor hands a reply to the
// listener's pass writer, which writes it later). A drain waits for both,
// or the close that follows drops replies still queued for the pass
// writer (TestDrainWaitsForThePassWriter); the in-flight gauge shows both.
func owed(h *clientHost, fe *frontend.Listener) int64 {
	return max(h.InFlight(), fe.Unwritten())
}

// closeClients closes the client connections. A connection still owed
// replies after the drain would keep the listener's Close waiting for them
// (up to the listener's own drain bound): the node stops without waiting.
func closeClients(fe *frontend.Listener) {
	done := make(chan struct{})
	go func() {
		fe.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}
