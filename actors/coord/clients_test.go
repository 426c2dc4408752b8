package coord_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/acl"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/stretchr/testify/require"
)

// client opens a connection as the daemon's edge does: its coordinator
// named client/<n> (n its CLIENT ID), registered with the node's client
// registry, from 10.0.0.<n>:5000<n>.
func (c *cluster) client(node actors.NodeID, mutate ...func(*coord.Config)) *conn {
	c.connN++
	name := fmt.Sprintf("client/%d", c.connN)
	cl := &client{}
	sink := actors.Addr{Node: node, Name: name + "/w"}
	cfg := coord.Config{Sink: sink, Ring: c.ring[node], StoreName: "store", BrokerName: "pubsub", Timeout: 500 * time.Millisecond,
		Version: "test", Clients: actors.Addr{Node: node, Name: clients.Name},
		Socket: clients.Conn{Addr: fmt.Sprintf("10.0.0.%d:5000%d", c.connN, c.connN), LAddr: "10.0.0.100:8102", FD: 10 + c.connN}}
	for _, m := range mutate {
		m(&cfg)
	}
	c.w.Spawn(node, name+"/w", func() actors.Behaviour { return cl })
	c.w.Spawn(node, name, coord.NewRedis(cfg))
	return &conn{c: c, addr: actors.Addr{Node: node, Name: name}, cl: cl}
}

// listed parses a CLIENT LIST (or INFO) reply into its lines' fields.
func listed(t *testing.T, reply string) []map[string]string {
	t.Helper()
	m := regexp.MustCompile(`^\$([0-9]+)\r\n((?s).*)\r\n$`).FindStringSubmatch(reply)
	require.NotNil(t, m, "a bulk string: %q", reply)
	require.Equal(t, m[1], fmt.Sprint(len(m[2])))
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(m[2], "\n"), "\n") {
		if line == "" {
			continue
		}
		f := map[string]string{}
		for _, kv := range strings.Split(line, " ") {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		out = append(out, f)
	}
	return out
}

// fields picks some fields of each line, "k=v k=v".
func fields(lines []map[string]string, keys ...string) []string {
	var out []string
	for _, l := range lines {
		var kv []string
		for _, k := range keys {
			kv = append(kv, k+"="+l[k])
		}
		out = append(out, strings.Join(kv, " "))
	}
	return out
}

