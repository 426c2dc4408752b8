//go:build linux

package frontend

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/dynonode/dynonode/netio/admit"
	"github.com/dynonode/dynonode/netio/sock"
	"github.com/pingcap/failpoint"
	"golang.org/x/sys/unix"
)

// eventLoop serves many client connections from one goroutine, as Redis
// and twemproxy do: an epoll set of its own (level-triggered) holds the
// connections' sockets, each turn reads every ready socket once, hands
// the requests to the coordinators (which usually answer on this same
// goroutine), and writes every connection's replies at the end of the
// turn. The loop never blocks a thread in epoll_wait: it only asks the set
// for what is ready (timeout 0), and between turns it waits on channels,
// woken by a watcher goroutine that waits for the set in Go's network
// poller (an epoll descriptor is pollable), by replies queued on other
// goroutines (a datastore's reader), and by commands.
//
// Against a read loop per connection it saves, per request, the read(2)
// that says EAGAIN (level-triggered readiness does not lose a FIN that
// came with the data, so one short read is enough) and a goroutine's wake
// and park (docs/profiling.md has the figures).
//
// Only the loop's goroutine reads, writes or closes its descriptors (so a
// descriptor number is never reused under it); other goroutines post
// commands (loopCmd) and replies (queue).
type eventLoop struct {
	l      *Listener
	epfd   int
	file   *os.File // epfd, as Go's poller sees it (the watcher's)
	events []unix.EpollEvent
	conns  map[int32]*conn // by descriptor
	full   []*conn         // connections whose socket did not take all their replies
	more   bool            // a socket may hold more than this turn read: turn again before waiting
	handed bool            // this turn handed requests on (the admission gate's business)
	swept  time.Time       // the last sweepStalled
	polled chan struct{}   // the watcher saw the set ready
	kick   chan struct{}   // replies or commands were queued while the loop waited
	done   chan struct{}
	ending atomic.Bool // run is returning

	mu      sync.Mutex
	pending []*conn // connections with replies to write, each once
	spare   []*conn
	cmds    []loopCmd
	spareC  []loopCmd
	awake   bool // the loop is in a turn: it looks at pending and cmds before it waits
	kicked  bool // kick was sent since the turn began
	stopped bool // the last turn ran
}

type loopOp uint8

const (
	opAdd      loopOp = iota // start serving c
	opClose                  // close c's socket (and finish it)
	opStopRead               // StopReading: end reading on every connection
	opStop                   // close every connection and end the loop
)

type loopCmd struct {
	op loopOp
	c  *conn
}

const haveLoops = true

// A turn reads at most this many events from the epoll set at once.
const loopEvents = 256

func newLoop(l *Listener) (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("frontend: epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("frontend: epoll set non-blocking: %w", err)
	}
	// A non-blocking descriptor given to os.NewFile joins the poller.
	file := os.NewFile(uintptr(epfd), "epoll")
	if err := file.SetReadDeadline(time.Time{}); err != nil {
		file.Close()
		return nil, fmt.Errorf("frontend: the poller cannot wait for an epoll set: %w", err)
	}
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("frontend: epoll descriptor: %w", err)
	}
	lp := &eventLoop{l: l, epfd: epfd, file: file, events: make([]unix.EpollEvent, loopEvents), conns: map[int32]*conn{},
		polled: make(chan struct{}, 1), kick: make(chan struct{}, 1), done: make(chan struct{})}
	go lp.watch(raw)
	go lp.run()
	return lp, nil
}

// watch tells the loop each time the epoll set becomes ready, until the
// set is closed. It reads no event (the loop does): the poller wakes it
// on each new readiness, and the loop waits only once the set had nothing
// left to report, so nothing ready is left unseen.
func (lp *eventLoop) watch(raw syscall.RawConn) {
	err := raw.Read(func(uintptr) bool {
		notify(lp.polled)
		return false
	})
	if !lp.ending.Load() {
		lp.l.log.Error("client event loop: cannot wait for its sockets; looking every second", "err", err)
	}
}

