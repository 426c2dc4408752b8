package clients_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
)

func args(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 500_000_000, time.UTC)

// TestAppendLine: CLIENT LIST's line has redis-server 7.0.15's fields in
// its order (a line recorded from one, with the figures the node cannot
// know at 0), flags in Redis's order, NULL before any command, age and
// idle counted from second to second.
func TestAppendLine(t *testing.T) {
	e := clients.Entry{ID: 3, Conn: clients.Conn{Addr: "127.0.0.1:55852", LAddr: "127.0.0.1:46391", FD: 7}, User: "default",
		Opened: t0, Active: t0, Multi: -1, Cmd: "client|list"}
	require.Equal(t, "id=3 addr=127.0.0.1:55852 laddr=127.0.0.1:46391 fd=7 name= age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 "+
		"multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=client|list "+
		"user=default redir=-1 resp=2\n", string(e.AppendLine(nil, t0.Add(499*time.Millisecond))))

	for _, tc := range []struct {
		mutate func(*clients.Entry)
		want   string
	}{
		{func(e *clients.Entry) { e.Sub = 2 }, " flags=P "},
		{func(e *clients.Entry) { e.SSub = 1 }, " flags=P "},
		{func(e *clients.Entry) { e.Multi = 4 }, " flags=x "},
		{func(e *clients.Entry) { e.Blocked = true }, " flags=b "},
		{func(e *clients.Entry) { e.Unix, e.NoEvict = true, true }, " flags=Ue "},
		{func(e *clients.Entry) { e.PSub, e.Multi, e.Blocked, e.NoEvict = 1, 0, true, true }, " flags=Pxbe "},
		{func(e *clients.Entry) { e.Cmd = "" }, " cmd=NULL "},
		{func(e *clients.Entry) { e.Name, e.User = "app", "alice" }, " name=app "},
		{func(e *clients.Entry) { e.Active = t0.Add(2 * time.Second) }, " age=5 idle=3 "},
		{func(e *clients.Entry) { e.Active = time.Time{} }, " age=5 idle=5 "}, // never active: since it opened
	} {
		e := e
		tc.mutate(&e)
		require.Contains(t, string(e.AppendLine(nil, t0.Add(5*time.Second))), tc.want)
	}
	e.Opened = t0.Add(time.Minute) // a clock that jumped back
	require.Contains(t, string(e.AppendLine(nil, t0)), " age=0 idle=0 ")
}

// TestParseListLikeRedis: CLIENT LIST's forms and redis-server 7.0.15's
// errors for its arguments.
func TestParseListLikeRedis(t *testing.T) {
	for _, tc := range []struct {
		args string
		want clients.Filter
		err  string
	}{
		{"client list", clients.Filter{}, ""},
		{"CLIENT LIST TYPE normal", clients.Filter{Type: clients.Normal}, ""},
		{"client list type PubSub", clients.Filter{Type: clients.PubSub}, ""},
		{"client list type slave", clients.Filter{Type: clients.Replica}, ""},
		{"client list type master", clients.Filter{Type: clients.Master}, ""},
		{"client list type foo", clients.Filter{}, "ERR Unknown client type 'foo'"},
		{"client list ID 9 3 9 -5", clients.Filter{IDs: []int64{9, 3, 9, -5}}, ""},
		{"client list id 1 abc", clients.Filter{}, "ERR Invalid client ID"},
		{"client list id +1", clients.Filter{}, "ERR Invalid client ID"},
		{"client list id", clients.Filter{}, "ERR syntax error"},
		{"client list type", clients.Filter{}, "ERR syntax error"},
		{"client list foo", clients.Filter{}, "ERR syntax error"},
		{"client list type normal id 3", clients.Filter{}, "ERR syntax error"},
		{"client list type normal extra", clients.Filter{}, "ERR syntax error"},
	} {
		f, err := clients.ParseList(args(tc.args))
		require.Equal(t, tc.err, err, tc.args)
		if err == "" {
			require.Equal(t, tc.want, f, tc.args)
		}
	}
}

