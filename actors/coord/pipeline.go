package coord

import (
	"slices"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
)

// slot is one client request waiting for its reply. Replies leave in slot
// order, so a fast request never overtakes a slow one sent before it.
type slot struct {
	parts    []part
	one      [1]part // parts of a single-part request: no allocation
	pending  int     // parts still waiting
	merge    func(parts []part, dst []byte) []byte
	reply    []byte // set when the request was answered without parts
	deadline time.Time
	silent   bool   // memcached noreply: nothing is written
	pushed   bool   // a message no request asked for (pub/sub): not a request
	batch    uint64 // the client batch (one read) the request came in
	close    bool   // close the connection after this reply
	blocking bool   // a blocking pop (blocking.go): replies before it never wait for it
	// firstPart numbers the slot's part 0; its part i is firstPart+i. Part
	// numbers increase with slots, so a Result's ID finds its slot by
	// binary search (see execID).
	firstPart uint64

	// Statistics: set by push and send, read by account.
	arrived time.Time
	class   Class
	level   config.Consistency
	kind    ErrKind // errNone unless the node itself refused the request
}

// part is one datastore request a slot waits for, sent to one or more
// replicas; its tally decides when it is answered.
type part struct {
	reply   []byte
	failure failure
	done    bool
	tally   tally
	// key is the key of a versioned single-key read: what a read repair
	// dumps and restores; args the read, sent again with a version when
	// its replicas answer differently (see askVersions).
	key  []byte
	args [][]byte
}

// An Exec's ID is its part's number shifted left by replicaBits, plus the
// replica's index in the part's replica list: the Result names its slot,
// part and replica with no table to keep.
const (
	replicaBits = 8
	maxReplicas = 1 << replicaBits
)

func execID(part uint64, replica int) uint64 { return part<<replicaBits | uint64(replica) }

// The two top bits of an ID mark the Execs of read repairs: a synchronous
// repair's carry its part and replica as above; a background repair's
// carry its number (see background).
const (
	syncRepairID = 1 << 63
	bgRepairID   = 1 << 62
	repairIDs    = syncRepairID | bgRepairID
	// secondID marks the Execs of a read asked again with a version (see
	// askVersions), so that late answers to the first asking do not count.
	secondID = 1 << 61
	// watchID marks a blocking pop's DYNO.WATCH (blocking.go): its answer
	// is a wake, filed in pipeline.wakes.
	watchID = 1 << 60
)

// outExec is an Exec waiting for the end of the message being handled:
// the Execs for one node leave together (store.Batch).
type outExec struct {
	to   actors.Addr
	exec store.Exec
}

// pipeline is the ordered reply queue shared by the Redis and Memcached
// coordinators.
type pipeline struct {
	slots          []*slot
	free           []*slot // answered single-part slots, for reuse
	base           uint64  // sequence number of slots[0]
	nextPart       uint64  // the number of the next slot's first part
	execs          []outExec
	timeout        time.Duration
	timeoutFailure failure // the failure of a request that timed out
	ticking        bool
	out            []byte
	closing        bool         // a close was queued: later requests are dropped
	view           *gossip.View // the gossiper's latest view; nil: static membership
	early          []any        // requests that arrived before the first view

	now       time.Time // arrival time of the batch being handled
	wrote     int64     // when replies were last handed to the writer (Unix ns: no pointer to store)
	killed    bool      // CLIENT KILL closed the connection: nothing more is written
	batch     uint64    // counts client batches; a slot's batch is its read
	counts    *Counts   // requests answered since the last report; nil: none
	reporting bool      // a statsTick is scheduled

	ho     handoff        // writes awaiting their replicas, for hints (handoff.go)
	bg     []bgRepair     // background read repairs waiting for their dump
	cmp    []bgCompare    // background comparisons waiting for their dumps
	late   []lateWatch    // decided DC_QUORUM reads still owed answers
	bgNext uint64         // numbers background repairs
	wakes  []store.Result // answers to DYNO.WATCH, for the blocked pop (blocking.go)
}

// newPipeline returns a pipeline whose requests time out after timeout,
// failing with the text timedOut (made once here: building it per message
// was an allocation on every store answer).
func newPipeline(timeout time.Duration, timedOut string) pipeline {
	return pipeline{timeout: timeout, timeoutFailure: failure{timedOut, ErrTimeout}}
}

// The coordinators' Receive methods list every message they handle; what
// both share about the connection's life and the cluster is below.

