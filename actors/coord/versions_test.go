package coord

import (
	"bytes"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/hints"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/stretchr/testify/require"
)

// scriptCtx is a bare actors.Context for one coordinator: it keeps what the
// coordinator sends, so a test answers each Exec as it chooses. Its HLC
// moves on at every reading, as the node's clock does.
type scriptCtx struct {
	self    actors.Addr
	sender  actors.Addr
	execs   []sentExec
	replies []byte
	deltas  []Counts
	hints   []hints.Hint
	now     time.Time
	clock   hlc.Clock
}

type sentExec struct {
	to   actors.Addr
	exec store.Exec
}

func (c *scriptCtx) Self() actors.Addr   { return c.self }
func (c *scriptCtx) Sender() actors.Addr { return c.sender }
func (c *scriptCtx) Send(to actors.Addr, m any) {
	switch m := m.(type) {
	case Replies:
		c.replies = append(c.replies, m.Data...)
	case StatsDelta:
		c.deltas = append(c.deltas, *m.Counts)
	case store.Exec:
		c.execs = append(c.execs, sentExec{to: to, exec: m})
	case store.Batch:
		for _, e := range m.Execs {
			c.execs = append(c.execs, sentExec{to: to, exec: e})
		}
	case hints.Hint:
		c.hints = append(c.hints, m)
	}
}
func (c *scriptCtx) After(time.Duration, any) actors.TimerID   { return 1 }
func (c *scriptCtx) Cancel(actors.TimerID)                     {}
func (c *scriptCtx) Now() time.Time                            { return c.now }
func (c *scriptCtx) HLC() hlc.Timestamp                        { return c.clock.Now(c.now) }
func (c *scriptCtx) Elapsed() time.Duration                    { return 0 }
func (c *scriptCtx) Rand() *rand.Rand                          { return rand.New(rand.NewPCG(1, 2)) }
func (c *scriptCtx) Spawn(string, actors.Producer) actors.Addr { return actors.Addr{} }
func (c *scriptCtx) Stop(actors.Addr)                          {}
func (c *scriptCtx) Log() *slog.Logger                         { return slog.New(slog.DiscardHandler) }

// rig is one Redis coordinator on n1 of a cluster whose every key lives on
// every node (one token per rack), driven by hand.
type rig struct {
	t   *testing.T
	c   *Redis
	ctx *scriptCtx
}

func newRig(t *testing.T, nodes []ring.Node, mutate func(*Config)) *rig {
	r, err := ring.New(ring.Config{Nodes: nodes, Local: nodes[0].ID})
	require.NoError(t, err)
	cfg := Config{Sink: actors.Addr{Node: "n1", Name: "c/w"}, Ring: r, StoreName: "store", Timeout: time.Second,
		Read: config.DCQuorum, Write: config.DCQuorum, Versions: true, ReadRepairs: true,
		Stats: actors.Addr{Node: "n1", Name: "stats"}}
	if mutate != nil {
		mutate(&cfg)
	}
	g := &rig{t: t, c: NewRedis(cfg)().(*Redis), ctx: &scriptCtx{self: actors.Addr{Node: "n1", Name: "c"}, now: time.Unix(1_700_000_000, 0)}}
	g.c.Receive(g.ctx, actors.Started{})
	return g
}

func rack3() []ring.Node {
	return []ring.Node{
		{ID: "n1", DC: "dc1", Rack: "r1", Tokens: []uint32{0}},
		{ID: "n2", DC: "dc1", Rack: "r2", Tokens: []uint32{0}},
		{ID: "n3", DC: "dc1", Rack: "r3", Tokens: []uint32{0}},
	}
}

// do sends one batch of commands and returns the Execs it made.
func (g *rig) do(cmds ...string) []sentExec {
	var batch [][][]byte
	for _, s := range cmds {
		var args [][]byte
		for _, f := range strings.Fields(s) {
			args = append(args, []byte(f))
		}
		batch = append(batch, args)
	}
	before := len(g.ctx.execs)
	g.c.Receive(g.ctx, Requests{Cmds: batch})
	return g.ctx.execs[before:]
}