func (lp *eventLoop) run() {
	defer close(lp.done)
	defer lp.file.Close() // ends the watcher, which logs nothing then
	defer lp.ending.Store(true)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// A look every second whatever the poller says: a safety net should a
	// kernel lose a nested epoll wake-up (some have), or the watcher end.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if lp.turn() {
			return
		}
		var expiry <-chan time.Time
		if next := lp.expire(); !next.IsZero() {
			timer.Reset(time.Until(next))
			expiry = timer.C
		}
		select {
		case <-lp.polled:
		case <-lp.kick:
			// Replies from another goroutine (a datastore's reader): let
			// the goroutines already runnable (other readers woken by the
			// same poll) run first, so one turn writes all their replies.
			runtime.Gosched()
		case <-expiry:
		case now := <-tick.C:
			lp.sweepStalled(now)
		}
		if expiry != nil && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// post hands the loop a command.
func (lp *eventLoop) post(m loopCmd) {
	lp.mu.Lock()
	if lp.stopped {
		lp.mu.Unlock()
		return
	}
	lp.cmds = append(lp.cmds, m)
	lp.wakeLocked()
}

// queue has the loop write c's queued replies at the end of its turn.
func (lp *eventLoop) queue(c *conn) {
	lp.mu.Lock()
	if lp.stopped {
		lp.mu.Unlock()
		return
	}
	lp.pending = append(lp.pending, c)
	lp.wakeLocked()
}

// wakeLocked unlocks mu, kicking the loop when it waits and nobody kicked
// it yet.
func (lp *eventLoop) wakeLocked() {
	wake := !lp.awake && !lp.kicked
	if wake {
		lp.kicked = true
	}
	lp.mu.Unlock()
	if wake {
		notify(lp.kick)
	}
}

// stop closes every connection the loop serves and ends it.
func (lp *eventLoop) stop() {
	lp.post(loopCmd{op: opStop})
	<-lp.done
}

// turn runs the loop until nothing is ready, queued or posted; true once
// the loop stopped.
func (lp *eventLoop) turn() bool {
	lp.mu.Lock()
	lp.awake, lp.kicked = true, false
	lp.mu.Unlock()
	for {
		n := lp.wait()
		for i := range n {
			ev := &lp.events[i]
			if c := lp.conns[ev.Fd]; c != nil {
				lp.ready(c, ev.Events)
			}
		}
		if lp.commands() {
			return true
		}
		lp.pass()
		if len(lp.full) > 0 {
			lp.expire() // a busy loop may not wait for a long time
		}
		if now := time.Now(); now.Sub(lp.swept) >= time.Second {
			lp.sweepStalled(now) // nor see its ticker
		}
		if lp.handed && lp.l.opts.Gate.Held() {
			lp.atGate()
			lp.more = true
		}
		lp.handed = false
		if n > 0 || lp.more {
			// Look again before waiting: the poller is woken by new
			// readiness only, and a socket may still be ready for what
			// this turn did not take (a FIN behind the data it read, more
			// than a few buffers, interest just restored).
			lp.more = false
			continue
		}
		lp.mu.Lock()
		if len(lp.pending) > 0 || len(lp.cmds) > 0 {
			lp.mu.Unlock()
			continue
		}
		lp.awake = false
		lp.mu.Unlock()
		return false
	}
}

// atGate holds every connection's reading while the node's admission gate
// is held (the datastore's queue is long), up to admit.DefaultWait, as
// each read loop waits at it; the replies that come meanwhile are written
// every millisecond.
func (lp *eventLoop) atGate() {
	g := lp.l.opts.Gate
	g.Wait(time.Millisecond)
	for end := time.Now().Add(admit.DefaultWait); g.Held() && time.Now().Before(end) && !lp.posted(); {
		lp.pass()
		for i := 0; i < len(lp.full); i++ {
			c := lp.full[i]
			lp.writeOut(c) // a socket that drained meanwhile takes more
			if i < len(lp.full) && lp.full[i] != c {
				i-- // c left full: its place holds another
			}
		}
		g.WaitMore(time.Millisecond)
	}
}

// posted reports whether commands wait (a new connection, a close, a
// drain, the end): the gate does not hold them.
func (lp *eventLoop) posted() bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return len(lp.cmds) > 0
}

// wait reads the ready events without waiting.
func (lp *eventLoop) wait() int {
	for {
		n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(lp.epfd), uintptr(unsafe.Pointer(&lp.events[0])), uintptr(len(lp.events)), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			lp.l.log.Error("client event loop: epoll_pwait", "err", e)
			return 0
		}
		return int(n)
	}
}

