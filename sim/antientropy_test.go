package sim_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/antientropy"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/node"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/sim"
)

// aeBound is how long after the heal (or the wiped node's restart) every
// replica holds what the others hold in these runs: a round comes within
// 1.25 × anti_entropy_interval (sim.AEInterval), and a wiped node starts
// one as soon as gossip sees its replicas.
const aeBound = sim.AEInterval*5/4 + 3*time.Second

// aeCluster is three racks of one node, hints and read repair off: only
// anti-entropy can bring a missed write to a replica.
func aeCluster(t *testing.T, seed int64, conf map[string]any) *lwwCluster {
	c := map[string]any{"hinted_handoff": false, "anti_entropy": true}
	for k, v := range conf {
		c[k] = v
	}
	return hintCluster(t, seed, c)
}

// pipelined sends cmds through node at level in one batch and returns
// the replies once all came (within a second).
func (lc *lwwCluster) pipelined(t *testing.T, node string, level config.Consistency, cmds [][]string) []string {
	lc.proc++
	w := lc.c.W
	out := &timedSink{w: w}
	sinkAddr := w.Spawn(actors.NodeID(node), fmt.Sprintf("pipe-sink%d", lc.proc), func() actors.Behaviour { return out })
	conn := lc.c.Connect(node, level, level, sinkAddr)
	var req coord.Requests
	for _, cmd := range cmds {
		var args [][]byte
		for _, a := range cmd {
			args = append(args, []byte(a))
		}
		req.Cmds = append(req.Cmds, args)
	}
	w.Inject(actors.Addr{Node: actors.NodeID(node), Name: "edge"}, conn, req)
	require.NoError(t, w.RunFor(time.Second))
	all := strings.Join(out.replies, "")
	var replies []string
	for len(all) > 0 {
		i := strings.Index(all, "\r\n")
		require.GreaterOrEqual(t, i, 0)
		line := all[:i+2]
		all = all[i+2:]
		if line[0] == '$' && line != "$-1\r\n" {
			j := strings.Index(all, "\r\n")
			line += all[:j+2]
			all = all[j+2:]
		}
		replies = append(replies, line)
	}
	require.Len(t, replies, len(cmds))
	return replies
}

func (lc *lwwCluster) aeStatus(t *testing.T, n string) antientropy.Status {
	return askActor[antientropy.Status](t, lc, n, node.AEName, antientropy.GetStatus{})
}

// selfState is the state node n declares (its gossiper's own entry).
func (lc *lwwCluster) selfState(n string) gossip.State {
	g := lc.c.W.Behaviour(actors.Addr{Node: actors.NodeID(n), Name: node.GossipName}).(*gossip.Gossiper)
	for _, m := range g.Snapshot().List {
		if m.ID == n {
			return m.State
		}
	}
	return gossip.Unknown
}

// storeExec runs one command on node n's own store and returns its reply.
func (lc *lwwCluster) storeExec(t *testing.T, n string, args ...string) string {
	s := &storeReader{}
	lc.proc++
	name := fmt.Sprintf("store-exec-%d", lc.proc)
	lc.c.W.Spawn(actors.NodeID(n), name, func() actors.Behaviour { return s })
	var b [][]byte
	for _, a := range args {
		b = append(b, []byte(a))
	}
	lc.c.W.Inject(actors.Addr{Node: actors.NodeID(n), Name: name}, actors.Addr{Node: actors.NodeID(n), Name: node.StoreName}, store.Exec{ID: 1, Args: b})
	require.NoError(t, lc.c.W.RunFor(100*time.Millisecond))
	return s.reply
}

// missingOn counts the keys of want whose value node n's store lacks,
// reading them in key order (each read runs the world a little: map order
// would make the run differ from one go to the next).
func (lc *lwwCluster) missingOn(t *testing.T, n string, want map[string]string) int {
	missing := 0
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if lc.storeValue(t, n, k) != want[k] {
			missing++
		}
	}
	return missing
}

