package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// startVersionedCluster starts three embedded-store nodes in three racks
// (versions on by default), with extra config lines and flags, and waits
// until each sees the others up.
func startVersionedCluster(t *testing.T, base int, extra string, flags ...string) []*joinNode {
	dir := t.TempDir()
	var nodes []*joinNode
	for i := 1; i <= 3; i++ {
		ip := fmt.Sprintf("127.0.0.%d", base+i)
		nodes = append(nodes, &joinNode{name: fmt.Sprintf("node%d", i), dc: "dc1", rack: fmt.Sprintf("rack%d", i), token: 0,
			listen: testproc.FreeAddr(t, ip), dyn: testproc.FreeAddr(t, ip), adm: testproc.FreeAddr(t, ip), extra: extra, flags: flags})
	}
	for _, n := range nodes {
		var seeds []*joinNode
		for _, o := range nodes {
			if o != n {
				seeds = append(seeds, o)
			}
		}
		startJoinNode(t, dir, n, seeds)
	}
	waitAllUp(t, nodes)
	return nodes
}

// TestNewestWriteWinsWhateverTheClocks: node1's wall clock is set 300 s
// behind; a key written through node2, then overwritten through node1
// three seconds later, holds the overwrite on every replica and a
// DC_QUORUM read returns it: node1's hybrid clock merged the others'
// readings from their messages, so its write is the newer version. A
// delete through node1 after a write through node2 is not undone by it.
func TestNewestWriteWinsWhateverTheClocks(t *testing.T) {
	nodes := startVersionedCluster(t, 140, "  read_consistency: DC_QUORUM\n  write_consistency: DC_QUORUM\n", "--fault-injection")
	code, body := httpGet(t, "http://"+nodes[0].adm+"/fault/clock_offset/-300000")
	require.Equal(t, 200, code, body)
	time.Sleep(2500 * time.Millisecond) // two heartbeats: node1 hears from the others after its clock step
	c1, c2 := testproc.DialRESP(t, nodes[0].listen), testproc.DialRESP(t, nodes[1].listen)

	require.Equal(t, "+OK\r\n", c2.Do("SET", "k", "old"))
	time.Sleep(3 * time.Second)
	require.Equal(t, "+OK\r\n", c1.Do("SET", "k", "new"))
	for _, n := range nodes {
		c := testproc.DialRESP(t, n.listen)
		eventuallyTrue(t, 2*time.Second, func() bool { return c.Do("GET", "k") == "$3\r\nnew\r\n" }, n.name+" reads the overwrite")
	}

	require.Equal(t, "+OK\r\n", c2.Do("SET", "d", "v"))
	time.Sleep(3 * time.Second)
	require.Equal(t, ":1\r\n", c1.Do("DEL", "d"))
	time.Sleep(500 * time.Millisecond)
	for _, n := range nodes {
		require.Equal(t, "$-1\r\n", testproc.DialRESP(t, n.listen).Do("GET", "d"), "%s: the delete holds", n.name)
	}
}

// TestExpiryIsAbsolute: SET with a relative expiry through one node
// expires on every replica at the same instant: the coordinator sends an
// absolute deadline. Each node's local replica (DC_ONE reads) reports a
// PTTL whose deadline is within 10 ms of the others'.
func TestExpiryIsAbsolute(t *testing.T) {
	nodes := startVersionedCluster(t, 150, "")
	require.Equal(t, "+OK\r\n", testproc.DialRESP(t, nodes[0].listen).Do("SET", "e", "v", "PX", "3000"))
	time.Sleep(300 * time.Millisecond) // replication
	var deadlines []time.Time
	for _, n := range nodes {
		c := testproc.DialRESP(t, n.listen)
		before := time.Now()
		reply := c.Do("PTTL", "e")
		after := time.Now()
		require.True(t, strings.HasPrefix(reply, ":"), "%s: %q", n.name, reply)
		ms, err := strconv.Atoi(strings.TrimSpace(reply[1:]))
		require.NoError(t, err)
		require.Positive(t, ms, "%s still holds the key", n.name)
		require.Less(t, after.Sub(before), 5*time.Millisecond, "a PTTL round trip bounds the measurement")
		deadlines = append(deadlines, before.Add(time.Duration(ms)*time.Millisecond))
	}
	for _, d := range deadlines[1:] {
		diff := d.Sub(deadlines[0]).Abs()
		require.Less(t, diff, 10*time.Millisecond, "replicas' deadlines differ by %s", diff)
	}
	time.Sleep(time.Until(deadlines[0].Add(50 * time.Millisecond)))
	for _, n := range nodes {
		require.Equal(t, "$-1\r\n", testproc.DialRESP(t, n.listen).Do("GET", "e"), "%s: expired", n.name)
	}
}

