package coord

import (
	"bytes"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
)

// Blocking pops: BLPOP, BRPOP, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, BLMOVE
// and BRPOPLPUSH.
//
// A replica cannot block on its own: each rack's replica would hand the
// element to whichever client it saw first, and the racks would disagree.
// So the coordinator runs the command's non-blocking form (LMPOP, ZMPOP,
// LMOVE) as a replicated write that one replica, the decider, answers
// (popReplicas), which every replica applies, and when it finds nothing,
// tries again: when woken, and every BlockPoll
// otherwise, until an element comes or the command's timeout passes (then
// Redis's null array). To be woken, it sends DYNO.WATCH for the keys to
// every replica of them (actors/store/watch.go), each of which answers
// when a write that may add elements reaches it, and it tries once every
// replica that serves writes has woken it (allWoken): the write that woke
// them is then ahead of the attempt everywhere. The slow timer covers what
// wakes cannot (a replica of an older build, wakes spread over waiters).
//
// As in Redis, the connection runs nothing else while it waits: the
// commands the client sent after the blocking one are held, in order, and
// run when it is answered. Unlike Redis, several clients waiting on one
// key are not served strictly in the order they came (docs/cluster.md,
// "Blocking pops", says what else a cluster cannot promise). In MULTI
// they run without blocking, as in Redis.
type blocked struct {
	seq     uint64 // the client's slot
	name    string // the command, lower case
	attempt [][]byte
	keys    [][]byte       // the keys it waits on (for LMOVE the source)
	named   [][]byte       // every key the attempt names (LMOVE's destination too)
	reps    []ring.Replica // the keys' replicas, local DC first, by node id (popReplicas)
	decider int            // the replica that decides the attempt in flight (index in reps)
	ver     hlc.Version    // the attempt's version, given to the other replicas with its pop
	until   time.Time      // zero: wait forever

	watchNo uint64       // numbers this pop's watches: their IDs are watchIDOf(watchNo, replica, every)
	watches []watchState // by replica, as reps
	trying  bool         // an attempt is in flight
	timer   uint64       // the pending retry timer's number (Redis.blockTimer)
	// fruitless counts the attempts in a row a wake started that found
	// nothing: each doubles the delay before a wake's attempt (from 1 ms up
	// to BlockPoll), so that waiters whose attempts wake each other (BLMOVE
	// a b against BLMOVE b a on a Redis-backed node, whose adapter wakes
	// before it knows the reply) cannot spin.
	fruitless int
	byWake    bool // the attempt in flight was started by a wake
	wakeArmed bool // a wake's delayed attempt is pending (do not push it back)

	held     [][][]byte // commands that came after it, to run once it is answered
	heldProt []byte     // a protocol error that came after them
}

// watchIDOf is the Exec ID of a pop's watch at replica i (of at most
// maxWatched), of the kind every (DYNO.WATCHEVERY) or not: the kind is in
// the ID, so that a wake of a watch replaced by the other kind (the
// decider changed) is never taken for the new one's.
func watchIDOf(no uint64, i int, every bool) uint64 {
	id := watchID | no<<8 | uint64(i)
	if every {
		id |= maxWatched
	}
	return id
}

// maxWatched bounds the replicas a pop watches (the others are polled).
const maxWatched = 1 << 7

// watchState is one replica's watch of a blocked pop's keys.
type watchState struct {
	at      actors.Addr
	every   bool          // the registered kind: DYNO.WATCHEVERY (not the decider)
	pending bool          // registered, not answered yet (the others' stay registered)
	woken   bool          // it woke the pop since its last attempt began
	ver     hlc.Version   // the version of the push whose wake that was
	seen    []hlc.Version // the pushes it reported lately (DYNO.WATCHEVERY), newest last
	refused bool          // the replica cannot watch (an older build, too many watches): never asked again
}

// seenMax bounds watchState.seen.
const seenMax = 64

// Planted bugs for the tests: plantFirstWake makes a pop try at the first
// replica's wake; plantNoDecider makes each node's own rack decide its
// pops (the replicas in ring order, the local rack's first);
// plantAttemptEverywhere sends each attempt to every replica, not the
// decider alone.
var plantFirstWake, plantNoDecider, plantAttemptEverywhere bool

