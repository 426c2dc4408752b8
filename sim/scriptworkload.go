package sim

import (
	"fmt"
	"strconv"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/check"
)

// The scripts of the atomicity workload: a write sets both keys of a pair
// to one value, a read returns both, each in one script.
const (
	PairWriteScript = "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('SET', KEYS[2], ARGV[1])"
	PairReadScript  = "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}"
)

// ScriptClient is one workload process of scripts and transactions over
// pairs of keys that share a hash tag ("{p1}:a", "{p1}:b"): through one
// Redis connection it writes a pair with PairWriteScript (EVAL, a value
// unique to the history) or with MULTI, SET, SET, EXEC, or reads it with
// PairReadScript (EVAL_RO) or MULTI, GET, GET, EXEC, one operation at a
// time, recording a history for check.CheckAtomic.
type ScriptClient struct {
	ID    int
	Node  string
	DC    string
	Level config.Consistency
	Pairs []string // hash tags: "{p1}"
	Reads float64  // share of reads
	Think time.Duration
	rec   *Recorder
	coord actors.Addr
	open  *check.Op
	n     int
	// A transaction's replies: how many are still due, and the data so far.
	due  int
	data []byte
	// stopped ends the process after its current operation.
	stopped bool
}

// StartScriptClient spawns a script workload process on node with its
// own connection.
func (c *Cluster) StartScriptClient(rec *Recorder, sc *ScriptClient) {
	sc.rec = rec
	sc.DC = c.Node(sc.Node).DC
	sc.coord = c.spawnClient(sc.Node, fmt.Sprintf("scriptclient%d", sc.ID), sc.Level, sc)
}

// Receive implements actors.Behaviour.
func (sc *ScriptClient) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		ctx.After(sc.think(ctx), nextOp{})
	case nextOp:
		if sc.stopped || sc.open != nil {
			return
		}
		pair := sc.Pairs[ctx.Rand().IntN(len(sc.Pairs))]
		op := check.Op{Process: sc.ID, Type: check.Invoke, Level: sc.Level.String(), Node: sc.Node, DC: sc.DC, Phase: sc.rec.Phase, Key: pair}
		a, b := []byte(pair+":a"), []byte(pair+":b")
		read, tx := ctx.Rand().Float64() < sc.Reads, ctx.Rand().IntN(2) == 0
		var cmds [][][]byte
		switch {
		case read && tx:
			op.F = "read"
			cmds = [][][]byte{{[]byte("MULTI")}, {[]byte("GET"), a}, {[]byte("GET"), b}, {[]byte("EXEC")}}
		case read:
			op.F = "read"
			cmds = [][][]byte{{[]byte("EVAL_RO"), []byte(PairReadScript), []byte("2"), a, b}}
		case tx:
			op.F, op.Value = "write", "t"+strconv.Itoa(sc.ID)+"-"+strconv.Itoa(sc.n)
			cmds = [][][]byte{{[]byte("MULTI")}, {[]byte("SET"), a, []byte(op.Value)}, {[]byte("SET"), b, []byte(op.Value)}, {[]byte("EXEC")}}
		default:
			op.F, op.Value = "write", "s"+strconv.Itoa(sc.ID)+"-"+strconv.Itoa(sc.n)
			cmds = [][][]byte{{[]byte("EVAL"), []byte(PairWriteScript), []byte("2"), a, b, []byte(op.Value)}}
		}
		sc.n++
		sc.rec.add(op)
		sc.open = &op
		sc.due, sc.data = len(cmds), sc.data[:0]
		ctx.Send(sc.coord, coord.Requests{Cmds: cmds})
	case coord.Replies:
		if sc.open == nil || len(m.Data) == 0 {
			return
		}
		// The last reply is the operation's: EVAL's, or EXEC's after
		// MULTI's and the +QUEUEDs.
		sc.data = append(sc.data, m.Data...)
		var last []byte
		for sc.due > 0 {
			n, err := resp.ReplyLen(sc.data)
			if err != nil {
				return // more to come
			}
			last, sc.data = sc.data[:n], sc.data[n:]
			sc.due--
		}
		sc.rec.add(complete(*sc.open, last))
		sc.open = nil
		ctx.After(sc.think(ctx), nextOp{})
	}
}

func (sc *ScriptClient) think(ctx actors.Context) time.Duration {
	return sc.Think/2 + time.Duration(ctx.Rand().Int64N(int64(sc.Think)+1))
}

// RunScriptSwarm runs script clients (pairs written and read by scripts
// and transactions, every level, every node) under the fault schedule, heals, settles for
// the convergence time, reads both keys of every pair from every replica
// directly, and judges the history and those reads with
// check.CheckAtomic: no read and no replica may show half a script.
func RunScriptSwarm(spec SwarmSpec) SwarmRun {
	spec = spec.withDefaults()
	run := SwarmRun{Spec: spec}
	st, err := startSwarm(spec, spec, "scriptworkload")
	if err != nil {
		run.Err = err
		return run
	}
	c, nodes, w, rec, r := st.c, st.nodes, st.w, st.rec, st.r
	run.Faults = st.faults
	pairs := []string{"{p1}", "{p2}", "{p3}"}
	reads := spec.Reads
	if reads == 0 {
		reads = 0.4
	}
	var clients []*ScriptClient
	for i := range spec.Clients {
		level, node := spec.place(i, nodes, r)
		sc := &ScriptClient{ID: i + 1, Node: node, Level: level, Pairs: pairs, Reads: reads, Think: 150 * time.Millisecond}
		clients = append(clients, sc)
		c.StartScriptClient(rec, sc)
	}
	run.Wiped = lostDatastore(run.Faults)
	if run.Err = c.faultPhase(run.Faults, spec.Phase); run.Err != nil {
		return run
	}
	for _, sc := range clients {
		sc.stopped = true
	}
	if run.Err = c.healAll(nodes); run.Err != nil {
		return run
	}
	settle := spec.ConvergeWithin
	if settle == 0 {
		settle = ConvergeWithin
	}
	if run.Err = w.RunFor(settle); run.Err != nil {
		return run
	}
	var keys []string
	for _, p := range pairs {
		keys = append(keys, p+":a", p+":b")
	}
	finals, _, err := c.readReplicas(keys)
	if err != nil {
		run.Err = err
		return run
	}
	run.History = rec.H
	run.Result = check.CheckAtomic(rec.H, finals)
	run.Digest, run.Events, run.Virtual, run.Marks = w.Digest(), w.Stats().Events, w.Now(), w.Marks()
	return run
}
