package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/check"
)

// LWWClient is one workload process of versioned registers: through one
// Redis connection it overwrites keys that every client shares (SET of a
// value unique to the history), deletes them (DEL) and reads them (GET),
// and writes keys of its own once each (Fresh: a fault they meet is never
// overwritten away), one operation at a time, recording a history for
// check.CheckLWW.
type LWWClient struct {
	ID      int
	Node    string
	DC      string
	Level   config.Consistency
	Keys    []string
	Reads   float64 // share of reads
	Deletes float64 // share of deletes
	Fresh   float64 // share of writes of a key of its own, written once
	Think   time.Duration
	// Written lists the keys of its own it wrote.
	Written []string
	// ReadEach reads every key once, in order, then stops: the
	// convergence reads after the heal.
	ReadEach bool
	rec      *Recorder
	coord    actors.Addr
	open     *check.Op
	n        int
	stopped  bool
}

// StartLWWClient spawns a register workload process on node with its own
// connection.
func (c *Cluster) StartLWWClient(rec *Recorder, lc *LWWClient) {
	lc.rec = rec
	lc.DC = c.Node(lc.Node).DC
	lc.coord = c.spawnClient(lc.Node, fmt.Sprintf("lwwclient%d", lc.ID), lc.Level, lc)
}

// Stop ends the process after its current operation.
func (lc *LWWClient) Stop() { lc.stopped = true }

// Receive implements actors.Behaviour.
func (lc *LWWClient) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		ctx.After(lc.think(ctx), nextOp{})
	case nextOp:
		if lc.stopped || lc.open != nil || (lc.ReadEach && lc.n >= len(lc.Keys)) {
			return
		}
		op := check.Op{Process: lc.ID, Type: check.Invoke, Level: lc.Level.String(), Node: lc.Node, DC: lc.DC, Phase: lc.rec.Phase}
		var cmd [][]byte
		draw := ctx.Rand().Float64()
		switch {
		case lc.ReadEach:
			op.F, op.Key = "read", lc.Keys[lc.n]
		case draw < lc.Reads:
			op.F, op.Key = "read", lc.Keys[ctx.Rand().IntN(len(lc.Keys))]
		case draw < lc.Reads+lc.Deletes:
			op.F, op.Key = "delete", lc.Keys[ctx.Rand().IntN(len(lc.Keys))]
		case draw < lc.Reads+lc.Deletes+lc.Fresh:
			op.F, op.Key = "write", "f"+strconv.Itoa(lc.ID)+"-"+strconv.Itoa(lc.n)
			op.Value = "p" + strconv.Itoa(lc.ID) + "-" + strconv.Itoa(lc.n)
			lc.Written = append(lc.Written, op.Key)
		default:
			op.F, op.Key = "write", lc.Keys[ctx.Rand().IntN(len(lc.Keys))]
			op.Value = "p" + strconv.Itoa(lc.ID) + "-" + strconv.Itoa(lc.n)
		}
		lc.n++
		switch op.F {
		case "read":
			cmd = [][]byte{[]byte("GET"), []byte(op.Key)}
		case "delete":
			cmd = [][]byte{[]byte("DEL"), []byte(op.Key)}
		default:
			cmd = [][]byte{[]byte("SET"), []byte(op.Key), []byte(op.Value)}
		}
		lc.rec.add(op)
		lc.open = &op
		ctx.Send(lc.coord, coord.Requests{Cmds: [][][]byte{cmd}})
	case coord.Replies:
		if lc.open == nil || len(m.Data) == 0 {
			return
		}
		lc.rec.add(complete(*lc.open, m.Data))
		lc.open = nil
		ctx.After(lc.think(ctx), nextOp{})
	}
}

func (lc *LWWClient) think(ctx actors.Context) time.Duration {
	return lc.Think/2 + time.Duration(ctx.Rand().Int64N(int64(lc.Think)+1))
}

// replicaReader asks its node's store for keys directly, as an operator
// would read each replica's datastore, and keeps the answers: each key's
// value (GET) and version (DYNO.VERSIONS).
type replicaReader struct {
	keys []string
	got  map[string]string
	vers map[string]string
}

