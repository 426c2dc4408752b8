package testproc

import (
	"bufio"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
)

// RESPClient is a minimal Redis client for tests: it sends commands and
// returns raw replies, so tests can assert on exact bytes.
type RESPClient struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	buf  []byte
}

// DialRESP connects to a RESP server (redis-server or dynonode); the
// connection is closed at cleanup.
func DialRESP(t testing.TB, addr string) *RESPClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("testproc: dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &RESPClient{t: t, conn: c, r: bufio.NewReaderSize(c, 64<<10)}
}

// Do sends one command and returns its raw reply (bounded by 10s). An I/O
// error fails the test.
func (c *RESPClient) Do(args ...string) string {
	c.t.Helper()
	out, err := c.TryDo(args...)
	if err != nil {
		c.t.Fatalf("testproc: %v: %v", args, err)
	}
	return out
}

// TryDo is Do returning I/O errors instead of failing.
func (c *RESPClient) TryDo(args ...string) (string, error) {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	c.buf = resp.AppendCommand(c.buf[:0], bs)
	if err := c.conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return "", err
	}
	if _, err := c.conn.Write(c.buf); err != nil {
		return "", err
	}
	return c.ReadReply()
}

// ReadReply reads one complete reply.
func (c *RESPClient) ReadReply() (string, error) {
	var got []byte
	for {
		line, err := c.r.ReadSlice('\n')
		got = append(got, line...)
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return string(got), err
		}
		n, err := resp.ReplyLen(got)
		if err == nil && n == len(got) {
			return string(got), nil
		}
		if err != nil && !errors.Is(err, resp.ErrIncomplete) {
			return string(got), err
		}
	}
}
