//go:build !linux

package sock

import "net"

// Writer writes nothing where descriptors are not reachable: the caller
// falls back to its blocking writer.
type Writer struct{ nc net.Conn }

// NewWriter returns a writer of nc.
func NewWriter(nc net.Conn) *Writer { return &Writer{nc: nc} }

// TryWrite writes nothing here.
func (*Writer) TryWrite([]byte) (int, error) { return 0, nil }

// Reader reads through the net.Conn elsewhere than on Linux.
type Reader struct{ nc net.Conn }

// NewReader returns a reader of nc.
func NewReader(nc net.Conn) *Reader { return &Reader{nc: nc} }

func (r *Reader) Read(b []byte) (int, error) { return r.nc.Read(b) }

// Stream reads nc until got says stop or the connection ends (see the
// Linux version).
func (r *Reader) Stream(next func() []byte, got func(n int) bool, idle func()) error {
	return streamConn(r.nc, next, got)
}