// TestParseKillLikeRedis: CLIENT KILL's two forms, and redis-server
// 7.0.15's error for the first argument it refuses.
func TestParseKillLikeRedis(t *testing.T) {
	users := func(name string) bool { return name == "default" || name == "alice" }
	for _, tc := range []struct {
		args string
		want clients.Kill
		err  string
	}{
		{"client kill 1.2.3.4:5", clients.Kill{Filter: clients.Filter{Addr: "1.2.3.4:5", ByAddr: true}, Old: true}, ""},
		{"client kill id", clients.Kill{Filter: clients.Filter{Addr: "id", ByAddr: true}, Old: true}, ""},
		{"client kill ID 7", clients.Kill{Filter: clients.Filter{IDs: []int64{7}}, SkipMe: true}, ""},
		{"client kill id 7 id 8", clients.Kill{Filter: clients.Filter{IDs: []int64{8}}, SkipMe: true}, ""},
		{"client kill addr a:1 laddr b:2 user alice type pubsub skipme NO", clients.Kill{Filter: clients.Filter{
			Addr: "a:1", ByAddr: true, LAddr: "b:2", ByLAddr: true, User: "alice", ByUser: true, Type: clients.PubSub}}, ""},
		{"client kill skipme yes type normal", clients.Kill{Filter: clients.Filter{Type: clients.Normal}, SkipMe: true}, ""},
		{"client kill id 0", clients.Kill{}, "ERR client-id should be greater than 0"},
		{"client kill id -1", clients.Kill{}, "ERR client-id should be greater than 0"},
		{"client kill id x", clients.Kill{}, "ERR client-id should be greater than 0"},
		{"client kill id 99999 skipme maybe", clients.Kill{}, "ERR syntax error"},
		{"client kill type foo", clients.Kill{}, "ERR Unknown client type 'foo'"},
		{"client kill type foo user nobody", clients.Kill{}, "ERR Unknown client type 'foo'"},
		{"client kill user nobody", clients.Kill{}, "ERR No such user 'nobody'"},
		{"client kill foo bar", clients.Kill{}, "ERR syntax error"},
		{"client kill maxage 10", clients.Kill{}, "ERR syntax error"},
		{"client kill id 1 type", clients.Kill{}, "ERR syntax error"},
		{"client kill a b c", clients.Kill{}, "ERR syntax error"},
		// Found by review: pairs are read in order, an option missing its
		// value fails only where it stands.
		{"client kill id 0 x", clients.Kill{}, "ERR client-id should be greater than 0"},
		{"client kill id abc type", clients.Kill{}, "ERR client-id should be greater than 0"},
		{"client kill user nosuch x", clients.Kill{}, "ERR No such user 'nosuch'"},
		{"client kill type bogus x", clients.Kill{}, "ERR Unknown client type 'bogus'"},
	} {
		k, err := clients.ParseKill(args(tc.args), users)
		require.Equal(t, tc.err, err, tc.args)
		if err == "" {
			require.Equal(t, tc.want, k, tc.args)
		}
	}
}

// fakeConn stands for a connection's coordinator: it answers the
// registry's Ask with its entry (unless mute) and records Close.
type fakeConn struct {
	entry  clients.Entry
	mute   bool
	closed bool
	asked  int
}

func (f *fakeConn) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started: // registers, as a coordinator does
		f.entry.Opened = ctx.Now()
		ctx.Send(actors.Addr{Node: ctx.Self().Node, Name: clients.Name}, clients.Update{Conn: ctx.Self(), Entry: f.entry})
	case clients.Ask:
		f.asked++
		if !f.mute {
			ctx.Send(ctx.Sender(), clients.Report{Round: m.Round, Entry: f.entry})
		}
	case clients.Close:
		f.closed = true
	}
}

// asker records the registry's answers.
type asker struct{ replies map[uint64]string }

