// Package sock holds what the edges share about sockets: a write that
// never waits, for code the runtime may run on a goroutine that serves
// many connections (see transport's inline delivery).
package sock

import "net"

// Write writes all of b: what the socket takes at once with TryWrite, the
// rest with the connection's Write (waiting in the network poller, under
// its write deadline). For writers that own their goroutine.
func (w *Writer) Write(b []byte) error {
	n, err := w.TryWrite(b)
	if err != nil {
		return err
	}
	if n < len(b) {
		_, err = w.nc.Write(b[n:])
	}
	return err
}

// streamConn is Reader.Stream through net.Conn.Read, for connections whose
// descriptor is out of reach.
func streamConn(nc net.Conn, next func() []byte, got func(n int) bool) error {
	for {
		n, err := nc.Read(next())
		if n > 0 && !got(n) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
