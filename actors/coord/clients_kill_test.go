package coord_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/coord"
)

// TestClientKillEachOther: two connections that KILL each other at once,
// or both KILL TYPE normal, end with exactly one killed, as in Redis,
// where a killed client's next command never runs (found by review: the
// registry ran the killed connection's KILL and both died).
func TestClientKillEachOther(t *testing.T) {
	c := newCluster(t, "dc1/r1")
	a, b, w := c.client("n1"), c.client("n1"), c.client("n1")
	edge := actors.Addr{Node: "n1", Name: "edge"}
	c.w.Inject(edge, a.addr, coord.Requests{Cmds: [][][]byte{cmd("client kill id 2")}})
	c.w.Inject(edge, b.addr, coord.Requests{Cmds: [][][]byte{cmd("client kill id 1")}})
	require.NoError(t, c.w.RunFor(time.Second))
	require.True(t, a.cl.closed != b.cl.closed, "exactly one of the two is killed: a closed %v, b closed %v", a.cl.closed, b.cl.closed)
	require.False(t, w.cl.closed)

	x, y, z := c.client("n1"), c.client("n1"), c.client("n1")
	c.w.Inject(edge, x.addr, coord.Requests{Cmds: [][][]byte{cmd("client kill type normal")}})
	c.w.Inject(edge, y.addr, coord.Requests{Cmds: [][][]byte{cmd("client kill type normal")}})
	require.NoError(t, c.w.RunFor(time.Second))
	require.True(t, x.cl.closed != y.cl.closed, "one KILL TYPE normal runs, the other's sender is dead: x %v, y %v", x.cl.closed, y.cl.closed)
	require.True(t, z.cl.closed)
}
