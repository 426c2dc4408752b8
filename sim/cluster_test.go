package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The real request path in the simulator: every node runs the embedded
// store actor; a client connection is a coordinator actor plus a sink that
// collects its replies, exactly as the daemon wires them.

type sink struct{ replies []string }

func (s *sink) Receive(_ actors.Context, m any) {
	if r, ok := m.(coord.Replies); ok && len(r.Data) > 0 {
		s.replies = append(s.replies, string(r.Data))
	}
}

type simCluster struct {
	*sim.Cluster
	w     *sim.World
	nodes []ring.Node
}

// newSimCluster boots a cluster of the daemon's node assembly: racks[i]
// racks in DC i+1, perRack nodes per rack, a 300 ms request timeout.
func newSimCluster(t require.TestingT, seed int64, racks []int, perRack int) *simCluster {
	c, err := sim.NewCluster(sim.ClusterSpec{Seed: seed, Racks: racks, PerRack: perRack, Timeout: 300 * time.Millisecond,
		Net: sim.Link{Latency: time.Millisecond, Jitter: time.Millisecond}})
	require.NoError(t, err)
	require.NoError(t, c.W.RunFor(time.Millisecond))
	return &simCluster{Cluster: c, w: c.W, nodes: c.Nodes}
}

type simConn struct {
	c    *simCluster
	addr actors.Addr
	out  *sink
}

var conns int

func (c *simCluster) connect(node string, read, write config.Consistency) *simConn {
	conns++
	name := fmt.Sprintf("client%d", conns)
	id := actors.NodeID(node)
	s := &sink{}
	sinkAddr := c.w.Spawn(id, name+"/w", func() actors.Behaviour { return s })
	return &simConn{c: c, addr: c.Connect(node, read, write, sinkAddr), out: s}
}

// do runs one command to completion and returns its reply.
func (k *simConn) do(t require.TestingT, args ...string) string {
	var cmd [][]byte
	for _, a := range args {
		cmd = append(cmd, []byte(a))
	}
	before := len(k.out.replies)
	k.c.w.Inject(actors.Addr{Node: k.addr.Node, Name: "edge"}, k.addr, coord.Requests{Cmds: [][][]byte{cmd}})
	require.NoError(t, k.c.w.RunFor(time.Second))
	require.Len(t, k.out.replies, before+1, "no reply to %v (seed=%d)", args, k.c.w.Seed())
	return k.out.replies[before]
}

var levels = []config.Consistency{config.DCOne, config.DCQuorum, config.DCSafeQuorum, config.DCEachSafeQuorum}

// TestPropAcknowledgedWritesReadableEverywhere: over topologies of 1-2 DCs,
// 1-3 racks and 1-3 nodes per rack and every level, with no faults, a write
// acknowledged at any level is read back at every level from every node.
func TestPropAcknowledgedWritesReadableEverywhere(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		racks := rapid.SliceOfN(rapid.IntRange(1, 3), 1, 2).Draw(rt, "racks per DC")
		perRack := rapid.IntRange(1, 3).Draw(rt, "nodes per rack")
		c := newSimCluster(rt, rapid.Int64().Draw(rt, "seed"), racks, perRack)
		written := map[string]string{}
		for i := range rapid.IntRange(1, 12).Draw(rt, "writes") {
			via := c.nodes[rapid.IntRange(0, len(c.nodes)-1).Draw(rt, "via")].ID
			level := levels[rapid.IntRange(0, 3).Draw(rt, "write level")]
			key := fmt.Sprintf("k%d", rapid.IntRange(0, 5).Draw(rt, "key"))
			val := fmt.Sprintf("v%d", i)
			require.Equal(rt, "+OK\r\n", c.connect(via, level, level).do(rt, "SET", key, val), "write at %s via %s", level, via)
			written[key] = val
		}
		require.NoError(rt, c.w.RunFor(time.Second)) // asynchronous replication settles
		for _, n := range c.nodes {
			for _, level := range levels {
				conn := c.connect(n.ID, level, level)
				for key, val := range written {
					require.Equal(rt, fmt.Sprintf("$%d\r\n%s\r\n", len(val), val), conn.do(rt, "GET", key),
						"read %s at %s via %s", key, level, n.ID)
				}
			}
		}
	})
}

// reachable counts the local-DC racks a coordinator on node n can still
// reach when rack (dc, rack) is isolated.
func reachableRacks(c *simCluster, n ring.Node, dc, rack string) int {
	racks := map[string]bool{}
	for _, o := range c.nodes {
		if o.DC != n.DC {
			continue
		}
		cut := (o.DC == dc && o.Rack == rack) != (n.DC == dc && n.Rack == rack)
		if !cut {
			racks[o.Rack] = true
		}
	}
	return len(racks)
}