// BlockPoll is how often a blocked pop tries again when nothing woke it.
var BlockPoll = 500 * time.Millisecond

// blockRetry is the retry timer's message.
type blockRetry struct {
	gen  uint64
	wake bool // a wake's delayed attempt
}

// Replies no element was found in: the non-blocking forms' "nothing".
var (
	nullArray = []byte("*-1\r\n")
	nullBulk  = []byte("$-1\r\n")
)

// blockingCommand starts a blocking pop: it checks the arguments in Redis's
// order, then tries at once.
func (c *Redis) blockingCommand(ctx actors.Context, spec *command.Spec, args [][]byte) {
	name := spec.Name
	now := ctx.Now()
	attempt, keys, ms, bad := store.BlockingForm(args)
	if bad != "" {
		c.p.answer(errReply(bad), false)
		return
	}
	if c.p.stateRefuses(true) {
		c.p.answer(errReply(stateRefusal), false)
		return
	}
	c.blockNo++
	b := &blocked{name: name, attempt: own(attempt), watchNo: c.blockNo}
	b.keys, b.named = b.attempt[2:2+len(keys)], b.attempt[2:2+len(keys)] // LMPOP or ZMPOP numkeys key ...
	if string(attempt[0]) == "lmove" {                                   // LMOVE src dst ...
		b.keys, b.named = b.attempt[1:2], b.attempt[1:3]
	}
	var ok bool
	if b.reps, ok = c.popReplicas(b.named); !ok {
		c.p.answer(errReply(c.spreadKeys(name)), false)
		return
	}
	b.watches = make([]watchState, len(b.reps))
	if ms > 0 && ms < math.MaxInt64/int64(time.Millisecond) { // longer: forever, in practice
		b.until = now.Add(time.Duration(ms) * time.Millisecond)
	}
	s := &slot{parts: make([]part, 1), pending: 1, deadline: c.farDeadline(b, now), blocking: true}
	b.seq = c.p.push(s)
	c.blk = b
	c.tryPop(ctx)
}

// popReplicas are the replicas of a pop's keys, or false when the keys do
// not share them. The first is the decider, the same for every node of
// the DC: the first, by node id, of the local DC's replicas; the pop's
// attempts run at DC_ONE with it first, so its answer is the client's
// (the others apply the pop without answering). Two nodes popping the
// same list are then decided in one place, in one order, while it is up.
func (c *Redis) popReplicas(keys [][]byte) ([]ring.Replica, bool) {
	reps := c.cfg.Ring.Replicas(keys[0], nil)
	for _, k := range keys[1:] {
		if !sameNodes(reps, c.cfg.Ring.Replicas(k, c.reps[:0])) {
			return nil, false
		}
	}
	if plantNoDecider {
		return reps, true
	}
	slices.SortStableFunc(reps, func(a, b ring.Replica) int {
		if a.LocalDC != b.LocalDC {
			if a.LocalDC {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a.Node), string(b.Node))
	})
	return reps, true
}

func (c *Redis) spreadKeys(name string) string {
	return "ERR dynonode: the keys of '" + strings.ToUpper(name) + "' live on different nodes; give them a common hash tag"
}

// own copies args into one buffer the coordinator keeps (a request's
// arguments alias the connection's read buffer): a queued transaction's
// commands, a blocked pop's attempt and the commands held behind it.
func own(args [][]byte) [][]byte {
	size := 0
	for _, a := range args {
		size += len(a)
	}
	buf := make([]byte, 0, size)
	out := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return out
}

// farDeadline is a waiting slot's deadline: past the pop's own timeout, so
// that the sweep never fails a slot that is only waiting.
func (c *Redis) farDeadline(b *blocked, now time.Time) time.Time {
	if b.until.IsZero() {
		return now.Add(100 * 365 * 24 * time.Hour)
	}
	return b.until.Add(c.cfg.Timeout + time.Hour)
}

