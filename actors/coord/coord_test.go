package coord_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/pubsub"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
)

// client is a test connection: it is the coordinator's sink and keeps every
// Replies it gets.
type client struct {
	data   []byte
	closed bool
	count  int
}

func (c *client) Receive(_ actors.Context, m any) {
	if r, ok := m.(coord.Replies); ok {
		c.data = append(c.data, r.Data...)
		c.closed = c.closed || r.Close
		c.count += r.Answered
	}
}

type cluster struct {
	t     *testing.T
	w     *sim.World
	ring  map[actors.NodeID]*ring.Ring
	nodes []ring.Node
	connN int
}

// newCluster builds one node per entry of layout ("dc/rack"), each with an
// embedded store; tokens split each rack evenly.
func newCluster(t *testing.T, layout ...string) *cluster {
	perRack := map[string]int{}
	for _, l := range layout {
		perRack[l]++
	}
	seen := map[string]int{}
	c := &cluster{t: t, w: sim.New(sim.Config{Seed: 11, Net: sim.Link{Latency: time.Millisecond}}), ring: map[actors.NodeID]*ring.Ring{}}
	for i, l := range layout {
		dc, rack, _ := strings.Cut(l, "/")
		tok := uint32(uint64(seen[l]) * (1 << 32) / uint64(perRack[l]))
		seen[l]++
		c.nodes = append(c.nodes, ring.Node{ID: fmt.Sprintf("n%d", i+1), DC: dc, Rack: rack, Tokens: []uint32{tok}})
	}
	for _, n := range c.nodes {
		r, err := ring.New(ring.Config{Nodes: c.nodes, Local: n.ID})
		require.NoError(t, err)
		id := actors.NodeID(n.ID)
		c.ring[id] = r
		c.w.AddNode(sim.NodeSpec{ID: id, DC: n.DC, Rack: n.Rack, Boot: func(s actors.Spawner) {
			s.Spawn("store", store.NewEmbedded(store.Options{}))
			s.Spawn("pubsub", pubsub.New())
			s.Spawn(clients.Name, clients.New(clients.Config{}))
		}})
	}
	require.NoError(t, c.w.RunFor(time.Millisecond))
	return c
}

// conn opens a client connection to node: a sink and its coordinator.
func (c *cluster) conn(node actors.NodeID, mutate ...func(*coord.Config)) *conn {
	c.connN++
	name := fmt.Sprintf("c%d", c.connN)
	cl := &client{}
	sink := actors.Addr{Node: node, Name: name + "/w"}
	cfg := coord.Config{Sink: sink, Ring: c.ring[node], StoreName: "store", BrokerName: "pubsub", Timeout: 500 * time.Millisecond, Version: "test"}
	for _, m := range mutate {
		m(&cfg)
	}
	c.w.Spawn(node, name+"/w", func() actors.Behaviour { return cl })
	c.w.Spawn(node, name, coord.NewRedis(cfg))
	return &conn{c: c, addr: actors.Addr{Node: node, Name: name}, cl: cl}
}

type conn struct {
	c    *cluster
	addr actors.Addr
	cl   *client
}

