// Package frontend is the client edge of a node: it accepts client
// connections on `listen`, reads and parses complete requests (RESP or
// memcached text) and hands them, a batch per read, to the connection's
// coordinator actor, plus a writer actor that queues each batch of
// replies, written one write per connection at the end of a pass. On
// Linux event loops serve the connections (loop_linux.go: each loop one
// goroutine, an epoll set of its own, as Redis and twemproxy); elsewhere,
// or with Options.Loops < 0, each connection has a read loop goroutine and
// one goroutine per listener writes the replies (writer.go). It bounds
// what a connection may have in flight, so a client that pipelines
// without reading is slowed down instead of growing memory.
package frontend

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/netio/admit"
	"github.com/dynonode/dynonode/netio/sock"
)

// Host is the runtime the edge spawns connection actors on
// (transport.Node in the daemon).
type Host interface {
	Spawn(name string, p actors.Producer) actors.Addr
	Send(from, to actors.Addr, m any)
	Stop(name string)
	ID() actors.NodeID
}

// Protocol is what clients speak.
type Protocol uint8

const (
	Redis Protocol = iota
	Memcached
)

// Options configures a Listener.
type Options struct {
	// Network is "tcp" or "unix"; Addr the address to listen on.
	Network, Addr string
	Protocol      Protocol
	Host          Host
	// Coordinator makes the coordinator of one connection, given where its
	// replies go and its socket (CLIENT LIST's addr, laddr and fd).
	Coordinator func(sink actors.Addr, sock clients.Conn) actors.Producer
	// RESP and Memcache bound what one request may be.
	RESP     resp.Limits
	Memcache mcproto.Limits
	// MaxInFlight bounds the requests a connection may have unanswered
	// before its reads pause. Zero: 4096.
	MaxInFlight int
	// WriteTimeout bounds how long replies may wait for a client that
	// does not read: served by a read loop, one blocking write of what is
	// queued; by an event loop, a full socket that takes nothing. Zero: 30s.
	WriteTimeout time.Duration
	// DrainTimeout bounds how long a closed-for-reading connection waits
	// for its remaining replies. Zero: 10s.
	DrainTimeout time.Duration
	Log          *slog.Logger
	// Loops is how many event loops serve the connections (Linux); zero:
	// GOMAXPROCS at Listen. Negative: a read loop goroutine per connection
	// (the way elsewhere than on Linux).
	Loops int
	// Gate, when not nil, is the node's admission gate: a connection's
	// reader waits at it (up to admit.DefaultWait) after handing on what
	// one read brought, while the local datastore's queue is long.
	Gate *admit.Gate
	// MaxPerSource bounds the connections open at once from one source
	// address (IP; unix sockets are one source); beyond it a connection
	// is answered Redis's (or memcached's) error for too many clients and
	// closed, and counted in Refused. Zero: no bound.
	MaxPerSource int
	// RequestTimeout bounds how long a request may take to arrive: a
	// connection holding part of a request that much older (a client that
	// stalls mid-request, or trickles it byte by byte) is closed. Zero:
	// no bound.
	RequestTimeout time.Duration
	// TLS, when not nil, makes every connection TLS (the handshake runs
	// on the connection's first read). TLS connections are served by a
	// read loop goroutine each, whatever Loops says: the event loops
	// read and write the socket's descriptor directly.
	TLS *tls.Config
}

// Listener accepts client connections.
type Listener struct {
	opts   Options
	ln     net.Listener
	log    *slog.Logger
	nextID atomic.Uint64
	wg     sync.WaitGroup

	pass      *passWriter  // writes the replies of connections without a loop (nil with loops)
	loops     []*eventLoop // nil: a read loop per connection
	accepting *os.File     // the loops' accepting socket
	nextLoop  atomic.Uint64

	mu       sync.Mutex
	conns    map[*conn]struct{}
	closed   bool
	stopRead atomic.Bool // StopReading ran (set under mu)

	Accepted, Active atomic.Int64
	// Refused counts connections closed at accept (MaxPerSource); Stalled
	// those closed for a request that did not arrive in RequestTimeout.
	Refused, Stalled atomic.Int64
	sources          map[string]int         // open connections per source (under mu)
	shaking          map[*tls.Conn]struct{} // TLS handshakes running (under mu; Close closes them)
	stopSweep        chan struct{}          // ends sweepStalled (read loops only), closed by Close
	sweepOnce        sync.Once
	// PeakInFlight is the most requests any one connection has had
	// unanswered: MaxInFlight plus at most one read's worth of requests.
	PeakInFlight atomic.Int64
}

