package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// clientLine is one line of CLIENT LIST: its field names in order, and
// their values.
type clientLine struct {
	keys   []string
	fields map[string]string
}

// clientLines parses a CLIENT LIST reply (a bulk string of lines).
func clientLines(t *testing.T, reply string) []clientLine {
	t.Helper()
	head, body, ok := strings.Cut(reply, "\r\n")
	require.True(t, ok && strings.HasPrefix(head, "$"), "a bulk string: %q", reply)
	n, err := strconv.Atoi(head[1:])
	require.NoError(t, err)
	require.Equal(t, n+2, len(body), "%q", reply)
	var out []clientLine
	for _, l := range strings.Split(strings.TrimSuffix(body[:n], "\n"), "\n") {
		if l == "" {
			continue
		}
		cl := clientLine{fields: map[string]string{}}
		for _, kv := range strings.Split(l, " ") {
			k, v, _ := strings.Cut(kv, "=")
			cl.keys = append(cl.keys, k)
			cl.fields[k] = v
		}
		out = append(out, cl)
	}
	return out
}

// since keeps the lines of connections from id on (a server's own checks
// of its port may still be listed), by id: redis-server lists its
// clients in the order of a list its cron rotates, the node by id.
func since(lines []clientLine, id string) []clientLine {
	first, _ := strconv.Atoi(id)
	var out []clientLine
	for _, l := range lines {
		if n, _ := strconv.Atoi(l.fields["id"]); n >= first {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b clientLine) int {
		x, _ := strconv.Atoi(a.fields["id"])
		y, _ := strconv.Atoi(b.fields["id"])
		return x - y
	})
	return out
}

// clientSide is one server's side of TestClientListKillLikeRedis: an
// admin connection and one connection in each state.
type clientSide struct {
	addr                                 string
	admin, named, sub, tx, blocked, user *testproc.RESPClient
	adminID                              string
}

// openClients makes the connections, in the same order on either server, and
// puts each in its state.
func openClients(t *testing.T, addr string) *clientSide {
	s := &clientSide{addr: addr}
	s.admin = testproc.DialRESP(t, addr)
	s.adminID = strings.TrimSuffix(strings.TrimPrefix(s.admin.Do("CLIENT", "ID"), ":"), "\r\n")
	s.named, s.sub, s.tx, s.blocked, s.user = testproc.DialRESP(t, addr), testproc.DialRESP(t, addr), testproc.DialRESP(t, addr),
		testproc.DialRESP(t, addr), testproc.DialRESP(t, addr)
	require.Equal(t, "+OK\r\n", s.named.Do("CLIENT", "SETNAME", "app1"))
	require.Equal(t, "+OK\r\n", s.named.Do("CLIENT", "NO-EVICT", "on"))
	s.sub.Do("SUBSCRIBE", "ch1", "ch2")
	s.sub.Reply()
	s.sub.Do("PSUBSCRIBE", "p*")
	require.Equal(t, "+OK\r\n", s.tx.Do("MULTI"))
	require.Equal(t, "+QUEUED\r\n", s.tx.Do("SET", "{k}a", "1"))
	require.Equal(t, "+QUEUED\r\n", s.tx.Do("GET", "{k}a"))
	s.blocked.Send(testproc.Command("BLPOP", "{q}none", "0"))
	require.Equal(t, "+OK\r\n", s.user.Do("AUTH", "app", "pw"))
	return s
}

