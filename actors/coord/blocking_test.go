package coord_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/sim"
	"github.com/stretchr/testify/require"
)

// TestBlockingPops runs the blocking pops on three simulated racks: served
// at once when an element is there, woken by a push through another node,
// timing out with a null array, holding the commands sent after them, and
// with Redis's errors.
func TestBlockingPops(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
	a, b := c.conn("n1"), c.conn("n2")
	require.Equal(t, ":2\r\n*2\r\n$1\r\nq\r\n$1\r\nx\r\n*2\r\n$1\r\nq\r\n$1\r\ny\r\n", a.do("rpush q x y", "blpop q 0", "brpop q 1"))
	require.Equal(t, ":2\r\n*3\r\n$1\r\nz\r\n$1\r\nm\r\n$1\r\n1\r\n*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nn\r\n$1\r\n2\r\n",
		a.do("zadd z 1 m 2 n", "bzpopmin z 0", "bzmpop 0 1 z MAX COUNT 5"))

	// Nothing there: nothing is written while it waits, not even what came
	// after it; a push through another node wakes it at once.
	old := coord.BlockPoll
	coord.BlockPoll = time.Hour // only a wake can serve it in this test
	defer func() { coord.BlockPoll = old }()
	require.Equal(t, "", a.do("blpop e1 e2 0", "ping"))
	require.Equal(t, ":1\r\n", b.do("lpush e2 v"))
	require.Equal(t, "*2\r\n$2\r\ne2\r\n$1\r\nv\r\n+PONG\r\n", string(a.cl.data[len(a.cl.data)-len("*2\r\n$2\r\ne2\r\n$1\r\nv\r\n+PONG\r\n"):]))
	require.Equal(t, ":0\r\n", b.do("exists e2"), "popped on every replica")

	// Two waiting on one key, one element: one gets it, the other still waits.
	a2 := c.conn("n1")
	require.Equal(t, "", a.do("brpoplpush src dst 0"))
	require.Equal(t, "", a2.do("blmove src dst LEFT RIGHT 0"))
	before1, before2 := len(a.cl.data), len(a2.cl.data)
	require.Equal(t, ":1\r\n", b.do("rpush src only"))
	got := string(a.cl.data[before1:]) + string(a2.cl.data[before2:])
	require.Equal(t, "$4\r\nonly\r\n", got, "exactly one of the two")
	require.Equal(t, ":1\r\n", b.do("rpush src second"))
	got = string(a.cl.data[before1:]) + string(a2.cl.data[before2:])
	require.Equal(t, "$4\r\nonly\r\n$6\r\nsecond\r\n", got)
	require.Equal(t, "*2\r\n$4\r\nonly\r\n$6\r\nsecond\r\n", b.do("lrange dst 0 -1"))

	// Timeouts: a null array, then what came after.
	coord.BlockPoll = old
	require.Equal(t, "*-1\r\n+PONG\r\n", a.do("blpop none 0.2", "ping"))
	require.Equal(t, "*-1\r\n", a.do("blmove none dst LEFT LEFT 0.1"))

	// Errors, in Redis's order and words.
	for cmd, want := range map[string]string{
		"blpop k x":                 "-ERR timeout is not a float or out of range\r\n",
		"blpop k -1":                "-ERR timeout is negative\r\n",
		"blmove a b UP LEFT x":      "-ERR syntax error\r\n",
		"blmpop x 0 k LEFT":         "-ERR numkeys should be greater than 0\r\n",
		"blmpop 0 1 k LEFT COUNT 0": "-ERR count should be greater than 0\r\n",
		"bzmpop 0 1 k LEFT":         "-ERR syntax error\r\n",
		"blpop":                     "-ERR wrong number of arguments for 'blpop' command\r\n",
	} {
		require.Equal(t, want, a.do(cmd), cmd)
	}
	require.Equal(t, "+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", a.do("set s v", "blpop s 0"))

	// Two nodes in a rack: keys on different nodes are refused, as LMPOP.
	two := newCluster(t, "dc1/r1", "dc1/r1")
	k := two.conn("n1")
	require.True(t, strings.HasPrefix(k.do("blpop k1 k2 k3 k4 k5 k6 0.1"), "-ERR dynonode: the keys of 'BLPOP' live on different nodes"))
	require.Equal(t, "*-1\r\n", k.do("blpop k1 k1 0.1"), "keys on one node")
}

