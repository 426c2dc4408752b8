package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// mcNode is one dynonode process (data_store 1) with its own memcached.
type mcNode struct {
	dc, rack string
	token    uint32
	listen   string
	dyn      string
	mc       *testproc.Proc
	proc     *testproc.Proc
}

// memcachedOn starts memcached on addr (a 127.0.0.x address: each node of
// a cluster test has its own loopback address).
func memcachedOn(t *testing.T, addr string) *testproc.Proc {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	args := []string{"-l", host, "-p", port, "-U", "0", "-m", "64"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	return testproc.Start(t, "memcached "+addr, testproc.Binary(t, "memcached"), args, addr)
}

// startMCCluster starts one dynonode per entry of layout ("dc/rack"), each
// in front of its own memcached; the nodes of a rack split its tokens
// evenly. extra[i], when given, is appended to node i's config. Node i
// listens on 127.0.0.(base+i).
func startMCCluster(t *testing.T, base int, extra []string, layout ...string) []*mcNode {
	t.Helper()
	perRack, seen := map[string]int{}, map[string]int{}
	for _, l := range layout {
		perRack[l]++
	}
	var nodes []*mcNode
	for i, l := range layout {
		dc, rack, _ := strings.Cut(l, "/")
		ip := fmt.Sprintf("127.0.0.%d", base+i)
		n := &mcNode{dc: dc, rack: rack, token: uint32(uint64(seen[l]) * (1 << 32) / uint64(perRack[l])),
			listen: testproc.FreeAddr(t, ip), dyn: testproc.FreeAddr(t, ip)}
		seen[l]++
		n.mc = memcachedOn(t, testproc.FreeAddr(t, ip))
		nodes = append(nodes, n)
	}
	dir := t.TempDir()
	for i, n := range nodes {
		var seeds []string
		for _, o := range nodes {
			if o != n {
				seeds = append(seeds, fmt.Sprintf("  - %s:%s:%s:%d", o.dyn, o.rack, o.dc, o.token))
			}
		}
		more := ""
		if i < len(extra) {
			more = extra[i]
		}
		conf := fmt.Sprintf(`dyn_o_mite:
  listen: %s
  dyn_listen: %s
  stats_listen: %s
  datacenter: %s
  rack: %s
  tokens: '%d'
  servers:
  - %s:1
  data_store: 1
  timeout: 3000
  dyn_seeds:
%s
%s`, n.listen, n.dyn, testproc.FreeAddr(t, fmt.Sprintf("127.0.0.%d", base+i)), n.dc, n.rack, n.token, n.mc.Addr, strings.Join(seeds, "\n"), more)
		path := filepath.Join(dir, fmt.Sprintf("node%d.yml", i))
		require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
		n.proc = testproc.Start(t, "dynonode "+n.listen, binary, []string{"-c", path, "-v", "5"}, n.listen)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("node %d config:\n%s\nlog:\n%s", i, conf, tail(n.proc.Output.String(), 3000))
			}
		})
	}
	return nodes
}

// mcRing rebuilds the cluster's ring (default hash, the configs' tokens).
func mcRing(t *testing.T, nodes []*mcNode) *ring.Ring {
	var rn []ring.Node
	for _, n := range nodes {
		rn = append(rn, ring.Node{ID: n.dyn, DC: n.dc, Rack: n.rack, Tokens: []uint32{n.token}})
	}
	r, err := ring.New(ring.Config{Nodes: rn, Local: nodes[0].dyn})
	require.NoError(t, err)
	return r
}

