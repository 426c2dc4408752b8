package testproc

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
)

// IOWait bounds every read and write a test client waits for.
const IOWait = 10 * time.Second

// RESPClient is a raw Redis client for tests: it writes bytes as given and
// reads replies one at a time, so tests assert on exactly what the server
// sent. Conn is the connection, for tests that need to half-close it or
// write around the client.
type RESPClient struct {
	t    testing.TB
	Conn net.Conn
	buf  []byte // buf[off:] is read and not yet returned
	off  int
}

// DialRESP connects to a RESP server (redis-server or dynonode); the
// connection is closed at cleanup.
func DialRESP(t testing.TB, addr string) *RESPClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, IOWait)
	if err != nil {
		t.Fatalf("testproc: dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &RESPClient{t: t, Conn: c}
}

// Command encodes args as a RESP array of bulk strings.
func Command(args ...string) []byte {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return resp.AppendCommand(nil, bs)
}

// Bulk is the RESP bulk string reply for s.
func Bulk(s string) string { return string(resp.AppendBulkString(nil, s)) }

// Send writes raw bytes (bounded by IOWait).
func (c *RESPClient) Send(b []byte) {
	c.t.Helper()
	if err := c.Conn.SetWriteDeadline(time.Now().Add(IOWait)); err != nil {
		c.t.Fatalf("testproc: %v", err)
	}
	if _, err := c.Conn.Write(b); err != nil {
		c.t.Fatalf("testproc: write: %v", err)
	}
}

// Do sends one command and returns its raw reply.
func (c *RESPClient) Do(args ...string) string {
	c.t.Helper()
	c.Send(Command(args...))
	return c.Reply()
}

// Reply returns the next complete reply, raw; an error fails the test.
func (c *RESPClient) Reply() string {
	c.t.Helper()
	r, err := c.ReplyWithin(IOWait)
	if err != nil {
		c.t.Fatalf("testproc: reading a reply (have %q): %v", c.buf[c.off:], err)
	}
	return r
}

// ReplyWithin reads one complete reply, waiting at most d.
func (c *RESPClient) ReplyWithin(d time.Duration) (string, error) {
	deadline := time.Now().Add(d)
	for {
		n, err := resp.ReplyLen(c.buf[c.off:])
		if err == nil {
			r := string(c.buf[c.off : c.off+n])
			c.off += n
			return r, nil
		}
		if !errors.Is(err, resp.ErrIncomplete) {
			return "", err
		}
		if err := c.fill(deadline); err != nil {
			return "", err
		}
	}
}

func (c *RESPClient) fill(deadline time.Time) error {
	if err := c.Conn.SetReadDeadline(deadline); err != nil {
		return err
	}
	if c.off > 0 {
		c.buf = c.buf[:copy(c.buf, c.buf[c.off:])]
		c.off = 0
	}
	if len(c.buf) == cap(c.buf) {
		c.buf = append(c.buf, make([]byte, max(64<<10, cap(c.buf)))...)[:len(c.buf)]
	}
	n, err := c.Conn.Read(c.buf[len(c.buf):cap(c.buf)])
	c.buf = c.buf[:len(c.buf)+n]
	return err
}

// ExpectClosed asserts the server closes the connection with nothing more
// to say (within IOWait).
func (c *RESPClient) ExpectClosed() {
	c.t.Helper()
	for len(c.buf) == c.off {
		err := c.fill(time.Now().Add(IOWait))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.t.Fatalf("testproc: connection still open after %s", IOWait)
		}
		if err != nil {
			var op *net.OpError
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !(errors.As(err, &op) && op.Op == "read") {
				c.t.Fatalf("testproc: read: %v", err)
			}
			return
		}
	}
	c.t.Fatalf("testproc: unexpected bytes before close: %q", c.buf[c.off:])
}

// ExpectOpen asserts nothing arrives and the connection stays up for d.
func (c *RESPClient) ExpectOpen(d time.Duration) {
	c.t.Helper()
	if err := c.Conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		c.t.Fatalf("testproc: %v", err)
	}
	var one [1]byte
	n, err := c.Conn.Read(one[:])
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("testproc: expected silence for %s, got %q, %v", d, one[:n], err)
	}
}
