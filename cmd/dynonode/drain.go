package main

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/netio/admin"
	"github.com/dynonode/dynonode/netio/frontend"
	"github.com/dynonode/dynonode/transport"
)

// clientHost is the runtime as the client listener sees it: while the
// node drains, it refuses to start new connections. What clients are owed
// is the listener's own count (frontend.Listener.Unwritten: requests read
// and not yet written back, per connection, decremented once the socket
// took the reply). An earlier version also counted each request here, in
// Send, through a map from connection to counter: 3% of an embedded
// node's CPU at -P 1, and a count that ended when the writer actor
// handled a reply rather than when the socket took it.
type clientHost struct {
	*transport.Node
	draining atomic.Bool
}

var _ frontend.Host = (*clientHost)(nil)

func newClientHost(n *transport.Node) *clientHost { return &clientHost{Node: n} }

// Spawn starts a connection's actors, unless the node is draining.
func (h *clientHost) Spawn(name string, p actors.Producer) actors.Addr {
	if h.draining.Load() {
		return actors.Addr{}
	}
	return h.Node.Spawn(name, p)
}

// drain stops taking new client connections and waits, up to grace, for
// the open ones to get the replies they are owed; the caller then closes
// them.
func drain(h *clientHost, fe *frontend.Listener, grace time.Duration, log *slog.Logger) {
	h.draining.Store(true)
	fe.StopReading()
	log.Info("draining: refusing new client connections", "in_flight", fe.Unwritten(), "connections", fe.Active.Load(), "grace", grace.String())
	deadline := time.Now().Add(grace)
	pending := fe.Unwritten
	for pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if left := pending(); left > 0 {
		log.Warn("drain grace period over: closing client connections with requests unanswered", "in_flight", left)
		return
	}
	log.Info("drained: every pending reply was written")
}

// stoppedConnWait is how long a connection that stopped reading (its
// client half-closed, or the node drains) waits for the replies it owes:
// at least 10 s, the drain's grace, and the longest a request may take
// (the request timeout at the largest timeout factor, plus a second for
// the timeout reply to leave), so that no reply the node will still give
// is cut off. The wait ends as soon as the replies are written.
func stoppedConnWait(requestTimeout, grace time.Duration) time.Duration {
	return max(10*time.Second, grace, requestTimeout*admin.MaxTimeoutFactor+time.Second)
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
