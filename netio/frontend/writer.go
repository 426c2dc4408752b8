package frontend

import (
	"runtime"
	"sync"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/pingcap/failpoint"
)

// writer is the connection's reply sink: an actor, so the coordinator can
// address it in both runtimes; here it owns the socket's write side. It
// never blocks and does not write itself: the runtime may run it on the
// goroutine of whoever answered (a datastore reader serving many
// clients), so it queues the replies for the listener's passWriter, which
// writes what the socket takes at once and leaves the rest to a flusher
// goroutine that exists only while a client is slow to read.
type writer struct{ c *conn }

// maxPushBacklog bounds what a connection may leave queued when messages
// no request asked for (pub/sub) arrive: Redis's default
// client-output-buffer-limit for pub/sub clients, 32 MiB (what a writer
// has taken out to write is not counted, so up to about twice that may
// wait). A subscriber that stops reading is disconnected rather than kept
// in memory.
const maxPushBacklog = 32 << 20

// backlog is what a connection still has to write, and who writes it.
type backlog struct {
	mu       sync.Mutex
	data     []byte
	answered int  // requests the bytes in data complete
	close    bool // close once data is written
	queued   bool // the passWriter owns the socket's writes (data waits for its next pass)
	flushing bool // a flusher goroutine owns the socket's writes
	// overflowed: closed because pushed messages piled up (maxPushBacklog)
	overflowed bool
}

func (w *writer) Receive(_ actors.Context, m any) {
	c := w.c
	switch m := m.(type) {
	case coord.Replies:
		c.reply(m)
	case actors.Stopping:
		c.closeSocket()
	}
}

// reply queues one batch of replies behind those not yet written, and
// hands the connection to the passWriter unless it or a flusher already
// has it.
func (c *conn) reply(m coord.Replies) {
	b := &c.out
	b.mu.Lock()
	if b.overflowed {
		b.mu.Unlock()
		return // closed for unread messages: the rest goes nowhere
	}
	if m.Pushed && len(b.data)+len(m.Data) > maxPushBacklog {
		b.overflowed = true
		b.mu.Unlock()
		c.logger().Warn("client connection closed: pub/sub messages piled up unread", "limit_bytes", maxPushBacklog)
		c.closeSocket()
		return
	}
	if b.flushing || b.queued {
		b.data = append(b.data, m.Data...)
		b.answered += m.Answered
		b.close = b.close || m.Close
		b.mu.Unlock()
		return
	}
	b.data, b.answered, b.close, b.queued = m.Data, m.Answered, m.Close, true // Data is the coordinator's copy, ours now
	b.mu.Unlock()
	if c.lp != nil {
		c.lp.queue(c)
		return
	}
	c.l.pass.add(c)
}

// passWriter writes the replies of every connection answered during one
// pass of the scheduler at its end, as Redis writes its clients' replies
// just before it waits for events again: the client (often one process
// behind many connections) is then woken once for many replies instead of
// once per connection, which measured 12-20% more requests per second at
// -P 16 (docs/profiling.md). The first reply of a pass wakes the
// passWriter's goroutine, which yields once, so that every goroutine
// already runnable (readers woken by the same poll, whose replies join
// the pass) runs before it writes.
type passWriter struct {
	mu      sync.Mutex
	conns   []*conn // queued for the next pass, each once
	spare   []*conn
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	stopped bool // under mu: the last pass ran; later replies are dropped
}

func newPassWriter() *passWriter {
	p := &passWriter{kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *passWriter) add(c *conn) {
	p.mu.Lock()
	if p.stopped {
		// The listener closed and every connection with it; a reply that
		// reaches a writer actor still has nowhere to go.
		p.mu.Unlock()
		return
	}
	p.conns = append(p.conns, c)
	first := len(p.conns) == 1
	p.mu.Unlock()
	if first {
		notify(p.kick)
	}
}

// close ends the passWriter after one last pass.
func (p *passWriter) close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

func (p *passWriter) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.kick:
		case <-p.stop:
			p.pass()
			p.mu.Lock()
			p.stopped = true
			p.conns = nil
			p.mu.Unlock()
			return
		}
		runtime.Gosched()
		p.pass()
	}
}