// TestAntiEntropyRepairsAMissedWrite: node3 is away (cut off, or crashed
// with its datastore kept; a pause loses nothing in the simulator, whose
// links hold a paused node's messages) while keys are written through node1
// at DC_ONE and some deleted; hints and read repair are off. After the
// heal, with no read at all, node3's store holds every acknowledged
// value and none of the deleted keys within aeBound. With anti_entropy
// false (the planted bug) it still misses them.
func TestAntiEntropyRepairsAMissedWrite(t *testing.T) {
	n1, n3 := "dc1-r1-n1", "dc1-r3-n1"
	downs := map[string]struct{ down, up func(w *sim.World) }{
		"partition": {func(w *sim.World) { w.Isolate([]actors.NodeID{actors.NodeID(n3)}) }, func(w *sim.World) { w.Heal() }},
		"crash":     {func(w *sim.World) { w.Crash(actors.NodeID(n3)) }, func(w *sim.World) { w.Restart(actors.NodeID(n3)) }},
	}
	for _, name := range []string{"partition", "crash"} {
		for _, on := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s anti_entropy=%v", name, on), func(t *testing.T) {
				lc := aeCluster(t, 5, map[string]any{"anti_entropy": on})
				var cmds [][]string
				want := map[string]string{}
				for i := range 100 {
					k := fmt.Sprintf("k%d", i)
					cmds = append(cmds, []string{"SET", k, "old"})
					want[k] = "old"
				}
				lc.pipelined(t, n1, config.DCQuorum, cmds)
				require.NoError(t, lc.c.W.RunFor(time.Second))
				downs[name].down(lc.c.W)
				cmds = cmds[:0]
				for i := range 100 {
					k := fmt.Sprintf("k%d", i)
					switch i % 4 {
					case 0:
						cmds = append(cmds, []string{"DEL", k})
						want[k] = ""
					case 1, 2:
						cmds = append(cmds, []string{"SET", k, "new"})
						want[k] = "new"
					}
				}
				for i, r := range lc.pipelined(t, n1, config.DCOne, cmds) {
					require.False(t, strings.HasPrefix(r, "-"), "%v: %s", cmds[i], r)
				}
				require.NoError(t, lc.c.W.RunFor(2*time.Second))
				downs[name].up(lc.c.W)
				require.NoError(t, lc.c.W.RunFor(aeBound))
				missing := lc.missingOn(t, n3, want)
				if !on {
					require.Positive(t, missing, "without anti-entropy %s should miss writes", n3)
					return
				}
				require.Zero(t, missing, "keys %s lacks %s after the heal", n3, aeBound)
				st := lc.aeStatus(t, n3)
				require.Positive(t, st.KeysPulled, "%+v", st)
				require.Equal(t, gossip.Normal, lc.selfState(n3))
			})
		}
	}
}

// TestAntiEntropyRefillsAWipedNode: node3 loses its datastore (crash-wipe)
// after 300 keys were written everywhere, and more are written while it
// is down. On restart its store holds no data marker: it declares
// RESUMING (DC_ONE reads through it go to the other racks and find every
// key), pulls every key from its replicas (anti_entropy_bandwidth is low
// so that the refill takes seconds), and is NORMAL again, every key in
// its own store, within aeBound. Without anti-entropy it comes back
// NORMAL and empty, and DC_ONE reads through it miss keys.
func TestAntiEntropyRefillsAWipedNode(t *testing.T) {
	n1, n3 := "dc1-r1-n1", "dc1-r3-n1"
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("anti_entropy=%v", on), func(t *testing.T) {
			lc := aeCluster(t, 9, map[string]any{"anti_entropy": on, "anti_entropy_bandwidth": 1000})
			want := map[string]string{}
			var cmds [][]string
			for i := range 300 {
				k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
				cmds = append(cmds, []string{"SET", k, v})
				want[k] = v
			}
			for i := range 20 { // values modified in place: sets
				cmds = append(cmds, []string{"SADD", fmt.Sprintf("s%d", i), "a", "b", "c"})
			}
			lc.pipelined(t, n1, config.DCQuorum, cmds)
			require.NoError(t, lc.c.W.RunFor(time.Second))
			lc.c.W.CrashWipe(actors.NodeID(n3))
			cmds = cmds[:0]
			for i := 300; i < 350; i++ {
				k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
				cmds = append(cmds, []string{"SET", k, v})
				want[k] = v
			}
			lc.pipelined(t, n1, config.DCOne, cmds)
			lc.c.W.Restart(actors.NodeID(n3))
			resumed := false
			for range 20 {
				require.NoError(t, lc.c.W.RunFor(100*time.Millisecond))
				if lc.selfState(n3) == gossip.Resuming {
					resumed = true
					break
				}
			}
			if on {
				require.True(t, resumed, "node3 never declared RESUMING")
				// Meanwhile DC_ONE reads through node3 go to its replicas.
				for _, k := range []string{"k1", "k200", "k320"} {
					require.Equal(t, fmt.Sprintf("$%d\r\n%s\r\n", len(want[k]), want[k]), lc.raw(t, n3, config.DCOne, "GET", k))
				}
			} else {
				require.False(t, resumed)
			}
			require.NoError(t, lc.c.W.RunFor(aeBound))
			missing := lc.missingOn(t, n3, want)
			require.Equal(t, gossip.Normal, lc.selfState(n3))
			if !on {
				require.Positive(t, missing, "without anti-entropy the wiped node stays empty")
				require.Equal(t, "$-1\r\n", lc.raw(t, n3, config.DCOne, "GET", "k1"), "and serves its emptiness")
				return
			}
			require.Zero(t, missing, "keys %s lacks %s after its restart", n3, aeBound)
			for i := range 20 {
				require.Equal(t, ":3\r\n", lc.storeExec(t, n3, "SCARD", fmt.Sprintf("s%d", i)), "set s%d on %s", i, n3)
			}
			st := lc.aeStatus(t, n3)
			require.False(t, st.Resuming, "%+v", st)
			require.GreaterOrEqual(t, st.LastResumeKeys, uint64(350), "%+v", st)
			require.Less(t, st.LastResumeTook, aeBound, "%+v", st)
		})
	}
}

