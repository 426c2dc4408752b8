//go:build linux

package sock

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// The descriptors of net.Conns are non-blocking, so read(2) and write(2) on
// them return at once. They are made as raw system calls, without telling
// the scheduler: a reported system call that takes a few microseconds (a
// loopback write runs the receiver's network stack inline) lets the
// scheduler hand the goroutine's processor to another thread, and the
// hand-off and the hand-back are context switches that cost more than the
// call itself (measured under redis-benchmark: see docs/profiling.md).

func rawRead(fd uintptr, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), e
}

func rawWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), e
}

// ReadFD is one read(2) on a non-blocking descriptor (EINTR and EAGAIN
// are the caller's).
func ReadFD(fd int, b []byte) (int, syscall.Errno) { return rawRead(uintptr(fd), b) }

// WriteFD is one write(2) on a non-blocking descriptor.
func WriteFD(fd int, b []byte) (int, syscall.Errno) { return rawWrite(uintptr(fd), b) }

// Writer writes a connection without waiting (TryWrite). It holds the
// connection's RawConn and the write callback, made once: fetching the
// RawConn and building a closure on every write were three allocations
// per write, a fifth of an embedded node's allocations at -P 16.
type Writer struct {
	nc   net.Conn
	raw  syscall.RawConn
	fn   func(fd uintptr) bool
	b    []byte
	n    int
	errn syscall.Errno
}

// NewWriter returns a writer of nc; a connection that does not expose its
// descriptor gets one whose TryWrite writes nothing (the caller falls back
// to its blocking writer).
func NewWriter(nc net.Conn) *Writer {
	w := &Writer{nc: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	w.fn = func(fd uintptr) bool {
		for {
			w.n, w.errn = rawWrite(fd, w.b)
			if w.errn != syscall.EINTR {
				return true
			}
		}
	}
	return w
}

// TryWrite writes what the socket takes without waiting: one write(2) on
// the non-blocking descriptor. A full socket buffer writes 0 bytes and is
// no error. A Writer is for one goroutine at a time.
func (w *Writer) TryWrite(b []byte) (int, error) {
	if w.raw == nil {
		return 0, nil
	}
	w.b = b
	err := w.raw.Write(w.fn)
	w.b = nil
	if err != nil {
		return 0, err
	}
	switch w.errn {
	case 0:
		return w.n, nil
	case syscall.EAGAIN:
		return 0, nil
	default:
		return 0, w.errn
	}
}

// Reader reads a connection with raw read(2) calls, waiting in the
// runtime's network poller (so read deadlines hold) only when the socket
// has nothing. It reads like the net.Conn: io.EOF at end of stream,
// os.ErrDeadlineExceeded past the deadline.
type Reader struct {
	nc   net.Conn
	raw  syscall.RawConn
	fn   func(fd uintptr) bool
	buf  []byte
	n    int
	errn syscall.Errno
}

// NewReader returns a reader of nc; connections that do not expose their
// descriptor are read through nc.Read.
func NewReader(nc net.Conn) *Reader {
	r := &Reader{nc: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			r.raw = raw
		}
	}
	r.fn = func(fd uintptr) bool {
		for {
			r.n, r.errn = rawRead(fd, r.buf)
			switch r.errn {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait in the poller, then read again
			}
			return true
		}
	}
	return r
}

func (r *Reader) Read(b []byte) (int, error) {
	if r.raw == nil {
		return r.nc.Read(b)
	}
	if len(b) == 0 {
		return 0, nil
	}
	r.buf = b
	err := r.raw.Read(r.fn)
	r.buf = nil
	if err != nil {
		return 0, err // closed, or the deadline passed
	}
	switch {
	case r.errn != 0:
		return 0, r.opError(r.errn)
	case r.n == 0:
		return 0, io.EOF
	}
	return r.n, nil
}

var _ io.Reader = (*Reader)(nil)

// Stream reads nc until got says stop or the connection ends: next gives
// the buffer to read into, got is called with the count read. It reads
// until the socket says EAGAIN and then waits in the network poller, all
// inside one RawConn.Read, so the poller's readiness is reset once per
// Stream rather than once per read.
//
// It does not stop reading after a short read, although the socket was
// empty at that moment: data and the peer's FIN (or a reset) that arrive
// together wake the poller once, so waiting after reading the data would
// miss the end of the stream (a client that sends and half-closes would
// never be answered with a close). The read(2) that says EAGAIN is the
// price of seeing it.
//
// idle, when not nil, is called each time the socket said EAGAIN, before
// Stream waits in the poller: the caller may let go of its read buffer
// there (next is called again before the following read), so that a
// connection waiting for its client holds none.
//
// got runs inside the descriptor's read lock: it must not close nc on this
// goroutine (net.Conn.Close waits for the lock; close it from another one).
// Stream returns nil when got stopped it, io.EOF at end of stream, or the
// read or poller error (net.ErrClosed after a Close elsewhere).
func (r *Reader) Stream(next func() []byte, got func(n int) bool, idle func()) error {
	if r.raw == nil {
		return streamConn(r.nc, next, got)
	}
	var result error
	err := r.raw.Read(func(fd uintptr) bool {
		for {
			b := next()
			n, e := rawRead(fd, b)
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				if idle != nil {
					idle()
				}
				return false
			case e != 0:
				result = r.opError(e)
				return true
			case n == 0:
				result = io.EOF
				return true
			case !got(n):
				return true
			}
		}
	})
	if err != nil {
		return err
	}
	return result
}

// opError wraps a read(2) error as net.Conn.Read would.
func (r *Reader) opError(e syscall.Errno) error {
	return &net.OpError{Op: "read", Net: r.nc.LocalAddr().Network(), Source: r.nc.LocalAddr(), Addr: r.nc.RemoteAddr(), Err: e}
}