// tryPop sends one attempt: the watches first, to every replica of the
// keys, then the non-blocking pop to the replicas, as a write the
// decider answers (popReplicas).
func (c *Redis) tryPop(ctx actors.Context) {
	b := c.blk
	s := c.p.slot(b.seq)
	now := ctx.Now()
	// The ring may have changed since the last attempt (gossip): the keys'
	// replicas, and where they are watched, follow it.
	reps, ok := c.popReplicas(b.named)
	if !ok {
		c.finishBlock(ctx, errReply(c.spreadKeys(b.name)))
		return
	}
	if !sameNodes(reps, b.reps) {
		c.unwatchAll(func(to actors.Addr, e store.Exec) { c.p.execs = append(c.p.execs, outExec{to: to, exec: e}) })
		b.reps, b.watches = reps, make([]watchState, len(reps))
		// A fresh number: a late wake of a node no longer watched must not
		// pass for the new replica at the same index.
		c.blockNo++
		b.watchNo = c.blockNo
	}
	b.decider = c.decider(b.reps, b.named[0])
	// Every attempt registers (or renews: the store keeps a watch of the
	// same ID in its place in line, and forgets one not renewed within
	// WatchLease) the watches of every replica that can watch: at the
	// decider a watch woken in turn (a push of n elements wakes its first n
	// watchers), at the others one that reports every push, with its
	// version (see allWoken).
	for i := range b.watches {
		w := &b.watches[i]
		w.woken = false // an attempt consumes the wakes before it
		if w.refused || i >= maxWatched {
			continue
		}
		every := i != b.decider
		if w.pending && w.every != every { // the decider changed: the old kind goes
			c.p.execs = append(c.p.execs, outExec{to: w.at, exec: store.Exec{ID: watchIDOf(b.watchNo, i, w.every), Args: store.UnwatchCommand(), Quiet: true}})
		}
		w.pending, w.every = true, every
		w.at = actors.Addr{Node: actors.NodeID(b.reps[i].Node), Name: c.cfg.StoreName}
		args := store.WatchCommand(b.keys)
		if every {
			args = store.WatchEveryCommand(b.keys)
		}
		c.p.execs = append(c.p.execs, outExec{to: w.at, exec: store.Exec{ID: watchIDOf(b.watchNo, i, every), Args: args}})
	}
	// A fresh part number for every attempt: a late answer to an earlier
	// one finds no part (the slot is the last of the queue: the requests
	// after it are held, so numbers stay in slot order).
	s.firstPart = c.p.nextPart
	c.p.nextPart++
	s.parts[0] = part{tally: s.parts[0].tally}
	s.pending, s.reply, s.merge = 1, nil, nil
	s.arrived, s.deadline = now, now.Add(c.cfg.Timeout)
	b.trying, b.byWake, b.wakeArmed = true, false, false
	o := c.opts(ctx, true, routing{keyed: true}, hlc.Version{})
	b.ver = o.version
	// The decider alone runs the attempt; the others are given the pop
	// only when it found something (popped), so a decider that lacks an
	// element others hold never makes them drop it.
	to := b.reps[b.decider : b.decider+1]
	if plantAttemptEverywhere {
		to = b.reps
	}
	c.p.sendOpts(ctx, &c.cfg, b.seq, 0, b.attempt, to, config.DCOne, true, o)
}

// decider is the replica that decides a pop of key: one of the local DC's
// replicas that serve both reads and writes (not one refilling its
// datastore, RESUMING, or taking writes only, which may lack elements the
// others hold), picked by the key's hash among them in node-id order, so
// that every node of the DC picks the same one for a key and different
// keys spread over the replicas; failing that, the first that serves
// writes, and last the first.
func (c *Redis) decider(reps []ring.Replica, key []byte) int {
	var cands []int
	for i, r := range reps {
		if r.LocalDC && c.p.view.Usable(r.Node, true) && c.p.view.Usable(r.Node, false) {
			cands = append(cands, i)
		}
	}
	if len(cands) > 0 {
		return cands[popHash(key)%uint64(len(cands))]
	}
	for i, r := range reps {
		if c.p.view.Usable(r.Node, true) {
			return i
		}
	}
	return 0
}

