package sim_test

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/hints"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/node"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
)

// handoffBound is how long after a heal every hint has reached its
// target in these runs (a heartbeat or two for the failure detector to
// see the target up, then hints_replay_rate): the bound the docs state.
const handoffBound = 5 * time.Second

// hintCluster is three racks of one node with hints on (the default),
// read repair off and anti-entropy off unless conf sets it: only hints
// can bring a missed write to a replica.
func hintCluster(t *testing.T, seed int64, conf map[string]any) *lwwCluster {
	if _, ok := conf["anti_entropy"]; !ok {
		c := map[string]any{"anti_entropy": false}
		for k, v := range conf {
			c[k] = v
		}
		conf = c
	}
	spec := sim.ClusterSpec{Seed: seed, Racks: []int{3}, Timeout: 300 * time.Millisecond, Config: conf}
	if os.Getenv("SIM_LOG") != "" { // debugging: every actor's log on stderr
		spec.Log = slog.NewTextHandler(os.Stderr, nil)
	}
	c, err := sim.NewCluster(spec)
	require.NoError(t, err)
	lc := &lwwCluster{c: c, seen: map[string]*[]store.Exec{}}
	require.NoError(t, c.W.RunFor(3*time.Second))
	return lc
}

// storeValue is what node's own store holds for key ("" for nothing).
func (lc *lwwCluster) storeValue(t *testing.T, n, key string) string {
	for _, f := range lc.finals(t, key) {
		if f.Replica == n {
			return f.Value
		}
	}
	t.Fatalf("no replica %s", n)
	return ""
}

func (lc *lwwCluster) hintStatus(t *testing.T, n string) hints.Status {
	return askActor[hints.Status](t, lc, n, node.HintsName, hints.GetStatus{})
}

// askActor sends ask to the actor named name on node n from a sink of its
// own and returns the T it answers.
func askActor[T any](t *testing.T, lc *lwwCluster, n, name string, ask any) T {
	var got T
	lc.proc++
	sink := fmt.Sprintf("ask-%d", lc.proc)
	lc.c.W.Spawn(actors.NodeID(n), sink, func() actors.Behaviour { return &answerSink[T]{got: &got} })
	lc.c.W.Inject(actors.Addr{Node: actors.NodeID(n), Name: sink}, actors.Addr{Node: actors.NodeID(n), Name: name}, ask)
	require.NoError(t, lc.c.W.RunFor(10*time.Millisecond))
	return got
}

// answerSink keeps the last T it receives.
type answerSink[T any] struct{ got *T }

func (s *answerSink[T]) Receive(_ actors.Context, m any) {
	if v, ok := m.(T); ok {
		*s.got = v
	}
}

// TestHintsReachAReplicaAfterDowntime: node3 is away (crashed with its
// datastore kept, cut off, or paused) while 20 keys are written through
// node1 at DC_ONE and DC_QUORUM; after the heal, with no read at all,
// node3's own store holds every acknowledged value within handoffBound.
// With hinted_handoff false (the planted bug) it misses them.
func TestHintsReachAReplicaAfterDowntime(t *testing.T) {
	n1, n3 := "dc1-r1-n1", "dc1-r3-n1"
	downs := map[string]struct{ down, up func(w *sim.World) }{
		"crash":     {func(w *sim.World) { w.Crash(actors.NodeID(n3)) }, func(w *sim.World) { w.Restart(actors.NodeID(n3)) }},
		"partition": {func(w *sim.World) { w.Isolate([]actors.NodeID{actors.NodeID(n3)}) }, func(w *sim.World) { w.Heal() }},
		"pause":     {func(w *sim.World) { w.Pause(actors.NodeID(n3)) }, func(w *sim.World) { w.Resume(actors.NodeID(n3)) }},
	}
	for _, name := range []string{"crash", "partition", "pause"} {
		for _, on := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s hints=%v", name, on), func(t *testing.T) {
				lc := hintCluster(t, 3, map[string]any{"hinted_handoff": on})
				d := downs[name]
				d.down(lc.c.W)
				want := map[string]string{}
				for i := range 20 {
					level := config.DCOne
					if i%2 == 1 {
						level = config.DCQuorum
					}
					k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
					if r := lc.do(t, n1, level, "write", k, v); r == "+OK\r\n" {
						want[k] = v
					}
				}
				require.Len(t, want, 20, "every write acknowledged (the other two racks are up)")
				d.up(lc.c.W)
				require.NoError(t, lc.c.W.RunFor(handoffBound))
				missing := lc.missingOn(t, n3, want)
				if on {
					require.Zero(t, missing, "writes missing on %s %s after the heal", n3, handoffBound)
					st := lc.hintStatus(t, n1)
					require.Empty(t, st.Targets, "hints left: %s", st)
					require.Positive(t, st.Replayed, "%s", st)
				} else {
					require.Positive(t, missing, "without hints %s should miss writes", n3)
				}
			})
		}
	}
}

