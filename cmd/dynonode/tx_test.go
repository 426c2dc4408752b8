package main

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// txSequences are client sessions whose every reply, through a node,
// must be redis-server 7.0.15's own (TestClusterTransactions).
var txSequences = [][][]string{
	{{"MULTI"}, {"SET", "{t}a", "1"}, {"INCR", "{t}a"}, {"GET", "{t}a"}, {"PING"}, {"EXEC"}},
	{{"EXEC"}, {"DISCARD"}, {"UNWATCH"}},
	{{"MULTI"}, {"MULTI"}, {"SET", "{t}b", "x"}, {"DISCARD"}, {"GET", "{t}b"}},
	{{"MULTI"}, {"SET", "{t}a"}, {"SET", "{t}a", "9"}, {"EXEC"}, {"GET", "{t}a"}},
	{{"MULTI"}, {"NOSUCH", "x"}, {"EXEC"}},
	{{"MULTI"}, {"EXEC"}},
	{{"RPUSH", "{t}l", "x"}, {"MULTI"}, {"INCR", "{t}l"}, {"INCRBY", "{t}a", "5"}, {"LRANGE", "{t}l", "0", "-1"}, {"EXEC"}},
	{{"MULTI"}, {"SET", "{t}e", "v", "EX", "100"}, {"TTL", "{t}e"}, {"DEL", "{t}e", "{t}l"}, {"EXEC"}},
	// Commands whose keys cannot be found answer their error in place.
	{{"MULTI"}, {"MSET", "{t}x", "1", "{t}y"}, {"EVAL", "return 1", "-1"}, {"SET", "{t}c", "1"}, {"EXEC"}},
	{{"MULTI"}, {"SADD", "{t}s", "a", "b", "c"}, {"SUNIONSTORE", "{t}u", "{t}s"}, {"COPY", "{t}s", "{t}s2"}, {"EXEC"}},
	// LCS: keys sharing replicas, as a read, alone and in a transaction.
	{{"SET", "{t}l1", "ohmytext"}, {"SET", "{t}l2", "mynewtext"}, {"LCS", "{t}l1", "{t}l2"},
		{"LCS", "{t}l1", "{t}l2", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"}, {"MULTI"}, {"LCS", "{t}l1", "{t}l2", "LEN"}, {"EXEC"}},
	// BITFIELD and BITFIELD_RO.
	{{"BITFIELD", "{t}bf", "SET", "i8", "0", "100", "INCRBY", "i8", "0", "100", "OVERFLOW", "SAT", "INCRBY", "u4", "#1", "30", "GET", "u8", "0"},
		{"BITFIELD_RO", "{t}bf", "GET", "i8", "0", "GET", "u4", "#1"}, {"BITFIELD_RO", "{t}bf", "SET", "i8", "0", "1"}, {"GET", "{t}bf"}},
	// BITOP: a write of its destination, its sources on the same replicas.
	{{"SET", "{t}b1", "foobar"}, {"SET", "{t}b2", "abcdef"}, {"BITOP", "AND", "{t}b3", "{t}b1", "{t}b2"}, {"GET", "{t}b3"},
		{"BITOP", "NOT", "{t}b3", "{t}b1", "{t}b2"}, {"BITOP", "XOR", "{t}b3", "{t}none"}, {"EXISTS", "{t}b3"}},
	// Blocking pops never block in a transaction: nothing there is a null.
	{{"RPUSH", "{t}bl", "x", "y"}, {"ZADD", "{t}bz", "1", "m"}, {"MULTI"}, {"BLPOP", "{t}bl", "0"}, {"BRPOP", "{t}none", "{t}bl", "0"},
		{"BLPOP", "{t}bl", "0"}, {"BLMOVE", "{t}bl", "{t}d", "LEFT", "LEFT", "0"}, {"BRPOPLPUSH", "{t}bl", "{t}d", "0"},
		{"BZPOPMIN", "{t}bz", "0"}, {"BZPOPMAX", "{t}bz", "0"}, {"BLMPOP", "0", "1", "{t}bl", "LEFT"}, {"BZMPOP", "0", "1", "{t}bz", "MIN"},
		{"BLPOP", "{t}bl", "x"}, {"EXEC"}},
}

// TestClusterTransactions: 3 racks, one redis-server each. Every reply of
// txSequences through a node equals a plain redis-server's; a
// transaction's writes land on every rack's redis, with the same
// versions; WATCH is refused with its reason; RANDOMKEY answers a key of
// the local redis, never a version companion.
func TestClusterTransactions(t *testing.T) {
	nodes := startCluster(t, 130, "", "dc1/r1", "dc1/r2", "dc1/r3")
	plain := testproc.DialRESP(t, testproc.Redis(t).Addr)
	c := testproc.DialRESP(t, nodes[0].listen)
	eventuallyEqual(t, "+PONG\r\n", func() string { return c.Do("PING") }, "node up")
	for _, seq := range txSequences {
		for _, cmd := range seq {
			require.Equal(t, plain.Do(cmd...), c.Do(cmd...), "%q in %q", cmd, seq)
		}
	}
	for _, n := range nodes {
		d := testproc.DialRESP(t, n.redis.Addr)
		eventuallyEqual(t, bulkOf("7"), func() string { return d.Do("GET", "{t}a") }, "the transactions' writes on rack "+n.rack)
		require.Equal(t, testproc.DialRESP(t, nodes[0].redis.Addr).Do("HGET", "__dyno:v", "{t}a"), d.Do("HGET", "__dyno:v", "{t}a"), "version on rack %s", n.rack)
	}
	for range 20 { // RANDOMKEY: a key of the local redis, never a companion
		got := c.Do("RANDOMKEY")
		require.True(t, strings.HasPrefix(got, "$") && strings.Contains(got, "{t}") && !strings.Contains(got, "__dyno"), got)
	}
	got := c.Do("WATCH", "{t}a")
	require.True(t, strings.HasPrefix(got, "-ERR dynonode: 'WATCH' is not supported"), got)
	require.Equal(t, "+OK\r\n", c.Do("MULTI"))
	got = c.Do("SUBSCRIBE", "ch")
	require.True(t, strings.HasPrefix(got, "-ERR dynonode: 'SUBSCRIBE' cannot be part of a transaction"), got)
	require.Equal(t, "-EXECABORT Transaction discarded because of previous errors.\r\n", c.Do("EXEC"))
}

// TestEmbeddedClusterTransactions: the same transaction through a node
// of 3 embedded-store racks runs on every replica, each read through its
// own node.
func TestEmbeddedClusterTransactions(t *testing.T) {
	nodes := startVersionedCluster(t, 126, "")
	c := testproc.DialRESP(t, nodes[0].listen)
	for _, cmd := range [][]string{{"MULTI"}, {"SET", "{q}n", "1"}, {"INCRBY", "{q}n", "4"}, {"RPUSH", "{q}l", "a", "b"}} {
		c.Send([]byte(strings.Join(cmd, " ") + "\r\n"))
	}
	require.Equal(t, "+OK\r\n", c.Reply())
	for range 3 {
		require.Equal(t, "+QUEUED\r\n", c.Reply())
	}
	require.Equal(t, "*3\r\n+OK\r\n:5\r\n:2\r\n", c.Do("EXEC"))
	for _, n := range nodes {
		d := testproc.DialRESP(t, n.listen)
		eventuallyEqual(t, bulkOf("5"), func() string { return d.Do("GET", "{q}n") }, "the transaction on "+n.name)
		require.Equal(t, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", d.Do("LRANGE", "{q}l", "0", "-1"), n.name)
	}
}

// TestPubSubLikeRedis: a pub/sub session through a node answers as
// redis-server 7.0.15 does, byte for byte (a message published through
// another connection included). UNSUBSCRIBE of every channel is left out:
// Redis lists them in its hash table's order, dynonode in subscription
// order (as Redis lists patterns).
func TestPubSubLikeRedis(t *testing.T) {
	plain, plainPub, n, nPub := pubsubPair(t)
	all := allReplies
	for _, cmd := range [][]string{
		{"UNSUBSCRIBE"}, {"PUNSUBSCRIBE"}, {"SUBSCRIBE", "a", "b", "a"}, {"PSUBSCRIBE", "n*", "[x]", "n*"}, {"PING"},
		{"PING", "hi"}, {"GET", "k"}, {"UNSUBSCRIBE", "b", "zz"}, {"PUNSUBSCRIBE"}, {"UNSUBSCRIBE", "a"},
		{"PUBLISH", "a", "x"}, {"PSUBSCRIBE", "nx*"},
	} {
		require.Equal(t, all(plain, cmd...), all(n, cmd...), "%q", cmd)
	}
	require.Equal(t, plainPub.Do("PUBLISH", "nxy", "hello"), nPub.Do("PUBLISH", "nxy", "hello"))
	require.Equal(t, plain.Reply(), n.Reply(), "the pmessage")
	require.Equal(t, plain.Do("RESET"), n.Do("RESET"))
	require.Equal(t, plainPub.Do("PUBLISH", "nxy", "hello"), nPub.Do("PUBLISH", "nxy", "hello"), "no subscriber after RESET")
}

// TestSlowSubscriberDisconnected: a subscriber that stops reading is
// disconnected once 32 MiB of messages wait for it (Redis's pub/sub
// output limit), and the node serves on.
func TestSlowSubscriberDisconnected(t *testing.T) {
	node := startOpNode(t, "")
	sub, pub := testproc.DialRESP(t, node.listen), testproc.DialRESP(t, node.listen)
	require.Equal(t, "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", sub.Do("SUBSCRIBE", "c"))
	payload := strings.Repeat("x", 1<<20)
	delivered := 0
	for range 200 { // 200 MiB at most: past the limit and whatever the sockets buffer
		if pub.Do("PUBLISH", "c", payload) == ":0\r\n" {
			break // the subscriber is gone
		}
		delivered++
	}
	require.Less(t, delivered, 200, "the subscriber was never disconnected")
	require.GreaterOrEqual(t, delivered, 32, "disconnected before 32 MiB waited")
	// What the sockets held comes out, then the end of the connection.
	require.NoError(t, sub.Conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := io.Copy(io.Discard, sub.Conn)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the connection stayed open: %v", err)
	require.Equal(t, "+PONG\r\n", pub.Do("PING"))
}

// TestShardedPubSubLikeRedis: sharded pub/sub and PUBSUB introspection
// through a node answer as redis-server 7.0.15 does, byte for byte: shard
// channels are a namespace of their own (PUBLISH does not reach them,
// SPUBLISH reaches only them), counted apart in the replies, and PUBSUB
// counts the subscribers of the node (Redis Cluster's per-node answers).
func TestShardedPubSubLikeRedis(t *testing.T) {
	plain, plainPub, n, nPub := pubsubPair(t)
	all := allReplies
	for _, cmd := range [][]string{
		{"SUNSUBSCRIBE"}, {"SSUBSCRIBE", "s1", "s2", "s1"}, {"SUBSCRIBE", "c1"}, {"PSUBSCRIBE", "p*"}, {"SUNSUBSCRIBE", "s2", "zz"},
		{"PING"}, {"SSUBSCRIBE"}, {"SPUBLISH", "x"}, {"PUBSUB", "NUMSUB", "c1"}, {"PUBSUB", "FOO"}, {"PUBSUB", "NUMPAT", "x"},
		{"PUBSUB", "CHANNELS", "a", "b"},
		// Other containers name their subcommand; an unknown one is refused
		// as unknown first.
		{"CLIENT", "SETNAME", "x"}, {"client", "getname"}, {"CLIENT", "BOGUS"}, {"CLIENT"}, {"OBJECT", "ENCODING", "s1"},
		{"SCRIPT", "EXISTS", "a"}, {"CLIENT", "SETNAME"}, {"SCRIPT", "EXISTS"}, {"MEMORY", "USAGE"}, {"OBJECT", "ENCODING", "a", "b"},
	} {
		require.Equal(t, all(plain, cmd...), all(n, cmd...), "%q", cmd)
	}
	for _, cmd := range [][]string{
		{"SPUBLISH", "s1", "hello"}, {"PUBLISH", "s1", "global"}, {"SPUBLISH", "c1", "sharded"}, {"PUBLISH", "c1", "m"},
		{"PUBSUB", "SHARDCHANNELS"}, {"PUBSUB", "SHARDCHANNELS", "s*"}, {"PUBSUB", "SHARDCHANNELS", "x*"},
		{"PUBSUB", "SHARDNUMSUB", "s1", "s2"}, {"PUBSUB", "CHANNELS"}, {"PUBSUB", "CHANNELS", "c?"}, {"PUBSUB", "NUMSUB", "c1", "s1"},
		{"PUBSUB", "NUMSUB"}, {"PUBSUB", "NUMPAT"}, {"PUBSUB", "HELP"}, {"PUBSUB", "NUMPAT", "x"}, {"PUBSUB", "CHANNELS", "a", "b"},
		{"PUBSUB", "FOO"}, {"PUBSUB"}, {"pubsub", "shardnumsub"},
	} {
		require.Equal(t, plainPub.Do(cmd...), nPub.Do(cmd...), "%q", cmd)
	}
	// What the subscribers got: the SPUBLISH to s1, the PUBLISH to c1 twice
	// (channel, pattern no: p* does not match c1).
	require.Equal(t, all(plain, "PING"), all(n, "PING"))
	require.Equal(t, plain.Do("RESET"), n.Do("RESET"))
	require.Equal(t, plainPub.Do("PUBSUB", "SHARDNUMSUB", "s1"), nPub.Do("PUBSUB", "SHARDNUMSUB", "s1"), "RESET dropped it")
}

// allReplies sends cmd and reads every reply (and pushed message) until
// none comes for 200 ms.
func allReplies(c *testproc.RESPClient, cmd ...string) string {
	c.Send([]byte(strings.Join(cmd, " ") + "\r\n"))
	out := c.Reply()
	for {
		r, err := c.ReplyWithin(200 * time.Millisecond)
		if err != nil {
			return out
		}
		out += r
	}
}

// TestOwnerCommandsLikeRedis: OBJECT and MEMORY USAGE through a node of 3
// Redis-backed racks answer as a plain redis-server 7.0.15 does (one owner
// of the key answers; the versions' companions change nothing), HELP
// included; MEMORY's datastore-wide subcommands, and MEMORY on an
// embedded-store node, are refused with their reasons. An embedded node
// answers OBJECT as Redis does (the engine models Redis's encodings), but
// for IDLETIME: it keeps no access times.
func TestOwnerCommandsLikeRedis(t *testing.T) {
	nodes := startCluster(t, 233, "", "dc1/r1", "dc1/r2", "dc1/r3")
	plain := testproc.DialRESP(t, testproc.Redis(t).Addr)
	c := testproc.DialRESP(t, nodes[0].listen)
	eventuallyEqual(t, "+PONG\r\n", func() string { return c.Do("PING") }, "node up")
	for _, cmd := range [][]string{
		{"SET", "{o}k", "v"}, {"RPUSH", "{o}l", "a", "b"}, {"SADD", "{o}s", "1", "2"}, {"SET", "{o}n", "12345"},
		{"OBJECT", "ENCODING", "{o}k"}, {"OBJECT", "ENCODING", "{o}l"}, {"OBJECT", "ENCODING", "{o}s"}, {"OBJECT", "ENCODING", "{o}n"},
		{"OBJECT", "ENCODING", "{o}none"}, {"OBJECT", "REFCOUNT", "{o}k"}, {"OBJECT", "FREQ", "{o}k"}, {"OBJECT", "FOO", "{o}k"},
		{"OBJECT", "ENCODING"}, {"OBJECT", "ENCODING", "a", "b"}, {"OBJECT", "HELP"}, {"OBJECT"},
		{"MEMORY", "USAGE", "{o}k"}, {"MEMORY", "USAGE", "{o}none"}, {"MEMORY", "USAGE", "{o}k", "SAMPLES", "5"},
		{"MEMORY", "USAGE", "{o}k", "FOO"}, {"MEMORY", "USAGE"}, {"MEMORY", "FOO"}, {"MEMORY", "HELP"},
	} {
		require.Equal(t, plain.Do(cmd...), c.Do(cmd...), "%q", cmd)
	}
	got := c.Do("MEMORY", "STATS")
	require.True(t, strings.HasPrefix(got, "-ERR dynonode: 'MEMORY STATS' is not supported"), got)
	got = c.Do("CONFIG", "GET", "zset-max-listpack-entries") // the redis-server's own: refused
	require.True(t, strings.HasPrefix(got, "-ERR dynonode: 'CONFIG' is not supported: it would change or expose the datastore"), got)

	emb := startOpNode(t, "")
	e := testproc.DialRESP(t, emb.listen)
	require.Equal(t, "+OK\r\n", plain.Do("FLUSHALL"))
	for _, cmd := range [][]string{
		{"SET", "{o}k", "v"}, {"RPUSH", "{o}l", "a", "b"}, {"SADD", "{o}s", "1", "2"}, {"SET", "{o}n", "12345"},
		{"OBJECT", "ENCODING", "{o}k"}, {"OBJECT", "ENCODING", "{o}l"}, {"OBJECT", "ENCODING", "{o}s"}, {"OBJECT", "ENCODING", "{o}n"},
		{"SADD", "{o}s", "x"}, {"OBJECT", "ENCODING", "{o}s"}, {"HSET", "{o}h", "f", "v"}, {"OBJECT", "ENCODING", "{o}h"},
		{"OBJECT", "ENCODING", "{o}none"}, {"OBJECT", "REFCOUNT", "{o}k"}, {"OBJECT", "FREQ", "{o}k"}, {"OBJECT", "FOO", "{o}k"},
		{"OBJECT", "ENCODING"}, {"OBJECT", "ENCODING", "a", "b"}, {"OBJECT", "HELP"}, {"OBJECT"},
	} {
		require.Equal(t, plain.Do(cmd...), e.Do(cmd...), "embedded: %q", cmd)
	}
	got = e.Do("OBJECT", "IDLETIME", "{o}k")
	require.True(t, strings.HasPrefix(got, "-ERR the embedded store does not track access times"), got)
	got = e.Do("MEMORY", "USAGE", "{o}k")
	require.True(t, strings.HasPrefix(got, "-ERR dynonode: 'MEMORY' is not supported: the embedded store"), got)
}

// pubsubPair starts a redis-server and an embedded node and dials each
// twice: a subscriber and a publisher on each side.
func pubsubPair(t *testing.T) (plain, plainPub, n, nPub *testproc.RESPClient) {
	t.Helper()
	plainSrv := testproc.Redis(t)
	node := startOpNode(t, "")
	return testproc.DialRESP(t, plainSrv.Addr), testproc.DialRESP(t, plainSrv.Addr),
		testproc.DialRESP(t, node.listen), testproc.DialRESP(t, node.listen)
}
