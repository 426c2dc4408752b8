package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedisKilledMidPipeline: redis-server is SIGKILLed while a client has
// thousands of requests in flight. Every request still gets exactly one
// reply, in order, a value or "-ERR Storage: ..."; none hangs. After the
// restart the same connection works again, and a second client was never
// disturbed beyond error replies.
func TestRedisKilledMidPipeline(t *testing.T) {
	redis := testproc.Redis(t)
	d := startDaemon(t, 0, redis.Addr, "timeout: 2000", "server_retry_timeout: 300")
	a := testproc.DialRESP(t, d.Addr)
	b := testproc.DialRESP(t, d.Addr)
	require.Equal(t, "+OK\r\n", b.Do("SET", "b", "1"))

	const n = 20000
	var pipe []byte
	for i := range n {
		if i%2 == 0 {
			pipe = append(pipe, testproc.Command("SET", fmt.Sprintf("k%d", i), "v")...)
		} else {
			pipe = append(pipe, testproc.Command("GET", fmt.Sprintf("k%d", i-1))...)
		}
	}
	wrote := make(chan error, 1)
	go func() {
		_ = a.Conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := a.Conn.Write(pipe)
		wrote <- err
	}()
	var values, failures int
	for i := range n {
		if i == 500 {
			redis.Kill()
		}
		r, err := a.ReplyWithin(replyWait)
		require.NoError(t, err, "reply #%d of %d never came", i, n)
		switch {
		case r == "+OK\r\n" || r == bulkReply("v"):
			values++
		case strings.HasPrefix(r, "-ERR Storage: "):
			failures++
		default:
			t.Fatalf("reply #%d: unexpected %q", i, r)
		}
	}
	require.NoError(t, <-wrote)
	t.Logf("%d values, %d failures", values, failures)
	assert.GreaterOrEqual(t, values, 500, "the replies before the kill")
	assert.Positive(t, failures, "requests after the kill fail")

	assert.Equal(t, "+PONG\r\n", b.Do("PING"), "the other client still works")
	assert.True(t, strings.HasPrefix(b.Do("GET", "b"), "-ERR Storage: "), "and gets an error, not a hang")

	redis.Restart()
	eventually(t, "the same connection works after the restart", func() bool {
		return a.Do("SET", "after", "1") == "+OK\r\n"
	})
	assert.Equal(t, bulkReply("1"), b.Do("GET", "after"))
	assert.Equal(t, bulkReply("1"), testproc.DialRESP(t, redis.Addr).Do("GET", "after"), "in the restarted redis-server")
}

// TestRedisStoppedTimesOut: with `timeout: 500`, requests to a SIGSTOPped
// redis-server fail within about a second instead of hanging, in order,
// while a second client is answered; SIGCONT recovers.
func TestRedisStoppedTimesOut(t *testing.T) {
	redis := testproc.Redis(t)
	d := startDaemon(t, 0, redis.Addr, "timeout: 500", "server_retry_timeout: 300")
	c := testproc.DialRESP(t, d.Addr)
	other := testproc.DialRESP(t, d.Addr)
	require.Equal(t, "+OK\r\n", c.Do("SET", "k", "before"))

	require.NoError(t, redis.Stop())
	t.Cleanup(func() { _ = redis.Signal(syscall.SIGCONT) })
	began := time.Now()
	var pipe []byte
	for range 50 {
		pipe = append(pipe, testproc.Command("GET", "k")...)
	}
	pipe = append(pipe, testproc.Command("PING")...)
	c.Send(pipe)
	for i := range 50 {
		r, err := c.ReplyWithin(3 * time.Second)
		require.NoError(t, err, "reply #%d", i)
		require.True(t, strings.HasPrefix(r, "-ERR Storage: "), "reply #%d: %q", i, r)
		if i == 0 {
			t.Logf("first error after %s: %q", time.Since(began), r)
		}
	}
	elapsed := time.Since(began)
	assert.Less(t, elapsed, 1500*time.Millisecond, "timeout: 500 bounds the wait")
	assert.Equal(t, "+PONG\r\n", c.Reply(), "the PING behind the timed-out requests, in order")
	assert.Equal(t, "+PONG\r\n", other.Do("PING"))

	require.NoError(t, redis.Signal(syscall.SIGCONT))
	eventually(t, "reads succeed after SIGCONT", func() bool {
		return c.Do("GET", "k") == bulkReply("before")
	})
	assert.Equal(t, "+OK\r\n", other.Do("SET", "k", "after"))
	assert.Equal(t, bulkReply("after"), testproc.DialRESP(t, redis.Addr).Do("GET", "k"))
}