func cmd(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

// do sends a pipeline of commands in one batch and returns the bytes
// written back once the cluster is quiet.
func (k *conn) do(cmds ...string) string {
	k.c.t.Helper()
	var batch [][][]byte
	for _, s := range cmds {
		batch = append(batch, cmd(s))
	}
	before := len(k.cl.data)
	k.c.w.Inject(actors.Addr{Node: k.addr.Node, Name: "edge"}, k.addr, coord.Requests{Cmds: batch})
	require.NoError(k.c.t, k.c.w.RunFor(2*time.Second))
	return string(k.cl.data[before:])
}

func bulk(s string) string { return string(resp.AppendBulkString(nil, s)) }

func TestSingleNodeBasics(t *testing.T) {
	c := newCluster(t, "dc1/r1")
	k := c.conn("n1")
	require.Equal(t, "+OK\r\n"+bulk("v")+":1\r\n$-1\r\n", k.do("set a v", "get a", "del a", "get a"))
	require.Equal(t, "+PONG\r\n"+bulk("hi")+bulk("x"), k.do("ping", "ping hi", "echo x"))
	require.Equal(t, "+OK\r\n"+"*3\r\n"+bulk("1")+"$-1\r\n"+bulk("2"), k.do("mset a 1 b 2", "mget a nope b"))
	require.Equal(t, "-ERR wrong number of arguments for 'get' command\r\n", k.do("get"))
	require.Equal(t, "-ERR unknown command 'nosuch', with args beginning with: 'x' 'y' \r\n", k.do("nosuch x y"))
	require.Contains(t, k.do("wait 1 0"), "-ERR dynonode: 'WAIT' is not supported")
	require.Contains(t, k.do("flushall"), "refused unless the node runs in admin mode")
	require.Equal(t, "+OK\r\n", k.do("select 0"))
	require.Contains(t, k.do("select 1"), "-ERR dynonode: only database 0")
	require.Equal(t, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", k.do("lpush a x"))
	require.False(t, k.cl.closed)
	require.Equal(t, "+OK\r\n", k.do("quit", "get a"), "nothing after QUIT is answered")
	require.True(t, k.cl.closed)
}

func TestAdminModeAllowsFlush(t *testing.T) {
	c := newCluster(t, "dc1/r1")
	k := c.conn("n1", func(cfg *coord.Config) { cfg.AdminMode = true })
	require.Equal(t, "+OK\r\n+OK\r\n:0\r\n", k.do("set a 1", "flushall", "exists a"))
}

func TestPipelineOrderAcrossNodes(t *testing.T) {
	// One rack of three nodes: keys land on different nodes, at different
	// distances, but replies must come back in request order.
	c := newCluster(t, "dc1/r1", "dc1/r1", "dc1/r1")
	c.w.SetLink("n1", "n3", sim.Link{Latency: 50 * time.Millisecond})
	c.w.SetLink("n3", "n1", sim.Link{Latency: 50 * time.Millisecond})
	k := c.conn("n1")
	var sets, gets []string
	var want strings.Builder
	for i := range 30 {
		sets = append(sets, fmt.Sprintf("set key:%d v%d", i, i))
		gets = append(gets, fmt.Sprintf("get key:%d", i))
		want.WriteString(bulk(fmt.Sprintf("v%d", i)))
	}
	require.Equal(t, strings.Repeat("+OK\r\n", 30), k.do(sets...))
	require.Equal(t, want.String(), k.do(gets...))
	// MGET over keys of several nodes, merged in key order; DEL sums.
	require.Equal(t, "*3\r\n"+bulk("v3")+"$-1\r\n"+bulk("v7"), k.do("mget key:3 missing key:7"))
	require.Equal(t, ":2\r\n", k.do("del key:1 key:2 missing"))
	require.Equal(t, ":1\r\n", k.do("exists key:1 key:2 key:3"))
	// Keys of different nodes cannot be renamed onto each other; a hash
	// tag keeps them together.
	other := ""
	for i := 0; other == ""; i++ {
		cand := fmt.Sprintf("key:%d", i)
		if c.ring["n1"].LocalOwner([]byte(cand)) != c.ring["n1"].LocalOwner([]byte("key:3")) {
			other = cand
		}
	}
	require.Contains(t, k.do("rename key:3 "+other), "live on different nodes")
}

func TestReplicationToEveryRack(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
	k1 := c.conn("n1")
	require.Equal(t, "+OK\r\n", k1.do("set shared v1"))
	for _, id := range []actors.NodeID{"n1", "n2", "n3"} {
		require.Equal(t, bulk("v1"), c.conn(id).do("get shared"), "rack of %s", id)
	}
}

func TestTimeoutGivesErrorNotHang(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r1")
	k := c.conn("n1")
	// Find a key owned by n2, then cut n1 off from it.
	key := ""
	for i := 0; key == ""; i++ {
		cand := fmt.Sprintf("k%d", i)
		if c.ring["n1"].LocalOwner([]byte(cand)) == "n2" {
			key = cand
		}
	}
	c.w.Partition([]actors.NodeID{"n1"}, []actors.NodeID{"n2"})
	got := k.do("get "+key, "ping")
	require.Equal(t, "-ERR Storage: request timed out after 500ms\r\n+PONG\r\n", got)
	c.w.Heal()
	require.Equal(t, "$-1\r\n", k.do("get "+key))
}

func TestProtocolErrorClosesAfterEarlierReplies(t *testing.T) {
	c := newCluster(t, "dc1/r1")
	k := c.conn("n1")
	c.w.Inject(actors.Addr{Node: "n1", Name: "edge"}, k.addr, coord.Requests{
		Cmds:          [][][]byte{cmd("set a 1"), cmd("get a")},
		ProtocolError: resp.AppendError(nil, "ERR Protocol error: invalid bulk length"),
	})
	require.NoError(t, c.w.RunFor(time.Second))
	require.Equal(t, "+OK\r\n"+bulk("1")+"-ERR Protocol error: invalid bulk length\r\n", string(k.cl.data))
	require.True(t, k.cl.closed)
	require.Equal(t, 3, k.cl.count)
}

func TestAdminModeDelOnlyOwnedKeysLocally(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r1", "dc1/r2")
	writer := c.conn("n1")
	var mine, theirs string
	for i := 0; mine == "" || theirs == ""; i++ {
		k := fmt.Sprintf("k%d", i)
		if c.ring["n1"].LocalOwner([]byte(k)) == "n1" {
			mine = k
		} else {
			theirs = k
		}
	}
	require.Equal(t, "+OK\r\n+OK\r\n", writer.do("set "+mine+" v", "set "+theirs+" v"))
	admin := c.conn("n1", func(cfg *coord.Config) { cfg.AdminMode = true })
	require.Equal(t, "-ERR Dynomite: Invalid request in Dynomite's admin mode\r\n", admin.do("del "+theirs))
	require.Equal(t, ":1\r\n", admin.do("del "+mine))
	// Deleted here only: the replica in rack r2 still has it.
	require.Equal(t, "$-1\r\n", c.conn("n1").do("get "+mine))
	require.Equal(t, bulk("v"), c.conn("n3").do("get "+mine))
}

// countingStore wraps the embedded store and counts what reaches it.
type countingStore struct {
	inner          actors.Behaviour
	execs, batches *int
	batchSizes     *[]int
}

func (s *countingStore) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case store.Exec:
		*s.execs++
	case store.Batch:
		*s.batches++
		*s.batchSizes = append(*s.batchSizes, len(m.Execs))
	}
	s.inner.Receive(ctx, m)
}