// ready handles one socket's events.
func (lp *eventLoop) ready(c *conn, ev uint32) {
	if ev&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 && c.out.flushing {
		lp.writeOut(c) // a reset socket fails the write, which closes it
	}
	if c.closed {
		return
	}
	if c.reading && !c.paused && ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		lp.read(c)
		return
	}
	if ev&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		// Reported whatever the interest: the connection is gone (reset,
		// or shut both ways) while nothing reads it. It would be reported
		// on every turn; nothing can be written to it.
		if !c.out.flushing {
			c.writeFailed(errors.New("connection reset or hung up"))
		}
	}
}

// read reads c until its socket is empty (or a few buffers' worth; the
// rest waits for the next turn).
func (lp *eventLoop) read(c *conn) {
	for range 4 {
		if lp.l.stopRead.Load() || c.done.Load() || c.closing.Load() {
			lp.end(c) // draining, or a reply closed the connection (QUIT)
			return
		}
		b := c.rs.next()
		n, e := sock.ReadFD(c.fd, b)
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.EAGAIN:
			c.rs.idle()
			return
		case e != 0:
			if !c.done.Load() && !lp.l.stopRead.Load() {
				c.logger().Debug("client read failed", "err", &net.OpError{Op: "read", Net: "tcp", Err: e})
			}
			lp.end(c)
			return
		case n == 0:
			lp.end(c) // end of stream: answer what was read, then close
			return
		}
		lp.handed = true
		if !c.rs.got(n) || c.done.Load() || c.closing.Load() {
			lp.end(c)
			return
		}
		if c.inFlight.Load() >= int64(lp.l.opts.MaxInFlight) {
			c.paused = true // until written brings it under
			lp.update(c)
			return
		}
		if n < len(b) {
			// The socket is empty, but for a FIN that came with the data:
			// level-triggered, the turn's last look sees it.
			c.rs.idle()
			return
		}
	}
	lp.more = true
}

// end stops reading c; finish writes what it owes, then closes it.
func (lp *eventLoop) end(c *conn) {
	if c.finishing {
		return
	}
	c.finishing = true
	c.reading = false
	c.rs.idle()
	lp.update(c)
	go c.finish()
}

// update sets c's interest in the epoll set from its state.
func (lp *eventLoop) update(c *conn) {
	if c.closed {
		return
	}
	var ev uint32
	if c.reading && !c.paused {
		ev |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if c.out.flushing {
		ev |= unix.EPOLLOUT
	}
	if ev == c.events {
		return
	}
	if ev&^c.events&unix.EPOLLIN != 0 {
		lp.more = true // reading again: the socket may hold requests already
	}
	if err := unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: ev, Fd: int32(c.fd)}); err != nil {
		c.logger().Error("client event loop: epoll_ctl", "err", err)
		c.writeFailed(err)
		return
	}
	c.events = ev
}

// commands runs what other goroutines posted; true once the loop stopped.
func (lp *eventLoop) commands() bool {
	lp.mu.Lock()
	cmds := lp.cmds
	lp.cmds = lp.spareC[:0]
	lp.mu.Unlock()
	stop := false
	for i, m := range cmds {
		switch m.op {
		case opAdd:
			lp.add(m.c)
		case opClose:
			lp.closeConn(m.c)
		case opStopRead:
			for _, c := range lp.conns {
				lp.end(c)
			}
		case opStop:
			stop = true
		}
		cmds[i] = loopCmd{}
	}
	lp.spareC = cmds[:0]
	if !stop {
		return false
	}
	lp.pass()
	for _, c := range lp.conns {
		// Every connection finished before the listener stopped its
		// loops (Close waits for them); this closes what is left.
		c.finishing = true
		lp.closeConn(c)
	}
	lp.mu.Lock()
	lp.stopped = true
	lp.pending, lp.cmds = nil, nil
	lp.mu.Unlock()
	return true
}

