package datastore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/netio/sock"
	"github.com/pingcap/failpoint"
)

type connState uint8

const (
	idle    connState = iota // no socket; the next request dials
	dialing                  // a dial is under way; requests queue
	up                       // a session is running
	backoff                  // the last dial failed; requests fail fast until retryAt
	closed                   // the adapter stopped
)

// Buffer sizes of a session.
const (
	readSize = 16 << 10 // a reader's initial buffer and its least free space
	keepBuf  = 1 << 20  // larger buffers (big values) are dropped once used
	// earlyWrite is how much a batch may queue before the writer starts on
	// it without waiting for the batch to end.
	earlyWrite = 32 << 10
)

// conn is one datastore connection slot. The actor queues requests on it
// (submit); its goroutines dial, write and read. Every field below mu is
// guarded by it. A pending request is answered exactly once, by whoever
// removes it from pend.
type conn struct {
	p   *pool
	idx int

	mu      sync.Mutex
	state   connState
	sess    *session
	pend    fifo
	out     []byte        // encoded requests the writer has not taken yet
	unsent  int           // requests in out (the rest of pend was written)
	group   *vreq         // the stamps queued last, not encoded yet: the next stamps join them
	spare   []byte        // the writer's previous batch, reused for out
	dialed  bool          // a dial happened before: the next is a reconnect
	wait    time.Duration // backoff after the next refused dial
	retryAt time.Time     // in backoff: when the next dial may happen
	refusal string        // in backoff: the Failure for requests
	writing bool          // a write is under way (submit's or the writer's)
	held    bool          // this connection holds the admission gate (see admitLocked)
	queued  uint64        // requests ever queued here
}

// session is one established socket and its reader and writer goroutines.
type session struct {
	nc   net.Conn
	rd   *sock.Reader
	wr   *sock.Writer
	wake chan struct{} // capacity 1: the writer has work
	done chan struct{} // closed when the session ends
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// submit queues one request, or returns the Failure that answers it now.
// Nothing is written yet: kick writes what the adapter queued, once it has
// handled every request waiting for it, so a pipeline leaves in one write.
func (c *conn) submit(pd pending, args [][]byte, now time.Time) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case closed:
		return FailStopped
	case backoff:
		if now.Before(c.retryAt) {
			return c.refusal
		}
		// The retry is due: the dial loop redials now; the request
		// waits for that dial, as it would for any other.
	case idle:
		c.startDial()
	}
	if c.pend.load >= c.p.opts.MaxInFlight {
		return FailQueueFull
	}
	if pd.vx != nil && pd.vx.mode == vStamp {
		c.queued++
		c.p.stats.inFlight.Add(1)
		if g := c.group; g != nil && len(g.members) < maxGroup {
			// Joins the group queued last: nothing is sent in between.
			g.members = append(g.members, pd)
			c.pend.load++
			c.admitLocked()
			return ""
		}
		c.sealLocked()
		c.group = &vreq{mode: vGroup, frames: 4, name: "set", members: append(make([]pending, 0, 4), pd)}
		pd = pending{deadline: pd.deadline, vx: c.group}
	} else {
		c.sealLocked()
		if pd.vx != nil {
			for _, a := range pd.vx.cmds {
				c.out = resp.AppendCommand(c.out, a)
			}
		} else {
			c.out = encode(c.p.opts.Protocol, c.out, args)
		}
		c.queued++
		c.p.stats.inFlight.Add(1)
	}
	c.pend.push(pd)
	c.admitLocked()
	c.unsent++
	if s := c.sess; s != nil {
		if c.pend.len() == 1 {
			// The reader's deadline is always the oldest request's.
			_ = s.nc.SetReadDeadline(pd.deadline)
		}
		if len(c.out) >= earlyWrite {
			// A long batch (a peer's burst of replication) starts
			// writing now, so replies flow while the rest is queued.
			s.signal()
		}
	}
	return ""
}

// sealLocked encodes the open group of stamps into out: no stamp joins
// it any more (c.mu held).
func (c *conn) sealLocked() {
	if c.group != nil {
		c.out = appendGroup(c.out, c.group)
		c.group = nil
	}
}