// TestExpiryIsAbsoluteOnRedis: the same on three racks with a
// redis-server each, measured in the redis-servers themselves: SET EX
// through one node leaves every replica's key with one absolute deadline
// (PEXPIRETIME, in ms: within 10 ms of each other, in fact equal), and
// after it no replica holds the key. SET PX and EXPIRE through other
// nodes likewise.
func TestExpiryIsAbsoluteOnRedis(t *testing.T) {
	nodes := startCluster(t, 180, "", "dc1/r1", "dc1/r2", "dc1/r3")
	for i, c := range []struct{ key, cmd string }{
		{"ex", "SET ex v EX 3"},
		{"px", "SET px v PX 2500"},
		{"expire", "EXPIRE expire 2"},
	} {
		via := testproc.DialRESP(t, nodes[i].listen)
		if c.key == "expire" {
			require.Equal(t, "+OK\r\n", via.Do("SET", "expire", "v"))
		}
		reply := via.Do(strings.Fields(c.cmd)...)
		require.Contains(t, []string{"+OK\r\n", ":1\r\n"}, reply, c.cmd)
		var deadlines []int64
		for _, n := range nodes {
			r := testproc.DialRESP(t, n.redis.Addr)
			var ms int64
			eventuallyTrue(t, 2*time.Second, func() bool {
				got := r.Do("PEXPIRETIME", c.key)
				var err error
				ms, err = strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(got, ":")), 10, 64)
				return err == nil && ms > 0
			}, fmt.Sprintf("%s: %s's redis holds the key with a deadline", c.cmd, n.rack))
			deadlines = append(deadlines, ms)
		}
		for _, d := range deadlines[1:] {
			diff := time.Duration(d-deadlines[0]) * time.Millisecond
			require.Less(t, diff.Abs(), 10*time.Millisecond, "%s: the replicas' deadlines differ by %s", c.cmd, diff)
		}
		time.Sleep(time.Until(time.UnixMilli(deadlines[0]).Add(50 * time.Millisecond)))
		for _, n := range nodes {
			require.Equal(t, ":0\r\n", testproc.DialRESP(t, n.redis.Addr).Do("EXISTS", c.key), "%s: %s's redis expired it", c.cmd, n.rack)
			require.Equal(t, "$-1\r\n", testproc.DialRESP(t, n.listen).Do("GET", c.key), "%s: expired through %s", c.cmd, n.rack)
		}
	}
}

// TestRestartedReplicaReadsNewest is issue 19's reproduction on three
// racks with a redis-server each: node2 is killed (kill -9) while a key is
// overwritten, then restarted with its redis still holding the old value,
// and rack3's redis is stopped. A DC_QUORUM read through node2 hears its
// own stale replica and rack1's: it returns the new value, never the old
// one, and read repair puts the new value into node2's redis within a
// second. The same with DEL in place of the overwrite reads nil: the
// deleted key does not come back.
func TestRestartedReplicaReadsNewest(t *testing.T) {
	nodes := startCluster(t, 170, "  read_consistency: DC_QUORUM\n  write_consistency: DC_QUORUM\n  read_repairs_enabled: true\n",
		"dc1/r1", "dc1/r2", "dc1/r3")
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	c1 := testproc.DialRESP(t, n1.listen)
	require.Equal(t, "+OK\r\n", c1.Do("SET", "k", "old"))
	require.Equal(t, "+OK\r\n", c1.Do("SET", "d", "gone"))
	for _, n := range nodes {
		eventuallyEqual(t, bulkOf("old"), func() string { return testproc.DialRESP(t, n.redis.Addr).Do("GET", "k") }, "replicated")
	}

	n2.proc.Kill()
	require.Equal(t, "+OK\r\n", c1.Do("SET", "k", "new"))
	require.Equal(t, ":1\r\n", c1.Do("DEL", "d"))
	require.Equal(t, bulkOf("old"), testproc.DialRESP(t, n2.redis.Addr).Do("GET", "k"), "node2's redis missed the overwrite")
	require.Equal(t, bulkOf("gone"), testproc.DialRESP(t, n2.redis.Addr).Do("GET", "d"), "node2's redis missed the delete")
	n2.proc.Restart()
	require.NoError(t, n3.redis.Stop())
	t.Cleanup(func() { _ = n3.redis.Signal(syscall.SIGCONT) })

	c2 := testproc.DialRESP(t, n2.listen)
	eventuallyEqual(t, bulkOf("new"), func() string { return c2.Do("GET", "k") }, "a DC_QUORUM read through the restarted node")
	repaired := time.Now()
	eventuallyEqual(t, bulkOf("new"), func() string { return testproc.DialRESP(t, n2.redis.Addr).Do("GET", "k") }, "read repair of node2's redis")
	require.Less(t, time.Since(repaired), time.Second, "node2's redis holds the new value within a second")
	for range 20 {
		require.Equal(t, bulkOf("new"), c2.Do("GET", "k"), "never the old value")
	}

	require.Equal(t, "$-1\r\n", c2.Do("GET", "d"), "the deleted key does not come back")
	eventuallyEqual(t, "$-1\r\n", func() string { return testproc.DialRESP(t, n2.redis.Addr).Do("GET", "d") }, "the delete repaired into node2's redis")
}
