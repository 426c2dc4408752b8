package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/netio/datastore"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
)

// A node whose datastore comes up late, in the simulator: the real
// coordinator in front of sim.LateStore.

const (
	lateUpAt    = 3 * time.Second
	lateTimeout = 300 * time.Millisecond // the coordinator's request timeout
	// lateAnswer bounds how long a request may wait for its reply: less
	// than the coordinator's timeout, so a store that never answers is
	// seen as a hang, not as the coordinator's timeout error.
	lateAnswer = 200 * time.Millisecond
	lateRunFor = lateUpAt + 2*time.Second
	lateEvery  = 500 * time.Millisecond // between two SETs (a GET follows each)
)

// lateEvent is one request of a late-start run and what came of it.
type lateEvent struct {
	at       time.Duration // virtual time it was sent
	args     []string
	reply    string
	answered bool // one reply within lateAnswer
}

// runLateWorld runs one node whose store is wrap(modelled Redis) and a
// client that, every lateEvery, sets a fresh key and reads it back. No
// request is sent within 50ms of lateUpAt.
func runLateWorld(t *testing.T, seed int64, wrap func(actors.Producer) actors.Producer) []lateEvent {
	t.Helper()
	// One node of the daemon's assembly in front of a modelled Redis
	// (data_store 0), its store wrapped.
	c, err := sim.NewCluster(sim.ClusterSpec{Seed: seed, Racks: []int{1}, Timeout: lateTimeout,
		Config:    map[string]any{"data_store": 0},
		WrapStore: func(_ string, p actors.Producer) actors.Producer { return wrap(p) }})
	require.NoError(t, err)
	w := c.W
	out := &sink{}
	sinkAddr := w.Spawn("dc1-r1-n1", "client/w", func() actors.Behaviour { return out })
	conn := c.Connect("dc1-r1-n1", config.DCOne, config.DCOne, sinkAddr)
	require.False(t, conn.IsZero())

	var events []lateEvent
	do := func(args ...string) {
		cmd := make([][]byte, len(args))
		for i, a := range args {
			cmd[i] = []byte(a)
		}
		ev := lateEvent{at: w.Now(), args: args}
		before := len(out.replies)
		w.Inject(actors.Addr{Node: "dc1-r1-n1", Name: "edge"}, conn, coord.Requests{Cmds: [][][]byte{cmd}})
		require.NoError(t, w.RunFor(lateAnswer))
		if len(out.replies) == before+1 {
			ev.answered, ev.reply = true, out.replies[before]
		}
		events = append(events, ev)
	}
	require.NoError(t, w.RunFor(lateEvery/2))
	for i := 0; w.Now() < lateRunFor; i++ {
		k := fmt.Sprint("k", i)
		do("SET", k, "v"+k)
		do("GET", k)
		require.NoError(t, w.RunFor(lateEvery-2*lateAnswer))
	}
	return events
}

// checkLateStart is the property: every request is answered within
// lateAnswer; before upAt with the refusal naming the store as not
// reachable yet (never a success), from upAt on with the datastore's reply.
func checkLateStart(events []lateEvent, upAt time.Duration) error {
	refusal := "-ERR Storage: " + sim.LateStoreFailure + "store "
	before, after := 0, 0
	for _, ev := range events {
		switch {
		case !ev.answered:
			return fmt.Errorf("%v at %s: no reply within %s", ev.args, ev.at, lateAnswer)
		case ev.at < upAt:
			before++
			if !strings.HasPrefix(ev.reply, refusal) || !strings.Contains(ev.reply, " is not reachable yet: ") {
				return fmt.Errorf("%v at %s, before the store is up at %s: %q, want the refusal %q...", ev.args, ev.at, upAt, ev.reply, refusal)
			}
		default:
			after++
			want := "+OK\r\n"
			if ev.args[0] == "GET" {
				want = fmt.Sprintf("$%d\r\nv%s\r\n", len(ev.args[1])+1, ev.args[1])
			}
			if ev.reply != want {
				return fmt.Errorf("%v at %s, after the store is up at %s: %q, want %q", ev.args, ev.at, upAt, ev.reply, want)
			}
		}
	}
	if before == 0 || after == 0 {
		return fmt.Errorf("%d requests before %s and %d after: the run does not test both", before, upAt, after)
	}
	return nil
}

// TestLateStoreFailsClearlyThenServes: before the store is up, every request
// fails at once with the refusal (the real adapter's wording); from then on
// every request is served.
func TestLateStoreFailsClearlyThenServes(t *testing.T) {
	require.Equal(t, datastore.FailRefused+": ", sim.LateStoreFailure, "the simulated refusal is the adapter's")
	for seed := int64(1); seed <= 3; seed++ {
		events := runLateWorld(t, seed, func(p actors.Producer) actors.Producer { return sim.LateStore(p, lateUpAt) })
		require.NoError(t, checkLateStart(events, lateUpAt), "seed %d", seed)
		if seed == 1 {
			t.Logf("%d requests; first reply %q, last %q", len(events), events[0].reply, events[len(events)-1].reply)
		}
	}
}

// blackHole is a store that never answers.
type blackHole struct{}

func (blackHole) Receive(actors.Context, any) {}

// TestLateStoreCheckerCatchesPlantedBugs: checkLateStart fails on a store
// that is up from the start, one that never comes up, and one that never
// answers.
func TestLateStoreCheckerCatchesPlantedBugs(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(actors.Producer) actors.Producer
		want string
	}{
		{"up from the start", func(p actors.Producer) actors.Producer { return p }, "before the store is up"},
		{"never up", func(p actors.Producer) actors.Producer { return sim.LateStore(p, time.Hour) }, "after the store is up"},
		{"never answers", func(actors.Producer) actors.Producer {
			return func() actors.Behaviour { return blackHole{} }
		}, "no reply within"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkLateStart(runLateWorld(t, 1, tc.wrap), lateUpAt)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
