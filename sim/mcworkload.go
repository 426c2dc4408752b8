package sim

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/check"
)

// MemcachedStore returns a producer of a simulated memcached: the store
// actor of a node whose data_store is 1. It runs each Exec's one text
// request (get, gets, gat, gats, set, add, replace, append, prepend, cas,
// delete, incr, decr, touch) on a map of items and answers in memcached's words,
// as the memcached adapter of netio/datastore would relay them. Items
// never expire and memory is not bounded; cas uniques count per store,
// as in a real memcached.
func MemcachedStore() actors.Producer {
	return func() actors.Behaviour { return &mcStore{items: map[string]mcItem{}} }
}

type mcItem struct {
	flags uint32
	data  []byte
	cas   uint64
}

type mcStore struct {
	items map[string]mcItem
	cas   uint64
}

func (s *mcStore) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case store.Exec:
		reply := s.exec(m)
		if !m.Quiet {
			ctx.Send(ctx.Sender(), store.Result{ID: m.ID, Reply: reply})
		}
	case store.Batch:
		var rs []store.Result
		for _, e := range m.Execs {
			reply := s.exec(e)
			if !e.Quiet {
				rs = append(rs, store.Result{ID: e.ID, Reply: reply})
			}
		}
		if rs != nil {
			ctx.Send(ctx.Sender(), store.Results{Results: rs})
		}
	}
}

// exec runs one request and returns its reply.
func (s *mcStore) exec(e store.Exec) []byte {
	if len(e.Args) != 1 {
		return mcproto.AppendLine(nil, "SERVER_ERROR simulated memcached: an Exec carries one request")
	}
	reqs, n, err := mcproto.NewParser(mcproto.DefaultLimits()).Parse(e.Args[0])
	if err != nil || len(reqs) != 1 || n != len(e.Args[0]) {
		return mcproto.AppendLine(nil, "SERVER_ERROR simulated memcached: not one complete request")
	}
	r := &reqs[0]
	switch r.Kind {
	case mcproto.KindError:
		return mcproto.AppendLine(nil, r.Err.Reply)
	case mcproto.KindGet, mcproto.KindGets, mcproto.KindGat, mcproto.KindGats: // items never expire here: gat is get
		var out []byte
		for _, k := range r.Keys {
			it, ok := s.items[string(k)]
			switch {
			case !ok:
			case r.Kind.WithCas():
				out = mcproto.AppendValueCas(out, k, it.flags, it.data, it.cas)
			default:
				out = mcproto.AppendValue(out, k, it.flags, it.data)
			}
		}
		return mcproto.AppendLine(out, mcproto.End)
	case mcproto.KindDelete:
		if _, ok := s.items[string(r.Key)]; !ok {
			return mcproto.AppendLine(nil, mcproto.NotFound)
		}
		delete(s.items, string(r.Key))
		return mcproto.AppendLine(nil, mcproto.Deleted)
	case mcproto.KindTouch:
		if _, ok := s.items[string(r.Key)]; !ok {
			return mcproto.AppendLine(nil, mcproto.NotFound)
		}
		return mcproto.AppendLine(nil, mcproto.Touched)
	case mcproto.KindIncr, mcproto.KindDecr:
		it, ok := s.items[string(r.Key)]
		if !ok {
			return mcproto.AppendLine(nil, mcproto.NotFound)
		}
		v, err := strconv.ParseUint(string(bytes.TrimRight(it.data, " ")), 10, 64)
		if err != nil {
			return mcproto.AppendLine(nil, "CLIENT_ERROR cannot increment or decrement non-numeric value")
		}
		switch {
		case r.Kind == mcproto.KindIncr:
			v += r.Delta // wraps at 2^64, as memcached's does
		case r.Delta > v:
			v = 0
		default:
			v -= r.Delta
		}
		s.put(r.Key, it.flags, []byte(strconv.FormatUint(v, 10)))
		return mcproto.AppendNumber(nil, v)
	case mcproto.KindVersion:
		return mcproto.AppendLine(nil, "VERSION sim-memcached")
	case mcproto.KindVerbosity:
		return mcproto.AppendLine(nil, mcproto.OK)
	}
	// Storage commands.
	it, ok := s.items[string(r.Key)]
	switch {
	case r.Kind == mcproto.KindAdd && ok,
		(r.Kind == mcproto.KindReplace || r.Kind == mcproto.KindAppend || r.Kind == mcproto.KindPrepend) && !ok:
		return mcproto.AppendLine(nil, mcproto.NotStored)
	case r.Kind == mcproto.KindCas && !ok:
		return mcproto.AppendLine(nil, mcproto.NotFound)
	case r.Kind == mcproto.KindCas && it.cas != r.Cas:
		return mcproto.AppendLine(nil, mcproto.Exists)
	case r.Kind == mcproto.KindAppend:
		s.put(r.Key, it.flags, append(append([]byte(nil), it.data...), r.Data...))
	case r.Kind == mcproto.KindPrepend:
		s.put(r.Key, it.flags, append(append([]byte(nil), r.Data...), it.data...))
	default:
		s.put(r.Key, r.Flags, append([]byte(nil), r.Data...))
	}
	return mcproto.AppendLine(nil, mcproto.Stored)
}

