package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/check"
	"github.com/stretchr/testify/require"
)

// mcReport says what a failing memcached run needs to be replayed.
func mcReport(run MemcachedRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed=%d racks=%v per-rack=%d reordering=%v wiped=%v: %s\nfault schedule:\n",
		run.Spec.Seed, run.Spec.Racks, run.Spec.PerRack, run.Reordering, run.Wiped, run.Result)
	for _, f := range run.Faults {
		b.WriteString("  " + f.String() + "\n")
	}
	fmt.Fprintf(&b, "replay a drawn seed: go test ./sim -run 'TestMemcachedSwarm$' -seed=%d -sim.seeds=1 -v\n", run.Spec.Seed)
	return b.String()
}

// orderKeepingFaults is a schedule of faults that reorder no replica's
// writes, so every promise of the register checker applies: a rack cut
// off, a node crashed and restarted, one paused, a slow network and a
// failing datastore.
func orderKeepingFaults(nodes []string) []Fault {
	return []Fault{
		{At: 2 * time.Second, For: 8 * time.Second, Kind: "partition-rack", DC: "dc1", Rack: "r2"},
		{At: 12 * time.Second, For: 5 * time.Second, Kind: "crash", Nodes: nodes[:1]},
		{At: 19 * time.Second, For: 4 * time.Second, Kind: "pause", Nodes: nodes[len(nodes)-1:]},
		{At: 24 * time.Second, For: 4 * time.Second, Kind: "slow-net"},
		{At: 30 * time.Second, For: 5 * time.Second, Kind: "failing-store", Nodes: nodes[1:2]},
	}
}

func mcNodes(racks, per int) []string {
	var out []string
	for r := range racks {
		for k := range per {
			out = append(out, fmt.Sprintf("dc1-r%d-n%d", r+1, k+1))
		}
	}
	return out
}

// TestMemcachedSwarm runs memcached register clients at every level across
// three racks (one and two nodes a rack): fault-free (every read after the
// settle sees the last write), under faults that keep each replica's
// writes in order (safe reads are never stale), and under schedules drawn
// from the seed (lossy networks and slow datastores among them: then only
// phantoms and liveness are judged).
func TestMemcachedSwarm(t *testing.T) {
	type tc struct {
		name   string
		spec   SwarmSpec
		strict bool // every promise applies
	}
	var cases []tc
	for _, per := range []int{1, 2} {
		nodes := mcNodes(3, per)
		cases = append(cases,
			tc{fmt.Sprintf("fault-free/per-rack=%d", per), SwarmSpec{Seed: 11, Racks: []int{3}, PerRack: per, Faults: []Fault{}, Phase: 30 * time.Second, Levels: levels}, true},
			tc{fmt.Sprintf("order-keeping/per-rack=%d", per), SwarmSpec{Seed: 12, Racks: []int{3}, PerRack: per, Faults: orderKeepingFaults(nodes), Phase: 40 * time.Second, Levels: levels}, true})
	}
	// Fixed seeds, then -sim.seeds more from -seed (or a random start).
	seeds := []int64{1, 2, 3}
	base := runSeed(t)
	for i := range int64(*seedsFlag) {
		seeds = append(seeds, base+i)
	}
	for _, seed := range seeds {
		cases = append(cases, tc{fmt.Sprintf("drawn/seed=%d", seed), SwarmSpec{Seed: seed, Racks: []int{3}, PerRack: 1 + int(seed%2), Phase: 40 * time.Second}, false})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			run := RunMemcachedSwarm(c.spec)
			require.NoError(t, run.Err)
			require.True(t, run.Result.Valid, "%s", mcReport(run))
			if c.strict {
				require.False(t, run.Reordering || run.Wiped, "the strict schedules must keep every promise in force")
			}
			st := run.Result.Stats
			require.Greater(t, st["write:ok"], 20, "writes acknowledged: %v", st)
			require.Greater(t, st["read:ok"], 20, "reads answered: %v", st)
			hits := 0
			for _, op := range run.History {
				if op.F == "read" && op.Type == check.OK && op.Value != "" {
					hits++
				}
			}
			require.Greater(t, hits, 10, "reads that found a value")
			t.Logf("%s: %s events=%d virtual=%s faults=%d reordering=%v", c.name, run.Result, run.Events, run.Virtual, len(run.Faults), run.Reordering)
		})
	}
}

// TestMemcachedSwarmDeterminism: a faulted memcached run replays to the
// same trace digest.
func TestMemcachedSwarmDeterminism(t *testing.T) {
	spec := SwarmSpec{Seed: 77, Racks: []int{3}, PerRack: 2, Phase: 30 * time.Second}
	a, b := RunMemcachedSwarm(spec), RunMemcachedSwarm(spec)
	require.NoError(t, a.Err)
	require.Equal(t, a.Digest, b.Digest)
	require.Equal(t, len(a.History), len(b.History))
}

// droppingMC acknowledges some memcached sets without storing them: an
// acknowledgement before the datastore confirms.
type droppingMC struct {
	inner actors.Behaviour
	p     float64
}

func (d *droppingMC) Receive(ctx actors.Context, m any) {
	if e, ok := m.(store.Exec); ok && len(e.Args) == 1 && strings.HasPrefix(string(e.Args[0]), "set ") && ctx.Rand().Float64() < d.p {
		if !e.Quiet {
			ctx.Send(ctx.Sender(), store.Result{ID: e.ID, Reply: []byte("STORED\r\n")})
		}
		return
	}
	d.inner.Receive(ctx, m)
}