// TestPropRackPartition: with one rack cut off, DC_ONE writes succeed
// through every node (the cluster stays available), and DC_QUORUM writes
// succeed exactly where a quorum of the local DC's racks is reachable.
func TestPropRackPartition(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		racks := rapid.SliceOfN(rapid.IntRange(2, 3), 1, 2).Draw(rt, "racks per DC")
		perRack := rapid.IntRange(1, 2).Draw(rt, "nodes per rack")
		c := newSimCluster(rt, rapid.Int64().Draw(rt, "seed"), racks, perRack)
		victim := c.nodes[rapid.IntRange(0, len(c.nodes)-1).Draw(rt, "victim")]
		c.w.IsolateRack(victim.DC, victim.Rack)
		for i, n := range c.nodes {
			key := fmt.Sprintf("key%d", i)
			require.Equal(rt, "+OK\r\n", c.connect(n.ID, config.DCOne, config.DCOne).do(rt, "SET", key, "one"),
				"DC_ONE write via %s with %s/%s cut off", n.ID, victim.DC, victim.Rack)
			got := c.connect(n.ID, config.DCQuorum, config.DCQuorum).do(rt, "SET", key, "quorum")
			total := racks[dcIndex(n.DC)]
			if reachableRacks(c, n, victim.DC, victim.Rack) >= total/2+1 {
				require.Equal(rt, "+OK\r\n", got, "quorum reachable from %s", n.ID)
			} else {
				require.True(rt, strings.HasPrefix(got, "-ERR Dynomite: Failed to achieve Quorum: DC_QUORUM"),
					"no quorum from %s, got %q", n.ID, got)
			}
		}
	})
}

func dcIndex(dc string) int {
	var i int
	_, _ = fmt.Sscanf(dc, "dc%d", &i) // DCs are named dc1, dc2, ...
	return i - 1
}

// TestDCPartition: two DCs of three racks cut apart. Each side keeps
// serving DC_ONE and DC_QUORUM, whose quorums are local to a DC;
// DC_EACH_SAFE_QUORUM, which needs every DC, refuses. After the heal, new
// writes replicate across again. (That the writes a DC accepted while cut
// off are carried over, by hints and anti-entropy, is
// scenarios/region-partition-converges.yaml's claim.)
func TestDCPartition(t *testing.T) {
	c := newSimCluster(t, 5, []int{3, 3}, 1)
	c.w.IsolateDC("dc1")
	for _, n := range []string{"dc1-r1-n1", "dc2-r3-n1"} {
		for _, level := range []config.Consistency{config.DCOne, config.DCQuorum, config.DCSafeQuorum} {
			k := c.connect(n, level, level)
			require.Equal(t, "+OK\r\n", k.do(t, "SET", "a-"+n, "v"), "%s via %s", level, n)
			require.Equal(t, "$1\r\nv\r\n", k.do(t, "GET", "a-"+n), "%s via %s", level, n)
		}
		each := c.connect(n, config.DCEachSafeQuorum, config.DCEachSafeQuorum).do(t, "SET", "b", "v")
		require.True(t, strings.HasPrefix(each, "-ERR Dynomite: Failed to achieve Quorum: DC_EACH_SAFE_QUORUM"), each)
	}
	c.w.Heal()
	// Gossip declared the other DC down while apart; it is up again once
	// heartbeats cross (a few intervals).
	require.NoError(t, c.w.RunFor(5*time.Second))
	require.Equal(t, "+OK\r\n", c.connect("dc1-r2-n1", config.DCEachSafeQuorum, config.DCEachSafeQuorum).do(t, "SET", "c", "w"))
	require.Equal(t, "$1\r\nw\r\n", c.connect("dc2-r2-n1", config.DCOne, config.DCOne).do(t, "GET", "c"))
}

// TestRoutingAroundADownNode: once gossip marks a node down, a DC_ONE read
// whose local-rack owner it is goes to the owner in another rack instead of
// timing out (Dynomite answers "Peer Node is not connected" here), and a
// DC_QUORUM write counts it as failed at once instead of waiting.
func TestRoutingAroundADownNode(t *testing.T) {
	c := newSimCluster(t, 9, []int{3}, 2)
	require.NoError(t, c.w.RunFor(5*time.Second))
	coordNode, victim := "dc1-r1-n1", "dc1-r1-n2"
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprintf("key%d", i); string(c.Assembly(coordNode).Ring().LocalOwner([]byte(k))) == victim {
			key = k
		}
	}
	require.Equal(t, "+OK\r\n", c.connect(coordNode, config.DCOne, config.DCOne).do(t, "SET", key, "v"))
	require.NoError(t, c.w.RunFor(time.Second))
	c.w.Crash(actors.NodeID(victim))
	require.NoError(t, c.w.RunFor(15*time.Second)) // detection bound is 10s
	one := c.connect(coordNode, config.DCOne, config.DCOne)
	start := c.w.Now()
	require.Equal(t, "$1\r\nv\r\n", one.do(t, "GET", key), "DC_ONE read falls back to another rack")
	require.Equal(t, "+OK\r\n", one.do(t, "SET", key, "w"), "DC_ONE write answered by another rack")
	quorum := c.connect(coordNode, config.DCQuorum, config.DCQuorum)
	require.Equal(t, "+OK\r\n", quorum.do(t, "SET", key, "x"))
	require.Equal(t, "$1\r\nx\r\n", quorum.do(t, "GET", key))
	require.Less(t, c.w.Now()-start, 5*time.Second, "no request waited for a timeout")
	// The node returns: it is used again once gossip hears from it.
	c.w.Restart(actors.NodeID(victim))
	require.NoError(t, c.w.RunFor(5*time.Second))
	require.Equal(t, "+OK\r\n", c.connect(coordNode, config.DCOne, config.DCOne).do(t, "SET", key, "y"))
	require.Equal(t, "$1\r\ny\r\n", c.connect("dc1-r2-n1", config.DCOne, config.DCOne).do(t, "GET", key))
}