// start subscribes to the gossiper's views, when membership is gossiped.
func (p *pipeline) start(ctx actors.Context, cfg *Config) {
	if !cfg.Gossip.IsZero() {
		ctx.Send(cfg.Gossip, gossip.Subscribe{})
	}
}

// stop reports the counts left to the stats actor and unsubscribes from
// the gossiper.
func (p *pipeline) stop(ctx actors.Context, cfg *Config) {
	p.expireHandoffs(ctx, cfg, ctx.Now(), true)
	p.sendStats(ctx, cfg.Stats)
	if !cfg.Gossip.IsZero() {
		ctx.Send(cfg.Gossip, gossip.Unsubscribe{})
	}
}

// hold keeps a batch of requests that arrived before the gossiper's first
// view, and reports whether it did: nothing is routed before the
// coordinator knows which nodes are down (the view is one hop away).
func (p *pipeline) hold(cfg *Config, batch any) bool {
	if p.view != nil || cfg.Gossip.IsZero() {
		return false
	}
	p.early = append(p.early, batch)
	return true
}

// follow takes the gossiper's latest view (ring and usable nodes) and
// returns the batches held until the first one, for the coordinator to
// handle now, in their order.
func (p *pipeline) follow(cfg *Config, v gossip.View) []any {
	p.view = &v
	if v.Ring != nil {
		cfg.Ring = v.Ring
	}
	early := p.early
	p.early = nil
	return early
}

// stateRefuses reports whether this node's declared state refuses the
// operation (Dynomite: STANDBY refuses everything, WRITES_ONLY refuses
// reads). Dynomite's RESUMING refused reads too; here a RESUMING node
// (its datastore refilling, see actors/antientropy) serves them from the
// other racks' replicas: the view says its own store serves no reads.
func (p *pipeline) stateRefuses(write bool) bool {
	if p.view == nil {
		return false
	}
	if write {
		return !p.view.Self.AllowsWrites()
	}
	return !p.view.Self.AllowsReads() && p.view.Self != gossip.Resuming
}

const stateRefusal = "ERR Dynomite: Dynomite's current state does not allow this request"

// tick is the coordinator's timeout sweep timer.
type tick struct{}

// push queues a slot and returns its sequence number. A slot that closes
// the connection ends the stream: like Redis after QUIT or a protocol
// error, requests behind it in the same batch are not run.
func (p *pipeline) push(s *slot) uint64 {
	s.arrived, s.kind, s.batch = p.now, errNone, p.batch
	s.firstPart = p.nextPart
	p.nextPart += uint64(len(s.parts))
	if s.parts == nil {
		s.class = ClassOther
	}
	p.slots = append(p.slots, s)
	p.closing = p.closing || s.close
	return p.base + uint64(len(p.slots)-1)
}

// answer queues a request that is already answered.
func (p *pipeline) answer(reply []byte, close bool) {
	p.push(&slot{reply: reply, close: close})
}

// pushMessage queues data no request asked for (a pub/sub message): it
// is written in its turn but neither completes a request nor is counted
// as one.
func (p *pipeline) pushMessage(data []byte) {
	p.push(&slot{reply: data, pushed: true})
}

// refuse queues an error the node answers itself, counted as kind.
func (p *pipeline) refuse(reply []byte, close bool, kind ErrKind) {
	p.slot(p.push(&slot{reply: reply, close: close})).kind = kind
}

// send sends part i of slot seq to its replicas: reads at DC_ONE only to
// the local-rack owner, reads at the quorum levels to the replicas whose
// answers count, writes to every replica. Replicas the view says cannot
// serve (down, or in a state that refuses the operation) are not sent to:
// at DC_ONE the first usable replica answers instead of the local-rack
// owner; at the quorum levels they count as failed at once.
func (p *pipeline) send(ctx actors.Context, cfg *Config, seq uint64, i int, args [][]byte, reps []ring.Replica, level config.Consistency, write bool) {
	p.sendOpts(ctx, cfg, seq, i, args, reps, level, write, sendOpts{})
}

// sendCanon is send for a command whose replicas' replies are compared in
// canonical form (see canonicalUnordered).
func (p *pipeline) sendCanon(ctx actors.Context, cfg *Config, seq uint64, i int, args [][]byte, reps []ring.Replica, level config.Consistency, write bool, canon func([]byte) []byte) {
	p.sendOpts(ctx, cfg, seq, i, args, reps, level, write, sendOpts{canon: canon})
}

