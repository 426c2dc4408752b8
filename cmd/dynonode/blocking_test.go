package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// blockingSequence is a session of blocking pops whose every reply,
// through a node, must be redis-server 7.0.15's own: served at once,
// timed out, and every argument error in Redis's order.
var blockingSequence = [][]string{
	{"RPUSH", "{b}q", "a", "b", "c", "d"}, {"BLPOP", "{b}q", "0"}, {"BRPOP", "{b}nothing", "{b}q", "0.5"},
	{"BLMPOP", "0", "1", "{b}q", "LEFT", "COUNT", "5"}, {"BLPOP", "{b}q", "0.1"}, {"BRPOP", "{b}q", "{b}r", "0.05"},
	{"BRPOPLPUSH", "{b}q", "{b}d", "0.1"}, {"BLMOVE", "{b}q", "{b}d", "LEFT", "RIGHT", "0.1"},
	{"BLMPOP", "0.1", "2", "{b}q", "{b}r", "RIGHT"},
	{"RPUSH", "{b}q", "x", "y"}, {"BRPOPLPUSH", "{b}q", "{b}d", "0"}, {"BLMOVE", "{b}q", "{b}d", "left", "left", "0"},
	{"LRANGE", "{b}d", "0", "-1"},
	{"ZADD", "{b}z", "1", "a", "2.5", "b", "3", "c", "4", "e"}, {"BZPOPMIN", "{b}z", "0"}, {"BZPOPMAX", "{b}none", "{b}z", "0"},
	{"BZMPOP", "0", "1", "{b}z", "MIN", "COUNT", "9"}, {"BZPOPMIN", "{b}z", "0.1"}, {"BZMPOP", "0.1", "1", "{b}z", "MAX"},
	{"SET", "{b}s", "x"}, {"BLPOP", "{b}s", "0"}, {"BLPOP", "{b}nothing", "{b}s", "0"}, {"BZPOPMIN", "{b}s", "0"},
	{"BLMOVE", "{b}s", "{b}d", "LEFT", "LEFT", "0"}, {"BLMPOP", "0", "1", "{b}s", "LEFT"},
	{"BLPOP", "{b}q", "x"}, {"BLPOP", "{b}q", "-1"}, {"BLPOP", "{b}q", "-0.5"}, {"BLPOP", "{b}q", ""},
	{"BLPOP", "{b}q", "1e400"}, {"BLPOP", "{b}q", "nan"}, {"BLPOP", "{b}q", " 1"}, {"BLPOP", "{b}q", "1_0"},
	{"BLPOP", "{b}q", "1e-5000"}, {"BLPOP", "{b}q", "0x0.1"}, {"BLPOP", "{b}q", "0x1p-4"}, {"BLPOP", "{b}q", "inf"},
	{"BLPOP", "{b}q", "0.0009"}, {"BLPOP", "{b}q", "1e-330"}, {"BLPOP", "{b}q", "1e-4950"}, {"BLPOP", "{b}q", "0x1p-2000"},
	{"BLPOP", "{b}q", "1e4933"}, {"BLPOP", "{b}q", "1e5000"}, {"BLPOP", "{b}q", "-0.0001x"}, {"BLPOP", "{b}q", "0.0101"},
	{"BLPOP", "{b}q", "infinity"}, {"BLPOP", "{b}q", "-Infinity"},
	{"BLMPOP", "x", "1", "{b}q", "LEFT"}, {"BLMPOP", "x", "0", "{b}q", "LEFT"}, {"BLMPOP", "0", "1", "{b}q", "UP"},
	{"BLMPOP", "0", "1", "{b}q", "LEFT", "COUNT", "0"}, {"BLMPOP", "0", "5", "{b}q", "LEFT"},
	{"BLMPOP", "0", "1", "{b}q", "LEFT", "COUNT", "1", "COUNT", "1"}, {"BZMPOP", "0", "1", "{b}z", "LEFT"},
	{"BLMOVE", "{b}q", "{b}d", "UP", "LEFT", "x"}, {"BLMOVE", "{b}q", "{b}d", "LEFT", "LEFT", "x"},
	{"BLPOP"}, {"BLPOP", "{b}q"}, {"BRPOPLPUSH", "{b}q", "{b}d"}, {"BZMPOP", "0", "1"},
	{"LMPOP", "1", "{b}d", "RIGHT", "COUNT", "2"}, {"LMPOP", "0", "{b}d", "LEFT"}, {"LMPOP", "2", "{b}d", "LEFT"},
	{"ZADD", "{b}z", "1", "m"}, {"ZMPOP", "2", "{b}none", "{b}z", "MIN"}, {"ZMPOP", "1", "{b}z", "MAX"},
}

