package transport

import (
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/dynonode/dynonode/internal/testreg"
	"github.com/dynonode/dynonode/netio/admit"
	"github.com/dynonode/dynonode/sim"
	"github.com/pingcap/failpoint"
	"github.com/stretchr/testify/require"
)

// recorder forwards everything it receives (with its sender) to a channel,
// and does what command messages tell it.
type recorder struct{ out chan<- got }

type got struct {
	from actors.Addr
	m    any
}

type (
	sendCmd struct {
		to actors.Addr
		m  any
	}
	timerCmd struct {
		d      time.Duration
		m      any
		cancel bool
	}
	panicCmd struct{}
)

func (r *recorder) Receive(ctx actors.Context, m any) {
	r.out <- got{from: ctx.Sender(), m: m}
	switch m := m.(type) {
	case sendCmd:
		ctx.Send(m.to, m.m)
	case timerCmd:
		id := ctx.After(m.d, m.m)
		if m.cancel {
			ctx.Cancel(id)
		}
	case panicCmd:
		panic("told to panic")
	}
}

func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func startNode(t *testing.T, id actors.NodeID) *Node {
	t.Helper()
	n, err := Start(Options{ID: id, PeerListen: "127.0.0.1:0", Seed: 1, Log: quietLog()})
	require.NoError(t, err)
	t.Cleanup(func() { n.Close(5 * time.Second) })
	return n
}

func spawnRecorder(t *testing.T, n *Node, name string) chan got {
	ch := make(chan got, 1024)
	require.False(t, n.Spawn(name, func() actors.Behaviour { return &recorder{out: ch} }).IsZero())
	return ch
}

// next waits (bounded) for the next message matching keep.
func next(t *testing.T, ch <-chan got, keep func(any) bool) got {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case g := <-ch:
			if keep(g.m) {
				return g
			}
		case <-deadline:
			t.Fatal("no matching message within 5s")
		}
	}
}

func isType[T any](m any) bool { _, ok := m.(T); return ok }

// TestRegisterSameOutcomeAsSimulator runs the replicated register on three
// hollywood engines over loopback TCP and in the simulator; both must reach
// the same converged state.
func TestRegisterSameOutcomeAsSimulator(t *testing.T) {
	ids := []actors.NodeID{"n1", "n2", "n3"}
	const writes = 5
	cfgFor := func(i int) testreg.Config {
		var peers []actors.Addr
		for j, id := range ids {
			if j != i {
				peers = append(peers, actors.Addr{Node: id, Name: "reg"})
			}
		}
		return testreg.Config{Peers: peers, Writes: writes, WriteEvery: 20 * time.Millisecond, SyncEvery: 10 * time.Millisecond}
	}

	// Simulator.
	w := sim.New(sim.Config{Seed: 3, Net: sim.Link{Latency: time.Millisecond, Drop: 0.1}})
	for i, id := range ids {
		cfg := cfgFor(i)
		w.AddNode(sim.NodeSpec{ID: id, DC: "dc1", Rack: string(id), Boot: func(s actors.Spawner) { s.Spawn("reg", testreg.New(cfg)) }})
	}
	require.NoError(t, w.Run(10*time.Second))
	var simStates []testreg.State
	for _, id := range ids {
		r := w.Behaviour(actors.Addr{Node: id, Name: "reg"}).(*testreg.Replica)
		simStates = append(simStates, testreg.State{Value: r.Value, Ver: r.Ver})
	}

	// Hollywood over TCP.
	nodes := make([]*Node, len(ids))
	for i, id := range ids {
		nodes[i] = startNode(t, id)
	}
	for _, a := range nodes {
		for _, b := range nodes {
			a.AddPeer(b.ID(), b.PeerAddr(), 1)
		}
	}
	for i, n := range nodes {
		n.Spawn("reg", testreg.New(cfgFor(i)))
	}
	want := testreg.Expected(writes, "n3")
	var tcpStates []testreg.State
	require.Eventually(t, func() bool {
		tcpStates = tcpStates[:0]
		for _, n := range nodes {
			var s testreg.State
			require.NoError(t, n.Inspect("reg", time.Second, func(b actors.Behaviour) {
				r := b.(*testreg.Replica)
				s = testreg.State{Value: r.Value, Ver: r.Ver}
			}))
			tcpStates = append(tcpStates, s)
		}
		for _, s := range tcpStates {
			if s != want {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "hollywood cluster did not converge: %v", tcpStates)
	require.Equal(t, simStates, tcpStates, "simulator and hollywood runtime disagree")
	for _, n := range nodes {
		st := n.Stats()
		require.Positive(t, st.Sent)
		require.Positive(t, st.Received)
		require.Zero(t, st.BadFrames)
	}
}

func rawConn(t *testing.T, n *Node) net.Conn {
	c, err := net.DialTimeout("tcp", n.PeerAddr(), time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// requireClosedByPeer waits (bounded) for the node to close the connection.
func requireClosedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(3*time.Second)))
	_, err := c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "node should have closed the connection")
}

func TestGarbagePeerLosesOnlyItsConnection(t *testing.T) {
	a, b := startNode(t, "a"), startNode(t, "b")
	b.AddPeer("a", a.PeerAddr(), 1)
	ch := spawnRecorder(t, a, "rec")
	next(t, ch, isType[actors.Started])
	codec := msg.NewCodec()
	env := func(to actors.Addr) []byte {
		e, err := codec.Append(nil, actors.Addr{Node: "x", Name: "y"}, to, testreg.State{Value: "v"})
		require.NoError(t, err)
		return msg.AppendFrame(nil, e)
	}
	cases := map[string][]byte{
		"oversized length": {0xff, 0xff, 0xff, 0xff},
		"zero length":      {0, 0, 0, 0},
		"garbage body":     msg.AppendFrame(nil, []byte("this is not msgpack")),
		"wrong node":       env(actors.Addr{Node: "elsewhere", Name: "rec"}),
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			c := rawConn(t, a)
			_, err := c.Write(frame)
			require.NoError(t, err)
			requireClosedByPeer(t, c)
		})
	}
	require.Equal(t, uint64(len(cases)), a.Stats().BadFrames, "every bad frame is counted")

	// A well-formed frame for a missing actor is a dead letter, not a reason
	// to drop the connection; a good one on the same connection arrives.
	c := rawConn(t, a)
	_, err := c.Write(append(env(actors.Addr{Node: "a", Name: "nobody"}), env(actors.Addr{Node: "a", Name: "rec"})...))
	require.NoError(t, err)
	g := next(t, ch, isType[testreg.State])
	require.Equal(t, actors.Addr{Node: "x", Name: "y"}, g.from)
	require.Equal(t, uint64(1), a.Stats().DeadLetters)

	// Real peers are unaffected.
	b.Send(actors.Addr{Node: "b", Name: "t"}, actors.Addr{Node: "a", Name: "rec"}, testreg.State{Value: "from b"})
	g = next(t, ch, isType[testreg.State])
	require.Equal(t, "from b", g.m.(testreg.State).Value)
}