// TestPipelineSendsOneBatchPerNode: the Execs one client read produces for
// a node leave as one store.Batch, and the replies still come in order.
func TestPipelineSendsOneBatchPerNode(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
	execs, batches, sizes := map[actors.NodeID]*int{}, map[actors.NodeID]*int{}, map[actors.NodeID]*[]int{}
	for _, n := range c.nodes {
		id := actors.NodeID(n.ID)
		execs[id], batches[id], sizes[id] = new(int), new(int), new([]int)
		c.w.Spawn(id, "cstore", func() actors.Behaviour {
			return &countingStore{inner: store.NewEmbedded(store.Options{})(), execs: execs[id], batches: batches[id], batchSizes: sizes[id]}
		})
	}
	k := c.conn("n1", func(cfg *coord.Config) { cfg.StoreName = "cstore" })
	var cmds []string
	want := ""
	for i := range 16 {
		cmds = append(cmds, fmt.Sprintf("set k%d v%d", i, i))
		want += "+OK\r\n"
	}
	for i := range 16 {
		cmds = append(cmds, fmt.Sprintf("get k%d", i))
		want += bulk(fmt.Sprintf("v%d", i))
	}
	require.Equal(t, want, k.do(cmds...))
	// DC_ONE: every node gets the 16 SETs (replication); the GETs go to
	// the local-rack owner, n1, in the same batch.
	require.Equal(t, []int{32}, *sizes["n1"])
	require.Equal(t, []int{16}, *sizes["n2"])
	require.Equal(t, []int{16}, *sizes["n3"])
	for _, id := range []actors.NodeID{"n1", "n2", "n3"} {
		require.Zero(t, *execs[id], "no single Execs for a pipeline")
	}
	// A one-command read is a plain Exec.
	require.Equal(t, bulk("v3"), k.do("get k3"))
	require.Equal(t, 1, *execs["n1"])
}

