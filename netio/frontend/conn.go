package frontend

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/netio/admit"
	"github.com/dynonode/dynonode/netio/sock"
)

// conn is one client connection: its reads (an event loop's, or a read
// loop of its own), a coordinator actor and a writer actor on the host.
type conn struct {
	l     *Listener
	nc    net.Conn // nil when an event loop serves the connection
	name  string
	rs    readState
	log   atomic.Pointer[slog.Logger] // see logger
	coord actors.Addr
	from  actors.Addr  // the address requests are sent from (made once, not per send)
	w     *sock.Writer // the socket's non-blocking writes (the passWriter's)

	source  string // the source it counts against (Options.MaxPerSource)
	counted bool   // it does (released once)

	inFlight atomic.Int64  // requests sent to the coordinator, not yet written back
	wake     chan struct{} // the writer made room
	done     atomic.Bool   // the writer closed the connection
	closing  atomic.Bool   // closeSocket ran
	out      backlog       // replies the socket did not take at once

	// When an event loop serves the connection (lp not nil), the socket is
	// a descriptor only the loop's goroutine reads, writes and closes; the
	// fields below are the loop's alone.
	lp        *eventLoop
	fd        int
	remote    string
	events    uint32    // the interest registered in the loop's epoll set
	reading   bool      // requests are read (until the end of the stream, an error, StopReading)
	paused    bool      // reading waits for replies to be written (MaxInFlight)
	closed    bool      // fd is closed
	finishing bool      // finish was started
	deadline  time.Time // while the socket is full: when the write fails
}

// A connection's read buffer starts at firstRead bytes (idle connections
// stay small) and doubles when a read fills it; past 4*readSize it is
// given back once the large request is handled.
const (
	firstRead = 4 << 10
	readSize  = 16 << 10
)

// readState is a connection's read buffer and parser, the same in both
// ways of reading (readLoop, and the event loop's read).
type readState struct {
	c      *conn
	buf    []byte  // nil while the connection is idle (see idle)
	pooled *[]byte // the pool's holder of buf, reused to give buf back
	rp     *resp.Parser
	mp     *mcproto.Parser
	// partial is when the part of a request in buf began to arrive (Unix
	// ns), zero when buf holds no partial request (Options.RequestTimeout).
	partial atomic.Int64
}

func (r *readState) init(c *conn) {
	r.c = c
	if c.l.opts.Protocol == Memcached {
		r.mp = mcproto.NewParser(c.l.opts.Memcache)
	} else {
		r.rp = resp.NewParser(c.l.opts.RESP)
	}
}

// next is the buffer to read into.
func (r *readState) next() []byte {
	if r.buf == nil {
		r.pooled = readBufs.Get().(*[]byte)
		r.buf = (*r.pooled)[:0]
	}
	if len(r.buf) == cap(r.buf) {
		grown := make([]byte, len(r.buf), 2*cap(r.buf))
		copy(grown, r.buf)
		if r.pooled != nil {
			*r.pooled = r.buf[:0] // the first-size buffer goes back now
			readBufs.Put(r.pooled)
			r.pooled = nil
		}
		r.buf = grown
	}
	return r.buf[len(r.buf):cap(r.buf)]
}

// got hands on the complete requests n more bytes made; false: a protocol
// error was queued, read no more.
func (r *readState) got(n int) bool {
	c := r.c
	r.buf = r.buf[:len(r.buf)+n]
	var used int
	var fatal bool
	if r.rp != nil {
		used, fatal = c.feedRESP(r.rp, r.buf)
	} else {
		used, fatal = c.feedMemcache(r.mp, r.buf)
	}
	if fatal {
		return false
	}
	r.buf = r.buf[:copy(r.buf, r.buf[used:])]
	switch {
	case len(r.buf) == 0:
		r.partial.Store(0)
	case used > 0 || r.partial.Load() == 0:
		// A new request began (the one before it was complete).
		r.partial.Store(time.Now().UnixNano())
	}
	if cap(r.buf) > 4*readSize && len(r.buf) < readSize {
		r.buf = append(make([]byte, 0, readSize), r.buf...) // give back a large request's buffer
	}
	return true
}

// restartPartial restarts the clock of a partial request after the node
// held the connection's reading (MaxInFlight): Options.RequestTimeout
// bounds the client's time, not the node's.
func (r *readState) restartPartial() {
	if r.partial.Load() != 0 {
		r.partial.Store(time.Now().UnixNano())
	}
}

// idle is called when the socket had nothing more to read.
func (r *readState) idle() {
	if len(r.buf) == 0 && r.pooled != nil {
		// Everything read was handled and the socket is empty: a waiting
		// connection holds no read buffer (5,000 idle clients would hold
		// 20 MB), and the next read takes one from the pool. The holder
		// goes back with it: a new one per Put was an allocation per wait.
		*r.pooled = r.buf[:0]
		readBufs.Put(r.pooled)
		r.buf, r.pooled = nil, nil
	}
}