// TestMemcachedSwarmCatchesLostWrites: with datastores that drop 30% of
// the sets they acknowledge, the register checker reports stale reads,
// fault-free (every read after the settle) and under order-keeping faults
// (safe reads). The same runs with honest stores pass (TestMemcachedSwarm).
func TestMemcachedSwarmCatchesLostWrites(t *testing.T) {
	lying := func(_ string, p actors.Producer) actors.Producer {
		return func() actors.Behaviour { return &droppingMC{inner: p(), p: 0.3} }
	}
	for _, c := range []struct {
		spec SwarmSpec
		want string
	}{
		{SwarmSpec{Seed: 11, Racks: []int{3}, PerRack: 2, Faults: []Fault{}, Phase: 30 * time.Second, Levels: levels, WrapStore: lying}, "settled-reads-latest"},
		{SwarmSpec{Seed: 12, Racks: []int{3}, PerRack: 2, Faults: orderKeepingFaults(mcNodes(3, 2)), Phase: 40 * time.Second, Levels: levels, WrapStore: lying}, "safe-reads-not-stale"},
	} {
		run := RunMemcachedSwarm(c.spec)
		require.NoError(t, run.Err)
		var caught []check.Violation
		for _, v := range run.Result.Violations {
			if v.Checker == c.want {
				caught = append(caught, v)
			}
		}
		require.NotEmpty(t, caught, "a store that drops 30%% of acknowledged sets went unnoticed by %s: %s", c.want, mcReport(run))
		t.Logf("seed=%d: %d %s violations, e.g. %s", c.spec.Seed, len(caught), c.want, caught[0])
	}
}

// mcSink collects a connection's replies.
type mcSink struct{ got []byte }

func (s *mcSink) Receive(_ actors.Context, m any) {
	if r, ok := m.(coord.Replies); ok {
		s.got = append(s.got, r.Data...)
	}
}

// TestMemcachedSimMultiGet: in the simulator as with real processes, a
// multi-key get through a node merges keys owned by both nodes of its rack,
// in request order, misses left out; a set reaches every rack.
func TestMemcachedSimMultiGet(t *testing.T) {
	c, err := NewCluster(ClusterSpec{Seed: 5, Racks: []int{3}, PerRack: 2, Config: map[string]any{"data_store": 1}})
	require.NoError(t, err)
	sink := &mcSink{}
	sinkAddr := c.W.Spawn("dc1-r1-n2", "sink", func() actors.Behaviour { return sink })
	conn := c.Connect("dc1-r1-n2", config.DCOne, config.DCOne, sinkAddr)
	send := func(raw string) string {
		reqs, _, err := mcproto.NewParser(mcproto.DefaultLimits()).Parse([]byte(raw))
		require.NoError(t, err)
		sink.got = nil
		c.W.Inject(sinkAddr, conn, coord.MCRequests{Reqs: reqs})
		require.NoError(t, c.W.RunFor(time.Second))
		return string(sink.got)
	}
	// Keys owned in rack r1 by node n1 and by node n2.
	rg := c.Assembly("dc1-r1-n1").Ring()
	var ofN1, ofN2 []string
	for i := 0; len(ofN1) < 2 || len(ofN2) < 2; i++ {
		require.Less(t, i, 1000)
		k := fmt.Sprintf("k%d", i)
		for _, rep := range rg.Replicas([]byte(k), nil) {
			switch rep.Node {
			case "dc1-r1-n1":
				ofN1 = append(ofN1, k)
			case "dc1-r1-n2":
				ofN2 = append(ofN2, k)
			}
		}
	}
	var want strings.Builder
	for i, k := range []string{ofN1[0], ofN2[0], ofN1[1], ofN2[1]} {
		require.Equal(t, "STORED\r\n", send(fmt.Sprintf("set %s %d 0 1\r\n%d\r\n", k, i, i)))
		if i < 3 {
			fmt.Fprintf(&want, "VALUE %s %d 1\r\n%d\r\n", k, i, i)
		}
	}
	require.Equal(t, want.String()+"END\r\n", send("get "+ofN1[0]+" nope "+ofN2[0]+" "+ofN1[1]+"\r\n"))
	// Every rack's owner holds the set (DC_ONE replicates asynchronously),
	// and no other node does.
	owners := map[string]bool{}
	for _, rep := range rg.Replicas([]byte(ofN2[1]), nil) {
		owners[rep.Node] = true
	}
	require.Len(t, owners, 3)
	for _, n := range c.Nodes {
		probe := &storeProbe{}
		a := c.W.Spawn(actors.NodeID(n.ID), "probe", func() actors.Behaviour { return probe })
		c.W.Inject(a, actors.Addr{Node: actors.NodeID(n.ID), Name: "store"}, store.Exec{ID: 1, Args: [][]byte{[]byte("get " + ofN2[1] + "\r\n")}})
		require.NoError(t, c.W.RunFor(time.Second))
		if owners[n.ID] {
			require.Equal(t, "VALUE "+ofN2[1]+" 3 1\r\n3\r\nEND\r\n", probe.reply, "owner %s", n.ID)
		} else {
			require.Equal(t, "END\r\n", probe.reply, "non-owner %s", n.ID)
		}
	}
}

// storeProbe keeps the reply of a store it asked directly.
type storeProbe struct{ reply string }

func (p *storeProbe) Receive(_ actors.Context, m any) {
	if r, ok := m.(store.Result); ok {
		p.reply = string(r.Reply)
	}
}
