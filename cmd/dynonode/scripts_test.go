package main

import (
	"strings"
	"testing"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// TestClusterScripts: 3 racks, one redis-server each. EVAL through one
// node writes its keys on every rack's redis; SCRIPT LOAD through one node
// reaches every redis, so EVALSHA through another runs; EVAL_RO reads and
// refuses writes as Redis does; SCRIPT FLUSH through a third empties every
// script cache.
func TestClusterScripts(t *testing.T) {
	nodes := startCluster(t, 120, "", "dc1/r1", "dc1/r2", "dc1/r3")
	c0 := testproc.DialRESP(t, nodes[0].listen)
	c1 := testproc.DialRESP(t, nodes[1].listen)
	c2 := testproc.DialRESP(t, nodes[2].listen)
	eventuallyEqual(t, ":2\r\n", func() string {
		return c0.Do("EVAL", "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCRBY', KEYS[2], 2)", "2", "{u}:name", "{u}:count", "ada")
	}, "EVAL through node 0")
	direct := make([]*testproc.RESPClient, len(nodes))
	for i, n := range nodes {
		direct[i] = testproc.DialRESP(t, n.redis.Addr)
		eventuallyEqual(t, bulkOf("ada"), func() string { return direct[i].Do("GET", "{u}:name") }, "the script's SET on rack "+n.rack)
		require.Equal(t, bulkOf("2"), direct[i].Do("GET", "{u}:count"), "the script's INCRBY on rack %s, once", n.rack)
	}
	// With versions (the default) the script's declared keys carry its
	// version, the same on every rack (written in place: 'r').
	stamp := direct[0].Do("HGET", "__dyno:v", "{u}:count")
	require.True(t, strings.HasPrefix(stamp, "$") && strings.Contains(stamp, "\r\nr"), "version of a scripted key: %q", stamp)
	for i, n := range nodes {
		for _, k := range []string{"{u}:name", "{u}:count"} {
			require.Equal(t, direct[0].Do("HGET", "__dyno:v", k), direct[i].Do("HGET", "__dyno:v", k), "version of %s on rack %s", k, n.rack)
		}
	}

	body := "return redis.call('GET', KEYS[1])"
	sha := strings.TrimSuffix(strings.SplitN(c0.Do("SCRIPT", "LOAD", body), "\r\n", 3)[1], "\r\n")
	require.Len(t, sha, 40)
	for i, n := range nodes {
		eventuallyEqual(t, "*1\r\n:1\r\n", func() string { return direct[i].Do("SCRIPT", "EXISTS", sha) }, "SCRIPT LOAD reached rack "+n.rack)
	}
	require.Equal(t, bulkOf("ada"), c1.Do("EVALSHA", sha, "1", "{u}:name"))
	require.Equal(t, "*1\r\n:1\r\n", c1.Do("SCRIPT", "EXISTS", sha))

	require.Equal(t, bulkOf("ada"), c2.Do("EVAL_RO", body, "1", "{u}:name"))
	got := c2.Do("EVAL_RO", "return redis.call('SET', KEYS[1], 'x')", "1", "{u}:name")
	require.True(t, strings.HasPrefix(got, "-ERR Write commands are not allowed from read-only scripts."), got)
	got = c2.Do("EVAL", "return 1", "-1")
	require.Equal(t, "-ERR Number of keys can't be negative\r\n", got)

	got = c2.Do("SCRIPT", "DEBUG", "YES")
	require.True(t, strings.HasPrefix(got, "-ERR dynonode: 'SCRIPT DEBUG' is not supported"), got)
	require.Equal(t, "+OK\r\n", c2.Do("SCRIPT", "FLUSH"))
	for i, n := range nodes {
		eventuallyEqual(t, "*1\r\n:0\r\n", func() string { return direct[i].Do("SCRIPT", "EXISTS", sha) }, "SCRIPT FLUSH reached rack "+n.rack)
	}
	require.Equal(t, "-NOSCRIPT No matching script. Please use EVAL.\r\n", c0.Do("EVALSHA", sha, "1", "{u}:name"))
}

// TestEmbeddedClusterScripts: the same on 3 racks of embedded-store
// nodes (versions on, the default): the engine's own Lua VM runs the
// script on every replica, each read here through its own node (DC_ONE
// reads the local replica).
func TestEmbeddedClusterScripts(t *testing.T) {
	nodes := startVersionedCluster(t, 123, "")
	cs := make([]*testproc.RESPClient, len(nodes))
	for i, n := range nodes {
		cs[i] = testproc.DialRESP(t, n.listen)
	}
	require.Equal(t, "*2\r\n:1\r\n:2\r\n", cs[0].Do("EVAL",
		"return {redis.call('RPUSH', KEYS[1], ARGV[1]), redis.call('RPUSH', KEYS[1], ARGV[2])}", "1", "{q}:jobs", "a", "b"))
	for i, n := range nodes {
		eventuallyEqual(t, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", func() string { return cs[i].Do("LRANGE", "{q}:jobs", "0", "-1") }, "the script's writes on "+n.name)
	}
	sha := strings.SplitN(cs[1].Do("SCRIPT", "LOAD", "return redis.call('LPOP', KEYS[1])"), "\r\n", 3)[1]
	for i, n := range nodes {
		eventuallyEqual(t, "*1\r\n:1\r\n", func() string { return cs[i].Do("SCRIPT", "EXISTS", sha) }, "SCRIPT LOAD reached "+n.name)
	}
	require.Equal(t, bulkOf("a"), cs[2].Do("EVALSHA", sha, "1", "{q}:jobs"))
	for i, n := range nodes {
		eventuallyEqual(t, "*1\r\n$1\r\nb\r\n", func() string { return cs[i].Do("LRANGE", "{q}:jobs", "0", "-1") }, "the EVALSHA's pop on "+n.name)
	}
	got := cs[0].Do("EVAL", "return redis.call('INCR', KEYS[1])", "1", "{q}:jobs")
	require.True(t, strings.HasPrefix(got, "-WRONGTYPE Operation against a key holding the wrong kind of value script: "), got)
}
