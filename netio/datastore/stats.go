package datastore

import (
	"sync/atomic"

	"github.com/dynonode/dynonode/netio/admit"
)

// Counters are one adapter's statistics, updated atomically by the actor
// and its socket goroutines. They survive actor restarts: the producer
// keeps them.
type Counters struct {
	requests, responses, timeouts, errors, ejections, reconnects, queueFull atomic.Uint64
	inFlight, connected                                                     atomic.Int64

	// Gate is the node's admission gate the adapter holds while a queue is
	// long (Options.Gate); Snapshot reports how often readers waited at it.
	Gate *admit.Gate
}

// Stats is a snapshot of Counters. Once nothing is in flight,
// Requests == Responses + Errors.
type Stats struct {
	Requests   uint64 // Execs received
	Responses  uint64 // Results carrying a datastore reply (error replies included)
	Timeouts   uint64 // requests failed with FailTimeout
	Errors     uint64 // Results carrying a Failure, timeouts included
	Ejections  uint64 // times the server was ejected (AutoEject)
	Reconnects uint64 // dials after a connection's first (redials after a loss or a refusal)
	QueueFull  uint64 // requests refused because every connection had MaxInFlight queued (counted in Errors too)
	GateWaits  uint64 // reads of peers and clients held at the admission gate
	InFlight   int64  // requests queued or awaiting a reply now
	Connected  int64  // connections up now
}

// Snapshot reads the counters.
func (c *Counters) Snapshot() Stats {
	return Stats{
		Requests: c.requests.Load(), Responses: c.responses.Load(), Timeouts: c.timeouts.Load(),
		Errors: c.errors.Load(), Ejections: c.ejections.Load(), Reconnects: c.reconnects.Load(),
		QueueFull: c.queueFull.Load(), GateWaits: c.Gate.Waits(),
		InFlight: c.inFlight.Load(), Connected: c.connected.Load(),
	}
}

// GetStats asks an adapter for its counters; it answers the sender with a
// Stats. Local only (not registered in actors/msg).
type GetStats struct{}

// live counts the goroutines every adapter in this process is running.
var live atomic.Int64

// Goroutines is how many socket goroutines (dialers, readers, writers) the
// adapters in this process are running: zero once every adapter has
// stopped. Tests use it to check for leaks.
func Goroutines() int64 { return live.Load() }