// sendOpts are what a part may add to a plain send.
type sendOpts struct {
	// canon puts replies in canonical form before they are compared.
	canon func([]byte) []byte
	// unordered: canon is canonSet (1) or canonPairs (2); see tally.
	unordered int
	// version is the write's version, sent to every replica (zero:
	// unversioned).
	version hlc.Version
	// key, for a read with versions on, is its one key: the replicas'
	// versions decide the reply and stale replicas are repaired.
	key []byte
	// to names the actor the request goes to on each replica's node
	// (default Config.StoreName): the pub/sub broker for PUBLISH.
	to string
	// anyState sends to the replicas whatever state gossip gives them
	// (the local pub/sub broker serves in every state).
	anyState bool
}

// sendOpts is send with options.
func (p *pipeline) sendOpts(ctx actors.Context, cfg *Config, seq uint64, i int, args [][]byte, reps []ring.Replica, level config.Consistency, write bool, o sendOpts) {
	canon := o.canon
	s := p.slot(seq)
	s.class, s.level = ClassRead, level
	if write {
		s.class = ClassWrite
	}
	view := p.view
	if level == config.DCOne && !o.anyState && !view.Usable(reps[0].Node, write) {
		// The first replica that serves the operation and whose state
		// gossip knows; for a read, failing that, one that is up but
		// refilling (see usable); last, one gossip has not heard from
		// yet (usable, as far as anyone knows).
		prefs := []func(string) bool{
			func(n string) bool { _, known := view.States[n]; return known && view.Usable(n, write) },
			func(n string) bool { return !write && resuming(view, n) },
			func(n string) bool { return view.Usable(n, write) },
		}
	choose:
		for _, pref := range prefs {
			for j := range reps {
				if pref(reps[j].Node) {
					if j > 0 {
						reps = append([]ring.Replica{reps[j]}, append(append([]ring.Replica(nil), reps[:j]...), reps[j+1:]...)...)
					}
					break choose
				}
			}
		}
	}
	pt := &s.parts[i]
	pt.tally.reset(level, reps)
	pt.tally.canon, pt.tally.unordered = canon, o.unordered
	pt.key, pt.args = nil, nil
	if o.key != nil && !write && level != config.DCOne {
		// A read that compares versions asks first without them (the
		// replicas' replies alone), and again with them only when the
		// replicas answer differently (see askVersions).
		pt.key, pt.args, pt.tally.versioned, pt.tally.lazy, pt.tally.firstWins = o.key, args, true, true, cfg.plantFirstWins
	}
	t := &pt.tally
	// Only writes a replay may repeat are tracked (and make their other
	// racks answer): read-modify-writes stay as without hints.
	hinted := write && p.hintsOn(cfg, o) && idempotent(args)
	for r, rep := range reps {
		if !write && !t.awaits(r) {
			continue
		}
		var f failure
		switch {
		case !o.anyState && !p.usable(t, r, write):
			f = peerDown
			if hinted {
				p.hint(ctx, cfg, rep.Node, args, o.version)
			}
		case r >= maxReplicas:
			f = tooManyReplicas
		}
		if f.failed() {
			if done, reply, f := t.add(vote{replica: r, failure: f}); done && !pt.done {
				pt.reply, pt.failure, pt.done = reply, f, true
				s.pending--
			}
			continue
		}
		// A write to a replica whose answer does not count (DC_ONE's other
		// racks, DCs outside the quorum) asks for no answer, unless hints
		// are on: a failure must then be seen, and a success is answered
		// by its ID alone (store.Acks).
		id := execID(s.firstPart+uint64(i), r)
		if hinted {
			p.track(id, rep.Node, args, o.version, s.deadline, t.awaits(r))
		}
		name := cfg.StoreName
		if o.to != "" {
			name = o.to
		}
		p.execs = append(p.execs, outExec{
			to:   actors.Addr{Node: actors.NodeID(rep.Node), Name: name},
			exec: store.Exec{ID: id, Args: args, Quiet: !t.awaits(r) && !hinted, Version: o.version, Ack: hinted && !t.awaits(r)},
		})
	}
}

