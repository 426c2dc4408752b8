package coord_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
)

// mcCluster is a simulated cluster whose datastores are memcacheds.
func mcCluster(t *testing.T, racks, per int) *sim.Cluster {
	c, err := sim.NewCluster(sim.ClusterSpec{Seed: 3, Racks: []int{racks}, PerRack: per, Config: map[string]any{"data_store": 1}})
	require.NoError(t, err)
	return c
}

// mcDo sends raw (one or more requests) through a new memcached connection
// on node at level and returns the replies.
func mcDo(t *testing.T, c *sim.Cluster, node string, level config.Consistency, raw string) string {
	t.Helper()
	cl := &client{}
	name := fmt.Sprintf("mcsink%d", time.Duration(c.W.Now()))
	sink := c.W.Spawn(actors.NodeID(node), name, func() actors.Behaviour { return cl })
	conn := c.Connect(node, level, level, sink)
	reqs, _, err := mcproto.NewParser(mcproto.DefaultLimits()).Parse([]byte(raw))
	require.NoError(t, err)
	c.W.Inject(sink, conn, coord.MCRequests{Reqs: reqs})
	require.NoError(t, c.W.RunFor(time.Second))
	return string(cl.data)
}

// TestMemcachedGetsAtQuorumIgnoresCas: replicas that hold the same item
// but number it with different cas uniques (each memcached counts its own)
// agree for a DC_SAFE_QUORUM gets, split across owners or not; replicas
// whose data differs still disagree.
func TestMemcachedGetsAtQuorumIgnoresCas(t *testing.T) {
	c := mcCluster(t, 3, 2)
	node := "dc1-r1-n1"
	// Bump the cas counters of racks r2 and r3 by different counts, with
	// writes of their own: no two racks number the items alike.
	for _, b := range []struct {
		rack string
		n    int
	}{{"r2", 3}, {"r3", 5}} {
		rack := b.rack
		for i := range b.n {
			for _, n := range []string{"dc1-" + rack + "-n1", "dc1-" + rack + "-n2"} {
				c.W.Inject(actors.Addr{}, actors.Addr{Node: actors.NodeID(n), Name: "store"},
					store.Exec{ID: 1, Quiet: true, Args: [][]byte{[]byte(fmt.Sprintf("set local%d 0 0 1\r\nx\r\n", i))}})
			}
		}
	}
	keys := []string{"a", "b", "c", "d", "e", "f"}
	for _, k := range keys {
		require.Equal(t, "STORED\r\n", mcDo(t, c, node, config.DCSafeQuorum, "set "+k+" 7 0 2\r\nv"+k+"\r\n"))
	}
	got := mcDo(t, c, node, config.DCSafeQuorum, "gets "+strings.Join(keys, " ")+"\r\n")
	var r mcproto.Response
	n, err := mcproto.ParseResponse(mcproto.KindGets, []byte(got), &r)
	require.NoError(t, err, got)
	require.Equal(t, len(got), n)
	require.Len(t, r.Items, len(keys), got)
	for i, it := range r.Items {
		require.Equal(t, keys[i], string(it.Key))
		require.Equal(t, "v"+keys[i], string(it.Data))
		require.True(t, it.HasCas)
	}
	// A replica whose data differs in two racks: no agreeing quorum.
	for _, n := range []string{"dc1-r2-n1", "dc1-r2-n2"} {
		c.W.Inject(actors.Addr{}, actors.Addr{Node: actors.NodeID(n), Name: "store"},
			store.Exec{ID: 1, Quiet: true, Args: [][]byte{[]byte("set a 7 0 2\r\nzz\r\n")}})
	}
	for _, n := range []string{"dc1-r3-n1", "dc1-r3-n2"} {
		c.W.Inject(actors.Addr{}, actors.Addr{Node: actors.NodeID(n), Name: "store"},
			store.Exec{ID: 1, Quiet: true, Args: [][]byte{[]byte("set a 7 0 2\r\nyy\r\n")}})
	}
	require.Equal(t, "SERVER_ERROR Dynomite: Failed to achieve Quorum: DC_SAFE_QUORUM replicas in dc1 disagree\r\n",
		mcDo(t, c, node, config.DCSafeQuorum, "gets a\r\n"))
}
