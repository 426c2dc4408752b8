package transport

import (
	"log/slog"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/msg"
)

// Ping-pong round trips: hollywood receivers directly, then the same shape
// through our adapter (actors.Context), then across two nodes over TCP. The
// ratio of the first two is the adapter's cost.

type hwPing struct{ left int }

type hwPonger struct{}

func (hwPonger) Receive(c *actor.Context) {
	if m, ok := c.Message().(hwPing); ok {
		c.Send(c.Sender(), m)
	}
}

type hwPinger struct {
	pong *actor.PID
	done chan struct{}
}

func (p *hwPinger) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case hwPing:
		if m.left == 0 {
			close(p.done)
			return
		}
		c.Engine().SendWithSender(p.pong, hwPing{left: m.left - 1}, c.PID())
	}
}

func BenchmarkPingPongHollywoodDirect(b *testing.B) {
	e, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		b.Fatal(err)
	}
	pong := e.Spawn(func() actor.Receiver { return hwPonger{} }, "pong")
	done := make(chan struct{})
	ping := e.Spawn(func() actor.Receiver { return &hwPinger{pong: pong, done: done} }, "ping")
	b.ResetTimer()
	e.Send(ping, hwPing{left: b.N})
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
}

type ping struct{ Left int }

func init() { msg.Register[ping](0xFF20) }

type ponger struct{}

func (ponger) Receive(ctx actors.Context, m any) {
	if p, ok := m.(ping); ok {
		ctx.Send(ctx.Sender(), p)
	}
}

type pinger struct {
	pong actors.Addr
	done chan struct{}
}

func (p *pinger) Receive(ctx actors.Context, m any) {
	if pm, ok := m.(ping); ok {
		if pm.Left == 0 {
			close(p.done)
			return
		}
		ctx.Send(p.pong, ping{Left: pm.Left - 1})
	}
}

func benchAdapter(b *testing.B, pingNode, pongNode *Node) {
	done := make(chan struct{})
	pong := pongNode.Spawn("pong", func() actors.Behaviour { return ponger{} })
	pingAddr := pingNode.Spawn("ping", func() actors.Behaviour { return &pinger{pong: pong, done: done} })
	b.ResetTimer()
	pingNode.Send(pong, pingAddr, ping{Left: b.N})
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatal("ping-pong stalled")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
}

func BenchmarkPingPongAdapterLocal(b *testing.B) {
	n, err := Start(Options{ID: "a", Seed: 1, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close(time.Second)
	benchAdapter(b, n, n)
}

func BenchmarkPingPongAdapterTCP(b *testing.B) {
	x, err := Start(Options{ID: "x", PeerListen: "127.0.0.1:0", Seed: 1, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close(time.Second)
	y, err := Start(Options{ID: "y", PeerListen: "127.0.0.1:0", Seed: 2, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer y.Close(time.Second)
	x.AddPeer("y", y.PeerAddr(), 1)
	y.AddPeer("x", x.PeerAddr(), 1)
	benchAdapter(b, x, y)
}
