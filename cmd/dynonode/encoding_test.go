package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/internal/testproc"
)

// TestEmbeddedClusterConfigEncodings: on 3 racks of embedded nodes, a
// CONFIG SET of an encoding threshold through one node reaches every
// node's engine, so OBJECT ENCODING (answered by each node's own rack)
// agrees through every node, and agrees with a redis-server given the
// same commands. (CONFIG stays refused on a node in front of Redis:
// TestOwnerCommandsLikeRedis.)
func TestEmbeddedClusterConfigEncodings(t *testing.T) {
	nodes := startVersionedCluster(t, 196, "")
	cs := make([]*testproc.RESPClient, len(nodes))
	for i, n := range nodes {
		cs[i] = testproc.DialRESP(t, n.listen)
	}
	redis := testproc.DialRESP(t, testproc.Redis(t).Addr)
	for _, c := range [][]string{
		{"CONFIG", "SET", "zset-max-listpack-entries", "2", "set-max-intset-entries", "1"},
		{"ZADD", "{e}z", "1", "a", "2", "b"}, {"ZADD", "{e}y", "1", "a", "2", "b", "3", "c"},
		{"SADD", "{e}s", "1"}, {"SADD", "{e}t", "1", "2"}, {"HSET", "{e}h", "f", strings.Repeat("v", 65)},
	} {
		require.Equal(t, redis.Do(c...), cs[0].Do(c...), "%q", c)
	}
	for i, n := range nodes {
		require.Equal(t, redis.Do("CONFIG", "GET", "zset-max-listpack-entries"), cs[i].Do("CONFIG", "GET", "zset-max-listpack-entries"), "CONFIG GET through "+n.name)
		for _, k := range []string{"{e}z", "{e}y", "{e}s", "{e}t", "{e}h"} {
			want := redis.Do("OBJECT", "ENCODING", k)
			eventuallyEqual(t, want, func() string { return cs[i].Do("OBJECT", "ENCODING", k) }, "OBJECT ENCODING "+k+" through "+n.name)
		}
	}
	got := cs[1].Do("CONFIG", "SET", "maxmemory", "1")
	require.True(t, strings.HasPrefix(got, "-ERR dynonode: CONFIG SET 'maxmemory' is not supported: the embedded store serves only "), got)
}

// TestEmbeddedClusterDumpRestore: values move between a redis-server and
// 3 racks of embedded nodes with DUMP and RESTORE, as a migration tool
// moves them: Redis's payloads RESTOREd through one node land on every
// rack (each read through its own node), and the cluster's DUMPs RESTORE
// into the redis-server to the same content.
func TestEmbeddedClusterDumpRestore(t *testing.T) {
	nodes := startVersionedCluster(t, 250, "")
	cs := make([]*testproc.RESPClient, len(nodes))
	for i, n := range nodes {
		cs[i] = testproc.DialRESP(t, n.listen)
	}
	redis := testproc.DialRESP(t, testproc.Redis(t).Addr)
	fill := [][]string{
		{"SET", "s", strings.Repeat("compressible ", 10)}, {"RPUSH", "l", "a", "1", "b"}, {"SADD", "i", "1", "2", "3"},
		{"SADD", "t", "x", "y"}, {"HSET", "h", "f", "v", "n", "7"}, {"ZADD", "z", "1.5", "m", "2", "n"}, {"PFADD", "p", "a", "b", "c"},
	}
	reads := map[string][]string{
		"s": {"GET", "s"}, "l": {"LRANGE", "l", "0", "-1"}, "i": {"SMISMEMBER", "i", "1", "2", "3", "4"}, "t": {"SMISMEMBER", "t", "x", "y", "z"},
		"h": {"HMGET", "h", "f", "n", "x"}, "z": {"ZRANGE", "z", "0", "-1", "WITHSCORES"}, "p": {"PFCOUNT", "p"},
	}
	for _, c := range fill {
		redis.Do(c...)
	}
	for k, read := range reads {
		want := redis.Do(read...)
		dump := redis.Do("DUMP", k)
		payload := dump[strings.Index(dump, "\r\n")+2 : len(dump)-2]
		require.Equal(t, "+OK\r\n", cs[0].Do("RESTORE", k, "0", payload), "RESTORE %s into the cluster", k)
		for i, n := range nodes {
			eventuallyEqual(t, want, func() string { return cs[i].Do(read...) }, k+" restored, read through "+n.name)
		}
		// And back: the cluster's DUMP into Redis under another name.
		back := cs[2].Do("DUMP", k)
		require.True(t, strings.HasPrefix(back, "$"), back)
		require.Equal(t, "+OK\r\n", redis.Do("RESTORE", k+"2", "0", back[strings.Index(back, "\r\n")+2:len(back)-2]), "RESTORE %s's DUMP into Redis", k)
		read2 := append([]string{read[0], k + "2"}, read[2:]...)
		require.Equal(t, want, redis.Do(read2...), "%s back in Redis", k)
	}
}
