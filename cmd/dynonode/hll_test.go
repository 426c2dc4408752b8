package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/internal/testproc"
)

// TestEmbeddedClusterHyperLogLog: sketches on 3 racks of embedded nodes
// (versions on). Elements added through every node, some twice, reach
// every replica in whatever order the links deliver them; a sketch's
// registers are maxima, so every replica ends with the same registers and
// every node (DC_ONE: its own rack's replica) counts what a single
// redis-server counts for the same elements, sparse and dense. (PFMERGE
// and a PFCOUNT of several keys need their keys to share replicas: {h}
// makes sure of it on larger rings.)
func TestEmbeddedClusterHyperLogLog(t *testing.T) {
	nodes := startVersionedCluster(t, 160, "")
	cs := make([]*testproc.RESPClient, len(nodes))
	for i, n := range nodes {
		cs[i] = testproc.DialRESP(t, n.listen)
	}
	redis := testproc.DialRESP(t, testproc.Redis(t).Addr)
	for _, key := range []string{"{h}:small", "{h}:big"} {
		n := 40
		if key == "{h}:big" {
			n = 6000 // past the sparse limit: dense
		}
		for i := 0; i < n; i += 100 {
			args := []string{"PFADD", key}
			for j := i; j < min(i+100, n); j++ {
				args = append(args, fmt.Sprintf("e%d", j), fmt.Sprintf("e%d", j/2))
			}
			want := redis.Do(args...)
			require.Equal(t, want, cs[(i/100)%len(cs)].Do(args...), "%s batch %d", key, i)
		}
		want := redis.Do("PFCOUNT", key)
		for i, node := range nodes {
			eventuallyEqual(t, want, func() string { return cs[i].Do("PFCOUNT", key) }, key+" counted through "+node.name)
		}
	}
	want := redis.Do("PFCOUNT", "{h}:small", "{h}:big")
	for i, node := range nodes {
		require.Equal(t, want, cs[i].Do("PFCOUNT", "{h}:small", "{h}:big"), "union through "+node.name)
	}
	require.Equal(t, "+OK\r\n", redis.Do("PFMERGE", "{h}:all", "{h}:small", "{h}:big"))
	require.Equal(t, "+OK\r\n", cs[1].Do("PFMERGE", "{h}:all", "{h}:small", "{h}:big"))
	want = redis.Do("PFCOUNT", "{h}:all")
	for i, node := range nodes {
		eventuallyEqual(t, want, func() string { return cs[i].Do("PFCOUNT", "{h}:all") }, "the merge on "+node.name)
	}
	// Another type, and a string that is not a sketch: Redis's errors.
	require.Equal(t, "+OK\r\n", cs[0].Do("SET", "plain", "hello"))
	eventuallyEqual(t, bulkOf("hello"), func() string { return cs[2].Do("GET", "plain") }, "the SET on node3's rack")
	require.Equal(t, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n", cs[2].Do("PFADD", "plain", "x"))
}