// readLoop is a connection's reader where no event loop serves it (a
// goroutine per connection: Options.Loops < 0, or not Linux).
func (c *conn) readLoop() {
	defer c.l.wg.Done()
	defer c.finish()
	if c.l.stopRead.Load() {
		return // accepted as StopReading ran: read nothing
	}
	got := func(n int) bool {
		if !c.rs.got(n) {
			return false
		}
		c.l.opts.Gate.Wait(admit.DefaultWait)
		c.throttle()
		return !c.done.Load() && !c.closing.Load() && !c.l.stopRead.Load()
	}
	err := sock.NewReader(c.nc).Stream(c.rs.next, got, c.rs.idle)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !c.done.Load() && !c.l.stopRead.Load() {
		c.logger().Debug("client read failed", "err", err)
	}
}

// logger is the connection's logger, made when first used (a handler
// clone per connection is memory most connections never use).
func (c *conn) logger() *slog.Logger {
	if l := c.log.Load(); l != nil {
		return l
	}
	remote := c.remote
	if c.nc != nil {
		remote = c.nc.RemoteAddr().String()
	}
	c.log.CompareAndSwap(nil, c.l.log.With("client", remote, "conn", c.name))
	return c.log.Load()
}

// readBufs holds the first-size read buffers of idle connections.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, firstRead); return &b }}

// feedRESP parses what buf holds and sends the complete commands on. It
// reports how many bytes were used and whether the connection must stop
// reading (a protocol error was queued).
func (c *conn) feedRESP(p *resp.Parser, buf []byte) (int, bool) {
	cmds, used, err := p.Parse(buf)
	var pe *resp.ProtocolError
	if err != nil && !errors.As(err, &pe) {
		pe = &resp.ProtocolError{Reason: err.Error()}
	}
	if len(cmds) == 0 && pe == nil {
		return used, false
	}
	m := coord.Requests{Cmds: ownArgs(cmds)}
	if pe != nil {
		m.ProtocolError = resp.AppendError(nil, pe.Error())
		c.logger().Info("closing client connection: protocol error", "err", pe.Error())
	}
	c.send(len(cmds)+boolInt(pe != nil), m)
	return used, pe != nil
}

func (c *conn) feedMemcache(p *mcproto.Parser, buf []byte) (int, bool) {
	reqs, used, err := p.Parse(buf)
	var fatal *mcproto.Error
	if err != nil && !errors.As(err, &fatal) {
		fatal = &mcproto.Error{Reply: "CLIENT_ERROR " + err.Error(), Close: true}
	}
	if len(reqs) == 0 && fatal == nil {
		return used, false
	}
	m := coord.MCRequests{Reqs: coord.CloneMC(reqs)}
	if fatal != nil {
		e := *fatal
		m.Fatal = &e
		c.logger().Info("closing client connection: protocol error", "err", fatal.Error())
	}
	c.send(len(reqs)+boolInt(fatal != nil), m)
	return used, fatal != nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (c *conn) send(n int, m any) {
	now := c.inFlight.Add(int64(n))
	for peak := c.l.PeakInFlight.Load(); now > peak && !c.l.PeakInFlight.CompareAndSwap(peak, now); {
		peak = c.l.PeakInFlight.Load()
	}
	c.l.opts.Host.Send(c.from, c.coord, m)
}

// throttle pauses reading while too many requests are unanswered.
func (c *conn) throttle() {
	waited := false
	for c.inFlight.Load() >= int64(c.l.opts.MaxInFlight) && !c.done.Load() && !c.closing.Load() && !c.l.stopRead.Load() {
		waited = true
		select {
		case <-c.wake:
		case <-time.After(100 * time.Millisecond):
		}
	}
	if waited {
		c.rs.restartPartial() // the wait was the node's, not the client's
	}
}

// finish waits (bounded) for replies still owed to a client that stopped
// sending, then removes the connection's actors.
func (c *conn) finish() {
	if c.lp != nil {
		defer c.l.wg.Done()
	}
	deadline := time.Now().Add(c.l.opts.DrainTimeout)
	for c.inFlight.Load() > 0 && !c.done.Load() && time.Now().Before(deadline) {
		select {
		case <-c.wake:
		case <-time.After(50 * time.Millisecond):
		}
	}
	h := c.l.opts.Host
	h.Stop(c.name)
	h.Stop(c.name + "/w")
	if c.lp != nil {
		c.closeSocket()
	} else {
		c.nc.Close()
	}
	c.l.forget(c)
}

// ownArgs copies parsed commands out of the read buffer into one fresh
// buffer the coordinator can keep.
func ownArgs(cmds []resp.Command) [][][]byte {
	size, nargs := 0, 0
	for _, c := range cmds {
		for _, a := range c.Args {
			size += len(a)
		}
		nargs += len(c.Args)
	}
	buf := make([]byte, 0, size)
	flat := make([][]byte, 0, nargs)
	out := make([][][]byte, len(cmds))
	for i, c := range cmds {
		start := len(flat)
		for _, a := range c.Args {
			at := len(buf)
			buf = append(buf, a...)
			flat = append(flat, buf[at:len(buf):len(buf)])
		}
		out[i] = flat[start:len(flat):len(flat)]
	}
	return out
}
