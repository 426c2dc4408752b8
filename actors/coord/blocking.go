package coord

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
)

// Blocking pops: BLPOP, BRPOP, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, BLMOVE
// and BRPOPLPUSH.
//
// A replica cannot block on its own: each rack's replica would hand the
// element to whichever client it saw first, and the racks would disagree.
// So the coordinator runs the command's non-blocking form (LMPOP, ZMPOP,
// LMOVE) as an ordinary replicated write, which every replica applies, and
// when it finds nothing, tries again: when woken, and every BlockPoll
// otherwise, until an element comes or the command's timeout passes (then
// Redis's null array). To be woken, it sends DYNO.WATCH for the keys to
// their replica on its own rack (actors/store/watch.go), which answers when
// a write that may add elements reaches it; the slow timer covers what a
// wake cannot (that replica down, or of an older build).
//
// As in Redis, the connection runs nothing else while it waits: the
// commands the client sent after the blocking one are held, in order, and
// run when it is answered. Unlike Redis, several clients waiting on one
// key are not served strictly in the order they came: a wake goes to the
// first watchers of the key at one replica, and coordinators on other
// racks watch other replicas. Inside MULTI the commands are refused.
type blocked struct {
	seq     uint64 // the client's slot
	name    string // the command, lower case
	attempt [][]byte
	keys    [][]byte
	reps    []ring.Replica
	until   time.Time // zero: wait forever
	watchAt actors.Addr

	watchNo  uint64 // the current watch's number (its Exec ID is watchID|watchNo)
	watching bool   // a watch is registered and not yet answered
	noWatch  bool   // the store cannot watch (refused it): poll only
	trying   bool   // an attempt is in flight
	again    bool   // woken while trying: try again at once
	timer    uint64 // the generation of the pending retry timer
	// fruitless counts the attempts in a row a wake started that found
	// nothing: each doubles the delay before a wake's attempt (from 1 ms up
	// to BlockPoll), so that waiters whose attempts wake each other (BLMOVE
	// a b against BLMOVE b a on a Redis-backed node, whose adapter wakes
	// before it knows the reply) cannot spin.
	fruitless int
	byWake    bool // the attempt in flight was started by a wake

	held     [][][]byte // commands that came after it, to run once it is answered
	heldProt []byte     // a protocol error that came after them
}

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

// parseTimeout is Redis 7.0's getTimeoutFromObjectOrReply in seconds: the
// timeout in ms (0: forever), or Redis's error.
func parseTimeout(b []byte, now time.Time) (int64, string) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(f) || len(b) == 0 {
		return 0, "ERR timeout is not a float or out of range"
	}
	if err != nil { // out of float64's range: Redis's long double holds it, then it overflows the ms
		return 0, "ERR timeout is negative"
	}
	ms := f * 1000
	if math.IsInf(ms, 0) || ms >= math.MaxInt64 || ms < math.MinInt64 {
		// Redis converts to long long: out of range, that is LLONG_MIN.
		return 0, "ERR timeout is negative"
	}
	t := int64(ms)
	if t < 0 {
		return 0, "ERR timeout is negative"
	}
	if t > 0 && t > math.MaxInt64-now.UnixMilli() {
		return 0, "ERR timeout is out of range"
	}
	return t, ""
}