// eventuallyRetrieval polls a get through c until it returns want (bounded:
// replication to the other racks is asynchronous at DC_ONE).
func eventuallyRetrieval(t *testing.T, c *mc, req string, want []string, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	c.send(req)
	got := c.retrieval()
	for !equalStrings(got, want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		c.send(req)
		got = c.retrieval()
	}
	require.Equal(t, want, got, what)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMemcachedAcrossRacks: memcached coordinators across 3 racks of 2
// nodes, each node in front of its own memcached. A set through node1 lands
// in the owner's memcached in every rack, and only there; a multi-key get
// through node2 merges keys owned by both nodes of its rack, in request
// order, missing keys left out; gets, delete and incr reach every rack; a
// DC_QUORUM node does the same synchronously.
func TestMemcachedAcrossRacks(t *testing.T) {
	// Node 3 (the first of rack r2) coordinates at DC_QUORUM, node 5 (the
	// first of rack r3) at DC_SAFE_QUORUM.
	extra := []string{"", "", "  read_consistency: DC_QUORUM\n  write_consistency: DC_QUORUM\n", "",
		"  read_consistency: DC_SAFE_QUORUM\n  write_consistency: DC_SAFE_QUORUM\n"}
	nodes := startMCCluster(t, 160, extra, "dc1/r1", "dc1/r1", "dc1/r2", "dc1/r2", "dc1/r3", "dc1/r3")
	r := mcRing(t, nodes)
	byID := map[string]*mcNode{}
	for _, n := range nodes {
		byID[n.dyn] = n
	}
	direct := make([]*mc, len(nodes))
	for i, n := range nodes {
		direct[i] = dialMC(t, n.mc.Addr)
	}
	// owners returns, for key, whether node i owns it (one owner per rack).
	owners := func(key string) map[*mcNode]bool {
		out := map[*mcNode]bool{}
		for _, rep := range r.Replicas([]byte(key), nil) {
			out[byID[rep.Node]] = true
		}
		require.Len(t, out, 3, "one owner per rack for %s", key)
		return out
	}
	// Keys owned in rack r1 by node1, and keys owned by node2 (the first
	// three of each are read by the multi-key gets, the fourth deleted).
	var ofNode1, ofNode2 []string
	for i := 0; len(ofNode1) < 4 || len(ofNode2) < 4; i++ {
		require.Less(t, i, 1000, "the tokens split no keys between the rack's nodes")
		k := fmt.Sprintf("key:%d", i)
		if owners(k)[nodes[0]] {
			ofNode1 = append(ofNode1, k)
		} else {
			ofNode2 = append(ofNode2, k)
		}
	}
	// expectPlaced asserts key holds item (a retrieval line) in the
	// memcached of its owner in every rack, and nowhere else.
	expectPlaced := func(key string, item []string) {
		t.Helper()
		own := owners(key)
		for i, n := range nodes {
			if own[n] {
				eventuallyRetrieval(t, direct[i], "get "+key+"\r\n", item, fmt.Sprintf("owner %s/%s of %s", n.rack, n.dyn, key))
			} else {
				direct[i].send("get " + key + "\r\n")
				require.Empty(t, direct[i].retrieval(), "non-owner %s/%s holds %s", n.rack, n.dyn, key)
			}
		}
	}

	c1 := dialMC(t, nodes[0].listen)
	t.Run("set through node1 reaches every rack", func(t *testing.T) {
		for i, k := range append(append([]string(nil), ofNode1...), ofNode2...) {
			val := fmt.Sprintf("v-%d", i)
			c1.send(fmt.Sprintf("set %s %d 0 %d\r\n%s\r\n", k, i, len(val), val))
			require.Equal(t, "STORED", c1.line(), k)
			expectPlaced(k, []string{fmt.Sprintf("VALUE %s %d %d|%s", k, i, len(val), val)})
		}
	})

	// The request: keys of both rack-r1 owners, interleaved, with misses.
	keys := []string{ofNode2[0], ofNode1[0], "missing:1", ofNode2[1], ofNode1[1], "missing:2", ofNode1[2]}
	var want []string
	all := append(append([]string(nil), ofNode1...), ofNode2...)
	for _, k := range keys {
		for i, a := range all {
			if a == k {
				val := fmt.Sprintf("v-%d", i)
				want = append(want, fmt.Sprintf("VALUE %s %d %d|%s", k, i, len(val), val))
			}
		}
	}
	getLine := "get " + strings.Join(keys, " ") + "\r\n"

	t.Run("multi-key get through node2 merges both owners", func(t *testing.T) {
		c2 := dialMC(t, nodes[1].listen)
		c2.send(getLine)
		require.Equal(t, want, c2.retrieval())
		// A whole pipeline of them keeps its order.
		c2.send(getLine + "get " + ofNode1[0] + "\r\n" + getLine)
		require.Equal(t, want, c2.retrieval())
		require.Equal(t, want[1:2], c2.retrieval())
		require.Equal(t, want, c2.retrieval())
		// Every node of the other racks answers the same.
		for _, n := range nodes[2:] {
			c := dialMC(t, n.listen)
			c.send(getLine)
			require.Equal(t, want, c.retrieval(), "via %s/%s", n.rack, n.dyn)
		}
		// Only misses: an empty retrieval.
		c2.send("get missing:1 missing:2 missing:3\r\n")
		require.Empty(t, c2.retrieval())
	})

	t.Run("gat across owners touches every rack", func(t *testing.T) {
		// gat goes as a write: split per owner, merged in key order, and
		// every replica takes the expiry (-1: gone at once).
		c2 := dialMC(t, nodes[1].listen)
		var ks []string
		for i := 0; i < 4; i++ {
			k := fmt.Sprintf("gat:%d", i)
			c1.send("set " + k + " 0 0 1\r\nx\r\n")
			require.Equal(t, "STORED", c1.line())
			expectPlaced(k, []string{"VALUE " + k + " 0 1|x"})
			ks = append(ks, k)
		}
		c2.send("gat -1 " + strings.Join(ks, " ") + " missing:1\r\n")
		require.Len(t, c2.retrieval(), 4)
		for _, k := range ks {
			expectPlaced(k, nil)
		}
	})

	t.Run("gets across owners", func(t *testing.T) {
		c2 := dialMC(t, nodes[1].listen)
		c2.send("gets " + ofNode1[0] + " missing:1 " + ofNode2[0] + "\r\n")
		got := c2.retrieval()
		require.Len(t, got, 2)
		for i, k := range []string{ofNode1[0], ofNode2[0]} {
			var key string
			var flags, size int
			var cas uint64
			_, err := fmt.Sscanf(strings.SplitN(got[i], "|", 2)[0], "VALUE %s %d %d %d", &key, &flags, &size, &cas)
			require.NoError(t, err, got[i])
			require.Equal(t, k, key)
			require.NotZero(t, cas)
		}
	})

	t.Run("delete and incr across owners", func(t *testing.T) {
		c4 := dialMC(t, nodes[3].listen) // rack r2's second node, DC_ONE
		for _, k := range []string{ofNode1[3], ofNode2[3]} {
			c4.send("delete " + k + "\r\n")
			require.Equal(t, "DELETED", c4.line())
			expectPlaced(k, nil)
			c4.send("delete " + k + "\r\n")
			require.Equal(t, "NOT_FOUND", c4.line())
		}
		for _, k := range []string{"ctr:" + ofNode1[0], "ctr:" + ofNode2[0]} {
			c1.send("set " + k + " 0 0 2\r\n40\r\n")
			require.Equal(t, "STORED", c1.line())
			expectPlaced(k, []string{"VALUE " + k + " 0 2|40"})
			c4.send("incr " + k + " 2\r\n")
			require.Equal(t, "42", c4.line())
			expectPlaced(k, []string{"VALUE " + k + " 0 2|42"})
		}
	})

	t.Run("DC_QUORUM through node3", func(t *testing.T) {
		c3 := dialMC(t, nodes[2].listen)
		for _, k := range []string{"q:" + ofNode1[0], "q:" + ofNode2[0], "q:" + ofNode1[1]} {
			c3.send("set " + k + " 5 0 3\r\nqqq\r\n")
			require.Equal(t, "STORED", c3.line())
			// Acknowledged by a quorum: two racks hold it already.
			held := 0
			for i, n := range nodes {
				if owners(k)[n] {
					direct[i].send("get " + k + "\r\n")
					if len(direct[i].retrieval()) == 1 {
						held++
					}
				}
			}
			require.GreaterOrEqual(t, held, 2, "racks holding %s when its quorum write was acknowledged", k)
			expectPlaced(k, []string{"VALUE " + k + " 5 3|qqq"})
		}
		c3.send(getLine)
		require.Equal(t, want, c3.retrieval(), "a quorum multi-get")
		// A replica that differs is outvoted by the two that agree.
		k := "q:" + ofNode1[0]
		for i, n := range nodes {
			if owners(k)[n] && n.rack == "r3" {
				direct[i].send("set " + k + " 5 0 3\r\nzzz\r\n")
				require.Equal(t, "STORED", direct[i].line())
			}
		}
		c3.send("get " + k + " " + "q:" + ofNode2[0] + "\r\n")
		require.Equal(t, []string{"VALUE " + k + " 5 3|qqq", "VALUE q:" + ofNode2[0] + " 5 3|qqq"}, c3.retrieval())
		// gets: every memcached numbers its own cas values, so the replicas'
		// replies may differ; DC_QUORUM answers with one of them.
		c3.send("gets q:" + ofNode2[0] + "\r\n")
		got := c3.retrieval()
		require.Len(t, got, 1)
		require.True(t, strings.HasPrefix(got[0], "VALUE q:"+ofNode2[0]+" 5 3 "), got[0])
		c5 := dialMC(t, nodes[4].listen)
		c5.send("get q:" + ofNode2[0] + "\r\n")
		require.Equal(t, []string{"VALUE q:" + ofNode2[0] + " 5 3|qqq"}, c5.retrieval(), "safe quorum get")
		// Racks r2 and r3 take 2 and 4 writes of their own: their cas
		// uniques now differ from r1's and from each other, the data not.
		for i, d := range direct[2:] {
			for range 2 * (1 + i/2) {
				d.send("set scratch 0 0 1\r\nx\r\n")
				require.Equal(t, "STORED", d.line())
			}
		}
		c5.send("set g 9 0 2\r\ngg\r\n")
		require.Equal(t, "STORED", c5.line())
		c5.send("gets g\r\n")
		got = c5.retrieval()
		require.Len(t, got, 1, "a safe quorum gets of agreeing replicas")
		require.True(t, strings.HasPrefix(got[0], "VALUE g 9 2 "), got[0])
	})
}
