package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// replyWait bounds every reply an integration client waits for.
const replyWait = 10 * time.Second

// startDaemon writes a single-node config in front of the given datastore
// (data_store 0 redis, 1 memcached) with extra lines appended, starts
// dynonode on it in its own process group and waits until it serves
// clients. Cleanup kills it; a failed test gets its log.
func startDaemon(t *testing.T, dataStore int, server string, extra ...string) *testproc.Proc {
	t.Helper()
	addr := testproc.FreeAddr(t, "127.0.0.1")
	conf := fmt.Sprintf("dyn_o_mite:\n  listen: %s\n  dyn_listen: %s\n  stats_listen: %s\n"+
		"  datacenter: dc1\n  rack: rack1\n  tokens: '0'\n  data_store: %d\n  servers:\n  - %s:1\n",
		addr, testproc.FreeAddr(t, "127.0.0.1"), testproc.FreeAddr(t, "127.0.0.1"), dataStore, server)
	for _, e := range extra {
		conf += "  " + e + "\n"
	}
	path := filepath.Join(t.TempDir(), "node.yml")
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
	d := testproc.Start(t, "dynonode "+addr, binary, []string{"-c", path, "-v", "6"}, addr)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dynonode config:\n%s\nlog:\n%s", conf, tail(d.Output.String(), 6000))
		}
	})
	return d
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func bulkReply(s string) string { return string(resp.AppendBulkString(nil, s)) }

// mc is a memcached text-protocol client over net.Conn.
type mc struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialMC(t *testing.T, addr string) *mc {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, replyWait)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return &mc{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *mc) send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.nc.SetWriteDeadline(time.Now().Add(replyWait)))
	_, err := io.WriteString(c.nc, s)
	require.NoError(c.t, err)
}

// line reads one reply line, without its CRLF.
func (c *mc) line() string {
	c.t.Helper()
	require.NoError(c.t, c.nc.SetReadDeadline(time.Now().Add(replyWait)))
	l, err := c.r.ReadString('\n')
	require.NoError(c.t, err, "reading a memcached reply line (have %q)", l)
	require.True(c.t, strings.HasSuffix(l, "\r\n"), "line %q", l)
	return strings.TrimSuffix(l, "\r\n")
}

// retrieval reads a get/gets reply up to END: each VALUE line with its data.
func (c *mc) retrieval() []string {
	c.t.Helper()
	var out []string
	for {
		l := c.line()
		if l == "END" {
			return out
		}
		require.True(c.t, strings.HasPrefix(l, "VALUE "), "retrieval line %q", l)
		var key string
		var flags, size int
		_, err := fmt.Sscanf(l, "VALUE %s %d %d", &key, &flags, &size)
		require.NoError(c.t, err, l)
		data := make([]byte, size+2)
		_, err = io.ReadFull(c.r, data)
		require.NoError(c.t, err)
		require.Equal(c.t, "\r\n", string(data[size:]))
		out = append(out, l+"|"+string(data[:size]))
	}
}

// expectClosed asserts the peer closes the connection with no more bytes.
func expectClosed(t *testing.T, nc net.Conn, r io.Reader) {
	t.Helper()
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(replyWait)))
	var b [64]byte
	n, err := r.Read(b[:])
	require.Zero(t, n, "unexpected bytes %q", b[:n])
	require.Error(t, err)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "connection still open")
}