// popHash is the hash that picks a key's decider (FNV-1a: the same on
// every node and build).
func popHash(key []byte) uint64 {
	h := fnv.New64a()
	h.Write(key)
	return h.Sum64()
}

// replicatePop gives the other replicas the pop the decider made, with the
// attempt's version and no answer awaited: each pops from the same end,
// after the writes that woke the waiter (see allWoken).
func (c *Redis) replicatePop() {
	b := c.blk
	for i, r := range b.reps {
		if i == b.decider || !c.p.view.Usable(r.Node, true) {
			continue
		}
		c.p.execs = append(c.p.execs, outExec{
			to:   actors.Addr{Node: actors.NodeID(r.Node), Name: c.cfg.StoreName},
			exec: store.Exec{Args: b.attempt, Version: b.ver, Quiet: true},
		})
	}
}

// advanceBlock moves the blocked pop on after a message (advanceOnce),
// and reports whether that answered it and a command held behind it
// started another, which may need moving on too.
func (c *Redis) advanceBlock(ctx actors.Context) bool {
	b := c.blk
	c.advanceOnce(ctx)
	return c.blk != nil && c.blk != b
}

// advanceOnce files the wakes, and decides an attempt that was answered
// (an element, an error, or nothing: wait again).
func (c *Redis) advanceOnce(ctx actors.Context) {
	b := c.blk
	if b == nil {
		c.p.wakes = c.p.wakes[:0]
		return
	}
	woke := false
	for _, r := range c.p.wakes {
		id := r.ID &^ watchID
		i, every := int(id&(maxWatched-1)), id&maxWatched != 0
		if id>>8 != b.watchNo || i >= len(b.watches) || !b.watches[i].pending || b.watches[i].every != every {
			continue // an earlier pop's, a watch of the other kind, or a repeat
		}
		w := &b.watches[i]
		switch {
		case r.Failure != "": // not delivered: registered again with the next attempt
			w.pending = false
		case len(r.Reply) > 0 && r.Reply[0] == '-':
			w.pending, w.refused = false, true
		default:
			w.woken, w.ver, woke = true, r.Version, true
			if i == b.decider {
				w.pending = false // answered once; the others report every push and stay
			} else {
				if len(w.seen) == seenMax {
					w.seen = append(w.seen[:0], w.seen[1:]...)
				}
				w.seen = append(w.seen, r.Version)
			}
		}
	}
	c.p.wakes = c.p.wakes[:0]
	s := c.p.slot(b.seq)
	if !b.trying {
		if woke && c.allWoken() {
			c.wakeAttempt(ctx)
		}
		return
	}
	if s.pending > 0 {
		return
	}
	b.trying = false
	pt := &s.parts[0]
	if pt.failure.failed() || (len(pt.reply) > 0 && pt.reply[0] == '-') {
		c.finishBlock(ctx, nil)
		return
	}
	if !bytes.Equal(pt.reply, nullArray) && !bytes.Equal(pt.reply, nullBulk) {
		c.replicatePop()
		c.finishBlock(ctx, store.BlockingReply(b.name, pt.reply))
		return
	}
	now := ctx.Now()
	if !b.until.IsZero() && !now.Before(b.until) {
		c.finishBlock(ctx, nullArray)
		return
	}
	if b.byWake {
		b.fruitless++
	} else {
		b.fruitless = 0 // the poll's attempt: wakes start afresh
	}
	if c.allWoken() { // woken again while it tried
		s.pending, s.deadline = 1, c.farDeadline(b, now)
		c.wakeAttempt(ctx)
		return
	}
	// Wait: the slot stays pending (so nothing after it is written) with
	// no part in flight, until a wake, the poll or the timeout.
	s.pending, s.deadline = 1, c.farDeadline(b, now)
	wait := BlockPoll
	if !b.until.IsZero() && b.until.Sub(now) < wait {
		wait = b.until.Sub(now)
	}
	c.blockTimer++
	b.timer = c.blockTimer
	ctx.After(wait, blockRetry{gen: b.timer})
}