func (lp *eventLoop) add(c *conn) {
	if c.closed {
		return // closed (the listener's Close) before the loop took it
	}
	c.reading = !lp.l.stopRead.Load()
	c.events = 0
	if c.reading {
		c.events = unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if err := unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_ADD, c.fd, &unix.EpollEvent{Events: c.events, Fd: int32(c.fd)}); err != nil {
		c.logger().Error("client event loop: epoll_ctl add", "err", err)
		unix.Close(c.fd)
		c.closed = true
		c.closing.Store(true)
		lp.end(c)
		return
	}
	lp.conns[int32(c.fd)] = c
	if !c.reading {
		lp.end(c) // accepted as StopReading ran: read nothing
	}
}

// closeConn closes c's socket; replies still queued for it are dropped
// (and counted as written), and finish runs if it has not.
func (lp *eventLoop) closeConn(c *conn) {
	c.closing.Store(true)
	if !c.closed {
		_ = unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
		unix.Close(c.fd)
		c.closed = true
		delete(lp.conns, int32(c.fd))
	}
	if c.out.flushing {
		lp.writeOut(c) // drops the backlog, now that the socket is closed
	}
	lp.end(c)
}

// pass writes the replies queued during the turn, one write per
// connection, as Redis writes its clients' replies before it waits for
// events again.
func (lp *eventLoop) pass() {
	lp.mu.Lock()
	conns := lp.pending
	lp.pending = lp.spare[:0]
	lp.mu.Unlock()
	if len(conns) > 0 {
		// passWriterDelay holds each pass with replies back for the given
		// milliseconds: they wait, unwritten (a drain test).
		failpoint.Inject("passWriterDelay", func(val failpoint.Value) {
			if ms, ok := val.(int); ok {
				time.Sleep(time.Duration(ms) * time.Millisecond)
			}
		})
	}
	for i, c := range conns {
		lp.writeOut(c)
		conns[i] = nil
	}
	lp.spare = conns[:0]
}

// writeOut writes what c has queued, as much as its socket takes; the rest
// waits for the socket to drain (EPOLLOUT), bounded by WriteTimeout.
func (lp *eventLoop) writeOut(c *conn) {
	b := &c.out
	for {
		// The loop owns c's writes while b.queued or b.flushing is set:
		// replies that come meanwhile only join b.data.
		b.mu.Lock()
		data, answered, closeAfter := b.data, b.answered, b.close
		b.data, b.answered, b.close = nil, 0, false
		wasFull := b.flushing
		b.mu.Unlock()
		n := len(data)
		if n > 0 && !c.closed && !c.done.Load() {
			w, e := writeAll(c.fd, data)
			switch e {
			case 0, unix.EAGAIN:
				n = w
			default:
				c.writeFailed(&net.OpError{Op: "write", Net: "tcp", Err: e})
			}
		}
		if n < len(data) {
			b.mu.Lock()
			b.data = append(append(make([]byte, 0, len(data)-n+len(b.data)), data[n:]...), b.data...)
			b.answered += answered
			b.close = b.close || closeAfter
			b.queued, b.flushing = false, true
			b.mu.Unlock()
			if !wasFull || n > 0 {
				// WriteTimeout runs while the socket takes nothing.
				c.deadline = time.Now().Add(lp.l.opts.WriteTimeout)
			}
			if !wasFull {
				lp.full = append(lp.full, c)
				lp.update(c)
			}
			return
		}
		b.mu.Lock()
		more := len(b.data) > 0 || b.answered > 0 || b.close
		b.queued, b.flushing = more, false
		b.mu.Unlock()
		if wasFull {
			lp.unfull(c)
			lp.update(c)
		}
		c.written(answered, closeAfter)
		if !more {
			return
		}
	}
}

// writeAll writes b with write(2) until it is written or the socket is full.
func writeAll(fd int, b []byte) (int, syscall.Errno) {
	n := 0
	for n < len(b) {
		w, e := sock.WriteFD(fd, b[n:])
		switch e {
		case 0:
			n += w
		case unix.EINTR:
		default:
			return n, e
		}
	}
	return n, 0
}

func (lp *eventLoop) unfull(c *conn) {
	for i, f := range lp.full {
		if f == c {
			last := len(lp.full) - 1
			lp.full[i] = lp.full[last]
			lp.full[last] = nil
			lp.full = lp.full[:last]
			return
		}
	}
}