// blockingCommand starts a blocking pop: it checks the arguments in Redis's
// order, then tries at once.
func (c *Redis) blockingCommand(ctx actors.Context, spec *command.Spec, args [][]byte) {
	name := spec.Name
	var timeoutArg []byte
	var keys, attempt [][]byte
	switch name {
	case "blpop", "brpop", "bzpopmin", "bzpopmax":
		timeoutArg, keys = args[len(args)-1], args[1:len(args)-1]
		n := []byte(strconv.Itoa(len(keys)))
		switch name {
		case "blpop":
			attempt = append(append([][]byte{[]byte("lmpop"), n}, keys...), []byte("LEFT"))
		case "brpop":
			attempt = append(append([][]byte{[]byte("lmpop"), n}, keys...), []byte("RIGHT"))
		case "bzpopmin":
			attempt = append(append([][]byte{[]byte("zmpop"), n}, keys...), []byte("MIN"))
		default:
			attempt = append(append([][]byte{[]byte("zmpop"), n}, keys...), []byte("MAX"))
		}
	case "blmpop", "bzmpop":
		ends, form := [2]string{"LEFT", "RIGHT"}, "lmpop"
		if name == "bzmpop" {
			ends, form = [2]string{"MIN", "MAX"}, "zmpop"
		}
		var bad string
		// args[1:] reads as the non-blocking form's, its timeout in the
		// name's place.
		if keys, _, _, bad = store.ParseMPop(args[1:], ends); bad != "" {
			c.p.answer(errReply(bad), false)
			return
		}
		timeoutArg = args[1]
		attempt = append([][]byte{[]byte(form)}, args[2:]...)
	case "blmove", "brpoplpush":
		if name == "blmove" {
			for _, where := range args[3:5] {
				if !bytes.EqualFold(where, []byte("left")) && !bytes.EqualFold(where, []byte("right")) {
					c.p.answer(errReply("ERR syntax error"), false)
					return
				}
			}
			timeoutArg, attempt = args[5], append([][]byte{[]byte("lmove")}, args[1:5]...)
		} else {
			timeoutArg, attempt = args[3], [][]byte{[]byte("lmove"), args[1], args[2], []byte("RIGHT"), []byte("LEFT")}
		}
		keys = args[1:3]
	}
	now := ctx.Now()
	ms, bad := parseTimeout(timeoutArg, now)
	if bad != "" {
		c.p.answer(errReply(bad), false)
		return
	}
	if c.p.stateRefuses(true) {
		c.p.answer(errReply(stateRefusal), false)
		return
	}
	reps := c.cfg.Ring.Replicas(keys[0], nil)
	for _, k := range keys[1:] {
		if !sameNodes(reps, c.cfg.Ring.Replicas(k, c.reps[:0])) {
			c.p.answer(errReply("ERR dynonode: the keys of '"+strings.ToUpper(name)+"' live on different nodes; give them a common hash tag"), false)
			return
		}
	}
	b := &blocked{name: name, attempt: own(attempt), reps: reps}
	if name == "blmove" || name == "brpoplpush" {
		b.keys = b.attempt[1:2] // LMOVE src dst ...: it waits for src
	} else {
		b.keys = b.attempt[2 : 2+len(keys)] // LMPOP or ZMPOP numkeys key ...
	}
	if ms > 0 {
		b.until = now.Add(time.Duration(ms) * time.Millisecond)
	}
	s := &slot{parts: make([]part, 1), pending: 1, deadline: c.farDeadline(b, now), blocking: true}
	b.seq = c.p.push(s)
	c.blk = b
	c.tryPop(ctx)
}

// own copies args into one buffer the coordinator keeps.
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

// tryPop sends one attempt: the watch first, if none is registered, then
// the non-blocking pop to the keys' replicas, as a write.
func (c *Redis) tryPop(ctx actors.Context) {
	b := c.blk
	s := c.p.slot(b.seq)
	now := ctx.Now()
	if !b.watching && !b.noWatch {
		b.watchNo++
		b.watching = true
		b.watchAt = actors.Addr{Node: actors.NodeID(c.watchReplica(b.reps).Node), Name: c.cfg.StoreName}
		c.p.execs = append(c.p.execs, outExec{to: b.watchAt, exec: store.Exec{ID: watchID | b.watchNo, Args: store.WatchCommand(b.keys)}})
	}
	// A fresh part number for every attempt: a late answer to an earlier
	// one finds no part (the slot is the last of the queue: the requests
	// after it are held, so numbers stay in slot order).
	s.firstPart = c.p.nextPart
	c.p.nextPart++
	s.parts[0] = part{tally: s.parts[0].tally}
	s.pending, s.reply, s.merge = 1, nil, nil
	s.arrived, s.deadline = now, now.Add(c.cfg.Timeout)
	b.trying, b.byWake = true, false
	c.p.sendOpts(ctx, &c.cfg, b.seq, 0, b.attempt, b.reps, c.level(true), true, c.opts(ctx, true, routing{keyed: true}, hlc.Version{}))
}