// usable reports whether replica r of t may be sent the operation. A read
// may go to a RESUMING replica (up, its datastore refilling from the
// others, see actors/antientropy) when the replicas that serve reads
// cannot make the level's quorum without it, and then only as many as
// the quorum lacks, the first in replica order: every replica that serves
// reads is still in the quorum, so RESUMING replicas never outvote it,
// and a key whose replicas are all refilling answers what they hold
// rather than fail (versions still pick the newest answer).
func (p *pipeline) usable(t *tally, r int, write bool) bool {
	view := p.view
	node := t.replicas[r].Node
	if view.Usable(node, write) {
		return true
	}
	if write || !resuming(view, node) {
		return false
	}
	if t.level == config.DCOne {
		return r == 0 // sendOpts put a usable replica first if there was one
	}
	for _, g := range t.groups {
		if !slices.Contains(g.members, r) {
			continue
		}
		n, before := 0, 0 // members serving reads; RESUMING ones before r
		for _, m := range g.members {
			switch node := t.replicas[m].Node; {
			case view.Usable(node, false):
				n++
			case m < r && resuming(view, node):
				before++
			}
		}
		return n+before < g.need
	}
	return false
}

// resuming reports whether node is up and RESUMING.
func resuming(view *gossip.View, node string) bool {
	return view != nil && !view.Down[node] && view.States[node] == gossip.Resuming
}

// The failures of replicas the coordinator does not send to.
var (
	peerDown        = failure{"Peer: Peer Node is down", ErrPeer}
	tooManyReplicas = failure{"dynonode: a key has more than 256 replicas; this one is not used", ErrDatastore}
)

// sendExecs sends the Execs the message just handled produced: one message
// per node, a store.Batch when there are several, in the order they were
// made (per node), nodes in the order they first appear.
func (p *pipeline) sendExecs(ctx actors.Context) {
	out := p.execs
	for i := range out {
		to := out[i].to
		if to.IsZero() {
			continue
		}
		n := 1
		for j := i + 1; j < len(out); j++ {
			if out[j].to == to {
				n++
			}
		}
		if n == 1 {
			ctx.Send(to, out[i].exec)
			continue
		}
		batch := make([]store.Exec, 0, n)
		batch = append(batch, out[i].exec)
		for j := i + 1; j < len(out); j++ {
			if out[j].to == to {
				batch = append(batch, out[j].exec)
				out[j].to = actors.Addr{}
			}
		}
		ctx.Send(to, store.Batch{Execs: batch})
	}
	clear(out)
	p.execs = out[:0]
}

// endTurn ends the handling of one message: the Execs it made leave, the
// replies that are ready are written, the timeout sweep is armed and the
// statistics reported.
func (p *pipeline) endTurn(ctx actors.Context, cfg *Config) {
	p.sendExecs(ctx)
	p.flush(ctx, cfg.Sink)
	p.armTimer(ctx)
	p.report(ctx, cfg.Stats)
}

// results files the Results a store sent together.
func (p *pipeline) results(ctx actors.Context, cfg *Config, rs store.Results) {
	for _, r := range rs.Results {
		p.result(ctx, cfg, r)
	}
}

// acks files the acknowledgements of tracked writes nobody else waits for
// (only they ask for one: store.Exec.Ack).
func (p *pipeline) acks(ctx actors.Context, cfg *Config, a store.Acks) {
	for _, id := range a.IDs {
		if p.ho.pending() == 0 {
			return
		}
		p.handedOff(ctx, cfg, store.Result{ID: id})
	}
}

// result files a datastore Result into its part's tally. Results for
// requests that are gone (answered, timed out) and repeated Results are
// ignored.
func (p *pipeline) result(ctx actors.Context, cfg *Config, r store.Result) {
	switch {
	case r.ID&syncRepairID != 0:
		p.syncRepairResult(cfg, r)
		return
	case r.ID&bgRepairID != 0:
		p.bgRepairResult(cfg, r)
		return
	case r.ID&watchID != 0:
		p.wakes = append(p.wakes, r)
		return
	}
	if p.ho.pending() > 0 {
		if tracked, unawaited := p.handedOff(ctx, cfg, r); tracked && unawaited {
			return
		}
	}
	second := r.ID&secondID != 0
	id := r.ID &^ secondID
	part, replica := id>>replicaBits, int(id&(maxReplicas-1))
	s := p.slotOfPart(part)
	if s == nil {
		p.lateAnswer(ctx, cfg, part, replica, second, r)
		return
	}
	pt := &s.parts[part-s.firstPart]
	if pt.done {
		p.lateAnswer(ctx, cfg, part, replica, second, r)
		return
	}
	if second != pt.tally.second || replica >= len(pt.tally.replicas) || pt.tally.voted(replica) {
		return // a late answer to the first asking of a read asked again, or a repeat
	}
	var f failure
	if r.Failure != "" {
		f = failure{r.Failure, storeErrKind(r.Kind)}
	}
	done, reply, f := pt.tally.add(vote{replica: replica, reply: r.Reply, failure: f, version: r.Version})
	p.settle(ctx, cfg, s, part, pt, done, reply, f)
}