func (p *passWriter) pass() {
	// passWriterDelay holds each pass back for the given milliseconds: the
	// replies the writer actors handled wait, unwritten (a drain test).
	failpoint.Inject("passWriterDelay", func(val failpoint.Value) {
		if ms, ok := val.(int); ok {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
	})
	p.mu.Lock()
	conns := p.conns
	p.conns = p.spare[:0]
	p.mu.Unlock()
	for i, c := range conns {
		c.writeQueued()
		conns[i] = nil
	}
	p.spare = conns
}

// writeQueued writes what the connection queued, as much as the socket
// takes. Replies that arrive meanwhile wait for the next pass; what the
// socket did not take goes to a flusher.
func (c *conn) writeQueued() {
	b := &c.out
	b.mu.Lock()
	data, answered, closeAfter := b.data, b.answered, b.close
	b.data, b.answered, b.close = nil, 0, false
	b.mu.Unlock()
	n := len(data)
	if n > 0 && !c.done.Load() {
		var err error
		if n, err = c.w.TryWrite(data); err != nil {
			c.writeFailed(err)
			n = len(data)
		}
	} else {
		n = len(data)
	}
	b.mu.Lock()
	if n < len(data) {
		// What arrived while this write ran goes after the rest.
		b.data = append(append(make([]byte, 0, len(data)-n+len(b.data)), data[n:]...), b.data...)
		b.answered += answered
		b.close = b.close || closeAfter
		b.queued, b.flushing = false, true
		b.mu.Unlock()
		go c.flush()
		return
	}
	more := len(b.data) > 0 || b.answered > 0 || b.close
	b.queued = more
	b.mu.Unlock()
	c.written(answered, closeAfter)
	if more {
		c.l.pass.add(c)
	}
}

// flush writes the backlog with blocking writes, bounded by WriteTimeout,
// until it is empty.
func (c *conn) flush() {
	b := &c.out
	var spare []byte
	for {
		b.mu.Lock()
		data, answered, closeAfter := b.data, b.answered, b.close
		if len(data) == 0 && answered == 0 && !closeAfter {
			// The deadline would outlive the flush: TryWrite checks it too,
			// and would fail a healthy connection WriteTimeout later.
			_ = c.nc.SetWriteDeadline(time.Time{})
			b.flushing = false
			b.mu.Unlock()
			return
		}
		b.data, b.answered, b.close = spare[:0], 0, false
		b.mu.Unlock()
		if len(data) > 0 && !c.done.Load() {
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.l.opts.WriteTimeout))
			if _, err := c.nc.Write(data); err != nil {
				c.writeFailed(err)
			}
		}
		c.written(answered, closeAfter)
		spare = data
	}
}

func (c *conn) writeFailed(err error) {
	c.logger().Debug("client write failed; closing", "err", err)
	c.done.Store(true)
	c.closeSocket()
}

// written accounts for replies that left (or never will: the connection
// failed), and wakes a read loop waiting for room (or resumes the event
// loop's reading: it runs there when a loop serves the connection).
func (c *conn) written(answered int, closeConn bool) {
	now := c.inFlight.Add(-int64(answered))
	if closeConn {
		c.done.Store(true)
		c.closeSocket()
	}
	if c.lp != nil && c.paused && now < int64(c.l.opts.MaxInFlight) {
		c.paused = false
		c.rs.restartPartial() // the wait was the node's, not the client's
		c.lp.update(c)
	}
	notify(c.wake)
}

// closeSocket closes the connection from a goroutine of its own: the
// writer may run on the read loop's goroutine, inside the socket's read
// lock (sock.Reader.Stream), where net.Conn.Close would wait for itself.
func (c *conn) closeSocket() {
	if c.closing.CompareAndSwap(false, true) {
		if c.lp != nil {
			c.lp.post(loopCmd{op: opClose, c: c})
			return
		}
		go c.nc.Close()
	}
}

// notify signals ch (capacity 1) without waiting: one signal pending is
// enough for whoever waits on it.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
