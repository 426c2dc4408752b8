package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// topologyFor varies the cluster shape with the seed: one DC of three
// racks, or two DCs of two racks, with one or two nodes per rack.
func topologyFor(seed int64) ([]int, int) {
	shapes := [][]int{{3}, {2, 2}}
	return shapes[seed%2], 1 + int(seed/2%2)
}

// swarmSpec also draws the datastore: one seed in four runs memcached
// nodes (data_store 1, memcached coordinators, register clients), the rest
// the embedded store with Redis coordinators, set clients and four
// register clients whose keys end the run with the convergence check
// (memcached keeps no versions: no anti-entropy, no convergence claim).
func swarmSpec(seed int64) SwarmSpec {
	racks, per := topologyFor(seed)
	spec := SwarmSpec{Seed: seed, Racks: racks, PerRack: per}
	if actors.Stream(seed, "swarm-datastore").IntN(4) == 0 {
		spec.Config = map[string]any{"data_store": int(config.Memcached)}
	} else {
		spec.Registers = 4
	}
	return spec
}

func report(run SwarmRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed=%d racks=%v per-rack=%d data_store=%s: %s\nfault schedule:\n", run.Spec.Seed, run.Spec.Racks, run.Spec.PerRack,
		run.Spec.DataStore(), run.Result)
	for _, f := range run.Faults {
		b.WriteString("  " + f.String() + "\n")
	}
	fmt.Fprintf(&b, "replay: go test ./sim -run 'TestSwarm$' -seed=%d -v\n", run.Spec.Seed)
	return b.String()
}

func failed(run SwarmRun) bool { return run.Err != nil || !run.Result.Valid }

// checkSeed runs one swarm seed and fails with the seed, the schedule, a
// shrunk schedule and the replay command.
func checkSeed(t *testing.T, seed int64, record ...func(SwarmRun)) SwarmRun {
	run := RunSwarm(swarmSpec(seed))
	for _, r := range record {
		r(run)
	}
	if failed(run) {
		small := Shrink(swarmSpec(seed), run.Faults, failed)
		var b strings.Builder
		for _, f := range small {
			b.WriteString("  " + f.String() + "\n")
		}
		t.Fatalf("%serr=%v\nshrunk schedule that still fails:\n%s", report(run), run.Err, b.String())
	}
	return run
}

// TestSwarm runs fixed seeds, then -sim.seeds more from -seed (or a random
// start), in parallel; each draws its own faults.
func TestSwarm(t *testing.T) {
	seeds := []int64{1, 2, 3, 4, 5, 6, 7, 8}
	if *seedFlag != 0 {
		seeds = nil
	}
	base := runSeed(t)
	for i := range int64(*seedsFlag) {
		seeds = append(seeds, base+i)
	}
	camp := newCampaign()
	if *summaryFlag != "" {
		t.Cleanup(func() { // after every seed's subtest
			if err := camp.write(*summaryFlag); err != nil {
				t.Errorf("campaign summary: %v", err)
			}
		})
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			run := checkSeed(t, seed, camp.add)
			t.Logf("seed=%d data_store=%s digest=%s events=%d virtual=%s ops=%v faults=%d", seed, run.Spec.DataStore(), run.Digest, run.Events, run.Virtual, run.Result.Stats, len(run.Faults))
		})
	}
}

// lyingStore acknowledges some SADDs without applying them: the kind of bug
// (an ack before the store confirms) the checkers exist to catch.
type lyingStore struct {
	inner actors.Behaviour
	p     float64
}

func (l *lyingStore) Receive(ctx actors.Context, m any) {
	if e, ok := m.(store.Exec); ok && len(e.Args) > 0 && strings.EqualFold(string(e.Args[0]), "sadd") && ctx.Rand().Float64() < l.p {
		ctx.Send(ctx.Sender(), store.Result{ID: e.ID, Reply: []byte(":1\r\n")})
		return
	}
	l.inner.Receive(ctx, m)
}

// TestSwarmCatchesInjectedBug: with a store that lies, the checkers must
// report a violation within a bounded number of seeds.
func TestSwarmCatchesInjectedBug(t *testing.T) {
	const maxSeeds = 10
	for seed := int64(1); seed <= maxSeeds; seed++ {
		spec := swarmSpec(seed)
		spec.Config = nil // the lie is about SADD: Redis nodes (TestMemcachedSwarmCatchesLostWrites covers memcached)
		spec.WrapStore = func(_ string, p actors.Producer) actors.Producer {
			return func() actors.Behaviour { return &lyingStore{inner: p(), p: 0.3} }
		}
		run := RunSwarm(spec)
		require.NoError(t, run.Err)
		for _, v := range run.Result.Violations {
			if v.Checker == "safe-reads-see-quorum-writes" || v.Checker == "settled-reads-complete" {
				t.Logf("lost acknowledged write caught at seed %d: %s", seed, v)
				return
			}
		}
	}
	t.Fatalf("a store that drops 30%% of acknowledged adds went unnoticed by the data checkers for %d seeds", maxSeeds)
}

