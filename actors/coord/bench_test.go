package coord_test

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
)

// benchCtx is a bare actors.Context: it keeps what the coordinator sends so
// the benchmark can answer it, with no runtime in the measurement.
type benchCtx struct {
	self    actors.Addr
	sender  actors.Addr
	execs   []sentExec
	now     time.Time
	replies int // Replies messages sent
}

type sentExec struct {
	to   actors.Addr
	exec store.Exec
}

func (c *benchCtx) Self() actors.Addr   { return c.self }
func (c *benchCtx) Sender() actors.Addr { return c.sender }
func (c *benchCtx) Send(to actors.Addr, m any) {
	switch m := m.(type) {
	case coord.Replies:
		c.replies++
	case store.Exec:
		c.execs = append(c.execs, sentExec{to: to, exec: m})
	case store.Batch:
		for _, e := range m.Execs {
			c.execs = append(c.execs, sentExec{to: to, exec: e})
		}
	}
}
func (c *benchCtx) After(time.Duration, any) actors.TimerID   { return 1 }
func (c *benchCtx) Cancel(actors.TimerID)                     {}
func (c *benchCtx) Now() time.Time                            { return c.now }
func (c *benchCtx) Elapsed() time.Duration                    { return 0 }
func (c *benchCtx) HLC() hlc.Timestamp                        { return hlc.Timestamp{Wall: 1} }
func (c *benchCtx) Rand() *rand.Rand                          { return rand.New(rand.NewPCG(1, 2)) }
func (c *benchCtx) Spawn(string, actors.Producer) actors.Addr { return actors.Addr{} }
func (c *benchCtx) Stop(actors.Addr)                          {}
func (c *benchCtx) Log() *slog.Logger                         { return slog.New(slog.DiscardHandler) }

// benchCoord runs pipelines of 16 SETs then 16 GETs through one Redis
// coordinator, answering every Exec, and reports allocations per command.
func benchCoord(b *testing.B, nodes []ring.Node, level config.Consistency) {
	r, err := ring.New(ring.Config{Nodes: nodes, Local: nodes[0].ID})
	if err != nil {
		b.Fatal(err)
	}
	cfg := coord.Config{Sink: actors.Addr{Node: "n1", Name: "c/w"}, Ring: r, StoreName: "store",
		Timeout: time.Second, Read: level, Write: level, Clients: actors.Addr{Node: "n1", Name: "clients"}}
	c := coord.NewRedis(cfg)()
	ctx := &benchCtx{self: actors.Addr{Node: "n1", Name: "c"}, now: time.Unix(1, 0)}
	c.Receive(ctx, actors.Started{})
	var sets, gets [][][]byte
	for i := range 16 {
		k := []byte(fmt.Sprintf("key:%06d", i))
		sets = append(sets, [][]byte{[]byte("SET"), k, make([]byte, 64)})
		gets = append(gets, [][]byte{[]byte("GET"), k})
	}
	ok, val := []byte("+OK\r\n"), append(append([]byte("$64\r\n"), make([]byte, 64)...), "\r\n"...)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		cmds, reply := sets, ok
		if i%2 == 1 {
			cmds, reply = gets, val
		}
		ctx.execs = ctx.execs[:0]
		c.Receive(ctx, coord.Requests{Cmds: cmds})
		// Each node answers its Execs with one Results, as the stores do.
		for _, node := range []actors.NodeID{"n1", "n2", "n3"} {
			var rs []store.Result
			for _, e := range ctx.execs {
				if e.to.Node == node {
					rs = append(rs, store.Result{ID: e.exec.ID, Reply: reply})
				}
			}
			if len(rs) > 0 {
				ctx.sender = actors.Addr{Node: node, Name: "store"}
				c.Receive(ctx, store.Results{Results: rs})
			}
		}
	}
	b.ReportMetric(float64(b.N*16)/b.Elapsed().Seconds(), "cmds/s")
}

func BenchmarkCoordLocalKey(b *testing.B) {
	benchCoord(b, []ring.Node{{ID: "n1", DC: "dc1", Rack: "r1", Tokens: []uint32{0}}}, config.DCOne)
}

func BenchmarkCoordReplicatedKeyDCOne(b *testing.B) {
	benchCoord(b, threeRacks(), config.DCOne)
}

func BenchmarkCoordReplicatedKeyDCQuorum(b *testing.B) {
	benchCoord(b, threeRacks(), config.DCQuorum)
}

func threeRacks() []ring.Node {
	return []ring.Node{
		{ID: "n1", DC: "dc1", Rack: "r1", Tokens: []uint32{0}},
		{ID: "n2", DC: "dc1", Rack: "r2", Tokens: []uint32{0}},
		{ID: "n3", DC: "dc1", Rack: "r3", Tokens: []uint32{0}},
	}
}
