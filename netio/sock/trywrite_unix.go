//go:build unix

package sock

import (
	"errors"
	"net"
	"syscall"
)

// TryWrite writes what the socket takes without waiting: one write(2) on
// the non-blocking descriptor. A full socket buffer writes 0 bytes and is
// no error.
func TryWrite(nc net.Conn, b []byte) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, nil
	}
	var n int
	var werr error
	if err := raw.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
		return true
	}); err != nil {
		return 0, err
	}
	switch {
	case werr == nil:
		return n, nil
	case errors.Is(werr, syscall.EAGAIN), errors.Is(werr, syscall.EINTR):
		return 0, nil
	default:
		return 0, werr
	}
}