// TestSwarmDeterminism: a faulted 9-node, 3-rack run of the real node
// actors replays to the same trace digest.
func TestSwarmDeterminism(t *testing.T) {
	spec := SwarmSpec{Seed: 4242, Racks: []int{3}, PerRack: 3}
	a, b := RunSwarm(spec), RunSwarm(spec)
	require.NoError(t, a.Err)
	require.Equal(t, a.Digest, b.Digest)
	require.Equal(t, a.Events, b.Events)
	require.Equal(t, len(a.History), len(b.History))
	require.NotEmpty(t, a.Faults)
	t.Logf("seed=%d digest=%s events=%d virtual=%s", spec.Seed, a.Digest, a.Events, a.Virtual)
}

// BenchmarkSwarm9Nodes: virtual time per wall time for a 9-node, 3-rack
// cluster under load and faults.
func BenchmarkSwarm9Nodes(b *testing.B) {
	var virtual time.Duration
	var events uint64
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		run := RunSwarm(SwarmSpec{Seed: int64(i + 1), Racks: []int{3}, PerRack: 3, Clients: 16})
		virtual += run.Virtual
		events += run.Events
	}
	wall := time.Since(start)
	b.ReportMetric(virtual.Seconds()/wall.Seconds(), "virtual/wall")
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
}

// TestPropSwarm draws topologies, client levels and fault mixes (rapid
// shrinks a failure to a small schedule) and requires every checker to pass.
func TestPropSwarm(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		racks := rapid.SliceOfN(rapid.IntRange(1, 3), 1, 2).Draw(rt, "racks per DC")
		per := rapid.IntRange(1, 2).Draw(rt, "nodes per rack")
		var nodes []string
		for d, n := range racks {
			for r := range n {
				for k := range per {
					nodes = append(nodes, fmt.Sprintf("dc%d-r%d-n%d", d+1, r+1, k+1))
				}
			}
		}
		faults := []Fault{} // empty, not nil: nil would mean "draw from the seed"
		for range rapid.IntRange(0, 5).Draw(rt, "faults") {
			f := Fault{
				Kind: rapid.SampledFrom(FaultKinds).Draw(rt, "kind"),
				At:   time.Duration(rapid.IntRange(0, 40).Draw(rt, "at s")) * time.Second,
				For:  time.Duration(rapid.IntRange(1, 15).Draw(rt, "for s")) * time.Second,
			}
			victim := nodes[rapid.IntRange(0, len(nodes)-1).Draw(rt, "victim")]
			dc, rack, _ := strings.Cut(victim, "-")
			rack = rack[:strings.Index(rack, "-")]
			switch f.Kind {
			case "partition-rack":
				f.DC, f.Rack = dc, rack
			case "partition-dc":
				f.DC = dc
			case "partition-oneway", "partition-half", "bridge":
				f.Nodes = []string{victim, nodes[rapid.IntRange(0, len(nodes)-1).Draw(rt, "other")]}
			case "clock-jump", "clock-drift":
				f.Nodes, f.Value, f.For = []string{victim}, float64(rapid.IntRange(-300, 300).Draw(rt, "value")), 0
			case "lossy-net":
				f.Value = 0.2
			case "slow-net":
			default:
				f.Nodes = []string{victim}
			}
			faults = append(faults, f)
		}
		levels := rapid.SliceOfNDistinct(rapid.SampledFrom(levels), 1, 4, func(c config.Consistency) config.Consistency { return c }).Draw(rt, "levels")
		run := RunSwarm(SwarmSpec{Seed: rapid.Int64().Draw(rt, "seed"), Racks: racks, PerRack: per, Faults: faults,
			Phase: 45 * time.Second, Clients: 6, Levels: levels})
		require.NoError(rt, run.Err)
		require.True(rt, run.Result.Valid, "%s", report(run))
	})
}

// TestSwarmCatchesDisabledAntiEntropy: the swarm's convergence check (its
// register clients' keys, after the heal, before the liveness phase)
// fails within a bounded number of seeds when the nodes run without
// anti-entropy (the planted bug).
func TestSwarmCatchesDisabledAntiEntropy(t *testing.T) {
	const maxSeeds = 12
	for seed := int64(1); seed <= maxSeeds; seed++ {
		spec := swarmSpec(seed)
		if spec.Registers == 0 {
			continue // a memcached seed: no versions, no convergence claim
		}
		spec.Config = map[string]any{"anti_entropy": false}
		run := RunSwarm(spec)
		require.NoError(t, run.Err)
		for _, v := range run.Result.Violations {
			if v.Checker == "converged" || v.Checker == "survived" {
				t.Logf("caught at seed %d: %s", seed, v)
				return
			}
		}
	}
	t.Fatalf("the swarm's convergence check missed disabled anti-entropy for %d seeds", maxSeeds)
}