// expire fails the connections whose socket took nothing for
// WriteTimeout; it returns the next deadline (zero when none).
func (lp *eventLoop) expire() time.Time {
	if len(lp.full) == 0 {
		return time.Time{}
	}
	now := time.Now()
	var next time.Time
	for i := 0; i < len(lp.full); {
		c := lp.full[i]
		if !c.deadline.After(now) {
			c.logger().Debug("client write timed out; closing", "after", lp.l.opts.WriteTimeout)
			c.done.Store(true)
			lp.closeConn(c) // drops the backlog and leaves full
			if i < len(lp.full) && lp.full[i] == c {
				i++
			}
			continue
		}
		if next.IsZero() || c.deadline.Before(next) {
			next = c.deadline
		}
		i++
	}
	return next
}

// acceptLoop accepts client connections until the listener closes, each
// socket served by the next loop. A listener's RawConn cannot wait to
// read, so it accepts on a duplicate of the listening descriptor in the
// poller of its own (closed with the listener: Close).
func (l *Listener) acceptLoop() {
	raw, err := l.accepting.SyscallConn()
	if err != nil {
		l.log.Error("client listener stopped", "err", err)
		return
	}
	tcp := l.opts.Network != "unix"
	var pause acceptPause
	for {
		var nfd int
		var sa unix.Sockaddr
		var aerr error
		err := raw.Read(func(fd uintptr) bool {
			for {
				nfd, sa, aerr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
				switch aerr {
				case unix.EINTR, unix.ECONNABORTED,
					// accept(2): errors of the new connection, to be
					// retried as EAGAIN.
					unix.ENETDOWN, unix.EPROTO, unix.ENOPROTOOPT, unix.EHOSTDOWN, unix.ENONET,
					unix.EHOSTUNREACH, unix.EOPNOTSUPP, unix.ENETUNREACH:
					continue
				case unix.EAGAIN:
					return false
				}
				return true
			}
		})
		if err != nil {
			l.mu.Lock()
			closed := l.closed
			l.mu.Unlock()
			if !closed {
				l.log.Error("client listener stopped", "err", err)
			}
			return
		}
		if aerr != nil {
			if pause.retry(l, aerr) {
				continue
			}
			l.log.Error("client listener stopped", "err", fmt.Errorf("accept4: %w", aerr))
			return
		}
		pause.recovered(l)
		if tcp {
			tuneTCP(nfd)
		}
		l.startFD(nfd, sockaddrString(sa))
	}
}

// acceptFile duplicates the listening socket into a file in the poller.
func acceptFile(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, errors.New("the listener has no descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("listener descriptor: %w", err)
	}
	dup := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { dup, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, fmt.Errorf("listener descriptor: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("dup listener descriptor: %w", derr)
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, fmt.Errorf("listener descriptor: %w", err)
	}
	return os.NewFile(uintptr(dup), "listener"), nil
}

// tuneTCP sets what Go sets on the connections it accepts: no Nagle
// delay, keep-alive probes after 15 s idle, every 15 s, 9 of them.
func tuneTCP(fd int) {
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 15)
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 15)
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 9)
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		// As net.Conn.RemoteAddr: an IPv4-mapped address in dotted form.
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	case *unix.SockaddrUnix:
		return a.Name
	}
	return "?"
}

// localAddr is the node's end of an event loop's socket, as
// net.Conn.LocalAddr shows it.
func localAddr(fd int) string {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return ""
	}
	return sockaddrString(sa)
}

// closeFD closes a descriptor no loop took.
func closeFD(fd int) { _ = unix.Close(fd) }

// writeFD writes b without waiting, best effort (a refusal's message).
func writeFD(fd int, b []byte) { _, _ = sock.WriteFD(fd, b) }

// sweepStalled closes the loop's connections holding a request older
// than Options.RequestTimeout (a slow or stalled client).
func (lp *eventLoop) sweepStalled(now time.Time) {
	lp.swept = now
	if lp.l.opts.RequestTimeout <= 0 {
		return
	}
	var stale []*conn
	for _, c := range lp.conns {
		if !c.closed && !c.paused && lp.l.stalled(c, now) {
			stale = append(stale, c)
		}
	}
	for _, c := range stale {
		lp.l.noteStalled(c)
		c.done.Store(true)
		lp.closeConn(c)
	}
}