// answer delivers a store's Result for e and returns the Execs it made.
func (g *rig) answer(e sentExec, reply string, v hlc.Version) []sentExec {
	before := len(g.ctx.execs)
	g.ctx.sender = e.to
	g.c.Receive(g.ctx, store.Result{ID: e.exec.ID, Reply: []byte(reply), Version: v})
	return g.ctx.execs[before:]
}

// ack acknowledges es by their IDs (store.Acks), as a store answers a
// success asked for an Ack.
func (g *rig) ack(es ...sentExec) {
	var ids []uint64
	for _, e := range es {
		ids = append(ids, e.exec.ID)
	}
	g.c.Receive(g.ctx, store.Acks{IDs: ids})
}

func (g *rig) fail(e sentExec) []sentExec {
	before := len(g.ctx.execs)
	g.c.Receive(g.ctx, store.Result{ID: e.exec.ID, Failure: "Datastore refused connection", Kind: store.KindDatastore})
	return g.ctx.execs[before:]
}

// to returns the Exec sent to node among es.
func to(t *testing.T, es []sentExec, node actors.NodeID) sentExec {
	t.Helper()
	for _, e := range es {
		if e.to.Node == node {
			return e
		}
	}
	t.Fatalf("no Exec to %s among %d", node, len(es))
	return sentExec{}
}

// reply takes the bytes written to the client so far.
func (g *rig) reply() string {
	out := string(g.ctx.replies)
	g.ctx.replies = nil
	return out
}

// counts reports and returns the coordinator's counts since the last.
func (g *rig) counts() Counts {
	g.c.Receive(g.ctx, statsTick{})
	var sum Counts
	for i := range g.ctx.deltas {
		sum.Add(&g.ctx.deltas[i])
	}
	g.ctx.deltas = nil
	return sum
}

func args(e sentExec) string {
	var s []string
	for _, a := range e.exec.Args {
		s = append(s, string(a))
	}
	return strings.Join(s, " ")
}

func ver(wall int64, node string) hlc.Version {
	return hlc.Version{TS: hlc.Timestamp{Wall: wall}, Node: node}
}

// TestWritesAreStamped: with versions on, every keyed write gets one
// version from the coordinator's clock, the same at every replica, newer
// at each write; a multi-key write is split per key and its parts share
// the command's version; reads carry none; with versions off nothing is
// stamped and nothing is split.
func TestWritesAreStamped(t *testing.T) {
	g := newRig(t, rack3(), nil)
	var last hlc.Version
	for _, cmd := range []string{"set k v", "incr n", "set k w", "del k", "sadd s a"} {
		es := g.do(cmd)
		require.Len(t, es, 3, cmd)
		v := es[0].exec.Version
		require.False(t, v.IsZero(), cmd)
		require.Equal(t, "n1", v.Node)
		for _, e := range es {
			require.Equal(t, v, e.exec.Version, "%s: the same version to every replica", cmd)
		}
		require.True(t, last.Less(v), "%s: %s not newer than %s", cmd, v, last)
		last = v
		for _, e := range es {
			reply := ":1\r\n"
			if strings.HasPrefix(cmd, "set") {
				reply = "+OK\r\n"
			}
			g.answer(e, reply, v)
		}
	}
	require.Equal(t, "+OK\r\n:1\r\n+OK\r\n:1\r\n:1\r\n", g.reply())

	es := g.do("mset a 1 b 2")
	require.Len(t, es, 6, "one Exec per key and replica")
	v := es[0].exec.Version
	require.True(t, last.Less(v))
	for _, e := range es {
		require.Equal(t, v, e.exec.Version, "the parts of one write share its version")
		require.Contains(t, []string{"set a 1", "set b 2"}, args(e))
		g.answer(e, "+OK\r\n", v)
	}
	require.Equal(t, "+OK\r\n", g.reply())
	es = g.do("del a b c")
	require.Len(t, es, 9)
	for _, e := range es {
		reply := ":1\r\n"
		if args(e) == "del c" {
			reply = ":0\r\n"
		}
		g.answer(e, reply, es[0].exec.Version)
	}
	require.Equal(t, ":2\r\n", g.reply(), "DEL's reply is the sum, as unsplit")

	for _, e := range g.do("get k") {
		require.True(t, e.exec.Version.IsZero(), "a versioned read asks first without versions (see TestReadAskedAgainWithVersions)")
	}
	for _, e := range g.do("smembers s") {
		require.True(t, e.exec.Version.IsZero(), "reads that compare no versions carry none")
	}

	off := newRig(t, rack3(), func(c *Config) { c.Versions = false })
	for _, cmd := range []string{"set k v", "mset a 1 b 2", "del a b", "set k v ex 10"} {
		es := off.do(cmd)
		require.Len(t, es, 3, "%s: sent whole", cmd)
		for _, e := range es {
			require.True(t, e.exec.Version.IsZero())
			require.Equal(t, cmd, args(e), "unchanged")
		}
	}
}

