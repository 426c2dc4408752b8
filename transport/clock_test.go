package transport

import (
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/stretchr/testify/require"
)

// clockProbe answers every string with the clocks it sees.
type clockProbe struct{ out chan<- [2]time.Duration }

func (p *clockProbe) Receive(ctx actors.Context, m any) {
	if _, ok := m.(string); ok {
		p.out <- [2]time.Duration{time.Until(ctx.Now()), ctx.Elapsed()}
	}
}

// TestClockOffsetShiftsNowNotElapsed: fault injection skews the wall clock
// actors read, while Elapsed (failure detection, timeouts) stays monotonic.
func TestClockOffsetShiftsNowNotElapsed(t *testing.T) {
	n := startNode(t, "a")
	ch := make(chan [2]time.Duration, 4)
	require.False(t, n.Spawn("probe", func() actors.Behaviour { return &clockProbe{out: ch} }).IsZero())
	probe := func() [2]time.Duration {
		n.Send(actors.Addr{}, actors.Addr{Node: "a", Name: "probe"}, "now?")
		select {
		case got := <-ch:
			return got
		case <-time.After(5 * time.Second):
			t.Fatal("probe did not answer within 5s")
			return [2]time.Duration{}
		}
	}
	before := probe()
	require.InDelta(t, 0, before[0].Seconds(), 1, "no offset: Now is the wall clock")

	n.SetClockOffset(-300 * time.Second)
	require.Equal(t, -300*time.Second, n.ClockOffset())
	after := probe()
	require.InDelta(t, -300, after[0].Seconds(), 1, "Now is shifted by the offset")
	require.GreaterOrEqual(t, after[1], before[1], "Elapsed stays monotonic across a backwards step")
}