// allWoken reports whether the pop should try again: the decider woke it
// since its last attempt began, and the push that did (its version) has
// reached each other replica that serves writes and can watch (each
// reports every push): the attempt, and the pop given to them after it,
// then reach each of them after the push. (Trying at the first wake would
// let the pop overtake the push on its way to a slower rack, which would
// keep the element for good.) Without versions, every such replica must
// have woken it since the attempt began.
func (c *Redis) allWoken() bool {
	b := c.blk
	if plantFirstWake {
		for _, w := range b.watches {
			if w.woken {
				return true
			}
		}
	}
	d := b.watches[b.decider]
	if !d.woken && !d.refused {
		return false
	}
	any := d.woken
	for i, w := range b.watches {
		switch {
		case i == b.decider || w.refused || !c.p.view.Usable(b.reps[i].Node, true):
		case d.woken && !d.ver.IsZero():
			if !slices.Contains(w.seen, d.ver) {
				return false
			}
		case w.woken:
			any = true
		default:
			return false
		}
	}
	return any
}

// wakeAttempt tries again after a wake: at once, unless wakes found
// nothing lately (see blocked.fruitless).
func (c *Redis) wakeAttempt(ctx actors.Context) {
	b := c.blk
	if b.wakeArmed {
		return // already due: later wakes must not postpone it
	}
	if b.fruitless == 0 {
		c.tryPop(ctx)
		b.byWake = true
		return
	}
	wait := min(BlockPoll, time.Millisecond<<min(b.fruitless-1, 20))
	if !b.until.IsZero() && b.until.Sub(ctx.Now()) < wait {
		wait = b.until.Sub(ctx.Now())
	}
	c.blockTimer++
	b.timer = c.blockTimer
	b.wakeArmed = true
	ctx.After(wait, blockRetry{gen: b.timer, wake: true})
}

// retry is the blocked pop's timer: try again, or answer the timeout.
func (c *Redis) retry(ctx actors.Context, m blockRetry) {
	b := c.blk
	if b == nil || m.gen != b.timer || b.trying {
		return
	}
	if !b.until.IsZero() && !ctx.Now().Before(b.until) {
		c.finishBlock(ctx, nullArray)
		return
	}
	c.tryPop(ctx)
	b.byWake = m.wake
}

// finishBlock answers the blocked pop with reply (nil: its attempt's own
// reply or failure), withdraws its watch, and runs the commands held
// behind it.
func (c *Redis) finishBlock(ctx actors.Context, reply []byte) {
	b := c.blk
	s := c.p.slot(b.seq)
	s.pending = 0
	if reply != nil {
		s.reply = reply
	} else {
		s.merge = mergeFirst
	}
	c.unwatchAll(func(to actors.Addr, e store.Exec) { c.p.execs = append(c.p.execs, outExec{to: to, exec: e}) })
	c.blk = nil
	held, prot := b.held, b.heldProt
	if len(held) == 0 && prot == nil {
		return
	}
	c.p.now = ctx.Now()
	c.p.batch++
	for i, args := range held {
		if c.p.closing {
			return
		}
		if c.blk != nil { // another blocking command: the rest wait for it
			c.blk.held = append(c.blk.held, held[i:]...)
			c.blk.heldProt = prot
			return
		}
		c.handle(ctx, args)
	}
	if prot != nil && !c.p.closing {
		if c.blk != nil {
			c.blk.heldProt = prot
			return
		}
		c.p.refuse(prot, true, ErrProtocol)
	}
}

// unwatch withdraws a waiting pop's watches (the connection is ending).
func (c *Redis) unwatch(ctx actors.Context) {
	if c.blk != nil {
		c.unwatchAll(func(to actors.Addr, e store.Exec) { ctx.Send(to, e) })
	}
}

// unwatchAll sends DYNO.UNWATCH for every watch of the blocked pop.
func (c *Redis) unwatchAll(send func(actors.Addr, store.Exec)) {
	b := c.blk
	for i := range b.watches {
		// Every replica ever asked, answered or not: a renewal may have
		// crossed the wake that answered the watch before it.
		if w := &b.watches[i]; !w.at.IsZero() && !w.refused {
			w.pending = false
			send(w.at, store.Exec{ID: watchIDOf(b.watchNo, i, w.every), Args: store.UnwatchCommand(), Quiet: true})
		}
	}
}