func (s *mcStore) put(key []byte, flags uint32, data []byte) {
	s.cas++
	s.items[string(key)] = mcItem{flags: flags, data: data, cas: s.cas}
}

// RegisterClient is one memcached workload process: it writes increasing
// values to the keys it owns (set) and reads any key (get), one operation
// at a time through one connection, recording a register history for
// check.CheckRegister. A key has one writer, so the newest value is the
// largest.
type RegisterClient struct {
	ID    int
	Node  string
	DC    string
	Level config.Consistency
	Own   []string // the keys it writes (no other client writes them)
	Keys  []string // the keys it reads
	Reads float64  // share of reads
	Think time.Duration
	Ops   int // stop after this many (0: until Stop)
	// WriteThenRead alternates a write and a read of its first own key.
	WriteThenRead bool
	rec           *Recorder
	coord         actors.Addr
	open          *check.Op
	n             int
	stopped       bool
}

// StartRegisterClient spawns a memcached workload process on node with its
// own connection.
func (c *Cluster) StartRegisterClient(rec *Recorder, rc *RegisterClient) {
	rc.rec = rec
	rc.DC = c.Node(rc.Node).DC
	rc.coord = c.spawnClient(rc.Node, fmt.Sprintf("mcclient%d", rc.ID), rc.Level, rc)
}

// Stop ends the process after its current operation.
func (rc *RegisterClient) Stop() { rc.stopped = true }

// Receive implements actors.Behaviour.
func (rc *RegisterClient) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		ctx.After(rc.think(ctx), nextOp{})
	case nextOp:
		if rc.stopped || rc.open != nil || (rc.Ops > 0 && rc.n >= rc.Ops) {
			return
		}
		rc.n++
		op := check.Op{Process: rc.ID, Type: check.Invoke, Level: rc.Level.String(), Node: rc.Node, DC: rc.DC, Phase: rc.rec.Phase}
		var raw []byte
		read := ctx.Rand().Float64() < rc.Reads
		if rc.WriteThenRead {
			read = rc.n%2 == 0
		}
		switch {
		case read && rc.WriteThenRead:
			op.F, op.Key = "read", rc.Own[0]
		case read:
			op.F, op.Key = "read", rc.Keys[ctx.Rand().IntN(len(rc.Keys))]
		case rc.WriteThenRead:
			op.F, op.Key = "write", rc.Own[0]
		default:
			op.F, op.Key = "write", rc.Own[ctx.Rand().IntN(len(rc.Own))]
		}
		if op.F == "read" {
			raw = []byte("get " + op.Key + "\r\n")
		} else {
			op.Value = strconv.Itoa(rc.n) // increasing: the key's only writer counts
			raw = []byte(fmt.Sprintf("set %s 0 0 %d\r\n%s\r\n", op.Key, len(op.Value), op.Value))
		}
		reqs, _, err := mcproto.NewParser(mcproto.DefaultLimits()).Parse(raw)
		if err != nil || len(reqs) != 1 {
			panic(fmt.Sprintf("sim: workload request %q does not parse: %v", raw, err))
		}
		rc.rec.add(op)
		rc.open = &op
		ctx.Send(rc.coord, coord.MCRequests{Reqs: reqs})
	case coord.Replies:
		if rc.open == nil || len(m.Data) == 0 {
			return
		}
		rc.rec.add(completeMC(*rc.open, m.Data))
		rc.open = nil
		ctx.After(rc.think(ctx), nextOp{})
	}
}

func (rc *RegisterClient) think(ctx actors.Context) time.Duration {
	return rc.Think/2 + time.Duration(ctx.Rand().Int64N(int64(rc.Think)+1))
}