// TestRepeatedResultIsOneVote: a Result that arrives twice (a duplicating
// network) counts once toward a quorum.
func TestRepeatedResultIsOneVote(t *testing.T) {
	r, err := ring.New(ring.Config{Nodes: threeRacks(), Local: "n1"})
	require.NoError(t, err)
	sink := actors.Addr{Node: "n1", Name: "c/w"}
	c := coord.NewRedis(coord.Config{Sink: sink, Ring: r, StoreName: "store", Timeout: time.Second,
		Read: config.DCSafeQuorum, Write: config.DCSafeQuorum})()
	ctx := &benchCtx{self: actors.Addr{Node: "n1", Name: "c"}, now: time.Unix(1, 0)}
	c.Receive(ctx, actors.Started{})
	c.Receive(ctx, coord.Requests{Cmds: [][][]byte{cmd("get k")}})
	require.Len(t, ctx.execs, 3)
	first := ctx.execs[0]
	ctx.sender = first.to
	answer := store.Result{ID: first.exec.ID, Reply: []byte("$1\r\na\r\n")}
	c.Receive(ctx, answer)
	c.Receive(ctx, answer)
	c.Receive(ctx, store.Results{Results: []store.Result{answer, answer}})
	require.Zero(t, ctx.replies, "one replica's answer, however often repeated, is no quorum")
	second := ctx.execs[1]
	ctx.sender = second.to
	c.Receive(ctx, store.Result{ID: second.exec.ID, Reply: []byte("$1\r\na\r\n")})
	require.Equal(t, 1, ctx.replies, "two replicas agreeing are")
}

// TestQuietReplicaWrites: a write asks for no answer from the replicas
// whose answer does not count (DC_ONE's other racks, DCs outside a
// DC_QUORUM), and for one from every replica that counts; reads go only
// to replicas that count and always want their answer.
func TestQuietReplicaWrites(t *testing.T) {
	twoDCs := append(threeRacks(),
		ring.Node{ID: "m1", DC: "dc2", Rack: "r1", Tokens: []uint32{0}},
		ring.Node{ID: "m2", DC: "dc2", Rack: "r2", Tokens: []uint32{0}})
	for _, tc := range []struct {
		name  string
		nodes []ring.Node
		level config.Consistency
		cmd   string
		quiet map[actors.NodeID]bool // every replica sent to, and whether quietly
	}{
		{"DC_ONE write", threeRacks(), config.DCOne, "set k v", map[actors.NodeID]bool{"n1": false, "n2": true, "n3": true}},
		{"DC_ONE read", threeRacks(), config.DCOne, "get k", map[actors.NodeID]bool{"n1": false}},
		{"DC_QUORUM write", threeRacks(), config.DCQuorum, "set k v", map[actors.NodeID]bool{"n1": false, "n2": false, "n3": false}},
		{"DC_QUORUM write, two DCs", twoDCs, config.DCQuorum, "set k v",
			map[actors.NodeID]bool{"n1": false, "n2": false, "n3": false, "m1": true, "m2": true}},
		{"DC_EACH_SAFE_QUORUM write, two DCs", twoDCs, config.DCEachSafeQuorum, "set k v",
			map[actors.NodeID]bool{"n1": false, "n2": false, "n3": false, "m1": false, "m2": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ring.New(ring.Config{Nodes: tc.nodes, Local: "n1"})
			require.NoError(t, err)
			c := coord.NewRedis(coord.Config{Sink: actors.Addr{Node: "n1", Name: "c/w"}, Ring: r, StoreName: "store",
				Timeout: time.Second, Read: tc.level, Write: tc.level})()
			ctx := &benchCtx{self: actors.Addr{Node: "n1", Name: "c"}, now: time.Unix(1, 0)}
			c.Receive(ctx, actors.Started{})
			c.Receive(ctx, coord.Requests{Cmds: [][][]byte{cmd(tc.cmd)}})
			got := map[actors.NodeID]bool{}
			for _, e := range ctx.execs {
				got[e.to.Node] = e.exec.Quiet
			}
			require.Equal(t, tc.quiet, got)
			// The answers that count decide the request.
			for _, e := range ctx.execs {
				if !e.exec.Quiet {
					ctx.sender = e.to
					c.Receive(ctx, store.Result{ID: e.exec.ID, Reply: []byte("+OK\r\n")})
				}
			}
			require.Equal(t, 1, ctx.replies)
		})
	}
}

