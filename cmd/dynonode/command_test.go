package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/testproc"
)

// TestCommandLikeRedis: COMMAND answers with redis-server 7.0.15's own
// metadata for the commands a node serves (byte for byte against a live
// redis-server), leaves out the ones it refuses, and finds keys with
// GETKEYS as the router routes them, with Redis's errors.
func TestCommandLikeRedis(t *testing.T) {
	node := startOpNode(t, "")
	c := testproc.DialRESP(t, node.listen)
	plain := testproc.DialRESP(t, testproc.Redis(t).Addr)
	for _, cmd := range [][]string{
		{"COMMAND", "INFO", "get", "SET", "zadd", "eval", "sort", "georadius", "pfadd", "bogus"},
		{"COMMAND", "INFO", "client|setname"},
		{"COMMAND", "DOCS", "get", "hset", "bogus"},
		{"COMMAND", "GETKEYS", "get", "a"}, {"COMMAND", "GETKEYS", "get"}, {"COMMAND", "GETKEYS", "bogus", "a"},
		{"COMMAND", "GETKEYS", "set", "a"}, {"COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"},
		{"COMMAND", "GETKEYS", "eval", "return 1", "0"}, {"COMMAND", "GETKEYS", "eval", "return 1", "2", "k1", "k2", "a"},
		{"COMMAND", "GETKEYS", "sort", "k", "store", "d"}, {"COMMAND", "GETKEYS", "ping", "x"}, {"COMMAND", "GETKEYS", "zunionstore", "d", "2", "a", "b"},
		{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"}, {"COMMAND", "LIST", "FILTERBY", "bogus", "x"}, {"COMMAND", "LIST", "FILTERBY"},
		{"COMMAND", "LIST", "FILTERBY", "MODULE", "x"}, {"COMMAND", "BOGUS"}, {"COMMAND", "COUNT", "x"}, {"COMMAND", "HELP"},
	} {
		require.Equal(t, plain.Do(cmd...), c.Do(cmd...), "%q", cmd)
	}
	// Refused commands are absent; every listed one is counted.
	require.Equal(t, "*1\r\n$-1\r\n", c.Do("COMMAND", "INFO", "wait"))
	all, _, err := resp.ParseReply([]byte(c.Do("COMMAND")))
	require.NoError(t, err)
	require.Equal(t, ":"+itoa(len(all.Elems))+"\r\n", c.Do("COMMAND", "COUNT"))
	list := c.Do("COMMAND", "LIST", "FILTERBY", "PATTERN", "geo*")
	require.Contains(t, list, "geosearchstore")
	require.NotContains(t, c.Do("COMMAND", "LIST"), "$4\r\nwait\r\n")
	require.True(t, strings.HasPrefix(c.Do("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b"), "-ERR dynonode: 'COMMAND GETKEYSANDFLAGS' is not supported"))
}

func itoa(n int) string {
	return strings.TrimSuffix(strings.TrimPrefix(string(resp.AppendInt(nil, int64(n))), ":"), "\r\n")
}

// TestInfoSections: INFO answers the sections asked for, with Redis's
// field names where client libraries read them (redis_version, role,
// cluster_enabled), nothing for an unknown section (as Redis), and every
// section for none, "default", "all" or "everything".
func TestInfoSections(t *testing.T) {
	node := startOpNode(t, "")
	c := testproc.DialRESP(t, node.listen)
	plain := testproc.DialRESP(t, testproc.Redis(t).Addr)
	require.Equal(t, plain.Do("INFO", "bogus"), c.Do("INFO", "bogus"))
	sections := func(reply string) []string {
		var out []string
		for _, line := range strings.Split(reply, "\r\n") {
			if strings.HasPrefix(line, "# ") {
				out = append(out, line)
			}
		}
		return out
	}
	for _, args := range [][]string{{"INFO"}, {"INFO", "default"}, {"INFO", "ALL"}, {"INFO", "everything"}} {
		require.Equal(t, []string{"# Server", "# Replication", "# Cluster"}, sections(c.Do(args...)), "%q", args)
	}
	require.Equal(t, []string{"# Server"}, sections(c.Do("INFO", "server")))
	require.Equal(t, []string{"# Replication", "# Cluster"}, sections(c.Do("INFO", "Cluster", "replication")))
	for _, field := range []string{"redis_version:7.0.15", "redis_mode:standalone"} {
		require.Contains(t, c.Do("INFO", "server"), field)
		require.Contains(t, plain.Do("INFO", "server"), field)
	}
	for _, field := range []string{"role:master", "connected_slaves:0"} {
		require.Contains(t, c.Do("INFO", "replication"), field)
		require.Contains(t, plain.Do("INFO", "replication"), field)
	}
	require.Contains(t, c.Do("INFO", "cluster"), "# Cluster\r\ncluster_enabled:0\r\n")
	require.Contains(t, plain.Do("INFO", "cluster"), "# Cluster\r\ncluster_enabled:0\r\n")
}