// Listen binds the client listener; Serve accepts connections.
func Listen(opts Options) (*Listener, error) {
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = 4096
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Network == "" {
		opts.Network = "tcp"
	}
	ln, err := net.Listen(opts.Network, opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("frontend: listen on %s %s: %w", opts.Network, opts.Addr, err)
	}
	l := &Listener{opts: opts, ln: ln, log: opts.Log, conns: map[*conn]struct{}{}, sources: map[string]int{}, shaking: map[*tls.Conn]struct{}{}}
	if opts.TLS != nil {
		l.ln = tls.NewListener(ln, opts.TLS)
	}
	if opts.Loops >= 0 && haveLoops && opts.TLS == nil {
		n := opts.Loops
		if n == 0 {
			n = runtime.GOMAXPROCS(0)
		}
		err := l.startLoops(n)
		if err != nil {
			l.log.Warn("client event loops unavailable; a goroutine per connection", "err", err)
			for _, lp := range l.loops {
				lp.stop()
			}
			l.loops = nil
		}
	}
	if l.loops == nil {
		l.pass = newPassWriter() // the event loops write their own connections' replies
		if opts.RequestTimeout > 0 {
			l.stopSweep = make(chan struct{})
			go l.sweepStalled(l.stopSweep)
		}
	}
	return l, nil
}

func (l *Listener) startLoops(n int) error {
	f, err := acceptFile(l.ln)
	if err != nil {
		return err
	}
	l.accepting = f
	for range n {
		lp, err := newLoop(l)
		if err != nil {
			f.Close()
			l.accepting = nil
			return err
		}
		l.loops = append(l.loops, lp)
	}
	return nil
}

// Addr is the bound address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Loops is how many event loops serve the connections; 0: a read loop
// goroutine per connection.
func (l *Listener) Loops() int { return len(l.loops) }

// Serve accepts connections until Close.
func (l *Listener) Serve() {
	// Register under mu, so Close either waits for this loop or has
	// already closed the listener (a WaitGroup must not grow during Wait).
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.wg.Add(1)
	l.mu.Unlock()
	defer l.wg.Done()
	if l.loops != nil {
		l.acceptLoop()
		return
	}
	l.acceptConns()
}

// acceptConns accepts connections, each with a read loop of its own.
func (l *Listener) acceptConns() {
	var pause acceptPause
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if pause.retry(l, err) {
				continue
			}
			if !errors.Is(err, net.ErrClosed) {
				l.log.Error("client listener stopped", "err", err)
			}
			return
		}
		pause.recovered(l)
		l.start(nc)
	}
}

// acceptPause keeps a listener accepting through a shortage of
// descriptors or kernel memory (a node at its open-files limit must serve
// again once clients leave, not stop accepting for good): it waits a
// little and retries, logging once per shortage.
type acceptPause struct{ failing bool }

const acceptRetryWait = 100 * time.Millisecond

func (p *acceptPause) retry(l *Listener, err error) bool {
	if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) &&
		!errors.Is(err, syscall.ENOBUFS) && !errors.Is(err, syscall.ENOMEM) {
		return false
	}
	if !p.failing {
		p.failing = true
		l.log.Error("client listener: cannot accept (out of file descriptors or memory); retrying every 100ms", "err", err)
	}
	time.Sleep(acceptRetryWait)
	return true
}

func (p *acceptPause) recovered(l *Listener) {
	if p.failing {
		p.failing = false
		l.log.Info("client listener: accepting again")
	}
}

// Close stops accepting, closes every client connection and waits for
// their loops to end.
func (l *Listener) Close() {
	if l.stopSweep != nil {
		l.sweepOnce.Do(func() { close(l.stopSweep) })
	}
	l.mu.Lock()
	l.closed = true
	for c := range l.conns {
		c.closeSocket() // asynchronous: a read loop may hold the socket's read lock
	}
	for tc := range l.shaking {
		_ = tc.NetConn().Close() // ends the handshake at once
	}
	l.mu.Unlock()
	l.ln.Close()
	if l.accepting != nil {
		l.accepting.Close()
	}
	l.wg.Wait()
	for _, lp := range l.loops {
		lp.stop()
	}
	if l.pass != nil {
		l.pass.close()
	}
}

