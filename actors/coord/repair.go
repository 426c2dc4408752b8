package coord

import (
	"bytes"
	"slices"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
)

// Read repair, with versions on. A read's replicas answer with the key's
// version; when some answered with an older version than others, the
// coordinator copies the newest whole value to them: DYNO.DUMP from one
// replica that holds the newest version, then DYNO.RESTORE (or DYNO.DEL
// when the newest is a tombstone) with that version to each stale one.
// The store applies a restore only when its version is newer than what
// the key holds, so a repair never undoes a write that overtook it.
//
//   - At the safe levels the repair is synchronous: the reply waits for it
//     (see syncRepair in quorum.go).
//   - At DC_QUORUM it runs in the background, after the reply, when
//     Config.ReadRepairs is on; at most Config.RepairsInFlight dumps are
//     awaited at once, and the repairs beyond are dropped and counted.
//   - DC_ONE asks one replica: there is nothing to compare, so no repair.

// The internal store commands of read repair (never routed for clients).
var (
	cmdDump    = []byte("DYNO.DUMP")
	cmdRestore = []byte("DYNO.RESTORE")
	cmdDel     = []byte("DYNO.DEL")
)

// DefaultRepairsInFlight bounds the background repairs one connection's
// coordinator awaits when Config.RepairsInFlight is zero.
const DefaultRepairsInFlight = 16

// bgRepair is a background repair waiting for its dump.
type bgRepair struct {
	id       uint64
	key      []byte
	stale    []actors.Addr
	deadline time.Time
}

// count returns the counts being gathered, started when there are none.
func (p *pipeline) count() *Counts {
	if p.counts == nil {
		p.counts = new(Counts)
	}
	return p.counts
}

func (p *pipeline) storeOf(cfg *Config, replica string) actors.Addr {
	return actors.Addr{Node: actors.NodeID(replica), Name: cfg.StoreName}
}

// startSyncRepair asks the replica holding the newest version for its
// value.
func (p *pipeline) startSyncRepair(cfg *Config, part uint64, pt *part) {
	t := &pt.tally
	t.rep.state = repairDumping
	p.count().StaleReplicas += uint64(len(t.rep.stale))
	p.execs = append(p.execs, outExec{
		to:   p.storeOf(cfg, t.replicas[t.rep.holder].Node),
		exec: store.Exec{ID: syncRepairID | execID(part, t.rep.holder), Args: [][]byte{cmdDump, pt.key}},
	})
}

// syncRepairResult files the answer to a synchronous repair's dump or
// restore, and decides the part again.
func (p *pipeline) syncRepairResult(cfg *Config, r store.Result) {
	id := r.ID &^ repairIDs
	part, replica := id>>replicaBits, int(id&(maxReplicas-1))
	s := p.slotOfPart(part)
	if s == nil {
		return
	}
	pt := &s.parts[part-s.firstPart]
	t := &pt.tally
	if pt.done {
		return
	}
	switch {
	case t.rep.state == repairDumping && replica == t.rep.holder:
		restore, ok := restoreOf(pt.key, r)
		if !ok {
			t.rep.state = repairDone
			break
		}
		t.rep.state, t.rep.pending = repairRestoring, len(t.rep.stale)
		for _, st := range t.rep.stale {
			e := restore
			e.ID = syncRepairID | execID(part, st)
			p.execs = append(p.execs, outExec{to: p.storeOf(cfg, t.replicas[st].Node), exec: e})
		}
		p.count().RepairsSent += uint64(len(t.rep.stale))
	case t.rep.state == repairRestoring && contains(t.rep.stale, replica) && !contains(t.rep.restored, replica):
		t.rep.pending--
		if r.Failure == "" && string(r.Reply) == "+OK\r\n" {
			t.rep.restored = append(t.rep.restored, replica)
		}
		if t.rep.pending == 0 {
			t.rep.state = repairDone
		}
	default:
		return
	}
	done, reply, f := t.decide(false)
	if done {
		pt.reply, pt.failure, pt.done = reply, f, true
		s.pending--
	}
}

// restoreOf turns a replica's answer to DYNO.DUMP into the Exec that
// copies the value (DYNO.RESTORE) or the tombstone (DYNO.DEL) elsewhere,
// with the version the holder answered with. ok is false when the answer
// is a failure, carries no version or is not a bulk string or nil.
func restoreOf(key []byte, r store.Result) (e store.Exec, ok bool) {
	if r.Failure != "" || r.Version.IsZero() {
		return store.Exec{}, false
	}
	v, n, err := resp.ParseReply(r.Reply)
	if err != nil || n != len(r.Reply) || v.Type != resp.BulkString {
		return store.Exec{}, false
	}
	if v.Null {
		return store.Exec{Args: [][]byte{cmdDel, key}, Version: r.Version}, true
	}
	return store.Exec{Args: [][]byte{cmdRestore, key, v.Str}, Version: r.Version}, true
}