// kick writes the queued requests. When no write is under way it writes,
// on the caller's goroutine, what the socket takes without waiting; the
// writer goroutine is woken only for what is left (a slow server) or when
// it is writing already.
//
// While the datastore still owes replies to requests written before, kick
// leaves the new ones queued: the reader writes them as soon as a reply
// comes in (afterReply), together with whatever other clients queued
// meanwhile. Under load from many clients this turns one write(2) and one
// wake-up of the datastore per request into one per round trip, as a
// single-threaded proxy's event loop does, and costs an idle datastore
// nothing (a request to one is written at once).
func (c *conn) kick() { c.push(false) }

// afterReply is the reader's kick, once the replies it read were handed
// on: the requests held back while the datastore was busy leave now.
func (c *conn) afterReply() { c.push(true) }

func (c *conn) push(force bool) {
	c.mu.Lock()
	s := c.sess
	if s == nil || (len(c.out) == 0 && c.group == nil) {
		c.mu.Unlock()
		return
	}
	if c.writing {
		c.mu.Unlock()
		s.signal()
		return
	}
	if !force && c.pend.len() > c.unsent && len(c.out) < earlyWrite {
		c.mu.Unlock() // busy: afterReply writes these (and stamps join the group)
		return
	}
	c.sealLocked()
	c.writing = true
	batch := c.out
	c.out, c.spare, c.unsent = c.spare[:0], nil, 0
	c.mu.Unlock()
	n, err := c.tryWrite(s, batch)
	c.mu.Lock()
	c.writing = false
	if c.sess != s {
		// The session ended meanwhile (its requests were answered); a new
		// one's writer may have left queued requests to this write.
		next := c.sess
		c.mu.Unlock()
		if next != nil {
			next.signal()
		}
		return
	}
	if err != nil {
		c.mu.Unlock()
		c.broken(s, "write: "+err.Error())
		return
	}
	if n < len(batch) {
		c.out = append(append([]byte(nil), batch[n:]...), c.out...)
		c.mu.Unlock()
		s.signal()
		return
	}
	if cap(batch) <= keepBuf && c.spare == nil {
		c.spare = batch[:0]
	}
	more := len(c.out) > 0 || c.group != nil
	c.mu.Unlock()
	if more {
		s.signal()
	}
}

// connect dials now if the slot is idle (preconnect).
func (c *conn) connect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == idle {
		c.startDial()
	}
}

// startDial starts the dial goroutine; c.mu is held.
func (c *conn) startDial() {
	c.state = dialing
	if c.dialed {
		c.p.stats.reconnects.Add(1)
	}
	c.dialed = true
	c.p.spawn(c.dial)
}

// dial connects, then runs the session's reader on this goroutine. A
// refused dial fails what waits for it and is retried on this goroutine
// after the connection's backoff (InitialBackoff, doubling per refusal up
// to RetryTimeout: see nextBackoff), with or without requests, until a dial
// succeeds or the adapter stops: a datastore that comes up late is served
// as soon as it accepts.
func (c *conn) dial() {
	p := c.p
	for {
		ctx, cancel := context.WithTimeout(p.ctx, p.opts.Timeout)
		nc, err := p.dialer.DialContext(ctx, network(p.opts.Addr), p.opts.Addr)
		cancel()
		if err == nil && p.opts.Password != "" && p.opts.Protocol == Redis {
			if err = authenticate(nc, p.opts.Username, p.opts.Password, p.opts.Timeout); err != nil {
				nc.Close()
				nc = nil
			}
		}
		if err == nil && p.opts.Versions && p.opts.Protocol == Redis {
			replyErr, ioErr := loadScripts(nc, p.opts.Timeout)
			if replyErr != nil {
				p.log.Warn("datastore refused the version scripts: versioned requests will fail", "err", replyErr)
			}
			if ioErr != nil {
				nc.Close()
				nc, err = nil, ioErr
			}
		}
		c.mu.Lock()
		if c.state == closed {
			c.mu.Unlock()
			if nc != nil {
				nc.Close()
			}
			return
		}
		if err == nil {
			p.connects.Add(1)
			c.serve(nc) // unlocks c.mu
			return
		}
		wait := c.wait
		c.state, c.retryAt = backoff, time.Now().Add(wait)
		c.wait = nextBackoff(wait, p.opts.RetryTimeout)
		c.refusal = p.refusal(err)
		refusal, failed := c.refusal, c.pend.drain()
		c.admitLocked()
		c.out, c.unsent, c.group = c.out[:0], 0, nil
		c.mu.Unlock()
		p.refused(err, refusal, wait)
		p.failure()
		p.fail(failed, refusal)
		if !c.sleep(wait) {
			return
		}
		c.mu.Lock()
		if c.state != backoff { // closed meanwhile
			c.mu.Unlock()
			return
		}
		c.state = dialing
		c.p.stats.reconnects.Add(1)
		c.mu.Unlock()
	}
}

