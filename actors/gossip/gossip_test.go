package gossip_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

type topo struct {
	w     *sim.World
	ids   []string
	specs []gossip.Member
}

// newTopo builds dcs x racks x perRack nodes running a gossiper each. With
// join, every node knows only the first node as its seed; else all.
func newTopo(t require.TestingT, seed int64, dcs, racks, perRack int, join bool, l sim.Link) *topo {
	tp := &topo{w: sim.New(sim.Config{Seed: seed, Net: l})}
	for d := range dcs {
		for r := range racks {
			for n := range perRack {
				id := fmt.Sprintf("d%dr%dn%d", d, r, n)
				tp.ids = append(tp.ids, id)
				tp.specs = append(tp.specs, gossip.Member{ID: id, DC: fmt.Sprintf("dc%d", d), Rack: fmt.Sprintf("r%d", r),
					Tokens: []uint32{uint32(uint64(n) * (1 << 32) / uint64(perRack))}})
			}
		}
	}
	for i, self := range tp.specs {
		seeds := tp.specs
		if join {
			seeds = tp.specs[:1]
		}
		cfg := gossip.Config{Self: self, Seeds: seeds, Interval: time.Second, AllowJoin: join}
		tp.w.AddNode(sim.NodeSpec{ID: actors.NodeID(tp.ids[i]), DC: self.DC, Rack: self.Rack,
			Boot: func(s actors.Spawner) { s.Spawn("gossip", gossip.New(cfg)) }})
	}
	return tp
}

func (tp *topo) members(id string) gossip.Members {
	g := tp.w.Behaviour(actors.Addr{Node: actors.NodeID(id), Name: "gossip"}).(*gossip.Gossiper)
	return g.Snapshot()
}

// upView is the set of members a node believes up.
func (tp *topo) upView(id string) string {
	s := ""
	for _, m := range tp.members(id).List {
		if m.Up {
			s += m.ID + " "
		}
	}
	return s
}

// TestCrashedNodeDetected: a crashed node is marked down by every other
// node within the bound, and comes back after a restart.
func TestCrashedNodeDetected(t *testing.T) {
	const bound = 10 * time.Second
	var worst time.Duration
	for seed := int64(1); seed <= 20; seed++ {
		tp := newTopo(t, seed, 1, 3, 3, false, sim.Link{Latency: time.Millisecond, Jitter: 2 * time.Millisecond})
		require.NoError(t, tp.w.RunFor(20*time.Second))
		victim := tp.ids[seed%int64(len(tp.ids))]
		tp.w.Crash(actors.NodeID(victim))
		crashed := tp.w.Now()
		detected := map[string]time.Duration{}
		for tp.w.Now()-crashed < 30*time.Second && len(detected) < len(tp.ids)-1 {
			require.NoError(t, tp.w.RunFor(100*time.Millisecond))
			for _, id := range tp.ids {
				if _, done := detected[id]; done || id == victim {
					continue
				}
				for _, m := range tp.members(id).List {
					if m.ID == victim && !m.Up {
						detected[id] = tp.w.Now() - crashed
					}
				}
			}
		}
		require.Len(t, detected, len(tp.ids)-1, "seed %d: not every node noticed %s", seed, victim)
		for id, d := range detected {
			require.LessOrEqual(t, d, bound, "seed %d: %s took %s to notice", seed, id, d)
			worst = max(worst, d)
		}
		tp.w.Restart(actors.NodeID(victim))
		require.NoError(t, tp.w.RunFor(10*time.Second))
		for _, id := range tp.ids {
			require.Len(t, tp.members(id).List, len(tp.ids))
			require.Equal(t, tp.upView(tp.ids[0]), tp.upView(id), "seed %d: %s disagrees after restart", seed, id)
		}
	}
	t.Logf("worst detection time over 20 seeds: %s (bound %s)", worst, bound)
}