// TestHintsSurviveTheCoordinatorsCrash: node3 is down while 20 keys are
// written through node1; node1 then crashes too (its hint log is kept,
// synced); node3 comes back, then node1: node1 reloads its hints and
// node3 holds every value within handoffBound of node1's restart. Keys
// written after node1's last sync may be lost with the torn tail of its
// log; the log is cut at its last good record and the rest replayed.
func TestHintsSurviveTheCoordinatorsCrash(t *testing.T) {
	n1, n3 := "dc1-r1-n1", "dc1-r3-n1"
	for _, synced := range []bool{true, false} {
		t.Run(fmt.Sprintf("synced=%v", synced), func(t *testing.T) {
			lc := hintCluster(t, 5, nil)
			w := lc.c.W
			w.Crash(actors.NodeID(n3))
			want := map[string]string{}
			var late []string // written within the sync interval before the crash
			for i := range 20 {
				k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
				require.Equal(t, "+OK\r\n", lc.do(t, n1, config.DCOne, "write", k, v))
				want[k] = v
			}
			if synced {
				require.NoError(t, w.RunFor(time.Second))
			} else {
				// Two more, crashed before the log syncs them.
				for i := 20; i < 22; i++ {
					k := fmt.Sprintf("k%d", i)
					lc.c.W.Inject(actors.Addr{Node: actors.NodeID(n1), Name: node.HintsName}, actors.Addr{Node: actors.NodeID(n1), Name: node.HintsName},
						hints.Hint{Target: n3, Args: [][]byte{[]byte("SET"), []byte(k), []byte("late")}, Version: stamp(w, n1)})
					late = append(late, k)
				}
				require.NoError(t, w.RunFor(10*time.Millisecond))
			}
			w.Crash(actors.NodeID(n1))
			w.Restart(actors.NodeID(n3))
			require.NoError(t, w.RunFor(2*time.Second))
			w.Restart(actors.NodeID(n1))
			require.NoError(t, w.RunFor(handoffBound))
			for _, k := range slices.Sorted(maps.Keys(want)) {
				require.Equal(t, want[k], lc.storeValue(t, n3, k), "key %s on %s", k, n3)
			}
			st := lc.hintStatus(t, n1)
			require.Empty(t, st.Targets, "hints left: %s", st)
			t.Logf("after the restart: %s; late keys on %s: %v", st, n3, func() (out []string) {
				for _, k := range late {
					out = append(out, k+"="+lc.storeValue(t, n3, k))
				}
				return out
			}())
		})
	}
}

// stamp is a version of node n's clock now (for hints made by hand).
func stamp(w *sim.World, n string) hlc.Version {
	return hlc.Version{TS: hlc.Timestamp{Wall: w.NodeTime(actors.NodeID(n)).UnixNano()}, Node: n}
}

// TestHintsNeverOverwriteNewer: node1 cannot reach node3 while it writes
// k; node2 then writes k anew at DC_QUORUM, reaching node3 directly;
// after the heal node1 replays its older write to node3, which keeps the
// newer value, as every replica does.
func TestHintsNeverOverwriteNewer(t *testing.T) {
	n1, n2, n3 := "dc1-r1-n1", "dc1-r2-n1", "dc1-r3-n1"
	lc := hintCluster(t, 7, nil)
	w := lc.c.W
	w.Partition([]actors.NodeID{actors.NodeID(n1)}, []actors.NodeID{actors.NodeID(n3)})
	require.Equal(t, "+OK\r\n", lc.do(t, n1, config.DCOne, "write", "k", "old"))
	require.NoError(t, w.RunFor(3*time.Second))
	require.Equal(t, "+OK\r\n", lc.do(t, n2, config.DCQuorum, "write", "k", "new"))
	require.Equal(t, "new", lc.storeValue(t, n3, "k"))
	st := lc.hintStatus(t, n1)
	require.Len(t, st.Targets, 1, "node1 holds a hint for node3: %s", st)
	w.Heal()
	require.NoError(t, w.RunFor(handoffBound))
	st = lc.hintStatus(t, n1)
	require.Empty(t, st.Targets, "%s", st)
	require.Positive(t, st.Replayed, "%s", st)
	for _, n := range []string{n1, n2, n3} {
		require.Equal(t, "new", lc.storeValue(t, n, "k"), "on %s", n)
	}
}