// TestBlockingPopsConverge: a push through n2 reaches rack 3 late (40 ms
// on that link); a pop waiting on n1 is woken by racks 1 and 2 first. It
// must not try before rack 3 has the element too, or rack 3 keeps it for
// good (the pop would overtake the push there). Shown to catch a
// coordinator that tries at the first wake.
func TestBlockingPopsConverge(t *testing.T) {
	run := func() (left string) {
		c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
		c.w.SetLink("n2", "n3", sim.Link{Latency: 40 * time.Millisecond})
		a, b, r3 := c.conn("n1"), c.conn("n2"), c.conn("n3")
		old := coord.BlockPoll
		coord.BlockPoll = time.Hour
		defer func() { coord.BlockPoll = old }()
		q := keyDecidedBy(0) // n1 decides: the slow rack is another
		require.Equal(t, "", a.do("blpop "+q+" 0"))
		require.Equal(t, ":1\r\n", b.do("rpush "+q+" job"))
		require.Equal(t, fmt.Sprintf("*2\r\n$%d\r\n%s\r\n$3\r\njob\r\n", len(q), q), string(a.cl.data))
		return r3.do("llen " + q) // rack 3's replica: DC_ONE reads the local rack
	}
	require.Equal(t, ":0\r\n", run(), "popped on every rack")
	undo := coord.SetPlantFirstWake()
	defer undo()
	require.Equal(t, ":1\r\n", run(), "the planted bug leaves the job on rack 3")
}

// TestBlockingPopsContention: six workers wait on one list through three
// nodes (two each) while pushes come through each node in turn, over
// links with jitter, at DC_ONE and DC_QUORUM. Every element is delivered
// exactly once and every rack's replica ends empty. Shown to catch a
// coordinator whose own rack decides its pops (elements delivered twice;
// TestBlockingPopsConverge catches one that tries at the first wake).
func TestBlockingPopsContention(t *testing.T) {
	run := func(level config.Consistency) (dups, lost, kept int) {
		c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
		c.w.SetNet(sim.Link{Latency: time.Millisecond, Jitter: time.Millisecond})
		lv := func(cfg *coord.Config) { cfg.Write, cfg.Read = level, level }
		var workers []*conn
		for _, n := range []actors.NodeID{"n1", "n1", "n2", "n2", "n3", "n3"} {
			workers = append(workers, c.conn(n, lv))
		}
		pushers := []*conn{c.conn("n1"), c.conn("n2"), c.conn("n3")}
		seen := make([]int, len(workers))
		for _, w := range workers {
			inject(w, "blpop q 0")
		}
		require.NoError(t, c.w.RunFor(100*time.Millisecond))
		const pushes = 60
		for i := range pushes {
			inject(pushers[i%3], fmt.Sprintf("rpush q v%d", i))
			require.NoError(t, c.w.RunFor(20*time.Millisecond))
			for j, w := range workers { // a served worker waits again
				if len(w.cl.data) != seen[j] {
					seen[j] = len(w.cl.data)
					inject(w, "blpop q 0")
				}
			}
		}
		require.NoError(t, c.w.RunFor(3*time.Second))
		got := map[string]int{}
		for _, w := range workers {
			for _, m := range regexp.MustCompile(`\$\d+\r\n(v\d+)\r\n`).FindAllStringSubmatch(string(w.cl.data), -1) {
				got[m[1]]++
			}
		}
		for i := range pushes {
			switch n := got[fmt.Sprintf("v%d", i)]; {
			case n > 1:
				dups++
			case n == 0:
				lost++
			}
		}
		for _, p := range pushers { // each rack's replica (DC_ONE reads the local rack)
			if p.do("llen q") != ":0\r\n" {
				kept++
			}
		}
		return dups, lost, kept
	}
	for _, level := range []config.Consistency{config.DCOne, config.DCQuorum} {
		dups, lost, kept := run(level)
		require.Zero(t, dups+lost+kept, "%s: %d delivered twice, %d never, %d racks keep elements", level, dups, lost, kept)
	}
	undo := coord.SetPlantNoDecider()
	dups, _, _ := run(config.DCOne)
	undo()
	require.NotZero(t, dups, "the planted bug delivers elements twice")
}