// StopReading ends reading on every client connection, for a node that
// drains: what was read is answered and written, then each connection
// closes (conn.finish, bounded by DrainTimeout). What a client sends after
// this is never read, so never runs: a client whose connection closes
// knows that every request after the last reply it got was not executed,
// and may retry them elsewhere. (Reading on, a drain under steady traffic
// never saw every connection idle at once, and ended at its grace period
// cutting requests that may have run.)
func (l *Listener) StopReading() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopRead.Store(true)
	for _, lp := range l.loops {
		lp.post(loopCmd{op: opStopRead})
	}
	for c := range l.conns {
		if c.nc != nil {
			_ = c.nc.SetReadDeadline(time.Now()) // wakes a read loop waiting in the poller
		}
	}
}

// start serves a connection with a read loop of its own.
func (l *Listener) start(nc net.Conn) {
	c := &conn{l: l, nc: nc, w: sock.NewWriter(nc)}
	if tc, ok := nc.(*tls.Conn); ok {
		l.wg.Add(1) // Serve's own count is held: Close cannot be waiting at zero
		go l.shakeHands(c, tc)
		return
	}
	if !l.spawn(c, nc.Close) {
		return
	}
	go c.readLoop()
}

// tlsHandshakeTimeout bounds a client's TLS handshake (RequestTimeout
// when shorter).
const tlsHandshakeTimeout = 10 * time.Second

// shakeHands runs a TLS client's handshake, within tlsHandshakeTimeout and
// counted against its source, before its actors exist: a connection that
// never completes it holds one goroutine for that long, and nothing else.
func (l *Listener) shakeHands(c *conn, tc *tls.Conn) {
	defer l.wg.Done()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		_ = tc.Close()
		return
	}
	l.shaking[tc] = struct{}{} // Close closes it
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.shaking, tc)
		l.mu.Unlock()
	}()
	if !l.takeSource(c) {
		l.refuseSource(c, tc.Close)
		return
	}
	limit := tlsHandshakeTimeout
	if t := l.opts.RequestTimeout; t > 0 && t < limit {
		limit = t
	}
	_ = tc.SetDeadline(time.Now().Add(limit))
	if err := tc.Handshake(); err != nil {
		c.logger().Debug("client TLS handshake failed; closing", "err", err)
		_ = tc.Close()
		l.releaseSource(c)
		return
	}
	_ = tc.SetDeadline(time.Time{})
	if !l.spawn(c, tc.Close) {
		return
	}
	go c.readLoop()
}

// startFD has an event loop serve a connection's socket.
func (l *Listener) startFD(fd int, remote string) {
	lp := l.loops[(l.nextLoop.Add(1)-1)%uint64(len(l.loops))]
	c := &conn{l: l, lp: lp, fd: fd, remote: remote}
	if !l.spawn(c, func() error { closeFD(fd); return nil }) {
		return
	}
	lp.post(loopCmd{op: opAdd, c: c})
}

// spawn starts c's actors and registers c; false (the socket closed) when
// the actors could not start or the listener closed. Nothing of c is
// visible to Close until it is whole.
func (l *Listener) spawn(c *conn, closeSock func() error) bool {
	if !l.takeSource(c) {
		l.refuseSource(c, closeSock)
		return false
	}
	id := l.nextID.Add(1)
	c.name = "client/" + strconv.FormatUint(id, 10)
	c.wake = make(chan struct{}, 1)
	c.from = actors.Addr{Node: l.opts.Host.ID(), Name: c.name + "/r"}
	c.rs.init(c)
	h := l.opts.Host
	sink := h.Spawn(c.name+"/w", func() actors.Behaviour { return &writer{c: c} })
	c.coord = h.Spawn(c.name, l.opts.Coordinator(sink, l.socket(c)))
	if sink.IsZero() || c.coord.IsZero() {
		c.logger().Error("cannot start connection actors; closing")
		c.closing.Store(true) // the writer's Stopping must not close the socket again
		h.Stop(c.name)
		h.Stop(c.name + "/w")
		_ = closeSock() // the connection is given up either way
		l.releaseSource(c)
		return false
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		c.closing.Store(true)
		h.Stop(c.name)
		h.Stop(c.name + "/w")
		_ = closeSock() // the connection is given up either way
		l.releaseSource(c)
		return false
	}
	l.conns[c] = struct{}{}
	l.wg.Add(1)
	l.Accepted.Add(1)
	l.Active.Add(1)
	l.mu.Unlock()
	return true
}