// TestHintsOnAFullDisk: node1's hint log refuses every write (a full
// disk): the hints live in memory, are counted as write errors, and are
// still replayed once node3 is back.
func TestHintsOnAFullDisk(t *testing.T) {
	n1, n3 := "dc1-r1-n1", "dc1-r3-n1"
	lc := hintCluster(t, 9, nil)
	w := lc.c.W
	w.Inject(actors.Addr{}, actors.Addr{Node: actors.NodeID(n1), Name: node.HintLogName}, sim.SetHintLogMode{Full: true})
	w.Crash(actors.NodeID(n3))
	for i := range 5 {
		require.Equal(t, "+OK\r\n", lc.do(t, n1, config.DCOne, "write", fmt.Sprintf("k%d", i), "v"))
	}
	st := lc.hintStatus(t, n1)
	require.EqualValues(t, 5, st.WriteErrors, "%s", st)
	w.Restart(actors.NodeID(n3))
	require.NoError(t, w.RunFor(handoffBound))
	for i := range 5 {
		require.Equal(t, "v", lc.storeValue(t, n3, fmt.Sprintf("k%d", i)))
	}
}

func (lc *lwwCluster) raw(t *testing.T, node string, level config.Consistency, cmd ...string) string {
	lc.proc++
	w := lc.c.W
	out := &timedSink{w: w}
	sinkAddr := w.Spawn(actors.NodeID(node), fmt.Sprintf("raw-sink%d", lc.proc), func() actors.Behaviour { return out })
	conn := lc.c.Connect(node, level, level, sinkAddr)
	var args [][]byte
	for _, a := range cmd {
		args = append(args, []byte(a))
	}
	w.Inject(actors.Addr{Node: actors.NodeID(node), Name: "edge"}, conn, coord.Requests{Cmds: [][][]byte{args}})
	require.NoError(t, w.RunFor(time.Second))
	require.Len(t, out.replies, 1)
	return out.replies[0]
}

// TestHintsSkipReadModifyWrites: an INCR node3 never got (down in
// node1's view) is not hinted: replayed after a newer SET had reached
// node3 directly it would leave node3 at SET+1 and the others at SET
// (found by review: it was hinted). Every replica ends at the SET.
func TestHintsSkipReadModifyWrites(t *testing.T) {
	n1, n2, n3 := "dc1-r1-n1", "dc1-r2-n1", "dc1-r3-n1"
	lc := hintCluster(t, 7, nil)
	w := lc.c.W
	require.Equal(t, "+OK\r\n", lc.raw(t, n1, config.DCQuorum, "SET", "k", "1"))
	w.Crash(actors.NodeID(n3))
	require.NoError(t, w.RunFor(15*time.Second)) // node1 sees node3 down
	require.Equal(t, ":2\r\n", lc.raw(t, n1, config.DCOne, "INCR", "k"))
	st := lc.hintStatus(t, n1)
	require.Empty(t, st.Targets, "no hint for a read-modify-write: %s", st)
	w.Restart(actors.NodeID(n3))
	w.Partition([]actors.NodeID{actors.NodeID(n1)}, []actors.NodeID{actors.NodeID(n3)})
	require.NoError(t, w.RunFor(3*time.Second))
	require.Equal(t, "+OK\r\n", lc.raw(t, n2, config.DCQuorum, "SET", "k", "100"))
	w.Heal()
	require.NoError(t, w.RunFor(handoffBound))
	for _, n := range []string{n1, n2, n3} {
		require.Equal(t, "100", lc.storeValue(t, n, "k"), "on %s", n)
	}
}
