package frontend

import (
	"sync"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/netio/sock"
)

// writer is the connection's reply sink: an actor, so the coordinator can
// address it in both runtimes; here it owns the socket's write side. It
// never blocks: the runtime may run it on the goroutine of whoever
// answered (a datastore reader serving many clients), so it writes what
// the socket takes at once and leaves the rest to a flusher goroutine
// that exists only while a client is slow to read.
type writer struct{ c *conn }

// backlog is what a connection still has to write, and the flusher's state.
type backlog struct {
	mu       sync.Mutex
	data     []byte
	answered int  // requests the bytes in data complete
	close    bool // close once data is written
	flushing bool // a flusher goroutine owns the socket's writes
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

// reply writes one batch of replies, or queues it behind those still
// waiting for the socket.
func (c *conn) reply(m coord.Replies) {
	b := &c.out
	b.mu.Lock()
	if b.flushing {
		b.data = append(b.data, m.Data...)
		b.answered += m.Answered
		b.close = b.close || m.Close
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	data := m.Data
	if len(data) > 0 && !c.done.Load() {
		n, err := sock.TryWrite(c.nc, data)
		if err != nil {
			c.writeFailed(err)
		} else if n < len(data) {
			b.mu.Lock()
			b.data = append(b.data[:0], data[n:]...)
			b.answered, b.close, b.flushing = m.Answered, m.Close, true
			b.mu.Unlock()
			go c.flush()
			return
		}
	}
	c.written(m.Answered, m.Close)
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
// failed), and wakes a read loop waiting for room.
func (c *conn) written(answered int, closeConn bool) {
	c.inFlight.Add(-int64(answered))
	if closeConn {
		c.done.Store(true)
		c.closeSocket()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeSocket closes the connection from a goroutine of its own: the
// writer may run on the read loop's goroutine, inside the socket's read
// lock (sock.Reader.Stream), where net.Conn.Close would wait for itself.
func (c *conn) closeSocket() {
	if c.closing.CompareAndSwap(false, true) {
		go c.nc.Close()
	}
}
