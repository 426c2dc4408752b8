package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// joinNode is one dynonode process on the embedded store.
type joinNode struct {
	name, dc, rack   string
	token            uint32
	listen, dyn, adm string
	extra            string   // more dynomite.yml lines, indented
	flags            []string // more command-line flags
	proc             *testproc.Proc
}

func (n *joinNode) seed() string { return fmt.Sprintf("%s:%s:%s:%d", n.dyn, n.rack, n.dc, n.token) }

// startJoinNode writes n's config with the given seeds and starts it.
func startJoinNode(t *testing.T, dir string, n *joinNode, seeds []*joinNode) {
	t.Helper()
	var list []string
	for _, s := range seeds {
		list = append(list, "  - "+s.seed())
	}
	conf := fmt.Sprintf(`dyn_o_mite:
  listen: %s
  dyn_listen: %s
  stats_listen: %s
  datacenter: %s
  rack: %s
  tokens: '%d'
  data_store: 2
  enable_gossip: true
  hints_dir: %s
  dyn_seeds:
%s
%s`, n.listen, n.dyn, n.adm, n.dc, n.rack, n.token, filepath.Join(dir, "hints-"+n.name), strings.Join(list, "\n"), n.extra)
	path := filepath.Join(dir, n.name+".yml")
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
	n.proc = testproc.Start(t, "dynonode "+n.name, binary, append([]string{"-c", path, "-v", "6"}, n.flags...), n.listen)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s (%s) output:\n%s", n.name, n.dyn, n.proc.Output.String())
		}
	})
}

// describedServers is every server node's /cluster_describe lists, by dyn
// address, with its state and up verdict.
func describedServers(t *testing.T, n *joinNode) map[string]describedEntry {
	t.Helper()
	code, body := httpGet(t, "http://"+n.adm+"/cluster_describe")
	require.Equal(t, 200, code, body)
	var d struct {
		DCs []struct {
			Name  string `json:"name"`
			Racks []struct {
				Name    string           `json:"name"`
				Servers []describedEntry `json:"servers"`
			} `json:"racks"`
		} `json:"dcs"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &d), body)
	out := map[string]describedEntry{}
	for _, dc := range d.DCs {
		for _, r := range dc.Racks {
			for _, s := range r.Servers {
				s.dc, s.rack = dc.Name, r.Name
				out[fmt.Sprintf("%s:%d", s.Host, s.Port)] = s
			}
		}
	}
	return out
}

// waitAllUp waits (joinBound at most per node) until every node's
// /cluster_describe lists every node up.
func waitAllUp(t *testing.T, nodes []*joinNode) {
	t.Helper()
	for _, n := range nodes {
		eventuallyTrue(t, joinBound, func() bool {
			s := describedServers(t, n)
			for _, o := range nodes {
				if e, ok := s[o.dyn]; !ok || e.Up == nil || !*e.Up {
					return false
				}
			}
			return true
		}, n.name+" sees every node up")
	}
}

type describedEntry struct {
	Name     string `json:"name"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Token    uint32 `json:"token"`
	State    string `json:"state"`
	Up       *bool  `json:"up"`
	dc, rack string
}

// joinBound is how long after its start a node joining through one seed
// must be listed, up, by every node's /cluster_describe: docs/cluster.md
// states it as 10 heartbeat intervals (1 s by default) once the joiner is
// up; the simulator checks the same bound (sim/join_test.go).
const joinBound = 10 * time.Second

// TestJoinThroughOneSeed is issue 22's reproduction: three nodes in three
// racks with enable_gossip, then a fourth in rack1 (token 3000000000) whose
// only seed is node1. No node moves its gossip generation, no node declares
// another down, and node4 is listed up, NORMAL, in rack1 by every node's
// /cluster_describe within joinBound; it stays so, and node4 lists all
// three, for a further 8 s (past the 6 s in which node4 used to declare
// node1 down).
func TestJoinThroughOneSeed(t *testing.T) {
	dir := t.TempDir()
	mk := func(i int, rack string, token uint32) *joinNode {
		ip := fmt.Sprintf("127.0.0.%d", 110+i)
		return &joinNode{name: fmt.Sprintf("node%d", i), dc: "dc1", rack: rack, token: token,
			listen: testproc.FreeAddr(t, ip), dyn: testproc.FreeAddr(t, ip), adm: testproc.FreeAddr(t, ip)}
	}
	n1, n2, n3 := mk(1, "rack1", 1000000000), mk(2, "rack2", 1000000000), mk(3, "rack3", 1000000000)
	first := []*joinNode{n1, n2, n3}
	for _, n := range first {
		var seeds []*joinNode
		for _, o := range first {
			if o != n {
				seeds = append(seeds, o)
			}
		}
		startJoinNode(t, dir, n, seeds)
	}
	waitAllUp(t, first) // the three see each other up before the join
	n4 := mk(4, "rack1", 3000000000)
	startJoinNode(t, dir, n4, []*joinNode{n1})
	joined := time.Now()
	all := append(first, n4)
	listsUp := func(n, member *joinNode) bool {
		e, ok := describedServers(t, n)[member.dyn]
		return ok && e.Up != nil && *e.Up && e.State == "NORMAL" && e.rack == member.rack && e.dc == member.dc && e.Token == member.token
	}
	for _, n := range all {
		eventuallyTrue(t, joinBound-time.Since(joined), func() bool { return listsUp(n, n4) }, n.name+" lists node4 up")
	}
	t.Logf("node4 listed up by every node %s after its start", time.Since(joined).Round(10*time.Millisecond))
	for _, n := range first {
		eventuallyTrue(t, joinBound, func() bool { return listsUp(n4, n) }, "node4 lists "+n.name+" up")
	}
	// Hold: nobody goes down, node4 stays listed.
	hold := time.Now().Add(8 * time.Second)
	for time.Now().Before(hold) {
		for _, n := range all {
			for _, m := range all {
				require.True(t, listsUp(n, m), "%s lists %s up and NORMAL: %v", n.name, m.name, describedServers(t, n))
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, n := range all {
		out := n.proc.Output.String()
		require.NotContains(t, out, "gossip generation moved", "%s moved its generation:\n%s", n.name, out)
		require.NotContains(t, out, "member down", "%s declared a member down:\n%s", n.name, out)
	}
	require.Contains(t, n1.proc.Output.String(), "member joined", "node1 logs the join")
}