// TestRestartedCoordinatorClosesTheConnection: a coordinator restarted
// after a panic (the runtime delivers Restarted to the fresh incarnation)
// has lost its predecessor's requests; it answers with one error line in
// place of the first lost reply and closes the connection, and answers
// nothing after it. Both protocols.
func TestRestartedCoordinatorClosesTheConnection(t *testing.T) {
	c := newCluster(t, "dc1/r1")
	k := c.conn("n1")
	require.Equal(t, "+OK\r\n", k.do("set a v"))
	c.w.Inject(actors.Addr{Node: "n1", Name: "runtime"}, k.addr, actors.Restarted{Cause: "test panic"})
	require.NoError(t, c.w.RunFor(time.Second))
	require.True(t, k.cl.closed)
	require.Equal(t, "+OK\r\n-ERR dynonode: internal error, this connection lost its pending requests; reconnect\r\n", string(k.cl.data))
	require.Equal(t, "", k.do("get a"), "nothing after the close")

	mc := &client{}
	sink := actors.Addr{Node: "n1", Name: "m1/w"}
	c.w.Spawn("n1", "m1/w", func() actors.Behaviour { return mc })
	c.w.Spawn("n1", "m1", coord.NewMemcached(coord.Config{Sink: sink, Ring: c.ring["n1"], StoreName: "store", Timeout: 500 * time.Millisecond, Version: "test"}))
	c.w.Inject(actors.Addr{Node: "n1", Name: "runtime"}, actors.Addr{Node: "n1", Name: "m1"}, actors.Restarted{Cause: "test panic"})
	require.NoError(t, c.w.RunFor(time.Second))
	require.True(t, mc.closed)
	require.Equal(t, "SERVER_ERROR dynonode: internal error, this connection lost its pending requests; reconnect\r\n", string(mc.data))
}

// TestTransactions: MULTI queues, EXEC runs the queue on the keys'
// replicas and answers its array; the state machine's errors are Redis's
// (the same sequences against a real redis-server: TestClusterTransactions
// in cmd/dynonode).
func TestTransactions(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
	k := c.conn("n1")
	require.Equal(t, "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n+OK\r\n:2\r\n"+bulk("2")+"+PONG\r\n",
		k.do("multi", "set {t}a 1", "incr {t}a", "get {t}a", "ping", "exec"))
	require.Equal(t, bulk("2"), c.conn("n2").do("get {t}a"), "the transaction ran on every rack")
	require.Equal(t, "-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n+OK\r\n", k.do("exec", "discard", "unwatch"))
	require.Equal(t, "+OK\r\n-ERR MULTI calls can not be nested\r\n+QUEUED\r\n+OK\r\n"+bulk("2"),
		k.do("multi", "multi", "set {t}a 3", "discard", "get {t}a"), "DISCARD drops the queue")
	got := k.do("multi", "set {t}a 4", "nosuch x", "get", "exec", "get {t}a")
	require.True(t, strings.HasSuffix(got, "-EXECABORT Transaction discarded because of previous errors.\r\n"+bulk("2")), got)
	got = k.do("multi", "subscribe x", "exec")
	require.Equal(t, "+OK\r\n-ERR dynonode: 'SUBSCRIBE' cannot be part of a transaction\r\n-EXECABORT Transaction discarded because of previous errors.\r\n", got)
	require.Equal(t, "+OK\r\n*0\r\n", k.do("multi", "exec"))
	require.Contains(t, k.do("watch {t}a"), "-ERR dynonode: 'WATCH' is not supported")
	require.Equal(t, "+OK\r\n-ERR WATCH inside MULTI is not allowed\r\n+QUEUED\r\n*1\r\n:1\r\n", k.do("multi", "watch {t}a", "lpush {t}l x", "exec"))
	// Keys on different nodes: refused at EXEC, nothing runs.
	split := newCluster(t, "dc1/r1", "dc1/r1").conn("n1")
	cmds := []string{"multi"}
	for i := range 8 {
		cmds = append(cmds, fmt.Sprintf("set k%d 1", i))
	}
	got = split.do(append(cmds, "exec", "exists k0 k1 k2 k3 k4 k5 k6 k7")...)
	require.Contains(t, got, "-ERR dynonode: the keys of a transaction must live on the same nodes; give them a common hash tag")
	require.True(t, strings.HasSuffix(got, ":0\r\n"), "nothing ran: %q", got)
	// With versions, relative expiry counts from EXEC, not from queueing.
	require.Equal(t, "+OK\r\n+QUEUED\r\n", k.do("multi", "set {t}e v ex 5"))
	require.NoError(t, c.w.RunFor(10*time.Second))
	require.Equal(t, "*1\r\n+OK\r\n:5\r\n", k.do("exec", "ttl {t}e"))
	// A transaction's arguments are bounded: it travels as one message.
	big := strings.Repeat("x", 33<<20)
	got = k.do("multi", "set {t}big "+big, "exec")
	require.Equal(t, "+OK\r\n-ERR dynonode: a transaction holds at most 100000 commands and 32 MiB of arguments\r\n"+
		"-EXECABORT Transaction discarded because of previous errors.\r\n", got)
	// A runtime error is one element of the array; the rest ran.
	require.Equal(t, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n:3\r\n",
		k.do("multi", "incr {t}l", "incr {t}a", "exec"))
}

