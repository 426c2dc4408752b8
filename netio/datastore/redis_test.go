package datastore

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

func TestRedisSetGet(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis})
	require.Equal(t, "+OK\r\n", h.reply("SET", "k", "v"))
	require.Equal(t, bulk("v"), h.reply("GET", "k"))
	require.Equal(t, "$-1\r\n", h.reply("GET", "missing"))
	require.Equal(t, ":1\r\n", h.reply("DEL", "k"))
	h.requireBalanced()
	s := h.statsMsg()
	require.Equal(t, Stats{Requests: 4, Responses: 4, Connected: 1}, s)
}

// A Redis error reply is the datastore's answer, not a failure of the store.
func TestRedisErrorIsReply(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis})
	require.Equal(t, ":1\r\n", h.reply("LPUSH", "list", "x"))
	got := h.reply("GET", "list")
	require.True(t, strings.HasPrefix(got, "-WRONGTYPE "), "got %q", got)
	require.True(t, strings.HasPrefix(h.reply("NOSUCHCOMMAND"), "-ERR unknown command"))
	require.Equal(t, "+PONG\r\n", h.reply("PING"), "the connection goes on after error replies")
}

// Pipelined requests on one connection come back in order with their IDs.
func TestRedisPipelineOrder(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Preconnect: true})
	const n = 1000
	var ids []uint64
	want := map[uint64]string{}
	for i := range n {
		key, val := fmt.Sprintf("key:%d", i), fmt.Sprintf("value:%d", i)
		ids = append(ids, h.send("SET", key, val))
		want[ids[len(ids)-1]] = "+OK\r\n"
		ids = append(ids, h.send("GET", key))
		want[ids[len(ids)-1]] = bulk(val)
	}
	for _, id := range ids {
		res := h.next()
		require.Equal(t, id, res.ID, "Results out of order")
		require.Empty(t, res.Failure)
		require.Equal(t, want[id], string(res.Reply))
	}
	h.requireBalanced()
}

// A 5 MB value crosses many reads and writes; the Reply must not alias the
// read buffer (it is checked after later traffic reuses that buffer).
func TestRedisBigValue(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis})
	big := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16)
	big[len(big)-1] = 'Z'
	h.nextID++
	h.node.Send(h.me, h.ds, store.Exec{ID: h.nextID, Args: [][]byte{[]byte("SET"), []byte("big"), big}})
	res := h.next()
	require.Empty(t, res.Failure)
	require.Equal(t, "+OK\r\n", string(res.Reply))
	res = h.do("GET", "big")
	require.Empty(t, res.Failure)
	want := append(fmt.Appendf(nil, "$%d\r\n", len(big)), big...)
	want = append(want, "\r\n"...)
	require.True(t, bytes.Equal(want, res.Reply), "GET big: %d bytes, want %d", len(res.Reply), len(want))
	kept := bytes.Clone(res.Reply)
	for i := range 50 {
		h.reply("SET", fmt.Sprintf("small:%d", i), strings.Repeat("x", 1000))
	}
	require.True(t, bytes.Equal(kept, res.Reply), "the Reply changed: it aliases a buffer")
}

// Four connections share the load, and each request still gets its own
// reply.
func TestRedisConnectionPool(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Connections: 4, Preconnect: true})
	require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().Connected == 4 }, wait, time.Millisecond)
	const n = 4000
	var ids []uint64
	for i := range n {
		ids = append(ids, h.send("SET", fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)))
	}
	for _, res := range h.collect(ids, 0) {
		require.Equal(t, "+OK\r\n", string(res.Reply), "%+v", res)
	}
	ids = ids[:0]
	want := map[uint64]string{}
	for i := range n {
		id := h.send("GET", fmt.Sprintf("k%d", i))
		ids = append(ids, id)
		want[id] = bulk(fmt.Sprintf("v%d", i))
	}
	for id, res := range h.collect(ids, 50*time.Millisecond) {
		require.Empty(t, res.Failure)
		require.Equal(t, want[id], string(res.Reply))
	}
	h.inspect(func(a *adapter) {
		for _, c := range a.pool.conns {
			c.mu.Lock()
			queued := c.queued
			c.mu.Unlock()
			require.Equal(t, uint64(2*n/4), queued, "connection %d's share", c.idx)
		}
	})
	clients := h.reply("CLIENT", "LIST")
	require.Equal(t, 4, strings.Count(clients, "id="), "redis sees the four connections: %s", clients)
	h.requireBalanced()
}

