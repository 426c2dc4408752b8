package stats_test

import (
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/stats"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
)

type sink struct{ answered int }

func (s *sink) Receive(_ actors.Context, m any) {
	if r, ok := m.(coord.Replies); ok {
		s.answered += r.Answered
	}
}

// node boots one simulated node with an embedded store and the stats
// actor, and one client connection whose coordinator reports to it.
func node(t *testing.T) (*sim.World, *sink, actors.Addr, actors.Addr) {
	t.Helper()
	w := sim.New(sim.Config{Seed: 7})
	w.AddNode(sim.NodeSpec{ID: "n1", DC: "dc1", Rack: "r1", Boot: func(s actors.Spawner) {
		s.Spawn("store", store.NewEmbedded(store.Options{}))
		s.Spawn(stats.Name, stats.New())
	}})
	r, err := ring.New(ring.Config{Nodes: []ring.Node{{ID: "n1", DC: "dc1", Rack: "r1", Tokens: []uint32{0}}}, Local: "n1"})
	require.NoError(t, err)
	cl := &sink{}
	w.Spawn("n1", "c1/w", func() actors.Behaviour { return cl })
	statsAddr := actors.Addr{Node: "n1", Name: stats.Name}
	conn := w.Spawn("n1", "c1", coord.NewRedis(coord.Config{
		Sink: actors.Addr{Node: "n1", Name: "c1/w"}, Ring: r, StoreName: "store", Timeout: time.Second,
		Read: config.DCOne, Write: config.DCOne, Stats: statsAddr, Version: "test",
	}))
	require.NoError(t, w.RunFor(time.Millisecond))
	return w, cl, conn, statsAddr
}

func snapshot(t *testing.T, w *sim.World, a actors.Addr) stats.Snapshot {
	t.Helper()
	b, ok := w.Behaviour(a).(*stats.Stats)
	require.True(t, ok, "stats actor is running")
	return b.Snapshot()
}

func send(w *sim.World, conn actors.Addr, cmds ...[]string) {
	var batch [][][]byte
	for _, c := range cmds {
		var args [][]byte
		for _, a := range c {
			args = append(args, []byte(a))
		}
		batch = append(batch, args)
	}
	w.Inject(actors.Addr{Node: "n1", Name: "edge"}, conn, coord.Requests{Cmds: batch})
}

// TestCoordinatorReportsToStats: a coordinator's counts reach the stats
// actor within a report interval, by class, level and error kind, and a
// stopping coordinator reports what is left.
func TestCoordinatorReportsToStats(t *testing.T) {
	w, cl, conn, sa := node(t)
	send(w, conn, []string{"set", "a", "1"}, []string{"get", "a"}, []string{"get", "b"},
		[]string{"ping"}, []string{"nosuch"}, []string{"wait", "1", "0"}, []string{"lpush", "a", "x"}, []string{"get"})
	require.NoError(t, w.RunFor(10*time.Millisecond))
	require.Equal(t, 8, cl.answered)
	require.Zero(t, snapshot(t, w, sa).Reports, "nothing is reported before the interval")

	require.NoError(t, w.RunFor(coord.StatsInterval))
	s := snapshot(t, w, sa)
	require.EqualValues(t, 1, s.Reports)
	tot := s.Total
	require.EqualValues(t, 2, tot.Requests[coord.ClassRead][config.DCOne], "get a, get b")
	require.EqualValues(t, 2, tot.Requests[coord.ClassWrite][config.DCOne], "set, lpush")
	require.EqualValues(t, 4, tot.Requests[coord.ClassOther][0], "ping, nosuch, wait, get without a key")
	require.EqualValues(t, 2, tot.Errors[coord.ClassOther][coord.ErrUnsupported], "nosuch, wait")
	require.EqualValues(t, 1, tot.Errors[coord.ClassOther][coord.ErrReply], "wrong arity")
	require.EqualValues(t, 1, tot.Errors[coord.ClassWrite][coord.ErrReply], "WRONGTYPE")
	var hist uint64
	for _, n := range tot.Latency[coord.ClassRead][config.DCOne] {
		hist += n
	}
	require.EqualValues(t, 2, hist, "every request lands in one latency bucket")
	require.Equal(t, s.Total, s.Window)

	// Quiet connection: no further reports.
	require.NoError(t, w.RunFor(3*coord.StatsInterval))
	require.EqualValues(t, 1, snapshot(t, w, sa).Reports)

	// /historeset clears the window, not the totals.
	w.Inject(actors.Addr{Node: "n1", Name: "admin"}, sa, stats.ResetWindow{})
	require.NoError(t, w.RunFor(time.Millisecond))
	s = snapshot(t, w, sa)
	require.Zero(t, s.Window.Requests[coord.ClassRead][config.DCOne])
	require.EqualValues(t, 2, s.Total.Requests[coord.ClassRead][config.DCOne])

	// A coordinator that stops reports at once.
	send(w, conn, []string{"get", "a"})
	require.NoError(t, w.RunFor(10*time.Millisecond))
	stopper := w.Spawn("n1", "stopper", func() actors.Behaviour { return stopBehaviour{conn} })
	w.Inject(stopper, stopper, struct{}{})
	require.NoError(t, w.RunFor(10*time.Millisecond))
	s = snapshot(t, w, sa)
	require.EqualValues(t, 2, s.Reports)
	require.EqualValues(t, 3, s.Total.Requests[coord.ClassRead][config.DCOne])
}

// stopBehaviour stops an actor when poked (the sim stops actors from
// inside a node).
type stopBehaviour struct{ target actors.Addr }

func (b stopBehaviour) Receive(ctx actors.Context, m any) {
	if _, ok := m.(struct{}); ok {
		ctx.Stop(b.target)
	}
}

func TestWindowResetsEveryFiveMinutes(t *testing.T) {
	w, _, conn, sa := node(t)
	send(w, conn, []string{"get", "a"})
	require.NoError(t, w.RunFor(2*coord.StatsInterval))
	require.EqualValues(t, 1, snapshot(t, w, sa).Window.Requests[coord.ClassRead][config.DCOne])
	require.NoError(t, w.RunFor(stats.WindowReset))
	s := snapshot(t, w, sa)
	require.Zero(t, s.Window.Requests[coord.ClassRead][config.DCOne])
	require.EqualValues(t, 1, s.Total.Requests[coord.ClassRead][config.DCOne])
}