// TestBlockingPopFollowsTheRing: a pop waiting while gossip brings a ring
// in which its key moved is served by a push to the new owner: each
// attempt asks the ring of the moment, and watches there.
func TestBlockingPopFollowsTheRing(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r1")
	full := c.ring["n1"]
	alone, err := ring.New(ring.Config{Nodes: c.nodes[:1], Local: "n1"})
	require.NoError(t, err)
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprintf("q%d", i); full.LocalOwner([]byte(k)) == "n2" {
			key = k
		}
	}
	a := c.conn("n1", func(cfg *coord.Config) { cfg.Ring = alone })
	pusher := c.conn("n1")
	require.Equal(t, "", a.do("blpop "+key+" 10"))
	c.w.Inject(actors.Addr{Node: "n1", Name: "gossip"}, a.addr, gossip.View{Version: 2, Ring: full, Self: gossip.Normal})
	require.Equal(t, ":1\r\n", pusher.do("rpush "+key+" v"))
	require.NoError(t, c.w.RunFor(2*time.Second))
	require.Equal(t, fmt.Sprintf("*2\r\n$%d\r\n%s\r\n$1\r\nv\r\n", len(key), key), string(a.cl.data))
}

// TestHeldPopsFailAtOnce: pops held behind a pop whose replicas are all
// down are answered in the same turn, with the PING behind them.
func TestHeldPopsFailAtOnce(t *testing.T) {
	c := newCluster(t, "dc1/r1")
	a := c.conn("n1", func(cfg *coord.Config) { cfg.Timeout = time.Hour })
	c.w.Inject(actors.Addr{Node: "n1", Name: "gossip"}, a.addr, gossip.View{Version: 2, Down: map[string]bool{"n1": true}, Self: gossip.Normal})
	require.NoError(t, c.w.RunFor(time.Millisecond))
	c.w.Inject(actors.Addr{Node: "n1", Name: "edge"}, a.addr, coord.Requests{Cmds: [][][]byte{cmd("blpop x 0"), cmd("blpop y 0"), cmd("ping")}})
	require.NoError(t, c.w.RunFor(5*time.Millisecond))
	out := string(a.cl.data)
	require.Equal(t, 2, strings.Count(out, "-"), "two errors: %q", out)
	require.True(t, strings.HasSuffix(out, "+PONG\r\n"), "%q", out)
}

// TestBlockingPopKeepsWhatTheDeciderLacks: the decider (n1, for the key
// chosen) misses a push while cut off; a pop through n3 then finds
// nothing at the decider and must leave the element where it is, not pop
// it from the other racks and hand it to nobody. Shown to catch a
// coordinator planted to send the attempt to every replica at once.
func TestBlockingPopKeepsWhatTheDeciderLacks(t *testing.T) {
	run := func() string {
		c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
		p := c.conn("n2")
		q := keyDecidedBy(0) // n1 decides its pops
		c.w.Partition([]actors.NodeID{"n1"}, []actors.NodeID{"n2"})
		require.Equal(t, ":1\r\n", p.do("rpush "+q+" job"))
		c.w.Heal()
		require.Equal(t, "*-1\r\n", c.conn("n3").do("blpop "+q+" 0.5"), "the decider has none")
		return c.conn("n3").do("llen " + q) // rack 3's replica
	}
	require.Equal(t, ":1\r\n", run(), "the job is still on rack 3")
	undo := coord.SetPlantAttemptEverywhere()
	defer undo()
	require.Equal(t, ":0\r\n", run(), "the planted bug pops it there and delivers it to nobody")
}

