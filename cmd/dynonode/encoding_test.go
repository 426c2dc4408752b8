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