func TestPanicRestartsWithFreshState(t *testing.T) {
	n := startNode(t, "a")
	ch := spawnRecorder(t, n, "rec")
	self := actors.Addr{Node: "a", Name: "rec"}
	next(t, ch, isType[actors.Started])
	n.Send(actors.Addr{}, self, timerCmd{d: 100 * time.Millisecond, m: "old-incarnation-timer"})
	n.Send(actors.Addr{}, self, panicCmd{})
	next(t, ch, isType[actors.Restarted])
	next(t, ch, isType[actors.Started])
	n.Send(actors.Addr{}, self, "after")
	next(t, ch, func(m any) bool { return m == "after" })
	require.Equal(t, uint64(1), n.Stats().Panics)
	select {
	case g := <-ch:
		if g.m == "old-incarnation-timer" {
			t.Fatal("a timer of the crashed incarnation fired into the fresh one")
		}
	case <-time.After(300 * time.Millisecond):
	}
}

func TestTimersCancelAndStop(t *testing.T) {
	n := startNode(t, "a")
	ch := spawnRecorder(t, n, "rec")
	self := actors.Addr{Node: "a", Name: "rec"}
	next(t, ch, isType[actors.Started])
	n.Send(actors.Addr{}, self, timerCmd{d: 20 * time.Millisecond, m: "cancelled", cancel: true})
	n.Send(actors.Addr{}, self, timerCmd{d: 40 * time.Millisecond, m: "fired"})
	g := next(t, ch, func(m any) bool { return m == "fired" || m == "cancelled" })
	require.Equal(t, "fired", g.m)
	require.Equal(t, self, g.from, "a timer's sender is the actor itself")
	n.Stop("rec")
	next(t, ch, isType[actors.Stopping])
	require.Eventually(t, func() bool { return n.lookup("rec") == nil }, time.Second, time.Millisecond)
	require.True(t, n.Spawn("rec", func() actors.Behaviour { return &recorder{out: ch} }) != actors.Addr{}, "name free again")
	require.True(t, n.Spawn("rec", func() actors.Behaviour { return &recorder{out: ch} }).IsZero(), "duplicate name refused")
}