// TestAntiEntropyOverALossyNetwork: node3 misses 2,000 writes (cut off,
// hints and read repair off); after the heal every link drops, duplicates
// and reorders a tenth of its messages. Sessions then see pages out of
// order, twice or never, acknowledgements lost and Syncs duplicated: they
// pull pages in order, time out and start again, and node3's store holds
// every key within a minute. (Each page is 1000 keys: two or three pages a
// session.)
func TestAntiEntropyOverALossyNetwork(t *testing.T) {
	n1, n3 := "dc1-r1-n1", "dc1-r3-n1"
	lc := aeCluster(t, 13, nil)
	w := lc.c.W
	w.Isolate([]actors.NodeID{actors.NodeID(n3)})
	want := map[string]string{}
	var cmds [][]string
	for i := range 2000 {
		k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
		cmds = append(cmds, []string{"SET", k, v})
		want[k] = v
	}
	for i, r := range lc.pipelined(t, n1, config.DCOne, cmds) {
		require.Equal(t, "+OK\r\n", r, "%v", cmds[i])
	}
	w.Heal()
	w.SetNet(sim.Link{Latency: time.Millisecond, Jitter: 2 * time.Millisecond, Drop: 0.1, Duplicate: 0.1, Reorder: 0.1})
	require.NoError(t, w.RunFor(time.Minute))
	w.SetNet(sim.Link{Latency: time.Millisecond, Jitter: 2 * time.Millisecond})
	require.Zero(t, lc.missingOn(t, n3, want), "keys node3 lacks after a minute of anti-entropy over a lossy network")
	st := lc.aeStatus(t, n3)
	require.GreaterOrEqual(t, st.KeysPulled, uint64(2000), "%+v", st)
	t.Logf("node3: %+v", st)
}

// TestAntiEntropyResumesPastASilentReplica: node3's datastore is wiped
// while node1 is down and node2 runs without anti-entropy (a node of an
// older version, or anti_entropy off): node2 never answers node3's Syncs.
// node3 counts it out after three unanswered Syncs and node1 once down
// for the settle time, and is NORMAL again instead of RESUMING for good.
func TestAntiEntropyResumesPastASilentReplica(t *testing.T) {
	n1, n3 := "dc1-r1-n1", "dc1-r3-n1"
	c, err := sim.NewCluster(sim.ClusterSpec{Seed: 17, Racks: []int{3}, Timeout: 300 * time.Millisecond,
		Config:     map[string]any{"hinted_handoff": false},
		NodeConfig: map[string]map[string]any{"dc1-r2-n1": {"anti_entropy": false}}})
	require.NoError(t, err)
	lc := &lwwCluster{c: c}
	require.NoError(t, c.W.RunFor(3*time.Second))
	c.W.Crash(actors.NodeID(n1))
	c.W.CrashWipe(actors.NodeID(n3))
	c.W.Restart(actors.NodeID(n3))
	resumed := false
	for range 300 {
		require.NoError(t, c.W.RunFor(100*time.Millisecond))
		switch lc.selfState(n3) {
		case gossip.Resuming:
			resumed = true
		case gossip.Normal:
			if resumed {
				st := lc.aeStatus(t, n3)
				t.Logf("NORMAL again %s after the restart: %+v", st.LastResumeTook, st)
				return
			}
		}
	}
	t.Fatalf("node3 (resumed: %v) is still %s 30 s after its restart", resumed, lc.selfState(n3))
}
