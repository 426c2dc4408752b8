package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// clusterNode is one dynonode process with its own redis-server.
type clusterNode struct {
	dc, rack string
	token    uint32
	ip       string
	listen   string
	dyn      string
	stats    string
	redis    *testproc.Proc
	proc     *testproc.Proc
}

func (n *clusterNode) seed() string {
	return fmt.Sprintf("%s:%s:%s:%d", n.dyn, n.rack, n.dc, n.token)
}

// startCluster starts one node per entry of layout ("dc/rack"); nodes of a
// rack split its token space evenly. extra is appended to every config.
// Node i listens on 127.0.0.(20+i) of its test, a distinct loopback address.
func startCluster(t *testing.T, base int, extra string, layout ...string) []*clusterNode {
	t.Helper()
	perRack, seen := map[string]int{}, map[string]int{}
	for _, l := range layout {
		perRack[l]++
	}
	var nodes []*clusterNode
	for i, l := range layout {
		dc, rack, _ := strings.Cut(l, "/")
		ip := fmt.Sprintf("127.0.0.%d", base+i)
		n := &clusterNode{dc: dc, rack: rack, ip: ip,
			token:  uint32(uint64(seen[l]) * (1 << 32) / uint64(perRack[l])),
			listen: testproc.FreeAddr(t, ip), dyn: testproc.FreeAddr(t, ip), stats: testproc.FreeAddr(t, ip)}
		seen[l]++
		n.redis = testproc.RedisOn(t, testproc.FreeAddr(t, ip))
		nodes = append(nodes, n)
	}
	dir := t.TempDir()
	for i, n := range nodes {
		var seeds []string
		for _, o := range nodes {
			if o != n {
				seeds = append(seeds, "  - "+o.seed())
			}
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
  data_store: 0
  hints_dir: %s
  dyn_seeds:
%s
%s`, n.listen, n.dyn, n.stats, n.dc, n.rack, n.token, n.redis.Addr, filepath.Join(dir, fmt.Sprintf("hints%d", i)),
			strings.Join(seeds, "\n"), extra)
		path := filepath.Join(dir, fmt.Sprintf("node%d.yml", i))
		require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
		n.proc = testproc.Start(t, "dynonode "+n.listen, binary, []string{"-c", path, "-v", "4"}, n.listen)
	}
	return nodes
}

// ringOf rebuilds the cluster's ring as node i sees it.
func ringOf(t *testing.T, nodes []*clusterNode, i int) *ring.Ring {
	var rn []ring.Node
	for _, n := range nodes {
		rn = append(rn, ring.Node{ID: n.dyn, DC: n.dc, Rack: n.rack, Tokens: []uint32{n.token}})
	}
	r, err := ring.New(ring.Config{Nodes: rn, Local: nodes[i].dyn})
	require.NoError(t, err)
	return r
}

func bulkOf(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

// eventuallyEqual polls get() until it returns want (bounded).
func eventuallyEqual(t *testing.T, want string, get func() string, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	got := get()
	for got != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = get()
	}
	require.Equal(t, want, got, what)
}

// TestClusterThreeRacksPlacement: a write through any node lands on the
// owner the ring names in every rack, and only there.
func TestClusterThreeRacksPlacement(t *testing.T) {
	nodes := startCluster(t, 20, "", "dc1/r1", "dc1/r1", "dc1/r2", "dc1/r3")
	r := ringOf(t, nodes, 0)
	byID := map[string]*clusterNode{}
	for _, n := range nodes {
		byID[n.dyn] = n
	}
	for i := range 20 {
		key, val := fmt.Sprintf("user:%d", i), fmt.Sprintf("v%d", i)
		via := nodes[i%len(nodes)]
		require.Equal(t, "+OK\r\n", testproc.DialRESP(t, via.listen).Do("SET", key, val), "via %s", via.listen)
		owners := map[string]bool{}
		for _, rep := range r.Replicas([]byte(key), nil) {
			owners[rep.Node] = true
		}
		require.Len(t, owners, 3, "one owner per rack")
		for _, n := range nodes {
			direct := testproc.DialRESP(t, n.redis.Addr)
			if owners[n.dyn] {
				eventuallyEqual(t, bulkOf(val), func() string { return direct.Do("GET", key) }, "owner "+n.dyn+" of "+key)
			} else {
				require.Equal(t, "$-1\r\n", direct.Do("GET", key), "non-owner %s has %s", n.dyn, key)
			}
		}
		// Every node reads it back.
		for _, n := range nodes {
			require.Equal(t, bulkOf(val), testproc.DialRESP(t, n.listen).Do("GET", key), "read via %s", n.listen)
		}
	}
	// Multi-key commands are split across the owners and merged in order.
	c := testproc.DialRESP(t, nodes[3].listen)
	require.Equal(t, "*3\r\n"+bulkOf("v1")+"$-1\r\n"+bulkOf("v2"), c.Do("MGET", "user:1", "nope", "user:2"))
	require.Equal(t, ":2\r\n", c.Do("DEL", "user:1", "user:2", "nope"))
}

// TestClusterQuorumWrites: DC_QUORUM writes survive one rack's datastore
// down and fail clearly, within the timeout, with two down.
func TestClusterQuorumWrites(t *testing.T) {
	nodes := startCluster(t, 30, "  timeout: 1000\n  read_consistency: DC_QUORUM\n  write_consistency: DC_QUORUM\n", "dc1/r1", "dc1/r2", "dc1/r3")
	c := testproc.DialRESP(t, nodes[0].listen)
	require.Equal(t, "+OK\r\n", c.Do("SET", "k", "v1"))
	nodes[2].redis.Kill()
	require.Equal(t, "+OK\r\n", c.Do("SET", "k", "v2"), "one rack down: quorum 2 of 3 still answers")
	require.Equal(t, bulkOf("v2"), c.Do("GET", "k"))
	nodes[1].redis.Kill()
	start := time.Now()
	got := c.Do("SET", "k", "v3")
	require.Less(t, time.Since(start), 2*time.Second, "the failure must come within the timeout")
	// Two failed replicas settle it at once, whether or not the local answer
	// arrived first: "0 answered" or "1 answered".
	require.True(t, strings.HasPrefix(got, "-ERR Dynomite: Failed to achieve Quorum: DC_QUORUM needs 2 of 3 replicas in dc1, "), got)
	got = c.Do("GET", "k")
	require.True(t, strings.HasPrefix(got, "-ERR Dynomite: Failed to achieve Quorum"), got)
	// The datastores come back: quorum writes work again.
	nodes[1].redis.Restart()
	nodes[2].redis.Restart()
	eventuallyEqual(t, "+OK\r\n", func() string { return c.Do("SET", "k", "v4") }, "write after recovery")
}

// TestClusterSafeQuorumDisagreement: replicas that disagree make a
// DC_SAFE_QUORUM read an error, and a DC_QUORUM read returns a reply:
// Dynomite's rules, without versions. (With versions, values written to
// one redis behind dynonode's back keep the key's version, so replicas
// differ under one version; whether a safe read then sees two agree or
// asks again with versions depends on which answers come first.)
func TestClusterSafeQuorumDisagreement(t *testing.T) {
	nodes := startCluster(t, 40, "  read_consistency: DC_SAFE_QUORUM\n  write_consistency: DC_SAFE_QUORUM\n  versions: false\n", "dc1/r1", "dc1/r2", "dc1/r3")
	c := testproc.DialRESP(t, nodes[0].listen)
	require.Equal(t, "+OK\r\n", c.Do("SET", "k", "same"))
	require.Equal(t, bulkOf("same"), c.Do("GET", "k"))
	// The write is acknowledged by a quorum; the third replica may still
	// be taking it (a loaded machine): every rack holds it before the test
	// makes them differ.
	for _, n := range nodes {
		direct := testproc.DialRESP(t, n.redis.Addr)
		eventuallyEqual(t, bulkOf("same"), func() string { return direct.Do("GET", "k") }, "replicated to "+n.rack)
	}
	// One replica differs: two still agree.
	require.Equal(t, "+OK\r\n", testproc.DialRESP(t, nodes[1].redis.Addr).Do("SET", "k", "other"))
	require.Equal(t, bulkOf("same"), c.Do("GET", "k"))
	// All three differ: no quorum agrees.
	require.Equal(t, "+OK\r\n", testproc.DialRESP(t, nodes[2].redis.Addr).Do("SET", "k", "third"))
	got := c.Do("GET", "k")
	require.Equal(t, "-ERR Dynomite: Failed to achieve Quorum: DC_SAFE_QUORUM replicas in dc1 disagree\r\n", got)
}

// TestClusterTwoDCs: writes cross to the other DC (asynchronously at
// DC_ONE) and every node reads them; EACH_SAFE_QUORUM needs every DC.
func TestClusterTwoDCs(t *testing.T) {
	nodes := startCluster(t, 50, "", "dc1/r1", "dc1/r2", "dc1/r3", "dc2/r1", "dc2/r2", "dc2/r3")
	c := testproc.DialRESP(t, nodes[0].listen)
	for i := range 10 {
		require.Equal(t, "+OK\r\n", c.Do("SET", fmt.Sprintf("x%d", i), "v"))
	}
	for _, n := range nodes {
		direct := testproc.DialRESP(t, n.redis.Addr)
		for i := range 10 {
			eventuallyEqual(t, bulkOf("v"), func() string { return direct.Do("GET", fmt.Sprintf("x%d", i)) }, n.dc+"/"+n.rack)
		}
	}
	remote := testproc.DialRESP(t, nodes[4].listen)
	require.Equal(t, "+OK\r\n", remote.Do("SET", "from-dc2", "w"))
	eventuallyEqual(t, bulkOf("w"), func() string { return testproc.DialRESP(t, nodes[1].redis.Addr).Do("GET", "from-dc2") }, "dc2 -> dc1")
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body)
}

// TestAdminConsistencyEndpoints: levels change at run time through the
// admin port and apply to connections opened afterwards.
func TestAdminConsistencyEndpoints(t *testing.T) {
	nodes := startCluster(t, 60, "", "dc1/r1", "dc1/r2", "dc1/r3")
	admin := "http://" + nodes[0].stats
	code, body := httpGet(t, admin+"/get_consistency")
	require.Equal(t, 200, code)
	require.Equal(t, "Read Consistency: DC_ONE\r\nWrite Consistency: DC_ONE\r\n", body)

	old := testproc.DialRESP(t, nodes[0].listen)
	require.Equal(t, "+OK\r\n", old.Do("SET", "k", "a"))
	// DC_ONE replicates asynchronously: wait for both copies before
	// overwriting them, or a late replica write would restore "a".
	for _, n := range nodes[1:3] {
		eventuallyEqual(t, bulkOf("a"), func() string { return testproc.DialRESP(t, n.redis.Addr).Do("GET", "k") }, "replicated")
	}
	require.Equal(t, "+OK\r\n", testproc.DialRESP(t, nodes[1].redis.Addr).Do("SET", "k", "b"))
	require.Equal(t, "+OK\r\n", testproc.DialRESP(t, nodes[2].redis.Addr).Do("SET", "k", "c"))

	code, body = httpGet(t, admin+"/set_consistency/read/dc_safe_quorum")
	require.Equal(t, 200, code, body)
	code, body = httpGet(t, admin+"/get_consistency")
	require.Equal(t, 200, code)
	require.Equal(t, "Read Consistency: DC_SAFE_QUORUM\r\nWrite Consistency: DC_ONE\r\n", body)
	require.Equal(t, bulkOf("a"), old.Do("GET", "k"), "an open connection keeps its level")
	require.Contains(t, testproc.DialRESP(t, nodes[0].listen).Do("GET", "k"), "Failed to achieve Quorum")

	code, body = httpGet(t, admin+"/set_consistency/read/dc_sometimes")
	require.Equal(t, 400, code)
	require.Contains(t, body, "dc_sometimes")
	code, _ = httpGet(t, admin+"/set_consistency/delete/dc_one")
	require.Equal(t, 400, code)
}

type described struct {
	DCs []struct {
		Racks []struct {
			Servers []struct {
				Host  string `json:"host"`
				Port  int    `json:"port"`
				State string `json:"state"`
				Up    *bool  `json:"up"`
			} `json:"servers"`
		} `json:"racks"`
	} `json:"dcs"`
}

// upAccordingTo asks node i's admin port whether the node serving dyn
// address addr is up.
func upAccordingTo(t *testing.T, n *clusterNode, addr string) (up bool, state string) {
	t.Helper()
	code, body := httpGet(t, "http://"+n.stats+"/cluster_describe")
	require.Equal(t, 200, code)
	var d described
	require.NoError(t, json.Unmarshal([]byte(body), &d), body)
	for _, dc := range d.DCs {
		for _, r := range dc.Racks {
			for _, s := range r.Servers {
				if fmt.Sprintf("%s:%d", s.Host, s.Port) == addr {
					require.NotNil(t, s.Up, "no live view in %s", body)
					return *s.Up, s.State
				}
			}
		}
	}
	t.Fatalf("%s not described by %s: %s", addr, n.stats, body)
	return false, ""
}

// TestClusterStoppedNodeDetected: SIGSTOP one node of three racks; the
// others report it down within the bound, clients keep getting answers at
// DC_ONE and DC_QUORUM; SIGCONT brings it back to NORMAL everywhere.
func TestClusterStoppedNodeDetected(t *testing.T) {
	nodes := startCluster(t, 70, "  heartbeat_interval: 250\n  timeout: 1000\n", "dc1/r1", "dc1/r2", "dc1/r3")
	victim := nodes[1]
	for _, n := range []*clusterNode{nodes[0], nodes[2]} {
		eventuallyTrue(t, 5*time.Second, func() bool { up, _ := upAccordingTo(t, n, victim.dyn); return up }, "victim up at start")
	}
	require.NoError(t, victim.proc.Stop())
	stopped := time.Now()
	const bound = 5 * time.Second // 250 ms heartbeats: the simulator's 10 s bound at 1 s, scaled
	for _, n := range []*clusterNode{nodes[0], nodes[2]} {
		eventuallyTrue(t, bound, func() bool { up, st := upAccordingTo(t, n, victim.dyn); return !up && st == "DOWN" }, "victim reported down by "+n.dyn)
	}
	t.Logf("stopped node reported down by both peers after %s", time.Since(stopped).Round(10*time.Millisecond))

	one := testproc.DialRESP(t, nodes[0].listen)
	require.Equal(t, "+OK\r\n", one.Do("SET", "k", "v"), "DC_ONE write with a rack stopped")
	_, err := http.Get("http://" + nodes[0].stats + "/set_consistency/write/dc_quorum")
	require.NoError(t, err)
	_, err = http.Get("http://" + nodes[0].stats + "/set_consistency/read/dc_quorum")
	require.NoError(t, err)
	quorum := testproc.DialRESP(t, nodes[0].listen)
	start := time.Now()
	require.Equal(t, "+OK\r\n", quorum.Do("SET", "k", "w"), "DC_QUORUM write: 2 of 3 racks")
	require.Equal(t, bulkOf("w"), quorum.Do("GET", "k"))
	require.Less(t, time.Since(start), time.Second, "a node known to be down is not waited for")

	require.NoError(t, victim.proc.Signal(syscall.SIGCONT))
	for _, n := range []*clusterNode{nodes[0], nodes[2]} {
		eventuallyTrue(t, bound, func() bool { up, st := upAccordingTo(t, n, victim.dyn); return up && st == "NORMAL" }, "victim back for "+n.dyn)
	}
}

func eventuallyTrue(t *testing.T, within time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNodeStates: a state set on the admin port is enforced by that node's
// coordinators and spread to the others by gossip.
func TestNodeStates(t *testing.T) {
	nodes := startCluster(t, 80, "  heartbeat_interval: 200\n", "dc1/r1", "dc1/r2", "dc1/r3")
	c := testproc.DialRESP(t, nodes[0].listen)
	require.Equal(t, "+OK\r\n", c.Do("SET", "k", "v"))
	refused := "-ERR Dynomite: Dynomite's current state does not allow this request\r\n"
	set := func(state string) {
		code, body := httpGet(t, "http://"+nodes[0].stats+"/state/"+state)
		require.Equal(t, 200, code, body)
	}
	set("standby")
	eventuallyTrue(t, 2*time.Second, func() bool { return c.Do("GET", "k") == refused }, "STANDBY refuses reads")
	require.Equal(t, refused, c.Do("SET", "k", "w"))
	for _, n := range nodes[1:] {
		eventuallyTrue(t, 5*time.Second, func() bool { _, st := upAccordingTo(t, n, nodes[0].dyn); return st == "STANDBY" }, "state spread to "+n.dyn)
	}
	set("writes_only")
	eventuallyTrue(t, 2*time.Second, func() bool { return c.Do("SET", "k", "w") == "+OK\r\n" }, "WRITES_ONLY takes writes")
	require.Equal(t, refused, c.Do("GET", "k"))
	set("normal")
	eventuallyTrue(t, 2*time.Second, func() bool { return c.Do("GET", "k") == bulkOf("w") }, "NORMAL serves reads again")
	code, body := httpGet(t, "http://"+nodes[0].stats+"/state/get_state")
	require.Equal(t, 200, code)
	require.Equal(t, "State: NORMAL\n", body)
}