// TestClientListShowsTheNodeConnections: CLIENT LIST shows every
// connection of its node (not another node's), by id, with what each
// is doing: its name, subscriptions, queued commands, a waiting pop,
// NO-EVICT, its last command as Redis names it, its user; CLIENT INFO is
// its own line; LIST ID and TYPE select as Redis does.
func TestClientListShowsTheNodeConnections(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r2")
	a, sub, tx, blk, other := c.client("n1"), c.client("n1"), c.client("n1"), c.client("n1"), c.client("n2")
	require.Equal(t, "+OK\r\n+OK\r\n", a.do("client setname app", "client no-evict on"))
	sub.do("subscribe x y", "psubscribe p*", "ssubscribe s")
	require.Equal(t, "+OK\r\n+QUEUED\r\n+QUEUED\r\n", tx.do("multi", "set {t}a 1", "get {t}a"))
	require.Equal(t, "", blk.do("blpop q 0"))
	require.Equal(t, "+PONG\r\n", other.do("ping"))
	fresh := c.client("n1")
	require.NoError(t, c.w.RunFor(time.Millisecond))

	lines := listed(t, a.do("client list"))
	require.Equal(t, []string{
		"id=1 addr=10.0.0.1:50001 laddr=10.0.0.100:8102 fd=11 name=app flags=e sub=0 psub=0 ssub=0 multi=-1 cmd=client|list user=default",
		"id=2 addr=10.0.0.2:50002 laddr=10.0.0.100:8102 fd=12 name= flags=P sub=2 psub=1 ssub=1 multi=-1 cmd=ssubscribe user=default",
		"id=3 addr=10.0.0.3:50003 laddr=10.0.0.100:8102 fd=13 name= flags=x sub=0 psub=0 ssub=0 multi=2 cmd=get user=default",
		"id=4 addr=10.0.0.4:50004 laddr=10.0.0.100:8102 fd=14 name= flags=b sub=0 psub=0 ssub=0 multi=-1 cmd=blpop user=default",
		"id=6 addr=10.0.0.6:50006 laddr=10.0.0.100:8102 fd=16 name= flags=N sub=0 psub=0 ssub=0 multi=-1 cmd=NULL user=default",
	}, fields(lines, "id", "addr", "laddr", "fd", "name", "flags", "sub", "psub", "ssub", "multi", "cmd", "user"))
	for _, l := range lines {
		require.Equal(t, "0 r -1 2", strings.Join([]string{l["db"], l["events"], l["redir"], l["resp"]}, " "))
	}
	info := listed(t, a.do("client info"))
	require.Len(t, info, 1)
	lines[0]["cmd"], lines[0]["age"] = "client|info", info[0]["age"] // 2 s later
	require.Equal(t, lines[0], info[0], "CLIENT INFO is the connection's own line")

	// Idle counts from a connection's last read or write, age from its
	// start (each do runs the cluster 2 s: 1 wrote its INFO 5 s ago).
	require.NoError(t, c.w.RunFor(3*time.Second))
	lines = listed(t, fresh.do("client list id 6 1 6 99"))
	require.Equal(t, []string{"id=6 age=7 idle=0", "id=1 age=17 idle=5", "id=6 age=7 idle=0"}, fields(lines, "id", "age", "idle"),
		"in the order asked, repeats included, unknown ids left out")
	require.Equal(t, []string{"id=2"}, fields(listed(t, a.do("client list type pubsub")), "id"))
	require.Equal(t, []string{"id=1", "id=3", "id=4", "id=6"}, fields(listed(t, a.do("client list type NORMAL")), "id"))
	require.Equal(t, "$0\r\n\r\n", a.do("client list type master"))

	// Leaving MULTI, the last subscription, the pop: the line follows.
	tx.do("exec")
	sub.do("unsubscribe", "punsubscribe", "sunsubscribe")
	require.Equal(t, ":1\r\n", other.do("rpush q v"))
	require.Equal(t, []string{"id=2 flags=N multi=-1 cmd=sunsubscribe", "id=3 flags=N multi=-1 cmd=exec", "id=4 flags=N multi=-1 cmd=blpop"},
		fields(listed(t, a.do("client list id 2 3 4")), "id", "flags", "multi", "cmd"))

	// Redis's errors for the arguments.
	for cmd, want := range map[string]string{
		"client list type foo": "-ERR Unknown client type 'foo'\r\n", "client list id x": "-ERR Invalid client ID\r\n",
		"client list foo": "-ERR syntax error\r\n", "client list id": "-ERR syntax error\r\n",
		"client kill":   "-ERR wrong number of arguments for 'client|kill' command\r\n",
		"client info x": "-ERR wrong number of arguments for 'client|info' command\r\n",
	} {
		require.Equal(t, want, a.do(cmd), cmd)
	}
	require.Equal(t, "-ERR unknown command 'nosuch', with args beginning with: \r\n", a.do("nosuch"))
	require.Equal(t, []string{"id=1 cmd=NULL"}, fields(listed(t, fresh.do("client list id 1")), "id", "cmd"), "an unknown command is NULL")
	require.Contains(t, a.do("client pause 10"), "-ERR dynonode: 'CLIENT PAUSE' is not supported")
}

