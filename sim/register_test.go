package sim

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/internal/testreg"
	"github.com/stretchr/testify/require"
)

var (
	seedFlag  = flag.Int64("seed", 0, "master seed for seeded simulation runs (0: pick one and print it)")
	seedsFlag = flag.Int("sim.seeds", 8, "how many consecutive seeds TestManySeeds runs")
)

// runSeed returns the seed for this run: -seed when given, else a fresh one
// that the test prints so a failure can be replayed.
func runSeed(t testing.TB) int64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	s := rand.Int64N(1 << 40) // the only place a test picks its seed; printed below
	t.Logf("picked seed=%d (replay with: go test ./sim -run %s -seed=%d)", s, t.Name(), s)
	return s
}

// topology of the register run: 2 DCs, 3 racks in dc1, 2 in dc2.
var registerNodes = []NodeSpec{
	{ID: "n1", DC: "dc1", Rack: "r1"},
	{ID: "n2", DC: "dc1", Rack: "r2"},
	{ID: "n3", DC: "dc1", Rack: "r3"},
	{ID: "n4", DC: "dc2", Rack: "r1"},
	{ID: "n5", DC: "dc2", Rack: "r2"},
}

const registerWrites = 20

type runResult struct {
	w        *World
	replicas map[actors.NodeID]*testreg.Replica
}

// registerRun runs the replicated register on 5 nodes under a seeded mix of
// partitions, crashes, pauses, loss and clock skew, then heals everything and
// lets the cluster converge.
func registerRun(t testing.TB, seed int64) runResult {
	w := New(Config{Seed: seed, Net: Link{Latency: time.Millisecond, Jitter: 2 * time.Millisecond, Drop: 0.05, Duplicate: 0.02, Reorder: 0.05}})
	var addrs []actors.Addr
	for _, s := range registerNodes {
		addrs = append(addrs, actors.Addr{Node: s.ID, Name: "reg"})
	}
	for i, s := range registerNodes {
		peers := append(append([]actors.Addr(nil), addrs[:i]...), addrs[i+1:]...)
		s.Boot = func(sp actors.Spawner) {
			sp.Spawn("reg", testreg.New(testreg.Config{Peers: peers, Writes: registerWrites, WriteEvery: 2 * time.Second, SyncEvery: time.Second}))
		}
		w.AddNode(s)
	}
	// Cross-DC links are slower and lossier.
	for _, a := range registerNodes {
		for _, b := range registerNodes {
			if a.DC != b.DC {
				w.SetLink(a.ID, b.ID, Link{Latency: 30 * time.Millisecond, Jitter: 10 * time.Millisecond, Drop: 0.1, Reorder: 0.1})
			}
		}
	}
	// Faults: times and victims drawn from the fault stream of this seed.
	fr := w.Rand("faults")
	pick := func() actors.NodeID { return registerNodes[fr.IntN(len(registerNodes))].ID }
	at := func(lo, hi int) time.Duration { return time.Duration(lo+fr.IntN(hi-lo)) * time.Second }
	crashed := pick()
	w.At(at(3, 8), func() { w.IsolateRack("dc1", "r1") })
	w.At(at(8, 10), w.Heal)
	w.At(at(10, 14), func() { w.Crash(crashed) })
	w.At(at(15, 18), func() { w.Restart(crashed) })
	paused := pick()
	w.At(at(18, 20), func() { w.Pause(paused) })
	w.At(at(21, 24), func() { w.Resume(paused) })
	w.At(0, func() { w.SetClockOffset(pick(), time.Duration(fr.IntN(300))*time.Second) })
	w.At(0, func() { w.SetDrift(pick(), float64(fr.IntN(1000)-500)) })
	w.At(at(12, 20), func() { w.JumpClock(pick(), -time.Duration(100+fr.IntN(200))*time.Second) })
	w.At(at(25, 28), func() { w.IsolateDC("dc2") })
	w.At(at(29, 32), func() { w.PartitionOneWay([]actors.NodeID{"n2"}, []actors.NodeID{"n3", "n4"}) })
	// Liveness phase: heal and calm the network, then let it converge.
	w.At(40*time.Second, func() { w.Heal(); w.SetNet(Link{Latency: time.Millisecond}) })
	require.NoError(t, w.Run(90*time.Second))
	res := runResult{w: w, replicas: map[actors.NodeID]*testreg.Replica{}}
	for _, a := range addrs {
		r, _ := w.Behaviour(a).(*testreg.Replica)
		require.NotNil(t, r, "replica %s missing", a)
		res.replicas[a.Node] = r
	}
	return res
}

func (r runResult) line(wall time.Duration) string {
	return fmt.Sprintf("seed=%d digest=%s events=%d virtual=%s wall=%s",
		r.w.Seed(), r.w.Digest(), r.w.Stats().Events, r.w.Now(), wall.Round(time.Microsecond))
}

func requireConverged(t testing.TB, r runResult) {
	want := testreg.Expected(registerWrites, "n5")
	for id, rep := range r.replicas {
		require.Equal(t, want.Ver, rep.Ver, "node %s did not converge (seed=%d)", id, r.w.Seed())
		require.Equal(t, want.Value, rep.Value, "node %s", id)
	}
}

// TestSeededRun is the entry point for `go test ./sim -seed=N -v`.
func TestSeededRun(t *testing.T) {
	seed := runSeed(t)
	start := time.Now()
	r := registerRun(t, seed)
	t.Log(r.line(time.Since(start)))
	requireConverged(t, r)
	st := r.w.Stats()
	require.Positive(t, st.Dropped, "the fault mix must have dropped something")
	// Duplicates come only from the in-DC links' 2% before the heal, a
	// handful per run (6 for seed 42): some seeds draw none (CI drew
	// 882550696727), so duplication is checked on a fixed seed below.
}

// TestFaultMixDuplicates: the register run's fault mix does duplicate
// messages (seed 42 duplicates 6 of its ~1,050 remote messages).
func TestFaultMixDuplicates(t *testing.T) {
	require.Positive(t, registerRun(t, 42).w.Stats().Duplicated)
}

// TestDeterminism runs one faulted multi-node simulation twice in this
// process: the digests of the full event traces must match.
func TestDeterminism(t *testing.T) {
	seed := runSeed(t)
	a := registerRun(t, seed)
	b := registerRun(t, seed)
	require.Equal(t, a.w.Digest(), b.w.Digest(), "seed=%d replayed differently", seed)
	require.Equal(t, a.w.Stats(), b.w.Stats())
	c := registerRun(t, seed+1)
	require.NotEqual(t, a.w.Digest(), c.w.Digest(), "different seeds gave the same trace")
}

// TestManySeeds is a small swarm: every seed must converge.
func TestManySeeds(t *testing.T) {
	base := runSeed(t)
	for i := range int64(*seedsFlag) {
		r := registerRun(t, base+i)
		requireConverged(t, r)
		if testing.Verbose() {
			t.Log(r.line(0))
		}
	}
}

func BenchmarkRegisterRun(b *testing.B) {
	var events uint64
	var virtual time.Duration
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		r := registerRun(b, int64(i+1))
		events += r.w.Stats().Events
		virtual += r.w.Now()
	}
	wall := time.Since(start)
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(virtual.Seconds()/wall.Seconds(), "virtual/wall")
}