// settle records a tally's decision, if it made one; a versioned read's
// decision also starts its repairs: the synchronous one a safe level asked
// for, or the background one of a DC_QUORUM read whose replicas answered
// with different versions.
func (p *pipeline) settle(ctx actors.Context, cfg *Config, s *slot, part uint64, pt *part, done bool, reply []byte, f failure) {
	if !done {
		switch {
		case pt.tally.escalate:
			p.askVersions(ctx, cfg, s, part, pt)
		case pt.tally.rep.state == repairWanted:
			p.startSyncRepair(cfg, part, pt)
		}
		return
	}
	pt.reply, pt.failure, pt.done = reply, f, true
	s.pending--
	if f.kind == ErrQuorum && pt.tally.answeredOK() > 0 {
		actors.Mark(ctx, markQuorumLost) // some replicas answered, too few
	}
	if pt.tally.versioned && pt.tally.level == config.DCQuorum && !f.failed() {
		p.backgroundRepair(ctx, cfg, pt)
		p.watchLate(ctx, cfg, part, pt)
	}
}

// askVersions asks a versioned read's replicas again, with a version: they
// answered differently without. The first answers are forgotten; the new
// ones carry the key's version at each replica and are decided (and
// repaired) by version. Most reads never get here: replicas that agree
// answer at the cost of an unversioned read, which on Redis is half that
// of a versioned one.
func (p *pipeline) askVersions(ctx actors.Context, cfg *Config, s *slot, part uint64, pt *part) {
	t := &pt.tally
	t.escalate, t.lazy, t.second = false, false, true
	clear(t.votes)
	t.votes = t.votes[:0]
	p.count().VersionRereads++
	v := stamp(ctx)
	for r, rep := range t.replicas {
		if !t.awaits(r) {
			continue
		}
		switch {
		case !p.usable(t, r, false):
			t.votes = append(t.votes, vote{replica: r, failure: peerDown})
			continue
		case r >= maxReplicas:
			t.votes = append(t.votes, vote{replica: r, failure: tooManyReplicas})
			continue
		}
		p.execs = append(p.execs, outExec{
			to:   actors.Addr{Node: actors.NodeID(rep.Node), Name: cfg.StoreName},
			exec: store.Exec{ID: secondID | execID(part, r), Args: pt.args, Version: v},
		})
	}
	done, reply, f := t.decide(false)
	p.settle(ctx, cfg, s, part, pt, done, reply, f)
}

// slotOfPart finds the queued slot that part belongs to, or nil. Replies
// mostly answer the oldest request, so the head is tried first.
func (p *pipeline) slotOfPart(part uint64) *slot {
	slots := p.slots
	if len(slots) == 0 || part < slots[0].firstPart {
		return nil
	}
	within := func(s *slot) bool { return part < s.firstPart+uint64(len(s.parts)) }
	if within(slots[0]) {
		return slots[0]
	}
	lo, hi := 1, len(slots) // the first slot whose parts end past part
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if within(slots[mid]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == len(slots) || part < slots[lo].firstPart {
		return nil
	}
	return slots[lo]
}

// maxFree bounds the answered slots a coordinator keeps for reuse.
const maxFree = 64

// single returns an empty slot with one part, reused when one is free.
func (p *pipeline) single() *slot {
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		s.parts = s.one[:]
		return s
	}
	s := &slot{}
	s.parts = s.one[:]
	return s
}

// recycle keeps an answered single-part slot, and its tally's buffers, for
// a later request.
func (p *pipeline) recycle(s *slot) {
	if len(p.free) >= maxFree || len(s.parts) != 1 || &s.parts[0] != &s.one[0] {
		return
	}
	t := s.one[0].tally
	*s = slot{}
	s.one[0].tally = tally{replicas: t.replicas[:0], votes: t.votes, groups: t.groups[:0]}
	p.free = append(p.free, s)
}

// holdBackMax bounds the reply bytes held back for one write: past it,
// what is ready goes (a pipeline of large values streams out).
const holdBackMax = 64 << 10

