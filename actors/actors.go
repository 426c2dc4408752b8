package actors

import (
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/dynonode/dynonode/actors/hlc"
)

// NodeID names one dynonode process in the cluster. It is stable across
// restarts of that process: (dc, rack, token) identity maps onto it.
type NodeID string

// Addr is a location-transparent actor address: the node that hosts the actor
// and the actor's name on that node. Whether a Send crosses the network is the
// runtime's business, never the actor's.
type Addr struct {
	Node NodeID
	Name string
}

// IsZero reports whether a is the empty address (no sender).
func (a Addr) IsZero() bool { return a.Node == "" && a.Name == "" }

func (a Addr) String() string { return string(a.Node) + "/" + a.Name }

// Behaviour is an actor: it reacts to one message at a time and reaches the
// world only through ctx. Receive must not block.
type Behaviour interface {
	Receive(ctx Context, msg any)
}

// Producer makes a fresh Behaviour. Runtimes call it at spawn and again after
// a crash, so state never leaks from a failed incarnation into the next.
type Producer func() Behaviour

// TimerID identifies a pending timer; it is only meaningful to the actor that
// set it. Zero is never a valid id.
type TimerID uint64

// Context is everything an actor may touch. Both runtimes (transport/ on
// hollywood, sim/ in virtual time) implement it; an actor cannot tell them
// apart.
type Context interface {
	// Self is this actor's address.
	Self() Addr
	// Sender is the address that sent the message being handled: Self for a
	// timer, zero for lifecycle messages.
	Sender() Addr
	// Send delivers msg to an actor, local or remote. Remote messages must be
	// registered in actors/msg; delivery is best effort (the network may drop).
	Send(to Addr, msg any)
	// After delivers msg back to Self once d has passed on this node's clock.
	After(d time.Duration, msg any) TimerID
	// Cancel stops a pending timer; cancelling a fired or unknown timer is a no-op.
	Cancel(id TimerID)
	// Now is this node's wall clock (skewed, drifting or jumping in the
	// simulator). Use it for timestamps, never to measure durations. It
	// does not move within one Receive (both runtimes read it once per turn).
	Now() time.Time
	// Elapsed is this node's monotonic clock: time since an arbitrary
	// start, drifting with the node's clock rate but never jumping. Measure
	// durations with it (failure detection, latencies).
	Elapsed() time.Duration
	// HLC is a fresh reading of this node's hybrid logical clock: newer
	// than every earlier reading on the node and than every timestamp that
	// arrived with a message from a peer (both runtimes merge the sender's
	// clock from each remote envelope before delivering it). Writes take
	// their version from it.
	HLC() hlc.Timestamp
	// Rand is this actor's own seeded source.
	Rand() *rand.Rand
	// Spawn starts a child actor named name on this node and returns its
	// address. A name already in use on the node yields the zero Addr.
	Spawn(name string, p Producer) Addr
	// Stop stops an actor on this node; it receives Stopping first.
	Stop(a Addr)
	// Log is this actor's logger.
	Log() *slog.Logger
}

// Started is the first message every incarnation of an actor receives.
type Started struct{}

// Stopping is the last message an actor receives before it is removed.
type Stopping struct{}

// Restarted is delivered to a fresh incarnation, just before its Started,
// when the previous one panicked. Cause describes the panic.
type Restarted struct{ Cause string }

// Spawner starts actors on one node. A node's wiring is a function of a
// Spawner, so the same boot code runs in both runtimes (and again when the
// simulator restarts a crashed node).
type Spawner interface {
	Spawn(name string, p Producer) Addr
}