// TestExpiryBecomesAbsolute: the coordinator sends an absolute deadline
// from its wall clock to every replica.
func TestExpiryBecomesAbsolute(t *testing.T) {
	g := newRig(t, rack3(), nil)
	now := g.ctx.now.UnixMilli()
	es := g.do("setex k 10 v")
	for _, e := range es {
		require.Equal(t, "set k v PXAT "+itoa(now+10_000), args(e))
	}
}

func itoa(n int64) string { return string(resp.AppendInt(nil, n)[1 : len(resp.AppendInt(nil, n))-2]) }

// readScenario sends GET k at level and answers it with the given replies
// in order: node, reply, version. It returns the client's reply (empty if
// none yet) and the Execs the answers made.
type ans struct {
	node  actors.NodeID
	reply string
	v     hlc.Version
	fail  bool
}

func readScenario(g *rig, answers ...ans) (string, []sentExec) {
	es := g.do("get k")
	var made []sentExec
	for _, a := range answers {
		e := to(g.t, es, a.node)
		if a.fail {
			made = append(made, g.fail(e)...)
		} else {
			made = append(made, g.answer(e, a.reply, a.v)...)
		}
	}
	return g.reply(), made
}

var (
	vOld = ver(1_700_000_000_000_000_000, "n2")
	vNew = ver(1_700_000_001_000_000_000, "n3")
)

