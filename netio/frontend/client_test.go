package frontend_test

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/stretchr/testify/require"
)

// ioWait bounds every read a test client waits for.
const ioWait = 10 * time.Second

// respClient is a raw RESP client: it writes bytes as given and reads
// replies one at a time, so tests see exactly what the server sent.
type respClient struct {
	t   *testing.T
	nc  net.Conn
	buf []byte // buf[off:] is read and not yet returned
	off int
}

func dialRESP(t *testing.T, addr string) *respClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, ioWait)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return &respClient{t: t, nc: nc}
}

func (c *respClient) write(b []byte) {
	c.t.Helper()
	require.NoError(c.t, c.nc.SetWriteDeadline(time.Now().Add(ioWait)))
	_, err := c.nc.Write(b)
	require.NoError(c.t, err)
}

func (c *respClient) do(args ...string) string {
	c.t.Helper()
	c.write(command(args...))
	return c.reply()
}

// reply returns the next complete reply, raw.
func (c *respClient) reply() string {
	c.t.Helper()
	r, err := c.tryReply()
	require.NoError(c.t, err, "reading a reply; got so far %q", c.buf[c.off:])
	return r
}

func (c *respClient) tryReply() (string, error) {
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
		if err := c.fill(); err != nil {
			return "", err
		}
	}
}

func (c *respClient) fill() error {
	if err := c.nc.SetReadDeadline(time.Now().Add(ioWait)); err != nil {
		return err
	}
	if c.off > 0 {
		c.buf = c.buf[:copy(c.buf, c.buf[c.off:])]
		c.off = 0
	}
	if len(c.buf) == cap(c.buf) {
		c.buf = append(c.buf, make([]byte, max(64<<10, cap(c.buf)))...)[:len(c.buf)]
	}
	n, err := c.nc.Read(c.buf[len(c.buf):cap(c.buf)])
	c.buf = c.buf[:len(c.buf)+n]
	return err
}

// expectClosed asserts the server closed the connection with nothing more
// to say.
func (c *respClient) expectClosed() {
	c.t.Helper()
	for len(c.buf) == c.off {
		err := c.fill()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.t.Fatalf("connection still open after %s", ioWait)
		}
		if err != nil {
			require.True(c.t, errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err), "read: %v", err)
			return
		}
	}
	c.t.Fatalf("unexpected bytes before close: %q", c.buf[c.off:])
}

// expectOpen asserts nothing arrives and the connection stays up for d.
func (c *respClient) expectOpen(d time.Duration) {
	c.t.Helper()
	require.NoError(c.t, c.nc.SetReadDeadline(time.Now().Add(d)))
	var one [1]byte
	n, err := c.nc.Read(one[:])
	require.Zero(c.t, n, "unexpected byte %q", one[:n])
	require.ErrorIs(c.t, err, os.ErrDeadlineExceeded)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "read"
}

func command(args ...string) []byte {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return resp.AppendCommand(nil, bs)
}

func bulk(s string) string { return string(resp.AppendBulkString(nil, s)) }