// TestFalsePositivesUnderLossAndSkew: 20% message loss, jitter, clock
// offsets and drift, no failures, ten minutes: no healthy node is marked
// down. The measured rate is logged.
func TestFalsePositivesUnderLossAndSkew(t *testing.T) {
	var pairSeconds float64
	var falseDowns int
	for seed := int64(1); seed <= 5; seed++ {
		tp := newTopo(t, seed, 1, 3, 3, false, sim.Link{Latency: 2 * time.Millisecond, Jitter: 20 * time.Millisecond, Drop: 0.2})
		r := tp.w.Rand("skew")
		for _, id := range tp.ids {
			tp.w.SetClockOffset(actors.NodeID(id), time.Duration(r.IntN(600)-300)*time.Second)
			tp.w.SetDrift(actors.NodeID(id), float64(r.IntN(2000)-1000))
		}
		require.NoError(t, tp.w.RunFor(10*time.Minute))
		for _, id := range tp.ids {
			for _, m := range tp.members(id).List {
				falseDowns += m.Downs
			}
		}
		pairSeconds += float64(len(tp.ids)*(len(tp.ids)-1)) * 600
	}
	t.Logf("false down verdicts: %d over %.0f member-observer-seconds (rate %.2e/s)", falseDowns, pairSeconds, float64(falseDowns)/pairSeconds)
	require.Zero(t, falseDowns, "healthy nodes were marked down under 20%% loss")
}

// TestPausedNodeSuspectedThenRecovers: a 15s stop-the-world pause is
// noticed, and after it the node is up again everywhere without flapping.
func TestPausedNodeSuspectedThenRecovers(t *testing.T) {
	tp := newTopo(t, 3, 1, 3, 1, false, sim.Link{Latency: time.Millisecond, Jitter: time.Millisecond})
	require.NoError(t, tp.w.RunFor(20*time.Second))
	tp.w.Pause("d0r1n0")
	require.NoError(t, tp.w.RunFor(15*time.Second))
	require.NotContains(t, tp.upView("d0r0n0"), "d0r1n0", "a 15s pause must be suspected")
	tp.w.Resume("d0r1n0")
	require.NoError(t, tp.w.RunFor(2*time.Minute))
	for _, id := range tp.ids {
		require.Equal(t, "d0r0n0 d0r1n0 d0r2n0 ", tp.upView(id), "view of %s", id)
		for _, m := range tp.members(id).List {
			require.LessOrEqual(t, m.Downs, 1, "%s flapped on %s", id, m.ID)
		}
	}
}

// TestPropMembershipConverges: nodes that know one seed learn the whole
// cluster; random partitions come and go; after the heal every node's view
// of who is up agrees and lists everyone, within the bound.
func TestPropMembershipConverges(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dcs, racks, per := rapid.IntRange(1, 3).Draw(rt, "dcs"), rapid.IntRange(1, 3).Draw(rt, "racks"), rapid.IntRange(1, 3).Draw(rt, "per rack")
		tp := newTopo(rt, rapid.Int64().Draw(rt, "seed"), dcs, racks, per, true, sim.Link{Latency: time.Millisecond, Jitter: 5 * time.Millisecond, Drop: 0.05})
		for range rapid.IntRange(0, 4).Draw(rt, "partitions") {
			a := tp.ids[rapid.IntRange(0, len(tp.ids)-1).Draw(rt, "cut")]
			tp.w.Isolate([]actors.NodeID{actors.NodeID(a)})
			require.NoError(rt, tp.w.RunFor(time.Duration(rapid.IntRange(1, 30).Draw(rt, "for s"))*time.Second))
			tp.w.Heal()
		}
		tp.w.Heal()
		require.NoError(rt, tp.w.RunFor(30*time.Second))
		want := ""
		for _, id := range tp.ids {
			want += id + " "
		}
		for _, id := range tp.ids {
			require.Equal(rt, want, tp.upView(id), "view of %s 30s after the heal", id)
		}
	})
}

