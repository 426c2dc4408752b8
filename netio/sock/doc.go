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

// Source is what a connection from remote (host:port, as RemoteAddr
// gives it) counts against in a per-source connection limit: its IPv4
// address, the /64 network of an IPv6 one (one host may hold a whole
// /64), "" for a unix socket's peer.
func Source(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return ""
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