// nextBackoff is the wait after a refused dial that follows one after which
// the connection waited d: twice as long, at most limit. From the defaults
// (InitialBackoff 1s, RetryTimeout 10s) a datastore that stays down is
// redialled after 1s, 2s, 4s, 8s, then every 10s, as Dynomite does.
func nextBackoff(d, limit time.Duration) time.Duration {
	return min(2*d, limit)
}

// sleep waits d, or until the adapter stops (false).
func (c *conn) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.p.ctx.Done():
		return false
	}
}

// serve starts a session on the freshly dialled nc and runs its reader; c.mu
// is held and serve unlocks it.
func (c *conn) serve(nc net.Conn) {
	p := c.p
	s := &session{nc: nc, rd: sock.NewReader(nc), wr: sock.NewWriter(nc), wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.sess, c.state, c.wait = s, up, p.opts.InitialBackoff
	if c.pend.len() > 0 {
		_ = nc.SetReadDeadline(c.pend.peek().deadline)
		s.signal()
	}
	p.spawn(func() { c.writer(s) })
	p.stats.connected.Add(1) // after the writer exists: "connected" is a session with both goroutines
	p.reachable()            // before a request can see the ejection it may end
	c.mu.Unlock()
	c.reader(s)
}

// endLocked ends session s (c.mu held, s current) and returns the requests
// it leaves unanswered, for the caller to fail after unlocking.
func (c *conn) endLocked(s *session) []pending {
	c.p.connects.Add(1) // the version cache is emptied: the next session may reach another Redis
	c.sess = nil
	if c.state != closed {
		c.state = idle
	}
	s.nc.Close()
	close(s.done)
	c.p.stats.connected.Add(-1)
	c.out, c.unsent, c.group = c.out[:0], 0, nil
	failed := c.pend.drain()
	c.admitLocked()
	return failed
}

// admitLocked holds the node's admission gate (Options.Gate) while this
// connection's queue is past half of MaxInFlight, and releases it once the
// queue is back under a quarter (c.mu held). Readers of new work wait at
// the gate, so a burst is left in their sockets instead of overflowing
// the queue, where the excess would be refused with FailQueueFull.
func (c *conn) admitLocked() {
	g := c.p.opts.Gate
	if g == nil {
		return
	}
	n := c.pend.load
	switch {
	case !c.held && n >= max(c.p.opts.MaxInFlight/2, 1):
		c.held = true
		g.Hold()
	case c.held && n <= c.p.opts.MaxInFlight/4:
		c.held = false
		g.Release()
	}
}

// broken ends session s after an I/O or protocol error.
func (c *conn) broken(s *session, cause string) {
	c.mu.Lock()
	if c.sess != s {
		c.mu.Unlock()
		return
	}
	failed := c.endLocked(s)
	c.mu.Unlock()
	c.p.log.Warn("datastore connection lost", "conn", c.idx, "failed_requests", len(failed), "cause", cause)
	c.p.failure()
	c.p.fail(failed, FailConnLost+": "+cause)
}

// timedOut answers the requests a timed-out session leaves: the oldest
// timed out, the rest lose their connection because of it.
func (c *conn) timedOut(failed []pending) {
	p := c.p
	p.log.Warn("datastore request timed out; connection closed", "conn", c.idx,
		"timeout", p.opts.Timeout, "failed_requests", len(failed))
	p.failure()
	p.stats.timeouts.Add(1)
	p.failAs(failed[:1], FailTimeout+": no reply within "+p.opts.Timeout.String(), store.KindTimeout)
	p.fail(failed[1:], FailClosedAfterTimeout)
}

// deadlineLocked points the read deadline at the oldest request (c.mu held).
func (c *conn) deadlineLocked(s *session) {
	var d time.Time
	if c.pend.len() > 0 {
		d = c.pend.peek().deadline
	}
	_ = s.nc.SetReadDeadline(d)
}

// writer sends everything queued since its last write in one write.
func (c *conn) writer(s *session) {
	for {
		select {
		case <-s.wake:
		case <-s.done:
			return
		}
		c.mu.Lock()
		if c.sess != s {
			c.mu.Unlock()
			return
		}
		if !c.writing {
			c.sealLocked()
		}
		if c.writing || len(c.out) == 0 {
			c.mu.Unlock() // a submit is writing; it wakes us for what it leaves
			continue
		}
		c.writing = true
		batch := c.out
		c.out, c.spare, c.unsent = c.spare[:0], nil, 0
		c.mu.Unlock()
		err := c.write(s, batch)
		c.mu.Lock()
		c.writing = false
		if cap(batch) <= keepBuf && c.spare == nil {
			c.spare = batch[:0]
		}
		more := len(c.out) > 0 || c.group != nil
		c.mu.Unlock()
		if err != nil {
			c.broken(s, "write: "+err.Error())
			return
		}
		if more {
			s.signal()
		}
	}
}

var errShortWrite = errors.New("short write (failpoint datastoreShortWrite)")

func (c *conn) write(s *session, batch []byte) error {
	failpoint.Inject("datastoreShortWrite", func() {
		_, _ = s.nc.Write(batch[:len(batch)/2])
		failpoint.Return(errShortWrite)
	})
	_, err := s.nc.Write(batch)
	return err
}

// tryWrite writes what the socket takes without waiting (see write).
func (c *conn) tryWrite(s *session, batch []byte) (int, error) {
	failpoint.Inject("datastoreShortWrite", func() {
		_, _ = s.nc.Write(batch[:len(batch)/2])
		failpoint.Return(len(batch)/2, errShortWrite)
	})
	return s.wr.TryWrite(batch)
}

func (c *conn) read(s *session, b []byte) (int, error) {
	n, err := s.rd.Read(b)
	if n > 0 {
		failpoint.Inject("datastoreReset", func() {
			failpoint.Return(0, fmt.Errorf("read: %w (failpoint datastoreReset)", syscall.ECONNRESET))
		})
		failpoint.Inject("datastoreSlowReply", func(v failpoint.Value) {
			if ms, ok := v.(int); ok {
				c.hold(s, time.Duration(ms)*time.Millisecond)
			}
		})
	}
	return n, err
}

// hold delays bytes just read by d, as if they had arrived d later: it
// wakes at the oldest request's deadline if that comes first, so the
// request times out on time (datastoreSlowReply).
func (c *conn) hold(s *session, d time.Duration) {
	until := time.Now().Add(d)
	c.mu.Lock()
	if c.sess == s && c.pend.len() > 0 && c.pend.peek().deadline.Before(until) {
		until = c.pend.peek().deadline
	}
	c.mu.Unlock()
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
	}
}