func TestPeerDownThenUp(t *testing.T) {
	a := startNode(t, "a")
	// A free address: the peer is down at first.
	addr := testproc.FreeAddr(t, "127.0.0.1")
	a.AddPeer("b", addr, 1)
	to := actors.Addr{Node: "b", Name: "rec"}
	a.Send(actors.Addr{Node: "a", Name: "t"}, to, testreg.State{Value: "queued while down"})
	time.Sleep(150 * time.Millisecond) // let a few dials fail
	b, err := Start(Options{ID: "b", PeerListen: addr, Seed: 2, Log: quietLog()})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close(5 * time.Second) })
	ch := spawnRecorder(t, b, "rec")
	a.Send(actors.Addr{Node: "a", Name: "t"}, to, testreg.State{Value: "later"})
	g := next(t, ch, isType[testreg.State])
	require.Contains(t, []string{"queued while down", "later"}, g.m.(testreg.State).Value)
}

// failpointPair skips the test unless the failpoint rewrite ran (`make
// test` does it), then links node a to node b, where a recorder "rec"
// has started: a's sends to rec arrive on ch.
func failpointPair(t *testing.T) (*Node, chan got) {
	t.Helper()
	if _, err := os.Stat("binding__failpoint_binding__.go"); err != nil {
		t.Skip("failpoints not enabled (run through `make test`)")
	}
	a, b := startNode(t, "a"), startNode(t, "b")
	a.AddPeer("b", b.PeerAddr(), 1)
	ch := spawnRecorder(t, b, "rec")
	next(t, ch, isType[actors.Started])
	return a, ch
}

// TestFailpointPeerWriteReset needs the failpoint rewrite (`make test` does
// it): a reset while flushing loses that burst, and the link redials.
func TestFailpointPeerWriteReset(t *testing.T) {
	a, ch := failpointPair(t)
	const fp = "github.com/dynonode/dynonode/transport/peerWriteReset"
	require.NoError(t, failpoint.Enable(fp, "1*return(true)"))
	t.Cleanup(func() { _ = failpoint.Disable(fp) })
	to := actors.Addr{Node: "b", Name: "rec"}
	a.Send(actors.Addr{Node: "a"}, to, testreg.State{Value: "lost"})
	require.Eventually(t, func() bool { return a.Stats().Dropped >= 1 }, 3*time.Second, time.Millisecond)
	a.Send(actors.Addr{Node: "a"}, to, testreg.State{Value: "after reset"})
	g := next(t, ch, isType[testreg.State])
	require.Equal(t, "after reset", g.m.(testreg.State).Value, "the reset burst must be lost, the next delivered")
}

// TestUnreachablePeerBouncesRequests: a store request for a peer that cannot
// be dialled comes back to its sender as a failed Result at once, instead of
// waiting in a queue to be delivered arbitrarily late.
func TestUnreachablePeerBouncesRequests(t *testing.T) {
	a := startNode(t, "a")
	dead := testproc.FreeAddr(t, "127.0.0.1")
	a.AddPeer("b", dead, 2)
	ch := spawnRecorder(t, a, "coord")
	next(t, ch, isType[actors.Started])
	from, to := actors.Addr{Node: "a", Name: "coord"}, actors.Addr{Node: "b", Name: "store"}
	// A quiet Exec has nobody waiting: it is dropped without an answer.
	a.Send(from, to, store.Exec{ID: 41, Args: [][]byte{[]byte("set"), []byte("k"), []byte("v")}, Quiet: true})
	a.Send(from, to, store.Exec{ID: 42, Args: [][]byte{[]byte("get"), []byte("k")}})
	g := next(t, ch, isType[store.Result])
	r := g.m.(store.Result)
	require.Equal(t, uint64(42), r.ID)
	require.Equal(t, "Peer: Peer Node is not connected", r.Failure)
	require.Equal(t, store.KindPeer, r.Kind, "a bounce is a peer failure, by its kind")
	require.Equal(t, actors.Addr{Node: "b", Name: "store"}, g.from)
	a.Send(from, to, store.Batch{Execs: []store.Exec{{ID: 43, Quiet: true}, {ID: 44}, {ID: 45, Quiet: true}}})
	a.Send(from, to, store.Batch{Execs: []store.Exec{{ID: 46, Quiet: true}}})
	a.Send(from, to, store.Exec{ID: 47})
	rs := next(t, ch, isType[store.Results]).m.(store.Results)
	require.Equal(t, []store.Result{{ID: 44, Failure: "Peer: Peer Node is not connected", Kind: store.KindPeer}}, rs.Results)
	require.Equal(t, uint64(47), next(t, ch, isType[store.Result]).m.(store.Result).ID, "nothing for the all-quiet batch")
}

