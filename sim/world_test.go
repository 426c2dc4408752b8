package sim

import (
	"os"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/stretchr/testify/require"
)

// probeMsg is a remote test message.
type probeMsg struct{ N int }

func init() { msg.Register[probeMsg](0xFF10) }

type (
	sendCmd struct {
		to actors.Addr
		m  any
	}
	timerCmd struct {
		d time.Duration
		m any
	}
	panicCmd struct{}
)

type got struct {
	at   time.Time
	virt time.Duration
	from actors.Addr
	m    any
}

// probe records everything it receives and does what commands tell it.
type probe struct {
	w    *World
	seen []got
}

func (p *probe) Receive(ctx actors.Context, m any) {
	p.seen = append(p.seen, got{at: ctx.Now(), virt: p.w.Now(), from: ctx.Sender(), m: m})
	switch m := m.(type) {
	case sendCmd:
		ctx.Send(m.to, m.m)
	case timerCmd:
		ctx.After(m.d, m.m)
	case panicCmd:
		panic("probe told to panic")
	}
}

func (p *probe) ns() []int {
	var out []int
	for _, g := range p.seen {
		if pm, ok := g.m.(probeMsg); ok {
			out = append(out, pm.N)
		}
	}
	return out
}

var (
	pa = actors.Addr{Node: "a", Name: "p"}
	pb = actors.Addr{Node: "b", Name: "p"}
)

func twoNodes(t *testing.T, l Link) (*World, func(actors.NodeID) *probe) {
	t.Helper()
	w := New(Config{Seed: 7, Net: l})
	for _, s := range []NodeSpec{{ID: "a", DC: "d1", Rack: "r1"}, {ID: "b", DC: "d1", Rack: "r2"}} {
		s.Boot = func(sp actors.Spawner) { sp.Spawn("p", func() actors.Behaviour { return &probe{w: w} }) }
		w.AddNode(s)
	}
	return w, func(id actors.NodeID) *probe {
		p, _ := w.Behaviour(actors.Addr{Node: id, Name: "p"}).(*probe)
		return p
	}
}

func TestStartedFirstAndRemoteDelivery(t *testing.T) {
	w, p := twoNodes(t, Link{Latency: 3 * time.Millisecond})
	w.Inject(actors.Addr{Node: "test"}, pa, sendCmd{to: pb, m: probeMsg{N: 1}})
	require.NoError(t, w.RunFor(time.Second))
	b := p("b")
	require.IsType(t, actors.Started{}, b.seen[0].m)
	require.Equal(t, []int{1}, b.ns())
	last := b.seen[len(b.seen)-1]
	require.Equal(t, pa, last.from, "sender is carried across the network")
	require.Equal(t, 3*time.Millisecond, last.virt, "latency applied")
	require.Equal(t, uint64(1), w.Stats().Remote)
}

func TestFIFOWithoutReorder(t *testing.T) {
	w, p := twoNodes(t, Link{Latency: time.Millisecond, Jitter: 5 * time.Millisecond})
	for i := range 50 {
		w.Inject(actors.Addr{}, pa, sendCmd{to: pb, m: probeMsg{N: i}})
	}
	require.NoError(t, w.RunFor(time.Second))
	ns := p("b").ns()
	require.Len(t, ns, 50)
	for i, n := range ns {
		require.Equal(t, i, n, "link reordered without Reorder")
	}
}

func TestReorderDropDuplicate(t *testing.T) {
	w, p := twoNodes(t, Link{Latency: time.Millisecond, Jitter: time.Millisecond, Reorder: 0.5, Drop: 0.2, Duplicate: 0.2})
	for i := range 500 {
		w.Inject(actors.Addr{}, pa, sendCmd{to: pb, m: probeMsg{N: i}})
	}
	require.NoError(t, w.RunFor(time.Second))
	ns := p("b").ns()
	inversions, counts := 0, map[int]int{}
	for i, n := range ns {
		counts[n]++
		if i > 0 && n < ns[i-1] {
			inversions++
		}
	}
	st := w.Stats()
	require.Positive(t, inversions, "Reorder=0.5 never reordered")
	require.InDelta(t, 100, st.Dropped, 40, "Drop=0.2 of 500")
	require.InDelta(t, 80, st.Duplicated, 40, "Duplicate=0.2 of ~400")
	require.Less(t, len(counts), 500, "some messages must be lost")
	require.Equal(t, int(500-st.Dropped+st.Duplicated), len(ns))
}