// reader frames replies as they arrive and answers the pending requests in
// order, until the session ends.
func (c *conn) reader(s *session) {
	fr := newFramer(c.p.opts.Protocol)
	buf := make([]byte, readSize)
	start, end := 0, 0 // unconsumed bytes: buf[start:end]
	var r replies
	for {
		if len(buf)-end < readSize/4 {
			if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			}
			if len(buf)-end < readSize/4 {
				grown := make([]byte, 2*len(buf))
				copy(grown, buf[:end])
				buf = grown
			}
		}
		n, err := c.read(s, buf[end:])
		if n > 0 {
			end += n
			used, ok := c.answer(s, fr, buf[start:end], &r)
			if !ok {
				return
			}
			if len(r.pds) > 0 {
				c.afterReply()
			}
			if start += used; start == end {
				start, end = 0, 0
				if len(buf) > keepBuf {
					buf = make([]byte, readSize)
				}
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && c.deadlinePassed(s) {
				continue
			}
			c.broken(s, "read: "+err.Error())
			return
		}
	}
}

// replies is a reader's scratch space: the requests answered by one read
// and where each reply ends.
type replies struct {
	pds  []pending
	ends []int
}

// answer frames the complete replies at the start of data, answers their
// requests and returns the bytes they took. ok is false when the session
// ended (timeout, bad reply, or closed meanwhile).
func (c *conn) answer(s *session, fr framer, data []byte, r *replies) (used int, ok bool) {
	now := time.Now()
	r.pds, r.ends = r.pds[:0], r.ends[:0]
	var (
		bad     string
		expired []pending
	)
	c.mu.Lock()
	if c.sess != s {
		c.mu.Unlock()
		return 0, false
	}
	for used < len(data) {
		if c.pend.len() == 0 {
			bad = fmt.Sprintf("%d bytes of reply nobody asked for", len(data)-used)
			break
		}
		head := c.pend.peek()
		if !now.Before(head.deadline) {
			// A reply read after its deadline is a timeout too: Result
			// within Timeout is the contract.
			expired = c.endLocked(s)
			break
		}
		var (
			n   int
			err error
		)
		if head.vx != nil && head.vx.frames > 1 {
			n, err = framesLen(data[used:], head.vx.frames)
		} else {
			n, err = fr.frame(head.kind, data[used:])
		}
		if err == errIncomplete {
			break
		}
		if err != nil {
			bad = err.Error()
			break
		}
		r.pds = append(r.pds, c.pend.pop())
		used += n
		r.ends = append(r.ends, used)
	}
	if len(r.pds) > 0 && c.sess == s {
		c.deadlineLocked(s)
		c.admitLocked()
	}
	c.mu.Unlock()
	c.deliver(r, data)
	switch {
	case expired != nil:
		c.timedOut(expired)
		return used, false
	case bad != "":
		c.broken(s, "bad reply: "+bad)
		return used, false
	}
	return used, true
}