// backgroundRepair starts the repair of the replicas of a decided
// DC_QUORUM read that answered with an older version than the newest.
func (p *pipeline) backgroundRepair(ctx actors.Context, cfg *Config, pt *part) {
	t := &pt.tally
	holder, _, stale := t.staleReplicas(nil)
	if holder < 0 || len(stale) == 0 {
		return
	}
	var to []actors.Addr
	for _, st := range stale {
		to = append(to, p.storeOf(cfg, t.replicas[st].Node))
	}
	p.startRepair(ctx, cfg, pt.key, t.replicas[holder].Node, to)
}

// startRepair counts the stale replicas of key and, with read repair on
// and room among the repairs in flight, asks holder, a replica holding
// the newest version, for the whole value to copy to them.
func (p *pipeline) startRepair(ctx actors.Context, cfg *Config, key []byte, holder string, stale []actors.Addr) {
	c := p.count()
	c.StaleReplicas += uint64(len(stale))
	if !cfg.ReadRepairs {
		return
	}
	limit := cfg.RepairsInFlight
	if limit <= 0 {
		limit = DefaultRepairsInFlight
	}
	if len(p.bg) >= limit {
		c.RepairsDropped++
		return
	}
	p.bgNext++
	p.bg = append(p.bg, bgRepair{id: p.bgNext, key: key, stale: stale, deadline: ctx.Now().Add(p.timeout)})
	p.execs = append(p.execs, outExec{
		to:   p.storeOf(cfg, holder),
		exec: store.Exec{ID: bgRepairID | p.bgNext, Args: [][]byte{cmdDump, key}},
	})
}

// bgCompare is a background comparison of all of a key's replicas: each is
// asked for its whole value and version (DYNO.DUMP), and the newest is
// copied to the others. It follows a late answer that differs from a
// reply decided without versions: the replicas that agreed may hold the
// same bytes under different versions (a wiped replica's nil and another's
// tombstone), so only all the versions tell which is newest.
type bgCompare struct {
	id       uint64
	key      []byte
	nodes    []string
	dumps    []store.Result
	answered []bool
	got      int
	deadline time.Time
}

// bgCompareID marks, with bgRepairID, the dumps of a bgCompare: the ID
// carries its number shifted left by replicaBits and the replica's index.
const bgCompareID = 1 << 61

// startCompare starts a bgCompare of key over nodes, if read repair is on
// and there is room among the repairs in flight.
func (p *pipeline) startCompare(ctx actors.Context, cfg *Config, key []byte, nodes []string) {
	if !cfg.ReadRepairs || len(nodes) >= maxReplicas {
		return
	}
	limit := cfg.RepairsInFlight
	if limit <= 0 {
		limit = DefaultRepairsInFlight
	}
	if len(p.bg)+len(p.cmp) >= limit {
		p.count().RepairsDropped++
		return
	}
	p.bgNext++
	c := bgCompare{id: p.bgNext, key: key, nodes: nodes, dumps: make([]store.Result, len(nodes)),
		answered: make([]bool, len(nodes)), deadline: ctx.Now().Add(p.timeout)}
	p.cmp = append(p.cmp, c)
	for i, n := range nodes {
		p.execs = append(p.execs, outExec{
			to:   p.storeOf(cfg, n),
			exec: store.Exec{ID: bgRepairID | bgCompareID | c.id<<replicaBits | uint64(i), Args: [][]byte{cmdDump, key}},
		})
	}
}

// bgCompareResult files a bgCompare's dump; with every dump in, the newest
// version is restored, Quiet, to the replicas that answered an older one.
func (p *pipeline) bgCompareResult(cfg *Config, r store.Result) {
	id := r.ID &^ (repairIDs | bgCompareID)
	n, i := id>>replicaBits, int(id&(maxReplicas-1))
	ci := -1
	for j := range p.cmp {
		if p.cmp[j].id == n {
			ci = j
			break
		}
	}
	if ci < 0 || i >= len(p.cmp[ci].nodes) || p.cmp[ci].answered[i] {
		return
	}
	c := &p.cmp[ci]
	c.dumps[i], c.answered[i] = r, true
	if c.got++; c.got < len(c.nodes) {
		return
	}
	done := *c
	p.cmp = append(p.cmp[:ci], p.cmp[ci+1:]...)
	newest := -1
	for j, d := range done.dumps {
		if _, ok := restoreOf(done.key, d); ok && (newest < 0 || done.dumps[newest].Version.Less(d.Version)) {
			newest = j
		}
	}
	if newest < 0 {
		return
	}
	restore, _ := restoreOf(done.key, done.dumps[newest])
	restore.Quiet = true
	for j, d := range done.dumps {
		if d.Failure == "" && d.Version.Less(restore.Version) {
			p.execs = append(p.execs, outExec{to: p.storeOf(cfg, done.nodes[j]), exec: restore})
			p.count().StaleReplicas++
			p.count().RepairsSent++
		}
	}
}