func TestPartitions(t *testing.T) {
	w, p := twoNodes(t, Link{})
	w.PartitionOneWay([]actors.NodeID{"a"}, []actors.NodeID{"b"})
	require.True(t, w.Blocked("a", "b"))
	require.False(t, w.Blocked("b", "a"))
	w.Inject(actors.Addr{}, pa, sendCmd{to: pb, m: probeMsg{N: 1}})
	w.Inject(actors.Addr{}, pb, sendCmd{to: pa, m: probeMsg{N: 2}})
	require.NoError(t, w.RunFor(time.Second))
	require.Empty(t, p("b").ns(), "one-way cut a->b leaked")
	require.Equal(t, []int{2}, p("a").ns(), "b->a must still flow")

	w.Heal()
	w.IsolateRack("d1", "r2")
	require.True(t, w.Blocked("a", "b") && w.Blocked("b", "a"))
	w.Heal()
	w.IsolateDC("d1") // everything is in d1: nothing to cut
	require.False(t, w.Blocked("a", "b"))
	w.Heal()
	w.Inject(actors.Addr{}, pa, sendCmd{to: pb, m: probeMsg{N: 3}})
	require.NoError(t, w.RunFor(time.Second))
	require.Equal(t, []int{3}, p("b").ns())
}

func TestCrashLosesStateAndInFlight(t *testing.T) {
	w, p := twoNodes(t, Link{Latency: 10 * time.Millisecond})
	w.Inject(actors.Addr{}, pb, timerCmd{d: time.Second, m: "tick"})
	w.Inject(actors.Addr{}, pa, sendCmd{to: pb, m: probeMsg{N: 1}})
	require.NoError(t, w.RunFor(5*time.Millisecond))
	w.Crash("b")
	require.False(t, w.Up("b"))
	require.Nil(t, p("b"))
	require.NoError(t, w.RunFor(5*time.Millisecond)) // the message arrives at a dead node
	w.Restart("b")
	require.NoError(t, w.RunFor(2*time.Second))
	b := p("b")
	require.Len(t, b.seen, 1, "fresh incarnation sees only Started: no old timer, no old message")
	require.IsType(t, actors.Started{}, b.seen[0].m)
	require.Equal(t, uint64(1), w.Stats().Dropped)
}

func TestPauseHoldsEverything(t *testing.T) {
	w, p := twoNodes(t, Link{Latency: time.Millisecond})
	w.Inject(actors.Addr{}, pb, timerCmd{d: 100 * time.Millisecond, m: "tick"})
	require.NoError(t, w.RunFor(time.Millisecond))
	w.Pause("b")
	w.Inject(actors.Addr{}, pa, sendCmd{to: pb, m: probeMsg{N: 1}})
	w.Inject(actors.Addr{}, pa, sendCmd{to: pb, m: probeMsg{N: 2}})
	require.NoError(t, w.RunFor(time.Second))
	require.Empty(t, p("b").ns())
	w.Resume("b")
	require.NoError(t, w.RunFor(time.Millisecond))
	b := p("b")
	require.Equal(t, []int{1, 2}, b.ns(), "held messages delivered in order")
	var tick got
	for _, g := range b.seen {
		if g.m == "tick" {
			tick = g
		}
	}
	require.Equal(t, time.Second+time.Millisecond, tick.virt, "timer fired late, at resume")
}

func TestClocks(t *testing.T) {
	w, p := twoNodes(t, Link{})
	start := w.NodeTime("a")
	w.SetClockOffset("b", 90*time.Second)
	require.Equal(t, start.Add(90*time.Second), w.NodeTime("b"))
	w.SetDrift("a", 1e5) // 10% fast: a 1s timer fires after ~0.909s virtual
	w.Inject(actors.Addr{}, pa, timerCmd{d: time.Second, m: "tick"})
	require.NoError(t, w.RunFor(2*time.Second))
	var tick got
	for _, g := range p("a").seen {
		if g.m == "tick" {
			tick = g
		}
	}
	require.InDelta(t, float64(time.Second)/1.1, float64(tick.virt), float64(time.Millisecond))
	require.InDelta(t, float64(start.Add(2200*time.Millisecond).UnixNano()), float64(w.NodeTime("a").UnixNano()), 1e6)
	before := w.NodeTime("b")
	w.JumpClock("b", -200*time.Second)
	require.Equal(t, before.Add(-200*time.Second), w.NodeTime("b"), "backward jump")
	w.Inject(actors.Addr{}, pb, "now?")
	require.NoError(t, w.RunFor(time.Millisecond))
	bs := p("b").seen
	require.Equal(t, before.Add(-200*time.Second), bs[len(bs)-1].at, "ctx.Now follows the node clock (inject is immediate)")
}

func TestPanicFailsRunWithSeed(t *testing.T) {
	w, _ := twoNodes(t, Link{})
	w.Inject(actors.Addr{}, pa, panicCmd{})
	err := w.RunFor(time.Second)
	require.ErrorContains(t, err, "seed=7")
	require.ErrorContains(t, err, "probe told to panic")
	require.Equal(t, err, w.Err())
}