func (r *replicaReader) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		to := actors.Addr{Node: ctx.Self().Node, Name: "store"}
		for i, k := range r.keys {
			ctx.Send(to, store.Exec{ID: uint64(i + 1), Args: [][]byte{[]byte("GET"), []byte(k)}})
			ctx.Send(to, store.Exec{ID: uint64(i+1) << 32, Args: [][]byte{[]byte("DYNO.VERSIONS"), []byte(k)}})
		}
	case store.Result:
		if m.Failure != "" {
			return
		}
		v, _, err := resp.ParseReply(m.Reply)
		if err != nil {
			return
		}
		if i := int(m.ID) - 1; i >= 0 && i < len(r.keys) {
			r.got[r.keys[i]] = string(v.Str)
		} else if i := int(m.ID>>32) - 1; i >= 0 && i < len(r.keys) && len(v.Elems) == 1 {
			r.vers[r.keys[i]] = string(v.Elems[0].Str)
		}
	}
}

// LWWRun is what RunLWWSwarm produced.
type LWWRun struct {
	SwarmRun
	Finals   []check.Final
	Replicas []check.Replica
	// Convergence is check.CheckConvergence's verdict alone (also in
	// Result).
	Convergence check.Result
}

// ConvergeWithin is the settle time a swarm run gives the cluster after
// the heal (every fault ended, gossip sees every node) before it judges
// convergence: anti-entropy's round every sim.AEInterval (jittered up to
// 1.25×) with some slack for a session that a busy peer put back. The
// bound the docs state for the simulator.
const ConvergeWithin = 3 * AEInterval

// RunLWWSwarm runs multi-writer register clients (overwrites, deletes,
// reads of shared keys) under the fault schedule, then heals, lets the
// cluster settle for ConvergeWithin without a single read, reads each
// replica's store directly, then reads every key through every node at
// every level, and judges the history with check.CheckLWW and the end
// with check.CheckConvergence.
func RunLWWSwarm(spec SwarmSpec) LWWRun {
	spec = spec.withDefaults()
	run := LWWRun{SwarmRun: SwarmRun{Spec: spec}}
	st, err := startSwarm(spec, spec, "lwwworkload")
	if err != nil {
		run.Err = err
		return run
	}
	c, nodes, w, rec, r := st.c, st.nodes, st.w, st.rec, st.r
	run.Faults = st.faults
	keys := []string{"r1", "r2", "r3", "r4"}
	var clients []*LWWClient
	for i := range spec.Clients {
		level, node := spec.place(i, nodes, r)
		lc := &LWWClient{ID: i + 1, Node: node, Level: level, Keys: keys, Reads: 0.4, Deletes: 0.1, Fresh: 0.2, Think: 200 * time.Millisecond}
		clients = append(clients, lc)
		c.StartLWWClient(rec, lc)
	}
	run.Wiped = lostDatastore(run.Faults)
	if run.Err = c.faultPhase(run.Faults, spec.Phase); run.Err != nil {
		return run
	}
	for _, lc := range clients {
		lc.Stop()
	}
	if run.Err = c.healAll(nodes); run.Err != nil {
		return run
	}
	var conv check.Result
	conv, run.Finals, run.Replicas, run.Err = c.converge(spec, rec, keys, clients, nodes, len(clients)+1)
	if run.Err != nil {
		return run
	}
	var members check.Result
	if members, run.Err = c.membership(nodes); run.Err != nil {
		return run
	}
	run.History = rec.H
	run.Result = mergeResults(check.CheckLWW(rec.H, run.Finals, c.lwwOptions(run.Wiped)), members)
	if !spec.NoConvergence {
		run.Convergence = conv
		run.Result = mergeResults(run.Result, conv)
	}
	run.Digest, run.Events, run.Virtual, run.Marks = w.Digest(), w.Stats().Events, w.Now(), w.Marks()
	return run
}

// mergeResults is a and b as one verdict.
func mergeResults(a, b check.Result) check.Result {
	out := check.Result{Valid: a.Valid && b.Valid, Stats: map[string]int{}}
	out.Violations = append(append(out.Violations, a.Violations...), b.Violations...)
	for _, r := range []check.Result{a, b} {
		for k, v := range r.Stats {
			out.Stats[k] += v
		}
	}
	return out
}

