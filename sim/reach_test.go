package sim

import (
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/stretchr/testify/require"
)

// Reach answers from the run's own faults: a clean stretch of the link as
// long as the span, before any crash of the sender.
func TestReach(t *testing.T) {
	w, _ := twoNodes(t, Link{Latency: time.Millisecond})
	at := func(d time.Duration, f func()) {
		w.At(d, f)
	}
	at(10*time.Second, func() { w.PartitionOneWay([]actors.NodeID{"a"}, []actors.NodeID{"b"}) }) // a -> b cut 10-14 s
	at(14*time.Second, w.Heal)
	at(20*time.Second, func() { w.Pause("b") }) // b paused 20-23 s
	at(23*time.Second, func() { w.Resume("b") })
	at(30*time.Second, func() { w.SetNet(Link{Latency: time.Millisecond, Drop: 0.1}) }) // lossy 30-35 s
	at(35*time.Second, func() { w.SetNet(Link{Latency: time.Millisecond}) })
	at(40*time.Second, func() { w.SetNet(Link{Latency: 50 * time.Millisecond}) }) // slow 40-45 s
	at(45*time.Second, func() { w.SetNet(Link{Latency: time.Millisecond}) })
	at(50*time.Second, func() { w.Crash("a") }) // a crashed 50-51 s
	at(51*time.Second, func() { w.Restart("a") })
	require.NoError(t, w.RunFor(time.Minute))
	const span = 2 * time.Second
	for _, tc := range []struct {
		name     string
		from, to string
		t0, t1   time.Duration
		want     bool
	}{
		{"clean", "a", "b", 0, 2 * time.Second, true},
		{"too short", "a", "b", 0, 1999 * time.Millisecond, false},
		{"cut a -> b", "a", "b", 9 * time.Second, 15 * time.Second, false},
		{"cut one way only", "b", "a", 9 * time.Second, 15 * time.Second, true},
		{"clean after the heal", "a", "b", 9 * time.Second, 16 * time.Second, true},
		{"receiver paused", "a", "b", 19 * time.Second, 24 * time.Second, false},
		{"sender paused is as bad", "b", "a", 19 * time.Second, 24 * time.Second, false},
		{"lossy", "a", "b", 29 * time.Second, 36 * time.Second, false},
		{"slow", "a", "b", 39 * time.Second, 46 * time.Second, false},
		{"the sender crashed: its clock is lost", "a", "b", 49 * time.Second, 55 * time.Second, false},
		{"the receiver crashed: what it hears after counts", "b", "a", 49 * time.Second, 55 * time.Second, true},
		{"the same node, running", "b", "b", 0, time.Minute, true},
		{"the same node, paused", "b", "b", 19 * time.Second, 24 * time.Second, true},
		{"the same node, crashed", "a", "a", 49 * time.Second, 52 * time.Second, false},
	} {
		require.Equal(t, tc.want, w.Reach(actors.NodeID(tc.from), actors.NodeID(tc.to), tc.t0, tc.t1, span), tc.name)
	}
}