// bgRepairResult sends the dumped value of a background repair to its
// stale replicas, Quiet: nobody waits for them.
func (p *pipeline) bgRepairResult(cfg *Config, r store.Result) {
	if r.ID&bgCompareID != 0 {
		p.bgCompareResult(cfg, r)
		return
	}
	id := r.ID &^ repairIDs
	i := -1
	for j := range p.bg {
		if p.bg[j].id == id {
			i = j
			break
		}
	}
	if i < 0 {
		return
	}
	rep := p.bg[i]
	p.bg = append(p.bg[:i], p.bg[i+1:]...)
	restore, ok := restoreOf(rep.key, r)
	if !ok {
		return
	}
	restore.Quiet = true
	for _, to := range rep.stale {
		p.execs = append(p.execs, outExec{to: to, exec: restore})
	}
	p.count().RepairsSent += uint64(len(rep.stale))
}

// expireRepairs forgets the background repairs whose dump did not come
// back in time, and the late answers no longer awaited.
func (p *pipeline) expireRepairs(now time.Time) {
	p.bg = slices.DeleteFunc(p.bg, func(r bgRepair) bool { return !now.Before(r.deadline) })
	p.cmp = slices.DeleteFunc(p.cmp, func(c bgCompare) bool { return !now.Before(c.deadline) })
	p.late = slices.DeleteFunc(p.late, func(w lateWatch) bool { return !now.Before(w.deadline) })
}

// lateWatch remembers a DC_QUORUM read decided before every replica
// answered: a replica that answers afterwards with an older version is
// repaired too, as the ones that answered in time were. A read decided by
// replicas that agreed without versions (reply set) cannot tell whether a
// late replica that answers differently is older or newer, nor which of
// those that agreed hold what version: all of them are compared
// (bgCompare).
type lateWatch struct {
	reply    []byte   // the decided reply, when it was decided without versions
	nodes    []string // every replica, by index, for a bgCompare
	part     uint64
	second   bool // the read was asked again with versions: only those answers count
	key      []byte
	newest   hlc.Version
	holder   string   // a replica holding newest
	replicas []string // by replica index; "" once answered
	deadline time.Time
}

// maxLate bounds the decided reads a coordinator watches for late answers;
// beyond it the oldest is forgotten.
const maxLate = 64

// watchLate starts watching a decided versioned read whose replicas did
// not all answer.
func (p *pipeline) watchLate(ctx actors.Context, cfg *Config, part uint64, pt *part) {
	t := &pt.tally
	if !cfg.ReadRepairs {
		return
	}
	holder, newest, _ := t.staleReplicas(nil)
	var reply []byte
	if holder < 0 && t.lazy {
		for _, v := range t.votes {
			if !v.failure.failed() && bytes.Equal(v.reply, pt.reply) {
				holder, reply = v.replica, append([]byte(nil), pt.reply...)
				break
			}
		}
	}
	if holder < 0 {
		return
	}
	w := lateWatch{part: part, second: t.second, reply: reply, key: append([]byte(nil), pt.key...), newest: newest,
		holder: t.replicas[holder].Node, deadline: ctx.Now().Add(p.timeout)}
	owed := false
	for i, r := range t.replicas {
		if reply != nil && t.awaits(i) {
			w.nodes = append(w.nodes, r.Node)
		}
		if t.voted(i) {
			w.replicas = append(w.replicas, "")
			continue
		}
		w.replicas = append(w.replicas, r.Node)
		owed = true
	}
	if !owed {
		return
	}
	if len(p.late) >= maxLate {
		p.late = append(p.late[:0], p.late[1:]...)
	}
	p.late = append(p.late, w)
}

// lateAnswer handles a replica's answer to a read that was decided
// without it: an older version than the newest the read saw gets the
// newest value, as a background repair.
func (p *pipeline) lateAnswer(ctx actors.Context, cfg *Config, part uint64, replica int, second bool, r store.Result) {
	for i := range p.late {
		w := &p.late[i]
		if w.part != part || w.second != second {
			continue
		}
		if replica >= len(w.replicas) || w.replicas[replica] == "" {
			return
		}
		node := w.replicas[replica]
		w.replicas[replica] = ""
		if w.reply != nil {
			if r.Failure == "" && !bytes.Equal(r.Reply, w.reply) {
				p.startCompare(ctx, cfg, w.key, w.nodes)
			}
			return
		}
		if r.Failure != "" || !r.Version.Less(w.newest) {
			return
		}
		p.startRepair(ctx, cfg, w.key, w.holder, []actors.Addr{p.storeOf(cfg, node)})
		return
	}
}

// stamp returns the version of a new write made by this coordinator.
func stamp(ctx actors.Context) hlc.Version {
	return hlc.Version{TS: ctx.HLC(), Node: string(ctx.Self().Node)}
}