// readReplicas reads every key from each of its replicas' stores.
func (c *Cluster) readReplicas(keys []string) ([]check.Final, []check.Replica, error) {
	readers := map[string]*replicaReader{}
	for _, id := range c.NodeIDs() {
		rr := &replicaReader{keys: keys, got: map[string]string{}, vers: map[string]string{}}
		readers[id] = rr
		c.W.Spawn(actors.NodeID(id), "replica-reader", func() actors.Behaviour { return rr })
	}
	if err := c.W.RunFor(time.Second); err != nil {
		return nil, nil, err
	}
	var out []check.Final
	var reps []check.Replica
	for _, k := range keys {
		for _, rep := range c.Assembly(c.NodeIDs()[0]).Ring().Replicas([]byte(k), nil) {
			v, ok := readers[string(rep.Node)].got[k]
			ver, ok2 := readers[string(rep.Node)].vers[k]
			if !ok || !ok2 {
				return nil, nil, fmt.Errorf("sim: replica %s did not answer for %q", rep.Node, k)
			}
			out = append(out, check.Final{Key: k, Replica: string(rep.Node), Value: v})
			reps = append(reps, check.Replica{Key: k, Node: string(rep.Node), Value: v, Version: ver})
		}
	}
	return out, reps, nil
}

// lwwOptions orders writes as the register checkers do in a swarm: two
// heartbeats, narrowed by the run's reach.
func (c *Cluster) lwwOptions(wiped bool) check.LWWOptions {
	w := c.W
	return check.LWWOptions{Margin: 2 * c.Spec.Heartbeat,
		Reach: func(from, to string, t0, t1, span time.Duration) bool {
			return w.Reach(actors.NodeID(from), actors.NodeID(to), t0, t1, span)
		},
		Options: check.Options{DatastoreLoss: wiped}}
}

// converge is a register workload's end, every fault healed: the cluster
// settles for spec.ConvergeWithin (ConvergeWithin by default) without a
// read; every replica of every key the clients wrote (keys, and those
// they wrote once each) is read from its store directly; every shared key
// is read through every node at every level, each key of one client's
// once, through the next node and level in turn (processes from id on,
// phase "converge"); check.CheckConvergence judges the history so far.
func (c *Cluster) converge(spec SwarmSpec, rec *Recorder, keys []string, clients []*LWWClient, nodes []Node, id int) (check.Result, []check.Final, []check.Replica, error) {
	w := c.W
	settle := spec.ConvergeWithin
	if settle == 0 {
		settle = ConvergeWithin
	}
	if err := w.RunFor(settle); err != nil {
		return check.Result{}, nil, nil, err
	}
	var fresh []string
	for _, lc := range clients {
		fresh = append(fresh, lc.Written...)
	}
	finals, replicas, err := c.readReplicas(append(append([]string(nil), keys...), fresh...))
	if err != nil {
		return check.Result{}, nil, nil, err
	}
	rec.Phase = "converge"
	readers := len(nodes) * len(levels)
	for i, n := range nodes {
		for j, level := range levels {
			ks := append([]string(nil), keys...)
			for f := i*len(levels) + j; f < len(fresh); f += readers {
				ks = append(ks, fresh[f])
			}
			c.StartLWWClient(rec, &LWWClient{ID: id, Node: n.ID, Level: level, Keys: ks, ReadEach: true, Think: 20 * time.Millisecond})
			id++
		}
	}
	if err := w.RunFor(5 * time.Second); err != nil {
		return check.Result{}, nil, nil, err
	}
	conv := check.CheckConvergence(registerOps(rec.H, keys), replicas, check.ConvergenceOptions{LWWOptions: c.lwwOptions(lostDatastores(c.faults) > 0),
		LostDatastores: lostDatastores(c.faults)})
	return conv, finals, replicas, nil
}

// registerOps is the part of h on register keys: keys, and those written
// once ("f<client>-<n>").
func registerOps(h check.History, keys []string) check.History {
	var out check.History
	for _, op := range h {
		if slices.Contains(keys, op.Key) || strings.HasPrefix(op.Key, "f") {
			out = append(out, op)
		}
	}
	return out
}