// TestBlockingPopsSpreadWaiters: two waiters on one key through different
// nodes register in different orders at different replicas; each push of
// one element must still serve one of them at once (BlockPoll is an hour
// here: only wakes serve), not leave each half-woken.
func TestBlockingPopsSpreadWaiters(t *testing.T) {
	old := coord.BlockPoll
	coord.BlockPoll = time.Hour
	defer func() { coord.BlockPoll = old }()
	c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
	c.w.SetLink("n1", "n3", sim.Link{Latency: 3 * time.Millisecond})
	c.w.SetLink("n3", "n1", sim.Link{Latency: 3 * time.Millisecond})
	a, b, p := c.conn("n1"), c.conn("n3"), c.conn("n2")
	inject(a, "blpop q 0")
	inject(b, "blpop q 0")
	require.NoError(t, c.w.RunFor(100*time.Millisecond))
	for i := range 8 {
		la, lb := len(a.cl.data), len(b.cl.data)
		inject(p, fmt.Sprintf("rpush q x%d", i))
		require.NoError(t, c.w.RunFor(100*time.Millisecond))
		servedA, servedB := len(a.cl.data) != la, len(b.cl.data) != lb
		require.True(t, servedA != servedB, "push %d: one waiter served at once (a %v, b %v)", i, servedA, servedB)
		if servedA {
			inject(a, "blpop q 0")
		} else {
			inject(b, "blpop q 0")
		}
		require.NoError(t, c.w.RunFor(20*time.Millisecond))
	}
	for _, n := range []actors.NodeID{"n1", "n2", "n3"} {
		require.Equal(t, ":0\r\n", c.conn(n).do("llen q"), "every rack popped: %s", n)
	}
}

// TestBlockingPopNotStarvedByPushes: a waiter whose wakes kept finding
// nothing (a plain LPOP took each element first) backs off; the steady
// pushes that follow must not keep postponing its next try, or it never
// tries while elements pile up (each push re-armed the delayed try).
func TestBlockingPopNotStarvedByPushes(t *testing.T) {
	c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
	a, p := c.conn("n1"), c.conn("n2")
	inject(a, "blpop q 0")
	require.NoError(t, c.w.RunFor(50*time.Millisecond))
	for range 12 { // each element taken by a plain LPOP before the waiter's try
		inject(p, "rpush q x", "lpop q")
		require.NoError(t, c.w.RunFor(100*time.Millisecond))
	}
	require.Empty(t, a.cl.data)
	for range 10 { // then pushes every 100 ms: the delayed try must come
		inject(p, "rpush q y")
		require.NoError(t, c.w.RunFor(100*time.Millisecond))
	}
	require.Equal(t, "*2\r\n$1\r\nq\r\n$1\r\ny\r\n", string(a.cl.data))
}

// keyDecidedBy is a key whose pops the i-th of three nodes (n1, n2, n3)
// decides, when all three serve.
func keyDecidedBy(i int) string {
	for n := 0; ; n++ {
		if k := fmt.Sprintf("q%d", n); coord.DeciderIndex(k, 3) == i {
			return k
		}
	}
}

// inject sends k one batch of commands without running the world (do
// runs it for two seconds and returns what came back).
func inject(k *conn, lines ...string) {
	var b [][][]byte
	for _, l := range lines {
		b = append(b, cmd(l))
	}
	k.c.w.Inject(actors.Addr{Node: k.addr.Node, Name: "edge"}, k.addr, coord.Requests{Cmds: b})
}