func (a *asker) Receive(_ actors.Context, m any) {
	if r, ok := m.(store.Result); ok {
		a.replies[r.ID] = string(r.Reply)
	}
}

type registryEnv struct {
	t     *testing.T
	w     *sim.World
	reg   actors.Addr
	conns map[int64]*fakeConn
	ask   *asker
	me    actors.Addr
	n     uint64
}

// newRegistry boots a node with a registry (10 ms wait) and three
// registered connections: 1 and 2 as alice and default, 3 subscribed.
func newRegistry(t *testing.T) *registryEnv {
	w := sim.New(sim.Config{Seed: 3})
	w.AddNode(sim.NodeSpec{ID: "n1", DC: "dc1", Rack: "r1", Boot: func(s actors.Spawner) {
		s.Spawn(clients.Name, clients.New(clients.Config{Wait: 10 * time.Millisecond}))
	}})
	require.NoError(t, w.RunFor(time.Millisecond))
	env := &registryEnv{t: t, w: w, reg: actors.Addr{Node: "n1", Name: clients.Name}, conns: map[int64]*fakeConn{},
		ask: &asker{replies: map[uint64]string{}}}
	env.me = w.Spawn("n1", "asker", func() actors.Behaviour { return env.ask })
	for i, e := range []clients.Entry{
		{User: "alice", Conn: clients.Conn{Addr: "10.0.0.1:1000", LAddr: "10.0.0.9:8102"}},
		{User: "default", Conn: clients.Conn{Addr: "10.0.0.2:2000", LAddr: "10.0.0.9:8102"}},
		{User: "default", Conn: clients.Conn{Addr: "10.0.0.3:3000", LAddr: "10.0.0.9:8103"}, Sub: 1},
	} {
		id := int64(i + 1)
		e.ID, e.Multi = id, -1
		f := &fakeConn{entry: e}
		env.conns[id] = f
		w.Spawn("n1", "conn"+string(rune('0'+id)), func() actors.Behaviour { return f })
	}
	require.NoError(t, w.RunFor(time.Millisecond))
	return env
}

// do sends the registry one request (the function gets the request's ID)
// and returns its answer.
func (r *registryEnv) do(req func(id uint64) any) string {
	r.t.Helper()
	r.n++
	r.w.Inject(r.me, r.reg, req(r.n))
	require.NoError(r.t, r.w.RunFor(time.Second))
	reply, ok := r.ask.replies[r.n]
	require.True(r.t, ok, "no answer")
	return reply
}

// ids lists the ids of a CLIENT LIST reply's lines.
func ids(reply string) []string {
	var out []string
	for _, l := range strings.Split(reply, "\n") {
		if id, ok := strings.CutPrefix(l, "id="); ok {
			out = append(out, id[:strings.IndexByte(id, ' ')])
		}
	}
	return out
}

// TestRegistryLists: CLIENT LIST asks each connection it shows and lists
// them by id, or in the order CLIENT LIST ID names them; a connection
// that does not answer within the wait is shown as last known; one that
// left is not shown.
func TestRegistryLists(t *testing.T) {
	r := newRegistry(t)
	r.conns[2].entry.Cmd = "get"
	r.conns[3].mute = true
	r.conns[3].entry.Cmd = "never seen"
	all := r.do(func(id uint64) any { return clients.ListReq{ID: id} })
	require.Equal(t, []string{"1", "2", "3"}, ids(all))
	require.Contains(t, all, "id=2 addr=10.0.0.2:2000 laddr=10.0.0.9:8102 fd=0 name= age=0 idle=0 flags=N")
	require.Contains(t, all, " cmd=get ")
	require.NotContains(t, all, "never seen", "3 did not answer: shown as registered")
	require.Contains(t, all, "id=3 addr=10.0.0.3:3000 laddr=10.0.0.9:8103 fd=0 name= age=0 idle=0 flags=P")
	for id, f := range r.conns {
		require.Equal(t, 1, f.asked, "conn %d asked once", id)
	}
	require.Equal(t, []string{"3", "1", "3"}, ids(r.do(func(id uint64) any {
		return clients.ListReq{ID: id, Filter: clients.Filter{IDs: []int64{3, 9, 1, 3}}}
	})))
	require.Equal(t, []string{"3"}, ids(r.do(func(id uint64) any {
		return clients.ListReq{ID: id, Filter: clients.Filter{Type: clients.PubSub}}
	})))
	require.Equal(t, "$0\r\n\r\n", r.do(func(id uint64) any {
		return clients.ListReq{ID: id, Filter: clients.Filter{Type: clients.Master}}
	}))
	r.w.Inject(r.me, r.reg, clients.Left{ID: 1})
	require.Equal(t, []string{"2", "3"}, ids(r.do(func(id uint64) any { return clients.ListReq{ID: id} })))
}