func TestUnregisteredRemoteMessageFails(t *testing.T) {
	w, _ := twoNodes(t, Link{})
	w.Inject(actors.Addr{}, pa, sendCmd{to: pb, m: struct{ X int }{1}})
	require.ErrorContains(t, w.RunFor(time.Second), "not registered")
}

func TestDeadLettersAndStop(t *testing.T) {
	w, p := twoNodes(t, Link{})
	w.Inject(actors.Addr{}, pa, sendCmd{to: actors.Addr{Node: "a", Name: "nobody"}, m: "x"})
	w.Inject(actors.Addr{}, pa, sendCmd{to: actors.Addr{Node: "zz", Name: "p"}, m: "x"})
	require.NoError(t, w.RunFor(time.Second))
	require.Equal(t, uint64(2), w.Stats().DeadLetters)

	a := p("a")
	simContext{w.nodes["a"].actors["p"]}.Stop(pa)
	require.NoError(t, w.RunFor(time.Second))
	require.IsType(t, actors.Stopping{}, a.seen[len(a.seen)-1].m)
	require.Nil(t, p("a"))
}

func TestSpawnDuplicateName(t *testing.T) {
	w, _ := twoNodes(t, Link{})
	addr := w.nodes["a"].Spawn("p", func() actors.Behaviour { return &probe{w: w} })
	require.True(t, addr.IsZero())
}

func TestDurableActorsSurviveCrashUnlessWiped(t *testing.T) {
	w := New(Config{Seed: 1})
	w.AddNode(NodeSpec{ID: "a", Durable: []string{"db"}, Boot: func(s actors.Spawner) {
		s.Spawn("db", func() actors.Behaviour { return &probe{w: w} })
		s.Spawn("p", func() actors.Behaviour { return &probe{w: w} })
	}})
	w.Inject(actors.Addr{}, actors.Addr{Node: "a", Name: "db"}, "remember me")
	require.NoError(t, w.RunFor(time.Millisecond))
	db := w.Behaviour(actors.Addr{Node: "a", Name: "db"}).(*probe)
	w.Crash("a")
	w.Restart("a")
	require.NoError(t, w.RunFor(time.Millisecond))
	require.Same(t, db, w.Behaviour(actors.Addr{Node: "a", Name: "db"}), "the datastore survived the crash")
	require.Len(t, w.Behaviour(actors.Addr{Node: "a", Name: "p"}).(*probe).seen, 1, "the rest is fresh")
	w.CrashWipe("a")
	w.Restart("a")
	require.NoError(t, w.RunFor(time.Millisecond))
	require.NotSame(t, db, w.Behaviour(actors.Addr{Node: "a", Name: "db"}), "a wiped datastore starts empty")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// clockProbe reads the node's hybrid logical clock on every message and
// sends to `to` when told.
type clockProbe struct{ reads []hlc.Timestamp }

func (p *clockProbe) Receive(ctx actors.Context, m any) {
	p.reads = append(p.reads, ctx.HLC())
	if c, ok := m.(sendCmd); ok {
		ctx.Send(c.to, c.m)
	}
}

// TestHLCCrossesNodes: a message carries its sender's clock, so the
// receiver's next reading is newer than the sender's at the send, even
// with the receiver's wall clock 300 s behind; without the merge (a message
// injected from outside any node) it stays on its own wall clock.
func TestHLCCrossesNodes(t *testing.T) {
	w := New(Config{Seed: 3, Net: Link{Latency: time.Millisecond}})
	probes := map[actors.NodeID]*clockProbe{}
	for _, id := range []actors.NodeID{"a", "b"} {
		p := &clockProbe{}
		probes[id] = p
		w.AddNode(NodeSpec{ID: id, Boot: func(s actors.Spawner) { s.Spawn("c", func() actors.Behaviour { return p }) }})
	}
	w.SetClockOffset("b", -300*time.Second)
	require.NoError(t, w.RunFor(time.Millisecond))
	a, b := probes["a"], probes["b"]

	w.Inject(actors.Addr{}, actors.Addr{Node: "b", Name: "c"}, probeMsg{N: 0})
	require.NoError(t, w.RunFor(10*time.Millisecond))
	alone := b.reads[len(b.reads)-1]
	require.Less(t, alone.Wall, w.NodeTime("a").UnixNano()-int64(200*time.Second), "b runs on its own, slow, wall clock")

	w.Inject(actors.Addr{}, actors.Addr{Node: "a", Name: "c"}, sendCmd{to: actors.Addr{Node: "b", Name: "c"}, m: probeMsg{N: 1}})
	require.NoError(t, w.RunFor(10*time.Millisecond))
	sent := a.reads[len(a.reads)-1]
	got := b.reads[len(b.reads)-1]
	require.True(t, sent.Less(got), "b read %s after a message a sent at %s", got, sent)
}
