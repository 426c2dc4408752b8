//go:build !unix

package sock

import "net"

// TryWrite writes nothing where descriptors are not reachable: the caller
// falls back to its blocking writer.
func TryWrite(net.Conn, []byte) (int, error) { return 0, nil }