// TestRegistryKills: CLIENT KILL closes the connections its filter
// selects but the asker's, forgets them, and answers the count, the asker
// included when it killed itself; the old form answers +OK or No such
// client.
func TestRegistryKills(t *testing.T) {
	r := newRegistry(t)
	kill := func(k clients.Kill, by int64, self bool) string {
		return r.do(func(id uint64) any { return clients.KillReq{ID: id, By: by, Self: self, Kill: k} })
	}
	require.Equal(t, ":0\r\n", kill(clients.Kill{Filter: clients.Filter{User: "nobody", ByUser: true}}, 2, false))
	require.Equal(t, ":1\r\n", kill(clients.Kill{Filter: clients.Filter{User: "default", ByUser: true}, SkipMe: true}, 2, false))
	require.True(t, r.conns[3].closed)
	require.False(t, r.conns[2].closed, "the asker is never sent Close")
	require.Equal(t, "-ERR No such client\r\n", kill(clients.Kill{Filter: clients.Filter{Addr: "10.0.0.3:3000", ByAddr: true}, Old: true}, 2, false))
	require.Equal(t, "+OK\r\n", kill(clients.Kill{Filter: clients.Filter{Addr: "10.0.0.1:1000", ByAddr: true}, Old: true}, 2, false))
	require.True(t, r.conns[1].closed)
	require.Equal(t, ":1\r\n", kill(clients.Kill{Filter: clients.Filter{IDs: []int64{2}}}, 2, true), "itself")
	require.Equal(t, "$0\r\n\r\n", r.do(func(id uint64) any { return clients.ListReq{ID: id} }))
	// A late Update of a killed connection would bring it back: its
	// coordinator sends Left after it (coord's killed).
	r.w.Inject(actors.Addr{Node: "n1", Name: "conn1"}, r.reg, clients.Update{Conn: actors.Addr{Node: "n1", Name: "conn1"}, Entry: r.conns[1].entry})
	r.w.Inject(actors.Addr{Node: "n1", Name: "conn1"}, r.reg, clients.Left{ID: 1})
	require.Equal(t, "$0\r\n\r\n", r.do(func(id uint64) any { return clients.ListReq{ID: id} }))
}

// TestRegistryKillDuringList: a connection killed while a CLIENT LIST
// waits for its report is not waited for, nor shown.
func TestRegistryKillDuringList(t *testing.T) {
	r := newRegistry(t)
	r.conns[1].mute = true
	r.n++
	list := r.n
	r.w.Inject(r.me, r.reg, clients.ListReq{ID: list})
	r.n++
	r.w.Inject(r.me, r.reg, clients.KillReq{ID: r.n, By: 2, Kill: clients.Kill{Filter: clients.Filter{IDs: []int64{1}}}})
	require.NoError(t, r.w.RunFor(time.Millisecond))
	require.Equal(t, []string{"2", "3"}, ids(r.ask.replies[list]), "answered before the wait ran out")
	require.Equal(t, ":1\r\n", r.ask.replies[r.n])
}
