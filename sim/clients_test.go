package sim_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
)

// closingSink is a simulated client's end of its connection: the
// replies, and whether the node closed it.
type closingSink struct {
	data   []byte
	closed bool
}

func (s *closingSink) Receive(_ actors.Context, m any) {
	if r, ok := m.(coord.Replies); ok {
		s.data = append(s.data, r.Data...)
		s.closed = s.closed || r.Close
	}
}

type clientConn struct {
	w    *sim.World
	addr actors.Addr
	out  *closingSink
}

var clientSinks int

// dial opens a connection on node as the daemon's edge does (Cluster.Connect).
func dial(c *sim.Cluster, node string) *clientConn {
	clientSinks++
	s := &closingSink{}
	sink := c.W.Spawn(actors.NodeID(node), fmt.Sprintf("sink%d", clientSinks), func() actors.Behaviour { return s })
	return &clientConn{w: c.W, addr: c.Connect(node, config.DCOne, config.DCOne, sink), out: s}
}

// send sends one command and returns what is written back within a
// second of simulated time.
func (k *clientConn) send(t *testing.T, args ...string) string {
	t.Helper()
	var cmd [][]byte
	for _, a := range args {
		cmd = append(cmd, []byte(a))
	}
	before := len(k.out.data)
	k.w.Inject(actors.Addr{Node: k.addr.Node, Name: "edge"}, k.addr, coord.Requests{Cmds: [][][]byte{cmd}})
	require.NoError(t, k.w.RunFor(time.Second))
	return string(k.out.data[before:])
}

var lineID = regexp.MustCompile(`(?m)^id=([0-9]+) addr=(\S+) laddr=(\S+) .* name=(\S*) .* cmd=(\S+) user=default redir=-1 resp=2$`)

// rows is a CLIENT LIST reply as "id addr laddr name cmd" per line.
func rows(t *testing.T, reply string) []string {
	t.Helper()
	require.True(t, strings.HasPrefix(reply, "$"), reply)
	var out []string
	for _, m := range lineID.FindAllStringSubmatch(reply, -1) {
		out = append(out, strings.Join(m[1:], " "))
	}
	return out
}

// TestClientListKillInTheSimulator: on a 3-rack cluster with lossy,
// jittery links, CLIENT LIST through a node shows that node's simulated
// connections (not the other nodes'), and CLIENT KILL by ID, ADDR and
// USER closes the connections it names, each closed by its own
// coordinator; a node restarted after a crash lists only the
// connections made since. The same seed gives the same replies.
func TestClientListKillInTheSimulator(t *testing.T) {
	run := func(seed int64) []string {
		c, err := sim.NewCluster(sim.ClusterSpec{Seed: seed, Racks: []int{3}, Net: sim.Link{Latency: time.Millisecond,
			Jitter: 2 * time.Millisecond, Drop: 0.01}})
		require.NoError(t, err)
		require.NoError(t, c.W.RunFor(3*time.Second))
		clientSinks = 0
		a, b, other, d := dial(c, "dc1-r1-n1"), dial(c, "dc1-r1-n1"), dial(c, "dc1-r2-n1"), dial(c, "dc1-r1-n1")
		var log []string
		require.Equal(t, "+OK\r\n", a.send(t, "CLIENT", "SETNAME", "admin"))
		require.Equal(t, "+OK\r\n", b.send(t, "SET", "k", "v"))
		require.Equal(t, "+PONG\r\n", other.send(t, "PING"))
		list := a.send(t, "CLIENT", "LIST")
		log = append(log, list)
		require.Equal(t, []string{
			"1 " + sim.ClientAddr(1) + " dc1-r1-n1:8102 admin client|list",
			"2 " + sim.ClientAddr(2) + " dc1-r1-n1:8102  set",
			"4 " + sim.ClientAddr(4) + " dc1-r1-n1:8102  NULL",
		}, rows(t, list), "the node's own connections, by id")
		require.Equal(t, []string{"3 " + sim.ClientAddr(3) + " dc1-r2-n1:8102  client|list"}, rows(t, other.send(t, "CLIENT", "LIST")))

		require.Equal(t, ":1\r\n", a.send(t, "CLIENT", "KILL", "ID", "2"))
		require.True(t, b.out.closed, "killed by ID")
		require.Equal(t, "", b.send(t, "GET", "k"), "a killed connection answers nothing")
		require.Equal(t, "+OK\r\n", a.send(t, "CLIENT", "KILL", sim.ClientAddr(4)))
		require.True(t, d.out.closed, "killed by address")
		require.Equal(t, "-ERR No such client\r\n", a.send(t, "CLIENT", "KILL", sim.ClientAddr(3)), "another node's connection")
		require.False(t, other.out.closed)
		require.Equal(t, ":0\r\n", a.send(t, "CLIENT", "KILL", "USER", "default"), "the asker is spared")
		require.Equal(t, ":1\r\n", a.send(t, "CLIENT", "KILL", "USER", "default", "SKIPME", "no"))
		require.True(t, a.out.closed, "killed itself, after the reply")

		c.W.Crash("dc1-r1-n1")
		require.NoError(t, c.W.RunFor(time.Second))
		c.W.Restart("dc1-r1-n1")
		require.NoError(t, c.W.RunFor(5*time.Second))
		fresh := dial(c, "dc1-r1-n1")
		list = fresh.send(t, "CLIENT", "LIST")
		log = append(log, list)
		require.Equal(t, []string{"5 " + sim.ClientAddr(5) + " dc1-r1-n1:8102  client|list"}, rows(t, list))
		require.NoError(t, c.W.Err())
		return log
	}
	require.Equal(t, run(5), run(5), "the same seed, the same replies")
}
