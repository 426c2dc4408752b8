package stats

import (
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/coord"
)

// Name is the stats actor's name on every node.
const Name = "stats"

// WindowReset is how often the latency window starts afresh, as
// Dynomite resets its histograms every five minutes.
const WindowReset = 5 * time.Minute

// ResetWindow asks the actor to clear its latency window now (/historeset).
// Local only.
type ResetWindow struct{}

// resetTick is the actor's own timer for the periodic window reset.
type resetTick struct{}

// Stats is the actor. Read it with Snapshot from inside its turn.
type Stats struct {
	total   coord.Counts // since the node started: counters only grow
	window  coord.Counts // latency since the last reset
	reports uint64
}

// New returns a producer of stats actors. A restarted actor starts from
// zero, which Prometheus reads as a counter reset.
func New() actors.Producer { return func() actors.Behaviour { return &Stats{} } }

// Receive implements actors.Behaviour.
func (s *Stats) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		ctx.After(WindowReset, resetTick{})
	case coord.StatsDelta:
		s.total.Add(m.Counts)
		s.window.Add(m.Counts)
		s.reports++
	case ResetWindow:
		s.window = coord.Counts{}
	case resetTick:
		s.window = coord.Counts{}
		ctx.After(WindowReset, resetTick{})
	}
}

// Snapshot is what the actor knows.
type Snapshot struct {
	// Total counts every request reported since the node started.
	Total coord.Counts
	// Window counts the requests reported since the last window reset;
	// /info's latency percentiles come from it.
	Window coord.Counts
	// Reports is how many StatsDelta reports were folded in.
	Reports uint64
}

// Snapshot copies the actor's state. Call it only inside the actor's turn.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{Total: s.total, Window: s.window, Reports: s.reports}
}
