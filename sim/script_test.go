package sim_test

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
)

// TestScriptSwarm: scripts and transactions that write both keys of a
// pair, and scripts and transactions that read both, through every node at every level under drawn faults
// (partitions, crashes with and without the datastore, pauses, clock
// jumps, lossy links), on the embedded store and on data_store 0's
// stand-in for redis-server: no read and no replica read directly after
// the heal shows half a script (check.CheckAtomic).
func TestScriptSwarm(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			conf := map[string]any{}
			if seed%2 == 0 {
				conf["data_store"] = int(config.Redis)
			}
			run := sim.RunScriptSwarm(sim.SwarmSpec{Seed: seed, Racks: []int{3}, PerRack: 1 + int(seed%2), Config: conf})
			require.NoError(t, run.Err)
			require.True(t, run.Result.Valid, "seed=%d: %s\nfaults: %v", seed, run.Result, run.Faults)
			require.Greater(t, run.Result.Stats["reads"], 50, "seed=%d: reads that succeeded", seed)
			t.Logf("seed=%d digest=%s %v", seed, run.Digest, run.Result.Stats)
		})
	}
}

// halfScripts is the planted bug for TestScriptSwarmCatchesHalfScripts: a
// store that runs only the first half of the pair-writing script
// (scripts) or of a transaction (transactions).
type halfScripts struct {
	inner                 actors.Behaviour
	scripts, transactions bool
}

func (h *halfScripts) half(e store.Exec) store.Exec {
	switch {
	case h.scripts && len(e.Args) > 1 && bytes.Equal(e.Args[1], []byte(sim.PairWriteScript)):
		args := append([][]byte(nil), e.Args...)
		args[1] = []byte("return redis.call('SET', KEYS[1], ARGV[1])")
		e.Args = args
	case h.transactions && len(e.Args) > 0 && bytes.EqualFold(e.Args[0], []byte("DYNO.EXEC")):
		cmds, ok := store.ParseDynoExec(e.Args)
		if !ok || len(cmds) < 2 {
			break
		}
		keys := store.DynoExecKeys(e.Args)
		args := append([][]byte{e.Args[0], e.Args[1]}, keys...)
		args = append(args, []byte("1"), []byte(strconv.Itoa(len(cmds[0]))))
		e.Args = append(args, cmds[0]...)
	}
	return e
}

func (h *halfScripts) Receive(ctx actors.Context, m any) {
	switch e := m.(type) {
	case store.Exec:
		m = h.half(e)
	case store.Batch:
		b := store.Batch{Execs: make([]store.Exec, len(e.Execs))}
		for i, x := range e.Execs {
			b.Execs[i] = h.half(x)
		}
		m = b
	}
	h.inner.Receive(ctx, m)
}

// TestScriptSwarmCatchesHalfScripts: the checker fails on a store that
// applies half of each pair-writing script, and on one that applies half
// of each transaction.
func TestScriptSwarmCatchesHalfScripts(t *testing.T) {
	for _, tc := range []struct {
		name string
		bug  halfScripts
	}{{"scripts", halfScripts{scripts: true}}, {"transactions", halfScripts{transactions: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			run := sim.RunScriptSwarm(sim.SwarmSpec{Seed: 1, Racks: []int{3}, PerRack: 1,
				WrapStore: func(_ string, p actors.Producer) actors.Producer {
					return func() actors.Behaviour { bug := tc.bug; bug.inner = p(); return &bug }
				}})
			require.NoError(t, run.Err)
			require.False(t, run.Result.Valid, "the checker missed half %s", tc.name)
			t.Logf("%s", run.Result)
		})
	}
}