func TestRedisUnixSocket(t *testing.T) {
	dir := t.TempDir()
	sock := dir + "/redis.sock"
	tcp := testproc.FreeAddr(t, "127.0.0.1")
	host, port := strings.Split(tcp, ":")[0], strings.Split(tcp, ":")[1]
	testproc.Start(t, "redis-server unix", testproc.Binary(t, "redis-server"),
		[]string{"--bind", host, "--port", port, "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir},
		tcp)
	// The TCP port accepting does not mean the socket file exists yet
	// (redis-server makes it after; CI saw the race under -race).
	require.NoError(t, testproc.WaitUnix(sock, testproc.ReadyTimeout))
	h := newHarness(t, Options{Addr: sock, Protocol: Redis})
	require.Equal(t, "+PONG\r\n", h.reply("PING"))
}

func TestBadRequests(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis})
	res := h.do()
	require.True(t, strings.HasPrefix(res.Failure, FailBadRequest), "%+v", res)

	h2 := newHarness(t, Options{Protocol: Redis})
	res = h2.do("PING")
	require.True(t, strings.HasPrefix(res.Failure, FailMisconfigured), "%+v", res)
	require.Contains(t, res.Failure, "address is empty")
}

// TestRedisBatch: a store.Batch is run as its Execs in order, and the
// Results of consecutive replies come back (as store.Results) in order.
func TestRedisBatch(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Preconnect: true})
	var execs []store.Exec
	want := map[uint64]string{}
	for i := range 200 {
		key, val := fmt.Sprintf("bkey:%d", i), fmt.Sprintf("value:%d", i)
		execs = append(execs, store.Exec{ID: uint64(1000 + 2*i), Args: [][]byte{[]byte("SET"), []byte(key), []byte(val)}})
		want[uint64(1000+2*i)] = "+OK\r\n"
		execs = append(execs, store.Exec{ID: uint64(1001 + 2*i), Args: [][]byte{[]byte("GET"), []byte(key)}})
		want[uint64(1001+2*i)] = bulk(val)
	}
	h.node.Send(h.me, h.ds, store.Batch{Execs: execs})
	for _, e := range execs {
		res := h.next()
		require.Equal(t, e.ID, res.ID, "Results out of order")
		require.Empty(t, res.Failure)
		require.Equal(t, want[e.ID], string(res.Reply))
	}
	h.requireBalanced()
}

// TestRedisQuietExecs: Quiet Execs run on Redis in order with the others
// and get no Result, answered or failed; the counters still balance.
func TestRedisQuietExecs(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Preconnect: true})
	args := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, a := range s {
			out[i] = []byte(a)
		}
		return out
	}
	h.node.Send(h.me, h.ds, store.Batch{Execs: []store.Exec{
		{ID: 1, Args: args("SET", "q", "1"), Quiet: true},
		{ID: 2, Args: args("INCR", "q"), Quiet: true},
		{ID: 3, Args: args("GET", "q")},
		{ID: 4, Args: args("INCR", "q"), Quiet: true},
		{ID: 5, Args: args("NOSUCHCOMMAND"), Quiet: true}, // an error reply, unanswered too
		{ID: 6, Args: args("GET", "q")},
	}})
	got := h.collect([]uint64{3, 6}, 100*time.Millisecond)
	require.Equal(t, bulk("2"), string(got[3].Reply))
	require.Equal(t, bulk("3"), string(got[6].Reply))
	h.node.Send(h.me, h.ds, store.Exec{ID: 7, Args: args("DEL", "q"), Quiet: true})
	require.Equal(t, "$-1\r\n", h.reply("GET", "q"), "the lone quiet DEL ran")
	// A quiet request that fails is not answered either.
	h.node.Send(h.me, h.ds, store.Exec{ID: 8, Args: args(), Quiet: true})
	require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().Errors == 1 }, wait, time.Millisecond)
	require.Equal(t, "+PONG\r\n", h.reply("PING"))
	h.requireBalanced()
}