// TestNoFileDescriptorLeak: 200 client connections opened and closed, in
// the ways clients end (after a reply, mid-pipeline without reading, right
// away, after QUIT, after a protocol error), leave the daemon with the
// descriptors it had.
func TestNoFileDescriptorLeak(t *testing.T) {
	redis := testproc.Redis(t)
	d := startDaemon(t, 0, redis.Addr, "datastore_connections: 2")
	fds := func() int {
		entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.Pid()))
		require.NoError(t, err)
		return len(entries)
	}
	warm := testproc.DialRESP(t, d.Addr)
	require.Equal(t, "+OK\r\n", warm.Do("SET", "warm", "1"))
	warm.Conn.Close()
	var before int
	eventually(t, "descriptors settle", func() bool {
		n := fds()
		time.Sleep(50 * time.Millisecond)
		before = fds()
		return n == before
	})

	var pipe []byte
	for i := range 300 {
		pipe = append(pipe, testproc.Command("SET", fmt.Sprintf("fd%d", i), strings.Repeat("x", 64))...)
	}
	for i := range 200 {
		c := testproc.DialRESP(t, d.Addr)
		switch i % 5 {
		case 0:
			require.Equal(t, "+OK\r\n", c.Do("SET", "fd", "1"))
		case 1:
			c.Send(pipe)
		case 2:
		case 3:
			require.Equal(t, "+OK\r\n", c.Do("QUIT"))
		case 4:
			c.Send([]byte("*1\r\n$x\r\n"))
			require.Equal(t, "-ERR Protocol error: invalid bulk length\r\n", c.Reply())
		}
		c.Conn.Close()
	}
	var after int
	eventually(t, "descriptors back to where they were", func() bool {
		after = fds()
		return after <= before
	})
	t.Logf("descriptors: %d before, %d after 200 connections", before, after)
	c := testproc.DialRESP(t, d.Addr)
	assert.Equal(t, bulkReply("1"), c.Do("GET", "fd"), "the daemon still serves")
}

// TestMemcachedKilledMidPipeline: memcached dies under a pipeline of sets
// and gets; every request still gets its one reply (its result or a
// SERVER_ERROR line), in order; a restart brings the same connection back.
func TestMemcachedKilledMidPipeline(t *testing.T) {
	memcached := testproc.Memcached(t)
	d := startDaemon(t, 1, memcached.Addr, "timeout: 2000", "server_retry_timeout: 300")
	c := dialMC(t, d.Addr)
	const n = 10000
	var pipe strings.Builder
	for i := range n / 2 {
		fmt.Fprintf(&pipe, "set k%d 0 0 1\r\nv\r\nget k%d\r\n", i, i)
	}
	wrote := make(chan error, 1)
	go func() {
		_ = c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := c.nc.Write([]byte(pipe.String()))
		wrote <- err
	}()
	var values, failures int
	for i := range n {
		if i == 400 {
			memcached.Kill()
		}
		l := c.line()
		switch {
		case strings.HasPrefix(l, "SERVER_ERROR "):
			failures++
		case i%2 == 0 && l == "STORED":
			values++
		case i%2 == 1 && l == "VALUE k"+fmt.Sprint(i/2)+" 0 1":
			require.Equal(t, "v", c.line())
			require.Equal(t, "END", c.line())
			values++
		case i%2 == 1 && l == "END":
			values++
		default:
			t.Fatalf("reply #%d: unexpected %q", i, l)
		}
	}
	require.NoError(t, <-wrote)
	t.Logf("%d values, %d failures", values, failures)
	assert.GreaterOrEqual(t, values, 400)
	assert.Positive(t, failures)

	memcached.Restart()
	eventually(t, "the same connection works after the restart", func() bool {
		c.send("set after 0 0 1\r\n1\r\n")
		return c.line() == "STORED"
	})
	direct := dialMC(t, memcached.Addr)
	direct.send("get after\r\n")
	assert.Equal(t, []string{"VALUE after 0 1|1"}, direct.retrieval())
}

// TestMemcachedStoppedTimesOut: a SIGSTOPped memcached costs a client a
// SERVER_ERROR within about `timeout`, not a hang, noreply requests stay
// silent, and SIGCONT recovers.
func TestMemcachedStoppedTimesOut(t *testing.T) {
	memcached := testproc.Memcached(t)
	d := startDaemon(t, 1, memcached.Addr, "timeout: 500", "server_retry_timeout: 300")
	c := dialMC(t, d.Addr)
	c.send("set k 0 0 1\r\na\r\n")
	require.Equal(t, "STORED", c.line())

	require.NoError(t, memcached.Stop())
	t.Cleanup(func() { _ = memcached.Signal(syscall.SIGCONT) })
	began := time.Now()
	c.send("get k\r\nset k 0 0 1 noreply\r\nb\r\nincr k 1\r\nversion\r\n")
	for i := range 2 {
		l := c.line()
		require.True(t, strings.HasPrefix(l, "SERVER_ERROR "), "reply #%d: %q", i, l)
	}
	assert.True(t, strings.HasPrefix(c.line(), "VERSION "), "version after the failed requests, the noreply one silent")
	assert.Less(t, time.Since(began), 1500*time.Millisecond)

	require.NoError(t, memcached.Signal(syscall.SIGCONT))
	eventually(t, "gets succeed after SIGCONT", func() bool {
		c.send("get k\r\n")
		l := c.line()
		if strings.HasPrefix(l, "SERVER_ERROR ") {
			return false
		}
		require.True(t, strings.HasPrefix(l, "VALUE k 0 1"), l)
		c.line()
		require.Equal(t, "END", c.line())
		return true
	})
}