// TestPubSub: a message published through any node reaches the
// subscribers of every node, by channel and by pattern, in Redis's RESP2
// form; PUBLISH answers the receivers on its own node; a subscribed
// connection accepts only what Redis allows; unsubscribing and closing
// stop delivery.
func TestPubSub(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
	sub, local, pub := c.conn("n2"), c.conn("n1"), c.conn("n1")
	require.Equal(t, "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"+
		"*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n", sub.do("subscribe news news sport"))
	require.Equal(t, "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n", sub.do("psubscribe n*"))
	require.Equal(t, "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n", local.do("subscribe news"))
	before, beforeLocal := len(sub.cl.data), len(local.cl.data)
	require.Equal(t, ":1\r\n", pub.do("publish news hello"), "one receiver on the publishing node")
	require.Equal(t, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n",
		string(sub.cl.data[before:]), "channel and pattern deliveries on another node")
	require.Equal(t, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n", string(local.cl.data[beforeLocal:]))
	// Subscribed: only (un)subscribe, PING, QUIT and RESET.
	require.Equal(t, "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n", sub.do("get x"))
	require.Equal(t, "*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n", sub.do("ping", "ping hi"))
	require.Equal(t, "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$5\r\nsport\r\n:1\r\n",
		sub.do("unsubscribe"), "all channels, in subscription order")
	before = len(sub.cl.data)
	pub.do("publish news again", "publish other x")
	require.Equal(t, "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nagain\r\n", string(sub.cl.data[before:]), "the pattern only")
	require.Equal(t, "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n+OK\r\n", sub.do("punsubscribe", "set x 1"), "no subscription left: commands again")
	require.Equal(t, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n", sub.do("unsubscribe"))
	// PUBLISH then SUBSCRIBE in one pipeline: the message was published
	// before the subscription, as in Redis.
	fresh := c.conn("n1")
	require.Equal(t, ":0\r\n*3\r\n$9\r\nsubscribe\r\n$5\r\nfresh\r\n:1\r\n", fresh.do("publish fresh x", "subscribe fresh"))
	require.Equal(t, "+RESET\r\n", local.do("reset"))
	require.Equal(t, ":0\r\n", pub.do("publish news gone"), "RESET dropped the subscription")
	// Sharded pub/sub: a namespace of its own, delivered on every node;
	// PUBSUB counts the node's subscribers.
	ss := c.conn("n2")
	require.Equal(t, "*3\r\n$10\r\nssubscribe\r\n$2\r\nsh\r\n:1\r\n", ss.do("ssubscribe sh"))
	before = len(ss.cl.data)
	require.Equal(t, ":0\r\n:0\r\n", pub.do("publish sh x", "spublish sh y"))
	require.Equal(t, "*3\r\n$8\r\nsmessage\r\n$2\r\nsh\r\n$1\r\ny\r\n", string(ss.cl.data[before:]))
	require.Equal(t, "*2\r\n$2\r\nsh\r\n:1\r\n", c.conn("n2").do("pubsub shardnumsub sh"))
	require.Equal(t, "*2\r\n$2\r\nsh\r\n:0\r\n", c.conn("n1").do("pubsub shardnumsub sh"), "none on n1")
}