// TestClientKill: CLIENT KILL closes the connections it selects (what
// each had pending is dropped, a waiting pop withdrawn) and answers their
// count, or +OK and No such client in the old form; the asking
// connection is spared unless SKIPME no, and then it closes after the
// reply, running nothing sent after it.
func TestClientKill(t *testing.T) {
	c := newCluster(t, "dc1/r1")
	admin, victim, blk, named := c.client("n1"), c.client("n1"), c.client("n1"), c.client("n1")
	require.Equal(t, "+PONG\r\n", victim.do("ping"))
	require.Equal(t, "", blk.do("blpop q 0", "set after 1"))
	require.Equal(t, ":0\r\n", admin.do("client kill id 99"))
	require.Equal(t, "-ERR No such client\r\n", admin.do("client kill 10.0.0.9:1"))
	require.Equal(t, ":1\r\n", admin.do("client kill id 2"))
	require.True(t, victim.cl.closed)
	require.Equal(t, "", victim.do("ping"), "nothing more from a killed connection")
	require.Equal(t, "+OK\r\n", admin.do("client kill 10.0.0.3:50003"))
	require.True(t, blk.cl.closed)
	require.Equal(t, "", string(blk.cl.data), "the pop and what it held are dropped")
	require.Equal(t, ":1\r\n:1\r\n$-1\r\n", admin.do("rpush q v", "llen q", "get after"), "the killed pop took nothing, held SET never ran")
	require.Equal(t, []string{"id=1", "id=4"}, fields(listed(t, admin.do("client list")), "id"), "the killed are gone at once")

	require.Equal(t, "+OK\r\n", named.do("client setname x"))
	require.Equal(t, ":0\r\n", admin.do("client kill addr 10.0.0.4:50004 laddr 10.0.0.100:9999"))
	require.Equal(t, ":0\r\n", admin.do("client kill user default type pubsub"))
	require.Equal(t, ":1\r\n", admin.do("client kill user default"), "SKIPME yes: the asker is spared")
	require.True(t, named.cl.closed)
	require.False(t, admin.cl.closed)
	require.Equal(t, ":1\r\n", admin.do("client kill id 1 skipme no", "ping"), "the reply, then the end")
	require.True(t, admin.cl.closed)
	last := c.client("n1")
	require.Equal(t, "$0\r\n\r\n", last.do("client list id 1 2 3 4"))
	require.Equal(t, "+OK\r\n", last.do("client kill 10.0.0.5:50005"), "the old form kills its own connection")
	require.True(t, last.cl.closed)
	for cmd, want := range map[string]string{
		"client kill id 0": "-ERR client-id should be greater than 0\r\n", "client kill user nobody": "-ERR No such user 'nobody'\r\n",
		"client kill type x": "-ERR Unknown client type 'x'\r\n", "client kill skipme maybe id 1": "-ERR syntax error\r\n",
		"client kill a b c": "-ERR syntax error\r\n",
	} {
		require.Equal(t, want, c.client("n1").do(cmd), cmd)
	}
}

// TestClientListKillNeedAdmin: CLIENT LIST and KILL are @admin
// @dangerous: a user without them gets Redis's NOPERM; KILL USER names
// the aclfile's users.
func TestClientListKillNeedAdmin(t *testing.T) {
	users, err := acl.Parse([]byte("user default on nopass ~* &* +@all\nuser app on >pw ~* &* +@all -@admin\n"))
	require.NoError(t, err)
	c := newCluster(t, "dc1/r1")
	withUsers := func(cfg *coord.Config) { cfg.Users = users }
	app, root := c.client("n1", withUsers), c.client("n1", withUsers)
	require.Equal(t, "+OK\r\n", app.do("auth app pw"))
	require.Equal(t, "-NOPERM this user has no permissions to run the 'client|list' command\r\n", app.do("client list"))
	require.Equal(t, "-NOPERM this user has no permissions to run the 'client|kill' command\r\n", app.do("client kill id 2"))
	require.Regexp(t, `^\$[0-9]+\r\nid=1 .* user=app redir=-1 resp=2\n\r\n$`, app.do("client info"))
	require.Equal(t, []string{"id=1 user=app", "id=2 user=default"}, fields(listed(t, root.do("client list")), "id", "user"))
	require.Equal(t, "-ERR No such user 'nobody'\r\n", root.do("client kill user nobody"))
	require.Equal(t, ":1\r\n", root.do("client kill user app"))
	require.True(t, app.cl.closed)
}

// TestClientListWithoutRegistry: a registry that does not answer is a
// timeout, not a hang; a coordinator without one refuses LIST and KILL.
func TestClientListWithoutRegistry(t *testing.T) {
	c := newCluster(t, "dc1/r1")
	lost := c.client("n1", func(cfg *coord.Config) { cfg.Clients = actors.Addr{Node: "n1", Name: "nobody"} })
	require.Equal(t, "-ERR Storage: request timed out after 500ms\r\n+PONG\r\n", lost.do("client list", "ping"))
	none := c.conn("n1")
	require.Equal(t, "-ERR dynonode: 'CLIENT LIST' is not supported: this node keeps no registry of its connections\r\n", none.do("client list"))
}