// TestJoinAndLeave: a node that knows only one seed joins and enters every
// ring; when it announces it leaves, every node drops it from the ring.
func TestJoinAndLeave(t *testing.T) {
	tp := newTopo(t, 4, 1, 3, 2, true, sim.Link{Latency: time.Millisecond})
	require.NoError(t, tp.w.RunFor(20*time.Second))
	leaver := tp.ids[len(tp.ids)-1]
	// knows: member is in id's membership and has not left (left members
	// are kept out of the ring the view carries).
	knows := func(id, member string) bool {
		for _, m := range tp.members(id).List {
			if m.ID == member {
				return !m.Left
			}
		}
		return false
	}
	for _, id := range tp.ids {
		require.True(t, knows(id, leaver), "%s does not know %s", id, leaver)
	}
	tp.w.Inject(actors.Addr{}, actors.Addr{Node: actors.NodeID(leaver), Name: "gossip"}, gossip.Leave{})
	require.NoError(t, tp.w.RunFor(10*time.Second))
	for _, id := range tp.ids[:len(tp.ids)-1] {
		require.False(t, knows(id, leaver), "%s still counts %s", id, leaver)
		require.NotContains(t, tp.upView(id), leaver)
	}
}

// TestClockStepsDoNotCauseSuspicion: wall-clock steps (NTP, VM migration)
// either way must not make a node suspect its peers: detection measures
// silence on the monotonic clock.
func TestClockStepsDoNotCauseSuspicion(t *testing.T) {
	tp := newTopo(t, 3, 1, 3, 1, false, sim.Link{Latency: time.Millisecond})
	require.NoError(t, tp.w.RunFor(20*time.Second))
	tp.w.JumpClock("d0r0n0", 120*time.Second)
	tp.w.JumpClock("d0r1n0", -300*time.Second)
	require.NoError(t, tp.w.RunFor(time.Minute))
	for _, id := range tp.ids {
		require.Equal(t, "d0r0n0 d0r1n0 d0r2n0 ", tp.upView(id), "view of %s", id)
		for _, m := range tp.members(id).List {
			require.Zero(t, m.Downs, "%s suspected %s after a clock step", id, m.ID)
		}
	}
}

// TestRestartAfterClockStepBack: a node whose clock stepped back restarts
// with a wall-clock generation lower than its previous life's; it must
// still be taken for alive (found by the swarm property, seed 575).
func TestRestartAfterClockStepBack(t *testing.T) {
	tp := newTopo(t, 5, 1, 2, 1, false, sim.Link{Latency: time.Millisecond})
	require.NoError(t, tp.w.RunFor(10*time.Second))
	tp.w.JumpClock("d0r0n0", -137*time.Second)
	tp.w.Crash("d0r0n0")
	require.NoError(t, tp.w.RunFor(8*time.Second))
	tp.w.Restart("d0r0n0")
	require.NoError(t, tp.w.RunFor(20*time.Second))
	require.Equal(t, "d0r0n0 d0r1n0 ", tp.upView("d0r1n0"), "the restarted node is up again")
	require.Equal(t, 1, tp.members("d0r0n0").GenerationMoves, "the restarted node moved past its previous life once")
	require.Zero(t, tp.members("d0r1n0").GenerationMoves, "the peer's own echoes moved nothing")
}

// TestMixedVersionsRefused: a node whose versions setting differs from
// the others' is never taken for up by them, nor they by it, however long
// they gossip; nodes that agree see each other up.
func TestMixedVersionsRefused(t *testing.T) {
	w := sim.New(sim.Config{Seed: 4, Net: sim.Link{Latency: time.Millisecond}})
	var members []gossip.Member
	for i := range 4 {
		members = append(members, gossip.Member{ID: fmt.Sprintf("n%d", i), DC: "dc1", Rack: fmt.Sprintf("r%d", i), Tokens: []uint32{0}})
	}
	for i, self := range members {
		cfg := gossip.Config{Self: self, Seeds: members, Interval: time.Second, AllowJoin: true, Versions: i != 3}
		w.AddNode(sim.NodeSpec{ID: actors.NodeID(self.ID), DC: self.DC, Rack: self.Rack,
			Boot: func(s actors.Spawner) { s.Spawn("gossip", gossip.New(cfg)) }})
	}
	require.NoError(t, w.RunFor(30*time.Second))
	tp := &topo{w: w}
	for i := range 3 {
		require.Equal(t, fmt.Sprintf("n%d n%d n%d ", 0, 1, 2), tp.upView(fmt.Sprintf("n%d", i)), "versioned node n%d", i)
	}
	require.Equal(t, "n3 ", tp.upView("n3"), "the unversioned node sees nobody up")
}