// holdBack reports whether the complete replies at the head of the queue
// wait for a pending request of the same client batch.
func (p *pipeline) holdBack() bool {
	ready := 0
	for i, s := range p.slots {
		if s.reply != nil || (s.pending == 0 && s.merge != nil) {
			if s.close {
				return false
			}
			ready += len(s.reply)
			for j := range s.parts {
				ready += len(s.parts[j].reply)
			}
			if ready >= holdBackMax {
				return false
			}
			continue
		}
		return i > 0 && p.slots[i-1].batch == s.batch && !s.blocking
	}
	return false
}

func (p *pipeline) slot(seq uint64) *slot {
	if seq < p.base || seq >= p.base+uint64(len(p.slots)) {
		return nil
	}
	return p.slots[seq-p.base]
}

// armTimer makes sure a sweep is scheduled while requests are outstanding.
func (p *pipeline) armTimer(ctx actors.Context) {
	if p.ticking || (len(p.slots) == 0 && len(p.bg) == 0 && p.ho.pending() == 0) || p.timeout <= 0 {
		return
	}
	p.ticking = true
	ctx.After(p.timeout/4+time.Millisecond, tick{})
}

// sweep decides every part whose slot passed its deadline with the answers
// it has, and forgets requests whose slot is gone.
func (p *pipeline) sweep(now time.Time) {
	p.ticking = false
	p.expireRepairs(now)
	for _, s := range p.slots {
		if s.pending == 0 || now.Before(s.deadline) {
			continue
		}
		for i := range s.parts {
			if pt := &s.parts[i]; !pt.done {
				pt.reply, pt.failure = pt.tally.expire(p.timeoutFailure)
				pt.done = true
				s.pending--
			}
		}
	}
}

// flush sends every reply at the head of the queue that is complete, as one
// Replies message. Replies wait while a request of their own client batch
// (one read) is still pending, so a pipeline is answered with one write,
// as Redis does; they never wait for a request the client sent later.
func (p *pipeline) flush(ctx actors.Context, sink actors.Addr) {
	if p.holdBack() {
		return
	}
	out := p.out[:0]
	closeNow, pushed := false, false
	n, answered := 0, 0
	var now time.Time
	for _, s := range p.slots {
		if s.reply == nil && (s.pending > 0 || s.merge == nil) {
			break
		}
		if n == 0 {
			now = ctx.Now()
		}
		start := len(out)
		if !s.silent {
			if s.reply != nil {
				out = append(out, s.reply...)
			} else {
				out = s.merge(s.parts, out)
			}
		}
		if s.pushed {
			pushed = true
		} else {
			p.account(ctx, s, out[start:], now)
			answered++
		}
		n++
		if s.close {
			closeNow = true
			break
		}
	}
	if n == 0 {
		return
	}
	for _, s := range p.slots[:n] {
		p.recycle(s)
	}
	// Move what is still waiting to the front (usually nothing: a pass
	// answers the whole pipeline), so the slots' array is reused rather
	// than regrown from nothing by the next pipeline.
	m := copy(p.slots, p.slots[n:])
	clear(p.slots[m:])
	p.slots = p.slots[:m]
	p.base += uint64(n)
	// The message must own its bytes: the writer reads them later.
	ctx.Send(sink, Replies{Data: append([]byte(nil), out...), Close: closeNow, Answered: answered, Pushed: pushed})
	p.wrote = now.UnixNano()
	p.out = out[:0]
	if closeNow {
		p.slots = nil
	}
}

// ask queues a request that one actor of this node answers with a
// store.Result (the client registry, for CLIENT LIST and KILL): a slot
// of one part awaiting local, timed out like any request. close closes
// the connection after its reply. It returns the ID the answer carries.
func (p *pipeline) ask(now time.Time, local []ring.Replica, close bool) uint64 {
	s := p.single()
	s.pending, s.merge, s.deadline, s.close = 1, mergeFirst, now.Add(p.timeout), close
	p.push(s)
	s.class = ClassOther
	pt := &s.parts[0]
	pt.tally.reset(config.DCOne, local)
	pt.key, pt.args = nil, nil
	return execID(s.firstPart, 0)
}

// kill ends the connection at once (CLIENT KILL from another one): the
// writer closes it after what it was already given, and the requests
// still unanswered are dropped, as Redis frees a killed client.
func (p *pipeline) kill(ctx actors.Context, sink actors.Addr) {
	if p.killed {
		return
	}
	p.killed, p.closing = true, true
	p.slots, p.early = nil, nil
	ctx.Send(sink, Replies{Close: true})
}

// Coverage mark (actors.Mark; sim's TestMain requires a test run to reach it).
const markQuorumLost = "coord/quorum-lost-mid-request"