// TestPoolKeepsOneSendersOrder: with several connections to a peer, the
// messages of one sender still arrive in the order it sent them.
func TestPoolKeepsOneSendersOrder(t *testing.T) {
	a, b := startNode(t, "a"), startNode(t, "b")
	a.AddPeer("b", b.PeerAddr(), 4)
	ch := spawnRecorder(t, b, "rec")
	next(t, ch, isType[actors.Started])
	to := actors.Addr{Node: "b", Name: "rec"}
	const n = 2000
	for i := range n {
		for _, s := range []string{"s1", "s2", "s3"} {
			a.Send(actors.Addr{Node: "a", Name: s}, to, store.Exec{ID: uint64(i)})
		}
	}
	last := map[string]int{"s1": -1, "s2": -1, "s3": -1}
	for range 3 * n {
		g := next(t, ch, isType[store.Exec])
		id := int(g.m.(store.Exec).ID)
		require.Equal(t, last[g.from.Name]+1, id, "sender %s out of order", g.from.Name)
		last[g.from.Name] = id
	}
}

func TestFailpointPeerDropAndDelay(t *testing.T) {
	a, ch := failpointPair(t)
	to := actors.Addr{Node: "b", Name: "rec"}
	const drop = "github.com/dynonode/dynonode/transport/peerDrop"
	require.NoError(t, failpoint.Enable(drop, "1*return(true)"))
	t.Cleanup(func() { _ = failpoint.Disable(drop) })
	a.Send(actors.Addr{Node: "a"}, to, testreg.State{Value: "dropped"})
	a.Send(actors.Addr{Node: "a"}, to, testreg.State{Value: "kept"})
	require.Equal(t, "kept", next(t, ch, isType[testreg.State]).m.(testreg.State).Value)

	const delay = "github.com/dynonode/dynonode/transport/peerDelay"
	require.NoError(t, failpoint.Enable(delay, "1*return(300)"))
	t.Cleanup(func() { _ = failpoint.Disable(delay) })
	start := time.Now()
	a.Send(actors.Addr{Node: "a"}, to, testreg.State{Value: "slow"})
	require.Equal(t, "slow", next(t, ch, isType[testreg.State]).m.(testreg.State).Value)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
}

// TestMaxQueuedBoundsPeerQueues: a peer that accepts but never reads makes
// the writer block; past MaxQueued, requests bounce instead of piling up.
func TestMaxQueuedBoundsPeerQueues(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // held open, never read
		}
	}()
	a, err := Start(Options{ID: "a", Seed: 1, MaxQueued: 100, Log: quietLog()})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(time.Second) })
	a.AddPeer("b", ln.Addr().String(), 1)
	ch := make(chan got, 20000)
	a.Spawn("coord", func() actors.Behaviour { return &recorder{out: ch} })
	value := make([]byte, 1024)
	maxSeen := int64(0)
	for i := range 20000 {
		a.Send(actors.Addr{Node: "a", Name: "coord"}, actors.Addr{Node: "b", Name: "store"},
			store.Exec{ID: uint64(i), Args: [][]byte{[]byte("set"), []byte("k"), value}})
		maxSeen = max(maxSeen, a.Stats().Queued)
	}
	require.LessOrEqual(t, maxSeen, int64(100))
	g := next(t, ch, isType[store.Result])
	require.Contains(t, g.m.(store.Result).Failure, "queue is full")
	require.Positive(t, a.Stats().Dropped)
}

// TestFramesOfEverySizeArriveIntact: frames smaller and larger than the
// reader's buffer (up to 5 MiB), interleaved, arrive whole and in order.
func TestFramesOfEverySizeArriveIntact(t *testing.T) {
	a, b := startNode(t, "a"), startNode(t, "b")
	a.AddPeer("b", b.PeerAddr(), 1)
	ch := spawnRecorder(t, b, "rec")
	next(t, ch, isType[actors.Started])
	to := actors.Addr{Node: "b", Name: "rec"}
	sizes := []int{0, 1, 100, 64<<10 - 40, 64 << 10, 64<<10 + 1, 1 << 20, 3, 5 << 20, 10, 200 << 10}
	for round := range 3 {
		for i, size := range sizes {
			v := make([]byte, size)
			for j := range v {
				v[j] = byte(i + j + round)
			}
			a.Send(actors.Addr{Node: "a", Name: "s"}, to, store.Exec{ID: uint64(round*100 + i), Args: [][]byte{[]byte("set"), v}})
		}
	}
	for round := range 3 {
		for i, size := range sizes {
			g := next(t, ch, isType[store.Exec])
			e := g.m.(store.Exec)
			require.Equal(t, uint64(round*100+i), e.ID, "in order")
			require.Len(t, e.Args[1], size)
			for j, c := range e.Args[1] {
				if c != byte(i+j+round) {
					t.Fatalf("frame %d byte %d corrupted", i, j)
				}
			}
		}
	}
}