// TestClientListKillLikeRedis: 2 racks of Redis-backed nodes, and a
// redis-server 7.0.15 with the same aclfile, each with the same six
// connections (an admin, a named one with NO-EVICT, a subscriber, one in
// MULTI, one blocked in BLPOP, one of a user without @admin). Through the
// node CLIENT LIST lists that node's connections only, each line with
// redis-server's fields in its order and the same name, flags, counts,
// last command and user (ids, addresses, times and buffer figures are
// each server's own; the node's addresses are its sockets'); the errors
// for bad arguments and the NOPERM of a user without @admin are
// redis-server's. CLIENT KILL by ID, ADDR (and its old form), USER and
// TYPE closes the same connections on both, with the same replies, and
// SKIPME no closes the admin's own after the reply.
func TestClientListKillLikeRedis(t *testing.T) {
	acl := filepath.Join(t.TempDir(), "users.acl")
	require.NoError(t, os.WriteFile(acl, []byte("user default on nopass ~* &* +@all\nuser app on >pw ~* &* +@all -@admin\n"), 0o644))
	plainSrv := testproc.Redis(t, "--aclfile", acl)
	nodes := startCluster(t, 64, "  aclfile: "+acl+"\n", "dc1/r1", "dc1/r2")
	probe := testproc.DialRESP(t, nodes[0].listen)
	eventuallyEqual(t, "+PONG\r\n", func() string { return probe.Do("PING") }, "node up")
	require.NoError(t, probe.Conn.Close())
	elsewhere := testproc.DialRESP(t, nodes[1].listen) // another node's connection: never listed by node 0
	require.Equal(t, "+PONG\r\n", elsewhere.Do("PING"))

	plain, node := openClients(t, plainSrv.Addr), openClients(t, nodes[0].listen)
	var want, got []clientLine
	// The probe's connection leaves the node's list once its coordinator
	// has stopped.
	eventuallyEqual(t, "6", func() string {
		return strconv.Itoa(len(clientLines(t, node.admin.Do("CLIENT", "LIST"))))
	}, "the node's six connections")
	want = since(clientLines(t, plain.admin.Do("CLIENT", "LIST")), plain.adminID)
	got = clientLines(t, node.admin.Do("CLIENT", "LIST"))
	require.Len(t, want, 6)
	require.Len(t, got, 6)
	for i := range want {
		require.Equal(t, want[i].keys, got[i].keys, "line %d: redis-server's fields, in its order", i)
		for _, k := range []string{"name", "flags", "db", "sub", "psub", "ssub", "multi", "events", "cmd", "user", "redir", "resp"} {
			require.Equal(t, want[i].fields[k], got[i].fields[k], "line %d, %s", i, k)
		}
		require.Equal(t, nodes[0].listen, got[i].fields["laddr"])
		require.NotEqual(t, "0", got[i].fields["fd"], "the socket's descriptor")
		require.NotEqual(t, elsewhere.Conn.LocalAddr().String(), got[i].fields["addr"])
	}
	require.Equal(t, node.named.Conn.LocalAddr().String(), got[1].fields["addr"], "addr is the client's end")
	info := clientLines(t, node.named.Do("CLIENT", "INFO"))
	require.Len(t, info, 1)
	require.Equal(t, got[1].keys, info[0].keys, "CLIENT INFO: the same line")
	require.Equal(t, "client|info", info[0].fields["cmd"])

	for _, cmd := range [][]string{
		{"CLIENT", "LIST", "TYPE", "foo"}, {"CLIENT", "LIST", "ID", "x"}, {"CLIENT", "LIST", "foo"}, {"CLIENT", "LIST", "ID"},
		{"CLIENT", "LIST", "TYPE", "normal", "ID", "1"}, {"CLIENT", "LIST", "TYPE", "master"}, {"CLIENT", "LIST", "ID", "99999", "-1"},
		{"CLIENT", "KILL"}, {"CLIENT", "KILL", "ID", "0"}, {"CLIENT", "KILL", "ID", "x"}, {"CLIENT", "KILL", "TYPE", "foo"},
		{"CLIENT", "KILL", "USER", "nobody"}, {"CLIENT", "KILL", "SKIPME", "maybe", "ID", "1"}, {"CLIENT", "KILL", "a", "b", "c"},
		{"CLIENT", "KILL", "1.2.3.4:5"}, {"CLIENT", "KILL", "ID", "99999"}, {"CLIENT", "KILL", "TYPE", "master"},
		{"CLIENT", "KILL", "ADDR", "1.2.3.4:5", "SKIPME", "no"},
	} {
		require.Equal(t, plain.admin.Do(cmd...), node.admin.Do(cmd...), "%q", cmd)
	}
	for _, cmd := range [][]string{{"CLIENT", "LIST"}, {"CLIENT", "KILL", "ID", "1"}} {
		want := plain.user.Do(cmd...)
		require.True(t, strings.HasPrefix(want, "-NOPERM"), want)
		require.Equal(t, want, node.user.Do(cmd...), "%q by a user without @admin", cmd)
	}

	// Kills: the same replies, the same connections closed.
	idOf := func(s *clientSide, c *testproc.RESPClient) string {
		for _, l := range clientLines(t, s.admin.Do("CLIENT", "LIST")) {
			if l.fields["addr"] == c.Conn.LocalAddr().String() {
				return l.fields["id"]
			}
		}
		t.Fatalf("%s not listed", c.Conn.LocalAddr())
		return ""
	}
	for _, step := range []struct {
		what string
		kill func(s *clientSide) []string
		gone func(s *clientSide) *testproc.RESPClient
	}{
		{"ID", func(s *clientSide) []string { return []string{"ID", idOf(s, s.blocked)} }, func(s *clientSide) *testproc.RESPClient { return s.blocked }},
		{"ADDR", func(s *clientSide) []string { return []string{"ADDR", s.named.Conn.LocalAddr().String()} }, func(s *clientSide) *testproc.RESPClient { return s.named }},
		{"old form", func(s *clientSide) []string { return []string{s.tx.Conn.LocalAddr().String()} }, func(s *clientSide) *testproc.RESPClient { return s.tx }},
		{"USER", func(s *clientSide) []string { return []string{"USER", "app"} }, func(s *clientSide) *testproc.RESPClient { return s.user }},
		{"TYPE", func(s *clientSide) []string { return []string{"type", "PUBSUB", "skipme", "yes"} }, func(s *clientSide) *testproc.RESPClient { return s.sub }},
	} {
		w := plain.admin.Do(append([]string{"CLIENT", "KILL"}, step.kill(plain)...)...)
		require.Equal(t, w, node.admin.Do(append([]string{"CLIENT", "KILL"}, step.kill(node)...)...), "KILL by %s", step.what)
		require.Contains(t, []string{":1\r\n", "+OK\r\n"}, w, "KILL by %s", step.what)
		step.gone(plain).ExpectClosed()
		step.gone(node).ExpectClosed()
	}
	require.Len(t, clientLines(t, node.admin.Do("CLIENT", "LIST")), 1, "the admin alone")
	require.Equal(t, ":0\r\n", node.admin.Do("CLIENT", "KILL", "USER", "default"), "SKIPME yes by default")
	for _, s := range []*clientSide{plain, node} {
		require.Equal(t, ":1\r\n", s.admin.Do("CLIENT", "KILL", "ID", s.adminID, "SKIPME", "no"), s.addr)
		s.admin.ExpectClosed()
	}
	require.Equal(t, "+PONG\r\n", elsewhere.Do("PING"), "another node's connection lives on")
	fresh := testproc.DialRESP(t, nodes[0].listen)
	eventuallyEqual(t, "1", func() string { return fmt.Sprint(len(clientLines(t, fresh.Do("CLIENT", "LIST")))) }, "a fresh connection alone")
}
