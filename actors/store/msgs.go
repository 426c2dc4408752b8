package store

import "github.com/dynonode/dynonode/actors/msg"

// Exec asks a store adapter to run one datastore command. The adapter
// answers the sender with a Result carrying the same ID. Args alias nothing
// once sent: the sender must not modify them afterwards.
type Exec struct {
	// ID is chosen by the requester and echoed in the Result.
	ID uint64
	// Args is the command: for Redis, name first, then its arguments, as a
	// client sent them; for Memcached, exactly one element, one complete
	// text request (line and data block), never with noreply.
	Args [][]byte
}

// CorrelationID implements msg.Correlated.
func (e Exec) CorrelationID() uint64 { return e.ID }

// Bounce implements msg.Bounceable: an Exec that cannot reach its store
// comes back as a failed Result.
func (e Exec) Bounce(reason string) any { return Result{ID: e.ID, Failure: "Peer: " + reason} }

// Result answers an Exec.
type Result struct {
	ID uint64
	// Reply is exactly one complete reply in the datastore's own protocol,
	// errors included (a WRONGTYPE error is a Reply, not a Failure).
	Reply []byte
	// Failure, when not empty, says the store could not answer at all
	// (datastore down or ejected, timeout, connection lost mid-request);
	// Reply is then empty and the coordinator decides what the client sees.
	Failure string
}

// CorrelationID implements msg.Correlated.
func (r Result) CorrelationID() uint64 { return r.ID }

func init() {
	msg.Register[Exec](100)
	msg.Register[Result](101)
}