// TestBlockingLikeRedis: 3 racks, one redis-server each. Every reply of
// blockingSequence through a node equals a plain redis-server's; a pop
// waiting on one node is served by a push through another, the commands
// pipelined behind it answered after it; what it popped is gone from
// every rack's redis.
func TestBlockingLikeRedis(t *testing.T) {
	nodes := startCluster(t, 240, "", "dc1/r1", "dc1/r2", "dc1/r3")
	plain := testproc.DialRESP(t, testproc.Redis(t).Addr)
	c := testproc.DialRESP(t, nodes[0].listen)
	eventuallyEqual(t, "+PONG\r\n", func() string { return c.Do("PING") }, "node up")
	for _, cmd := range blockingSequence {
		require.Equal(t, plain.Do(cmd...), c.Do(cmd...), "%q", cmd)
	}
	// Pipelined behind a pop that times out: answered after it, as Redis.
	for _, cl := range []*testproc.RESPClient{plain, c} {
		cl.Send([]byte("BLPOP {b}empty 0.2\r\nPING\r\n"))
	}
	require.Equal(t, plain.Reply()+plain.Reply(), c.Reply()+c.Reply())

	waitPushed(t, c, testproc.DialRESP(t, nodes[1].listen))
	for _, n := range nodes {
		d := testproc.DialRESP(t, n.redis.Addr)
		eventuallyEqual(t, ":0\r\n", func() string { return d.Do("EXISTS", "{b}w") }, "popped on rack "+n.rack)
		eventuallyEqual(t, ":1\r\n", func() string { return d.Do("LLEN", "{b}w2") }, "one left on rack "+n.rack)
	}
}

// waitPushed: a pop waits on c (a PING pipelined behind it) until a push
// through other serves it, whatever BlockPoll; then two pops wait on one
// key and a push of one element serves exactly one of them.
func waitPushed(t *testing.T, c, other *testproc.RESPClient) {
	t.Helper()
	c.Send([]byte("BLPOP {b}w 20\r\nPING\r\n"))
	_, err := c.ReplyWithin(300 * time.Millisecond)
	require.Error(t, err, "nothing is answered while the pop waits")
	require.Equal(t, ":1\r\n", other.Do("RPUSH", "{b}w", "v"))
	require.Equal(t, "*2\r\n$4\r\n{b}w\r\n$1\r\nv\r\n", c.Reply())
	require.Equal(t, "+PONG\r\n", c.Reply())

	c2 := testproc.DialRESP(t, strings.TrimSpace(c.Conn.RemoteAddr().String()))
	c.Send([]byte("BRPOP {b}w2 20\r\n"))
	c2.Send([]byte("BLMOVE {b}w2 {b}w3 LEFT LEFT 20\r\n"))
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, ":1\r\n", other.Do("RPUSH", "{b}w2", "one"))
	// Whichever answers first; the other must not answer too.
	var first, second string
	var err1, err2 error
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); {
		if first, err1 = c.ReplyWithin(50 * time.Millisecond); err1 == nil {
			break
		}
		if second, err2 = c2.ReplyWithin(50 * time.Millisecond); err2 == nil {
			break
		}
	}
	if err1 == nil {
		_, err2 = c2.ReplyWithin(500 * time.Millisecond)
	} else {
		_, err1 = c.ReplyWithin(500 * time.Millisecond)
	}
	require.True(t, (err1 == nil) != (err2 == nil), "exactly one of the two pops is served: %q %v, %q %v", first, err1, second, err2)
	// Replies count the other node's replica, which a pop made at DC_ONE
	// through c's node may not have reached yet: any count.
	require.True(t, strings.HasPrefix(other.Do("RPUSH", "{b}w2", "two"), ":"))
	if err1 == nil {
		require.Equal(t, "*2\r\n$5\r\n{b}w2\r\n$3\r\none\r\n", first)
		got, err := c2.ReplyWithin(15 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "$3\r\ntwo\r\n", got)
	} else {
		require.Equal(t, "$3\r\none\r\n", second)
		got, err := c.ReplyWithin(15 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "*2\r\n$5\r\n{b}w2\r\n$3\r\ntwo\r\n", got)
	}
	require.True(t, strings.HasPrefix(other.Do("RPUSH", "{b}w2", "left"), ":"))
}

// TestEmbeddedBlocking: the same waits on 3 embedded-store racks, each
// replica read through its own node.
func TestEmbeddedBlocking(t *testing.T) {
	nodes := startVersionedCluster(t, 245, "")
	c := testproc.DialRESP(t, nodes[0].listen)
	eventuallyEqual(t, "+PONG\r\n", func() string { return c.Do("PING") }, "node up")
	waitPushed(t, c, testproc.DialRESP(t, nodes[2].listen))
	for _, n := range nodes {
		d := testproc.DialRESP(t, n.listen)
		eventuallyEqual(t, "*1\r\n$4\r\nleft\r\n", func() string { return d.Do("LRANGE", "{b}w2", "0", "-1") }, n.name)
	}
}