// watchReplica is the replica that watches the keys: the first one the
// view says serves writes (the local rack's, when it can), else the first.
func (c *Redis) watchReplica(reps []ring.Replica) ring.Replica {
	for _, r := range reps {
		if c.p.view.Usable(r.Node, true) {
			return r
		}
	}
	return reps[0]
}

// advanceBlock moves the blocked pop on after a message: files the wakes,
// and decides an attempt that was answered (an element, an error, or
// nothing: wait again).
func (c *Redis) advanceBlock(ctx actors.Context) {
	b := c.blk
	if b == nil {
		c.p.wakes = c.p.wakes[:0]
		return
	}
	woken := false
	for _, r := range c.p.wakes {
		if r.ID != watchID|b.watchNo || !b.watching {
			continue // an earlier watch's
		}
		b.watching = false
		if r.Failure == "" && len(r.Reply) > 0 && r.Reply[0] == '-' {
			b.noWatch = true // refused: an older build, or too many watches
			continue
		}
		woken = true
	}
	c.p.wakes = c.p.wakes[:0]
	s := c.p.slot(b.seq)
	if !b.trying {
		if woken {
			c.wakeAttempt(ctx)
		}
		return
	}
	if s.pending > 0 {
		b.again = b.again || woken
		return
	}
	b.trying = false
	pt := &s.parts[0]
	if pt.failure.failed() || (len(pt.reply) > 0 && pt.reply[0] == '-') {
		c.finishBlock(ctx, nil)
		return
	}
	if !bytes.Equal(pt.reply, nullArray) && !bytes.Equal(pt.reply, nullBulk) {
		c.finishBlock(ctx, popReply(b.name, pt.reply))
		return
	}
	now := ctx.Now()
	if !b.until.IsZero() && !now.Before(b.until) {
		c.finishBlock(ctx, nullArray)
		return
	}
	if b.byWake {
		b.fruitless++
	}
	if b.again || woken {
		b.again = false
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
	b.timer++
	ctx.After(wait, blockRetry{gen: b.timer})
}

// wakeAttempt tries again after a wake: at once, unless wakes found
// nothing lately (see blocked.fruitless).
func (c *Redis) wakeAttempt(ctx actors.Context) {
	b := c.blk
	if b.fruitless == 0 {
		c.tryPop(ctx)
		c.blk.byWake = true
		return
	}
	wait := min(BlockPoll, time.Millisecond<<min(b.fruitless-1, 20))
	if !b.until.IsZero() && b.until.Sub(ctx.Now()) < wait {
		wait = b.until.Sub(ctx.Now())
	}
	b.timer++
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
	if b.watching {
		c.p.execs = append(c.p.execs, outExec{to: b.watchAt, exec: store.Exec{ID: watchID | b.watchNo, Args: store.UnwatchCommand(), Quiet: true}})
	}
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

// unwatch withdraws a waiting pop's watch (the connection is ending).
func (c *Redis) unwatch(ctx actors.Context) {
	if b := c.blk; b != nil && b.watching {
		ctx.Send(b.watchAt, store.Exec{ID: watchID | b.watchNo, Args: store.UnwatchCommand(), Quiet: true})
		b.watching = false
	}
}

// popReply is the blocking command's reply made from its non-blocking
// form's, which found an element.
func popReply(name string, r []byte) []byte {
	switch name {
	case "blpop", "brpop", "bzpopmin", "bzpopmax":
		// [key, [element]] -> [key, element]; [key, [[member, score]]] ->
		// [key, member, score].
		fr := frames(r[len("*2\r\n"):], 1)
		key, rest := fr[0], r[len("*2\r\n")+len(fr[0]):]
		rest = rest[len("*1\r\n"):]
		out := append([]byte(nil), "*2\r\n"...)
		if name == "bzpopmin" || name == "bzpopmax" {
			rest = rest[len("*2\r\n"):]
			out[1] = '3'
		}
		out = append(out, key...)
		return append(out, rest...)
	}
	return r // BLMPOP, BZMPOP, BLMOVE, BRPOPLPUSH: the same reply
}

// frames splits the first n complete replies off buf.
func frames(buf []byte, n int) [][]byte {
	var out [][]byte
	for range n {
		l, err := resp.ReplyLen(buf)
		if err != nil {
			return out
		}
		out = append(out, buf[:l])
		buf = buf[l:]
	}
	return out
}