// TestPeerReaderWaitsAtTheGate: while the node's admission gate is held, an
// inbound peer connection's reader hands on what it read and then stops
// reading (up to GateWait); once the gate opens it goes on, in order.
// (GateWait is 2s: if the reader is still on its way back from handing on
// "open" when the gate closes, it waits once more before reading the next
// message, which then still comes within next's 5s.)
func TestPeerReaderWaitsAtTheGate(t *testing.T) {
	gate := &admit.Gate{}
	b, err := Start(Options{ID: "b", PeerListen: "127.0.0.1:0", Seed: 2, Log: quietLog(), Gate: gate, GateWait: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close(5 * time.Second) })
	a := startNode(t, "a")
	a.AddPeer("b", b.PeerAddr(), 1)
	ch := spawnRecorder(t, b, "rec")
	next(t, ch, isType[actors.Started])
	to, from := actors.Addr{Node: "b", Name: "rec"}, actors.Addr{Node: "a", Name: "t"}
	value := func() string { return next(t, ch, isType[testreg.State]).m.(testreg.State).Value }

	a.Send(from, to, testreg.State{Value: "open"})
	require.Equal(t, "open", value())
	gate.Hold()
	a.Send(from, to, testreg.State{Value: "read before the wait"})
	require.Equal(t, "read before the wait", value(), "what was read is handed on")
	a.Send(from, to, testreg.State{Value: "held"})
	select {
	case g := <-ch:
		t.Fatalf("delivered while the gate was held: %v", g.m)
	case <-time.After(200 * time.Millisecond):
	}
	require.NotZero(t, gate.Waits())
	gate.Release()
	require.Equal(t, "held", value())
}

// TestReachesNodeLearnedAtRunTime: a node no AddPeer named is reached at
// its id when the id is a host:port (a member learned through gossip);
// other unknown ids stay dead letters.
func TestReachesNodeLearnedAtRunTime(t *testing.T) {
	addr := testproc.FreeAddr(t, "127.0.0.1")
	b, err := Start(Options{ID: actors.NodeID(addr), PeerListen: addr, Seed: 1, Log: quietLog()})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close(5 * time.Second) })
	a := startNode(t, "a")
	chB := spawnRecorder(t, b, "rec")
	next(t, chB, isType[actors.Started])
	a.Send(actors.Addr{Node: "a", Name: "t"}, actors.Addr{Node: "nowhere", Name: "rec"}, testreg.State{Value: "lost"})
	require.Equal(t, uint64(1), a.Stats().DeadLetters, "an id that is no address has no link")
	a.Send(actors.Addr{Node: "a", Name: "t"}, actors.Addr{Node: b.ID(), Name: "rec"}, testreg.State{Value: "v"})
	g := next(t, chB, isType[testreg.State])
	require.Equal(t, testreg.State{Value: "v"}, g.m)
	require.Equal(t, actors.Addr{Node: "a", Name: "t"}, g.from)
}

// TestHLCCrossesTheWire: every envelope carries its sender's clock, so a
// node whose wall clock runs 300 s behind reads, after a message, a clock
// newer than the sender's at the send.
func TestHLCCrossesTheWire(t *testing.T) {
	a, b := startNode(t, "a"), startNode(t, "b")
	a.AddPeer(b.ID(), b.PeerAddr(), 1)
	b.SetClockOffset(-300 * time.Second)
	chB := spawnRecorder(t, b, "rec")
	next(t, chB, isType[actors.Started])
	before := b.hlcNow(time.Now().Add(b.ClockOffset()))
	sent := a.hlcNow(time.Now())
	require.Less(t, before.Wall, sent.Wall-int64(200*time.Second), "b's own clock is behind")
	a.Send(actors.Addr{Node: "a", Name: "t"}, actors.Addr{Node: "b", Name: "rec"}, testreg.State{Value: "v"})
	next(t, chB, isType[testreg.State])
	after := b.hlcNow(time.Now().Add(b.ClockOffset()))
	require.True(t, sent.Less(after), "b read %s after a message a sent after %s", after, sent)
}