// TestNewestWinsAtQuorum: two replicas hold an old value, one the newest.
// When the newest is among the quorum's answers it is the reply, even
// though the two stale replicas agree; unversioned (or with the planted
// bug that takes the first reply) the stale value wins.
func TestNewestWinsAtQuorum(t *testing.T) {
	scenario := []ans{{"n1", bulkOf("old"), vOld, false}, {"n2", bulkOf("new"), vNew, false}, {"n3", bulkOf("old"), vOld, false}}
	check := func(g *rig) string {
		reply, _ := readScenario(g, scenario...)
		return reply
	}
	require.Equal(t, bulkOf("new"), check(newRig(t, rack3(), nil)))
	require.Equal(t, bulkOf("old"), check(newRig(t, rack3(), func(c *Config) { c.plantFirstWins = true })),
		"planted bug: the checker must see the first reply win")
	require.Equal(t, bulkOf("old"), check(newRig(t, rack3(), func(c *Config) { c.Versions = false })),
		"unversioned: the two stale replicas outvote the newest")

	// A tombstone newer than a value is nil.
	g := newRig(t, rack3(), nil)
	reply, _ := readScenario(g, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", "$-1\r\n", vNew, false})
	require.Equal(t, "$-1\r\n", reply)
	// Answers without versions that agree: the agreement is the reply.
	g = newRig(t, rack3(), nil)
	reply, made := readScenario(g, ans{"n1", bulkOf("b"), hlc.Version{}, false}, ans{"n2", bulkOf("b"), hlc.Version{}, false})
	require.Equal(t, bulkOf("b"), reply)
	require.Empty(t, made)
}

// TestReadAskedAgainWithVersions: a versioned read asks its replicas
// without versions first (on Redis that is a plain GET, half the cost of
// a versioned one); when two answer differently without versions it asks
// every replica again with a version, ignores the late answers to the
// first asking, and decides and repairs by version. Answers that agree
// decide at once. A late answer that differs from a reply decided without
// versions makes every replica dump its value and version; the newest is
// copied to the others.
func TestReadAskedAgainWithVersions(t *testing.T) {
	g := newRig(t, rack3(), nil)
	es := g.do("get k")
	require.Len(t, es, 3)
	g.answer(to(t, es, "n1"), bulkOf("old"), hlc.Version{})
	again := g.answer(to(t, es, "n2"), bulkOf("new"), hlc.Version{})
	require.Empty(t, g.reply())
	require.Len(t, again, 3, "asked again, every replica")
	for _, e := range again {
		require.Equal(t, "get k", args(e))
		require.False(t, e.exec.Version.IsZero(), "with a version: each replica answers its key's")
		require.NotEqual(t, to(t, es, e.to.Node).exec.ID, e.exec.ID, "new IDs: late first answers do not count")
	}
	require.Empty(t, g.answer(to(t, es, "n3"), bulkOf("old"), hlc.Version{}), "a late first answer is ignored")
	require.Empty(t, g.reply())
	g.answer(to(t, again, "n1"), bulkOf("old"), vOld)
	made := g.answer(to(t, again, "n2"), bulkOf("new"), vNew)
	require.Equal(t, bulkOf("new"), g.reply(), "the newest version wins")
	require.Len(t, made, 1, "and the stale replica is repaired")
	require.Equal(t, "DYNO.DUMP k", args(made[0]))
	require.Equal(t, actors.NodeID("n2"), made[0].to.Node)
	c := g.counts()
	require.Equal(t, [2]uint64{1, 1}, [2]uint64{c.VersionRereads, c.StaleReplicas})

	// The planted bug (the first reply wins) answers the stale value.
	p := newRig(t, rack3(), func(c *Config) { c.plantFirstWins = true })
	es = p.do("get k")
	p.answer(to(t, es, "n1"), bulkOf("old"), hlc.Version{})
	again = p.answer(to(t, es, "n2"), bulkOf("new"), hlc.Version{})
	p.answer(to(t, again, "n1"), bulkOf("old"), vOld)
	p.answer(to(t, again, "n2"), bulkOf("new"), vNew)
	require.Equal(t, bulkOf("old"), p.reply(), "planted bug: the checker must see the first reply win")

	// Agreement without versions; a late answer that differs makes every
	// replica dump its value and version, and the newest is copied to the
	// others: here the agreeing n2 holds a tombstone newer than the late
	// n3's value, and the agreeing n1 no version at all (a wiped store).
	g = newRig(t, rack3(), nil)
	es = g.do("get k")
	g.answer(to(t, es, "n1"), "$-1\r\n", hlc.Version{})
	require.Empty(t, g.answer(to(t, es, "n2"), "$-1\r\n", hlc.Version{}))
	require.Equal(t, "$-1\r\n", g.reply())
	dumps := g.answer(to(t, es, "n3"), bulkOf("y"), hlc.Version{})
	require.Len(t, dumps, 3, "every replica is compared")
	for _, d := range dumps {
		require.Equal(t, "DYNO.DUMP k", args(d))
	}
	require.Empty(t, g.answer(to(t, dumps, "n1"), "$-1\r\n", hlc.Version{}))
	require.Empty(t, g.answer(to(t, dumps, "n3"), bulkOf("P3"), vOld))
	restores := g.answer(to(t, dumps, "n2"), "$-1\r\n", vNew)
	require.Len(t, restores, 2, "the newest (n2's tombstone) goes to n1 and n3")
	for _, e := range restores {
		require.Contains(t, []actors.NodeID{"n1", "n3"}, e.to.Node)
		require.Equal(t, "DYNO.DEL k", args(e))
		require.Equal(t, vNew, e.exec.Version)
		require.True(t, e.exec.Quiet)
	}
	c = g.counts()
	require.Equal(t, [3]uint64{0, 2, 2}, [3]uint64{c.VersionRereads, c.StaleReplicas, c.RepairsSent})
	g = newRig(t, rack3(), nil)
	es = g.do("get k")
	g.answer(to(t, es, "n1"), bulkOf("x"), hlc.Version{})
	g.answer(to(t, es, "n2"), bulkOf("x"), hlc.Version{})
	require.Empty(t, g.answer(to(t, es, "n3"), bulkOf("x"), hlc.Version{}), "a late answer that agrees is left alone")
}

func bulkOf(s string) string { return string(resp.AppendBulkString(nil, s)) }

// TestSafeQuorumRepairsSynchronously: at DC_SAFE_QUORUM a reply needs a
// quorum holding the newest version; when only one replica does, the
// coordinator dumps it and restores it, with its version, to the stale
// replicas, and answers once a restore is acknowledged. A repair that
// cannot complete is Dynomite's quorum error.
func TestSafeQuorumRepairsSynchronously(t *testing.T) {
	safe := func(c *Config) { c.Read = config.DCSafeQuorum }
	g := newRig(t, rack3(), safe)
	reply, made := readScenario(g, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", bulkOf("new"), vNew, false},
		ans{"n3", bulkOf("old"), vOld, false})
	require.Empty(t, reply, "no quorum holds the newest yet")
	require.Len(t, made, 1)
	dump := made[0]
	require.Equal(t, actors.NodeID("n2"), dump.to.Node, "dumped from the holder of the newest")
	require.Equal(t, "DYNO.DUMP k", args(dump))
	restores := g.answer(dump, bulkOf("PAYLOAD"), vNew)
	require.Len(t, restores, 2)
	for _, e := range restores {
		require.Contains(t, []actors.NodeID{"n1", "n3"}, e.to.Node)
		require.Equal(t, "DYNO.RESTORE k PAYLOAD", args(e))
		require.Equal(t, vNew, e.exec.Version)
		require.False(t, e.exec.Quiet)
	}
	g.answer(restores[0], "+OK\r\n", hlc.Version{})
	require.Equal(t, bulkOf("new"), g.reply(), "answered once a quorum holds the newest")
	c := g.counts()
	require.Equal(t, uint64(2), c.StaleReplicas)
	require.Equal(t, uint64(2), c.RepairsSent)

	// The planted bug answers the stale value, which two replicas hold.
	p := newRig(t, rack3(), func(c *Config) { safe(c); c.plantFirstWins = true })
	reply, _ = readScenario(p, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", bulkOf("new"), vNew, false},
		ans{"n3", bulkOf("old"), vOld, false})
	require.Equal(t, bulkOf("old"), reply, "planted bug: the checker must see the stale value")

	// A tombstone is repaired with DYNO.DEL.
	g = newRig(t, rack3(), safe)
	_, made = readScenario(g, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", "$-1\r\n", vNew, false}, ans{"n3", "", vOld, true})
	require.Len(t, made, 1)
	restores = g.answer(made[0], "$-1\r\n", vNew)
	require.Len(t, restores, 1)
	require.Equal(t, "DYNO.DEL k", args(restores[0]))
	g.answer(restores[0], "+OK\r\n", hlc.Version{})
	require.Equal(t, "$-1\r\n", g.reply())

	// The dump fails: the quorum error.
	g = newRig(t, rack3(), safe)
	_, made = readScenario(g, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", bulkOf("new"), vNew, false}, ans{"n3", bulkOf("old"), vOld, false})
	g.fail(made[0])
	require.Equal(t, "-ERR Dynomite: Failed to achieve Quorum: DC_SAFE_QUORUM replicas in dc1 disagree\r\n", g.reply())
	// Every restore fails: the quorum error.
	g = newRig(t, rack3(), safe)
	_, made = readScenario(g, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", bulkOf("new"), vNew, false}, ans{"n3", bulkOf("old"), vOld, false})
	restores = g.answer(made[0], bulkOf("PAYLOAD"), vNew)
	g.fail(restores[0])
	require.Empty(t, g.reply())
	g.fail(restores[1])
	require.Equal(t, "-ERR Dynomite: Failed to achieve Quorum: DC_SAFE_QUORUM replicas in dc1 disagree\r\n", g.reply())

	// A quorum holding the newest needs no repair; unordered replies of
	// the same version agree as multisets.
	g = newRig(t, rack3(), safe)
	es := g.do("smembers s")
	g.answer(to(t, es, "n1"), "*2\r\n$1\r\na\r\n$1\r\nb\r\n", vNew)
	made = g.answer(to(t, es, "n2"), "*2\r\n$1\r\nb\r\n$1\r\na\r\n", vNew)
	require.Empty(t, made)
	require.Equal(t, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", g.reply())
	// No versions, even when asked again (a store that keeps none):
	// disagreement is an error, as before.
	g = newRig(t, rack3(), safe)
	reply, made = readScenario(g, ans{"n1", bulkOf("a"), hlc.Version{}, false}, ans{"n2", bulkOf("b"), hlc.Version{}, false})
	require.Empty(t, reply)
	require.Len(t, made, 3, "asked again with versions")
	for i, node := range []actors.NodeID{"n1", "n2", "n3"} {
		g.answer(to(t, made, node), bulkOf(string(rune('a'+i))), hlc.Version{})
	}
	require.Contains(t, g.reply(), "disagree")
}

// TestEachSafeQuorumRepairsPerDC: every DC needs a quorum holding the
// newest version; the stale replica of the remote DC is repaired.
func TestEachSafeQuorumRepairsPerDC(t *testing.T) {
	nodes := []ring.Node{
		{ID: "n1", DC: "dc1", Rack: "r1", Tokens: []uint32{0}}, {ID: "n2", DC: "dc1", Rack: "r2", Tokens: []uint32{0}},
		{ID: "n3", DC: "dc2", Rack: "r1", Tokens: []uint32{0}}, {ID: "n4", DC: "dc2", Rack: "r2", Tokens: []uint32{0}},
	}
	g := newRig(t, nodes, func(c *Config) { c.Read = config.DCEachSafeQuorum })
	reply, made := readScenario(g, ans{"n1", bulkOf("new"), vNew, false}, ans{"n2", bulkOf("new"), vNew, false},
		ans{"n3", bulkOf("new"), vNew, false}, ans{"n4", bulkOf("old"), vOld, false})
	require.Empty(t, reply, "dc2 has one replica of two holding the newest")
	require.Len(t, made, 1)
	restores := g.answer(made[0], bulkOf("P"), vNew)
	require.Len(t, restores, 1)
	require.Equal(t, actors.NodeID("n4"), restores[0].to.Node)
	g.answer(restores[0], "+OK\r\n", hlc.Version{})
	require.Equal(t, bulkOf("new"), g.reply())
}

// TestBackgroundRepair: a DC_QUORUM read whose replicas answered with
// different versions answers at once, then copies the newest value to the
// stale replicas, Quiet; with read repairs off it only counts them; past
// RepairsInFlight dumps awaited, repairs are dropped and counted.
func TestBackgroundRepair(t *testing.T) {
	g := newRig(t, rack3(), nil)
	reply, made := readScenario(g, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", bulkOf("new"), vNew, false})
	require.Equal(t, bulkOf("new"), reply)
	require.Len(t, made, 1)
	require.Equal(t, actors.NodeID("n2"), made[0].to.Node)
	require.Equal(t, "DYNO.DUMP k", args(made[0]))
	restores := g.answer(made[0], bulkOf("P"), vNew)
	require.Len(t, restores, 1)
	require.Equal(t, actors.NodeID("n1"), restores[0].to.Node)
	require.Equal(t, "DYNO.RESTORE k P", args(restores[0]))
	require.Equal(t, vNew, restores[0].exec.Version)
	require.True(t, restores[0].exec.Quiet)
	c := g.counts()
	require.Equal(t, [3]uint64{1, 1, 0}, [3]uint64{c.StaleReplicas, c.RepairsSent, c.RepairsDropped})

	// The planted bug sees no stale replica and repairs nothing.
	p := newRig(t, rack3(), func(c *Config) { c.plantFirstWins = true })
	_, made = readScenario(p, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", bulkOf("new"), vNew, false})
	require.Empty(t, made, "planted bug: the checker must see no repair")

	off := newRig(t, rack3(), func(c *Config) { c.ReadRepairs = false })
	_, made = readScenario(off, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", bulkOf("new"), vNew, false})
	require.Empty(t, made)
	c = off.counts()
	require.Equal(t, [3]uint64{1, 0, 0}, [3]uint64{c.StaleReplicas, c.RepairsSent, c.RepairsDropped})

	bounded := newRig(t, rack3(), func(c *Config) { c.RepairsInFlight = 2 })
	var dumps []sentExec
	for range 4 {
		_, made = readScenario(bounded, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", bulkOf("new"), vNew, false})
		dumps = append(dumps, made...)
	}
	require.Len(t, dumps, 2, "two dumps in flight at most")
	c = bounded.counts()
	require.Equal(t, [3]uint64{4, 0, 2}, [3]uint64{c.StaleReplicas, c.RepairsSent, c.RepairsDropped})
	bounded.answer(dumps[0], bulkOf("P"), vNew)
	_, made = readScenario(bounded, ans{"n1", bulkOf("old"), vOld, false}, ans{"n2", bulkOf("new"), vNew, false})
	require.Len(t, made, 1, "an answered dump frees its place")

	// DC_ONE asks one replica: nothing to compare, nothing repaired.
	one := newRig(t, rack3(), func(c *Config) { c.Read = config.DCOne })
	es := one.do("get k")
	require.Len(t, es, 1)
	require.Empty(t, one.answer(es[0], bulkOf("old"), vOld))
	require.Equal(t, bulkOf("old"), one.reply())
}

// TestLoneRackPaysNothing: a ring of one rack has no replica to reconcile:
// with versions on, writes go out unstamped and whole, as with them off.
func TestLoneRackPaysNothing(t *testing.T) {
	g := newRig(t, rack3()[:1], nil)
	for _, cmd := range []string{"set k v", "mset a 1 b 2", "del a b", "set k v ex 10", "mget a b"} {
		es := g.do(cmd)
		require.Len(t, es, 1, "%s: sent whole", cmd)
		require.True(t, es[0].exec.Version.IsZero(), cmd)
		require.Equal(t, cmd, args(es[0]), "unchanged")
	}
}

// TestLateStaleAnswerRepaired: a DC_QUORUM read decided by two replicas
// holding the newest version; the third answers afterwards with an older
// one and is repaired as well. A late answer as new as the newest, or a
// failure, starts nothing; without read repair no watch is kept.
func TestLateStaleAnswerRepaired(t *testing.T) {
	g := newRig(t, rack3(), nil)
	es := g.do("get k")
	g.answer(to(t, es, "n1"), bulkOf("new"), vNew)
	g.answer(to(t, es, "n2"), bulkOf("new"), vNew)
	require.Equal(t, bulkOf("new"), g.reply())
	made := g.answer(to(t, es, "n3"), bulkOf("old"), vOld)
	require.Len(t, made, 1, "the late stale replica is repaired")
	require.Equal(t, "DYNO.DUMP k", args(made[0]))
	restores := g.answer(made[0], bulkOf("P"), vNew)
	require.Len(t, restores, 1)
	require.Equal(t, actors.NodeID("n3"), restores[0].to.Node)
	require.Equal(t, "DYNO.RESTORE k P", args(restores[0]))
	require.Empty(t, g.answer(to(t, es, "n3"), bulkOf("old"), vOld), "one repair per late answer")

	fresh := newRig(t, rack3(), nil)
	es = fresh.do("get k")
	fresh.answer(to(t, es, "n1"), bulkOf("new"), vNew)
	fresh.answer(to(t, es, "n2"), bulkOf("new"), vNew)
	require.Empty(t, fresh.answer(to(t, es, "n3"), bulkOf("new"), vNew), "a late answer as new is left alone")

	off := newRig(t, rack3(), func(c *Config) { c.ReadRepairs = false })
	es = off.do("get k")
	off.answer(to(t, es, "n1"), bulkOf("new"), vNew)
	off.answer(to(t, es, "n2"), bulkOf("new"), vNew)
	require.Empty(t, off.answer(to(t, es, "n3"), bulkOf("old"), vOld), "repairs off")
}

// TestHintedHandoff: with hints on, every versioned replica write asks for
// an answer (DC_ONE's other racks included, for an acknowledgement by ID
// alone: store.Exec.Ack); a failure, a transient error (-OOM) or no
// answer by the deadline hands the write to the hint manager, a command's
// own error or an acknowledgement does not, a read-modify-write never is,
// and the writes still unanswered when the connection ends are hinted.
func TestHintedHandoff(t *testing.T) {
	g := newRig(t, rack3(), func(c *Config) { c.Write = config.DCOne; c.Hints = actors.Addr{Node: "n1", Name: "hints"} })
	es := g.do("set k v")
	require.Len(t, es, 3)
	for _, e := range es {
		require.False(t, e.exec.Quiet, "every replica write is answered when hints are on")
		require.Equal(t, e.to.Node != "n1", e.exec.Ack, "only the replicas nobody waits for are acknowledged by ID")
	}
	g.answer(to(t, es, "n1"), "+OK\r\n", es[0].exec.Version)
	g.fail(to(t, es, "n2"))
	g.answer(to(t, es, "n3"), "-OOM command not allowed when used memory > 'maxmemory'\r\n", hlc.Version{})
	require.Len(t, g.ctx.hints, 2)
	require.Equal(t, "n2", g.ctx.hints[0].Target)
	require.Equal(t, "n3", g.ctx.hints[1].Target)
	require.Equal(t, "set k v", string(bytes.Join(g.ctx.hints[0].Args, []byte(" "))))
	require.Equal(t, es[0].exec.Version, g.ctx.hints[0].Version)

	es = g.do("set e v")
	g.answer(to(t, es, "n2"), "-ERR something the command itself did\r\n", hlc.Version{})
	es = append(es, g.do("incr n")...)
	for _, e := range es[3:] {
		g.fail(e)
	}
	require.Len(t, g.ctx.hints, 2, "no hint for a command's own error, nor for a read-modify-write")

	// n1 and n3 never answer "set e v": hinted at the deadline.
	g.ctx.now = g.ctx.now.Add(2 * time.Second)
	g.c.Receive(g.ctx, tick{})
	require.Len(t, g.ctx.hints, 4)

	// Acknowledged, in one message with an ID nobody tracks: no hint.
	es = g.do("set a v", "set b v")
	require.Len(t, es, 6)
	acked := []sentExec{{exec: store.Exec{ID: 1 << 50}}}
	for _, e := range es {
		if e.to.Node == "n1" {
			g.answer(e, "+OK\r\n", e.exec.Version)
		} else {
			acked = append(acked, e)
		}
	}
	g.ack(acked...)
	g.ctx.now = g.ctx.now.Add(2 * time.Second)
	g.c.Receive(g.ctx, tick{})
	require.Len(t, g.ctx.hints, 4, "acknowledged writes are not hinted")

	require.Len(t, g.do("set z v"), 3)
	g.c.Receive(g.ctx, actors.Stopping{})
	require.Len(t, g.ctx.hints, 7, "the connection ended: its unanswered writes are hinted")
}