// deliver copies the framed replies out of the read buffer (one allocation
// for the lot; each Reply is capacity-limited) and sends them.
func (c *conn) deliver(r *replies, data []byte) {
	if len(r.pds) == 0 {
		return
	}
	p := c.p
	for _, pd := range r.pds {
		if pd.vx != nil {
			c.deliverVersioned(r, data)
			return
		}
	}
	// Count first: whoever sees a Result sees it counted.
	p.success()
	p.stats.responses.Add(uint64(len(r.pds)))
	p.stats.inFlight.Add(-int64(len(r.pds)))
	// Acknowledged requests (store.Exec.Ack, answered a success) need
	// only their IDs: they join an Acks message, like Quiet ones need
	// nothing; the others' replies are copied out.
	var slab []byte
	var acks ackRun
	from := 0
	for i := range r.pds {
		pd := &r.pds[i]
		switch to := r.ends[i]; {
		case pd.acked(data[from:to]):
			acks.add(p, pd)
			pd.quiet = true // answered
		case !pd.quiet && slab == nil:
			slab = make([]byte, r.ends[len(r.ends)-1])
			copy(slab, data)
		}
		from = r.ends[i]
	}
	acks.flush(p)
	if slab == nil {
		return // replica writes nobody waits for, or acknowledged
	}
	// Consecutive replies for one requester (a pipeline's) go as one
	// store.Results message; Quiet requests are skipped.
	from = 0
	for i := 0; i < len(r.pds); {
		if r.pds[i].quiet {
			from = r.ends[i]
			i++
			continue
		}
		j := i + 1
		for j < len(r.pds) && r.pds[j].to == r.pds[i].to && !r.pds[j].quiet {
			j++
		}
		if j == i+1 {
			to := r.ends[i]
			p.reply(r.pds[i], slab[from:to:to])
			from = to
			i = j
			continue
		}
		rs := make([]store.Result, 0, j-i)
		for ; i < j; i++ {
			to := r.ends[i]
			rs = append(rs, store.Result{ID: r.pds[i].id, Reply: slab[from:to:to]})
			from = to
		}
		p.opts.Deliver(p.self, r.pds[j-1].to, store.Results{Results: rs})
	}
}

// deadlinePassed handles a read deadline firing. It reports whether the
// reader should go on: the deadline had moved (a reply came meanwhile), or
// nothing is pending. Otherwise the oldest request timed out and the
// session is ended.
func (c *conn) deadlinePassed(s *session) bool {
	c.mu.Lock()
	if c.sess != s {
		c.mu.Unlock()
		return false
	}
	if c.pend.len() == 0 || time.Now().Before(c.pend.peek().deadline) {
		c.deadlineLocked(s)
		c.mu.Unlock()
		return true
	}
	failed := c.endLocked(s)
	c.mu.Unlock()
	c.timedOut(failed)
	return false
}

// close ends the slot for good and returns what was pending on it.
func (c *conn) close() []pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = closed
	if c.sess != nil {
		return c.endLocked(c.sess)
	}
	failed := c.pend.drain()
	c.admitLocked()
	return failed
}