// socket is c's socket as CLIENT LIST shows it: a unix socket's path
// (with ":0", as Redis shows it) for both its ends.
func (l *Listener) socket(c *conn) clients.Conn {
	fd := c.fd
	if c.nc != nil {
		fd = connFD(c.nc)
	}
	switch {
	case l.opts.Network == "unix":
		path := l.opts.Addr + ":0"
		return clients.Conn{Addr: path, LAddr: path, FD: fd, Unix: true}
	case c.nc == nil:
		return clients.Conn{Addr: c.remote, LAddr: localAddr(fd), FD: fd}
	}
	return clients.Conn{Addr: c.nc.RemoteAddr().String(), LAddr: c.nc.LocalAddr().String(), FD: fd}
}

// connFD is the descriptor of a read loop's socket, 0 when it has none.
func connFD(nc net.Conn) int {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	fd := 0
	_ = rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// Unwritten is the requests its open connections have read and not yet
// written a reply for. A reply counts as written once the socket took it
// (the pass writer writes after the writer actor has handled the reply,
// so the actor's accounting alone ends too early for a drain).
func (l *Listener) Unwritten() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for c := range l.conns {
		if !c.done.Load() {
			n += max(c.inFlight.Load(), 0)
		}
	}
	return n
}

func (l *Listener) forget(c *conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	l.releaseSource(c)
	l.Active.Add(-1)
}

// takeSource counts c against its source; false when the source is at
// MaxPerSource.
func (l *Listener) takeSource(c *conn) bool {
	if l.opts.MaxPerSource <= 0 || c.counted {
		return true
	}
	remote := c.remote
	if c.nc != nil {
		remote = c.nc.RemoteAddr().String()
	}
	c.source = sock.Source(remote)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sources[c.source] >= l.opts.MaxPerSource {
		return false
	}
	l.sources[c.source]++
	c.counted = true
	return true
}

func (l *Listener) releaseSource(c *conn) {
	if !c.counted {
		return
	}
	c.counted = false
	l.mu.Lock()
	if l.sources[c.source]--; l.sources[c.source] <= 0 {
		delete(l.sources, c.source)
	}
	l.mu.Unlock()
}

// refuseSource closes a connection its source has no room for, with the
// error Redis (or memcached) sends a client over its connection limit,
// written without waiting (a TLS connection gets no message: it has not
// shaken hands). Logged at the 1st, 2nd, 4th, 8th... refusal.
func (l *Listener) refuseSource(c *conn, closeSock func() error) {
	msg := "-ERR max number of clients reached\r\n"
	if l.opts.Protocol == Memcached {
		msg = "SERVER_ERROR Too many open connections\r\n"
	}
	// Counted before the client can see it: whoever reads /info after the
	// refusal finds it there.
	n := l.Refused.Add(1)
	switch {
	case c.nc != nil && l.opts.TLS == nil:
		_ = c.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = c.nc.Write([]byte(msg))
	case c.nc == nil:
		writeFD(c.fd, []byte(msg))
	}
	_ = closeSock()
	if n&(n-1) == 0 {
		l.log.Warn("client connection refused: too many from one source", "source", c.source,
			"max_connections_per_source", l.opts.MaxPerSource, "refused_so_far", n)
	}
}

// stalled reports whether c has held part of a request for longer than
// RequestTimeout at now.
func (l *Listener) stalled(c *conn, now time.Time) bool {
	since := c.rs.partial.Load()
	return l.opts.RequestTimeout > 0 && since != 0 && now.UnixNano()-since > int64(l.opts.RequestTimeout)
}

// noteStalled counts and logs a connection closed by RequestTimeout.
func (l *Listener) noteStalled(c *conn) {
	l.Stalled.Add(1)
	c.logger().Info("client connection closed: a request did not arrive in time", "request_timeout", l.opts.RequestTimeout)
}

// sweepStalled closes, every second, the read-loop connections holding a
// request older than RequestTimeout (the event loops sweep their own).
func (l *Listener) sweepStalled(stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			l.mu.Lock()
			for c := range l.conns {
				if c.nc != nil && !c.closing.Load() && l.stalled(c, now) {
					l.noteStalled(c)
					c.closeSocket()
				}
			}
			l.mu.Unlock()
		}
	}
}