// completeMC turns a memcached reply into the operation's completion. A
// write that failed may still have reached some replicas (info), unless
// the node refused it outright; a failed read changed nothing.
func completeMC(inv check.Op, reply []byte) check.Op {
	op := inv
	kind := mcproto.KindSet
	if op.F == "read" {
		kind = mcproto.KindGet
	}
	var r mcproto.Response
	n, err := mcproto.ParseResponse(kind, reply, &r)
	switch {
	case err != nil || n != len(reply):
		op.Type, op.Error = check.Info, fmt.Sprintf("unparsable reply %q: %v", reply, err)
	case op.F == "read" && string(r.Line) == mcproto.End:
		op.Type = check.OK
		switch len(r.Items) {
		case 0: // a miss: Value stays empty
		case 1:
			op.Value = string(r.Items[0].Data)
		default: // a broken reply: the checker reports it
			for _, it := range r.Items {
				op.Values = append(op.Values, string(it.Data))
			}
		}
	case op.F == "write" && string(r.Line) == mcproto.Stored:
		op.Type = check.OK
	default:
		op.Error = string(r.Line)
		op.Type = check.Fail
		if op.F == "write" && !bytes.Contains(r.Line, []byte("current state does not allow")) {
			op.Type = check.Info
		}
	}
	return op
}

// MemcachedRun is what RunMemcachedSwarm produced.
type MemcachedRun struct {
	SwarmRun
	Reordering bool // a fault may have reordered a replica's writes
}

// RunMemcachedSwarm runs register clients through memcached coordinators
// on a cluster whose nodes' datastores are simulated memcacheds, under the
// fault schedule, then heals, settles and checks every level serves
// through every node, as RunSwarm does for sets; check.CheckRegister
// judges the history. spec.WrapStore wraps each node's memcached.
func RunMemcachedSwarm(spec SwarmSpec) MemcachedRun {
	spec = spec.withDefaults()
	run := MemcachedRun{SwarmRun: SwarmRun{Spec: spec}}
	mc := spec
	mc.Config = maps.Clone(spec.Config)
	if mc.Config == nil {
		mc.Config = map[string]any{}
	}
	mc.Config["data_store"] = int(config.Memcached)
	st, err := startSwarm(spec, mc, "mcworkload")
	if err != nil {
		run.Err = err
		return run
	}
	c, nodes, w, rec, r := st.c, st.nodes, st.w, st.rec, st.r
	run.Faults = st.faults
	var keys []string
	for i := range spec.Clients {
		keys = append(keys, fmt.Sprintf("r%da", i+1), fmt.Sprintf("r%db", i+1))
	}
	reads := spec.Reads
	if reads == 0 {
		reads = 0.5
	}
	var clients []*RegisterClient
	for i := range spec.Clients {
		level, node := spec.place(i, nodes, r)
		rc := &RegisterClient{ID: i + 1, Node: node, Level: level, Own: keys[2*i : 2*i+2], Keys: keys, Reads: reads, Think: 200 * time.Millisecond}
		clients = append(clients, rc)
		c.StartRegisterClient(rec, rc)
	}
	run.Wiped = lostDatastore(run.Faults)
	run.Reordering = slices.ContainsFunc(run.Faults, func(f Fault) bool { return f.Kind == "lossy-net" || f.Kind == "slow-store" })
	run.Err = c.faultPhase(run.Faults, spec.Phase)
	if run.Err == nil {
		run.Err = c.mcLiveness(rec, clients, keys, nodes, r)
	}
	run.History = rec.H
	run.Result = check.CheckRegister(rec.H, check.RegisterOptions{
		Options:    check.Options{DatastoreLoss: run.Wiped, Settled: len(run.Faults) == 0},
		Reordering: run.Reordering,
	})
	run.Digest, run.Events, run.Virtual, run.Marks = w.Digest(), w.Stats().Events, w.Now(), w.Marks()
	return run
}

// mcLiveness heals every fault, waits for gossip to see every node again,
// then runs fresh register clients at every level through every node.
func (c *Cluster) mcLiveness(rec *Recorder, clients []*RegisterClient, keys []string, nodes []Node, r *rand.Rand) error {
	for _, rc := range clients {
		rc.Stop()
	}
	if err := c.healAll(nodes); err != nil {
		return err
	}
	rec.Phase = "liveness"
	id := len(clients) + 1
	tag := r.IntN(1 << 30)
	for _, n := range nodes {
		for _, level := range levels {
			// A key of its own, written then read at one level: every level
			// must serve through every node.
			own := []string{fmt.Sprintf("live-%d-%d", tag, id)}
			c.StartRegisterClient(rec, &RegisterClient{ID: id, Node: n.ID, Level: level, Own: own, Keys: own,
				WriteThenRead: true, Think: 50 * time.Millisecond, Ops: 2})
			id++
		}
		for _, level := range levels[:2] {
			// Keys written during the faults: DC_ONE and DC_QUORUM reads
			// must answer even where replicas diverged (memcached keeps no
			// versions: nothing repairs them).
			c.StartRegisterClient(rec, &RegisterClient{ID: id, Node: n.ID, Level: level, Own: []string{"unused"}, Keys: keys,
				Reads: 1, Think: 50 * time.Millisecond, Ops: 2})
			id++
		}
	}
	return c.W.RunFor(10 * time.Second)
}
