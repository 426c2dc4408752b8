package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/check"
)

// Recorder collects a run's history. Clients append to it as they run; the
// simulator is single-threaded, so no lock is needed.
type Recorder struct {
	H     check.History
	w     *World
	Phase string
}

// NewRecorder records with the world's global virtual time, the way a
// Jepsen control node timestamps with its own clock.
// Its history starts with room for a swarm run's operations (a 9-node run
// records about 9,000), so appending rarely copies the history.
func NewRecorder(w *World) *Recorder {
	return &Recorder{w: w, Phase: "faults", H: make(check.History, 0, 1<<14)}
}

func (r *Recorder) add(op check.Op) {
	op.Time = r.w.Now()
	r.H = append(r.H, op)
}

// SetClient is one workload process: it adds unique elements to a few
// grow-only sets (SADD) and reads them back (SMEMBERS) through one
// connection, one operation at a time.
type SetClient struct {
	ID    int
	Node  string
	DC    string
	Level config.Consistency
	Keys  []string
	Reads float64       // share of reads
	Think time.Duration // mean pause between operations
	Ops   int           // stop after this many (0: until Stop)
	// AddThenRead alternates an add and a read of the same key instead of
	// drawing reads at random.
	AddThenRead bool
	rec         *Recorder
	coord       actors.Addr
	open        *check.Op
	n           int
	stopped     bool
}

type nextOp struct{}

// StartSetClient spawns a workload process on node with its own connection.
func (c *Cluster) StartSetClient(rec *Recorder, sc *SetClient) {
	sc.rec = rec
	sc.DC = c.Node(sc.Node).DC
	sc.coord = c.spawnClient(sc.Node, fmt.Sprintf("client%d", sc.ID), sc.Level, sc)
}

// spawnClient starts workload process b, named name, on node with a
// connection of its own at level, and returns the connection's
// coordinator; zero when the node is down (no process there).
func (c *Cluster) spawnClient(node, name string, level config.Consistency, b actors.Behaviour) actors.Addr {
	self := actors.Addr{Node: actors.NodeID(node), Name: name}
	if c.W.Spawn(actors.NodeID(node), name, func() actors.Behaviour { return b }).IsZero() {
		return actors.Addr{}
	}
	return c.Connect(node, level, level, self)
}

// Stop ends the process after its current operation.
func (sc *SetClient) Stop() { sc.stopped = true }

// Receive implements actors.Behaviour.
func (sc *SetClient) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		ctx.After(sc.think(ctx), nextOp{})
	case nextOp:
		if sc.stopped || sc.open != nil || (sc.Ops > 0 && sc.n >= sc.Ops) {
			return
		}
		sc.n++
		op := check.Op{Process: sc.ID, Type: check.Invoke, Key: sc.Keys[ctx.Rand().IntN(len(sc.Keys))],
			Level: sc.Level.String(), Node: sc.Node, DC: sc.DC, Phase: sc.rec.Phase}
		var cmd [][]byte
		if (sc.AddThenRead && sc.n%2 == 0) || (!sc.AddThenRead && ctx.Rand().Float64() < sc.Reads) {
			op.F = "read"
			cmd = [][]byte{[]byte("SMEMBERS"), []byte(op.Key)}
		} else {
			op.F = "add"
			op.Value = "p" + strconv.Itoa(sc.ID) + "-" + strconv.Itoa(sc.n)
			cmd = [][]byte{[]byte("SADD"), []byte(op.Key), []byte(op.Value)}
		}
		sc.rec.add(op)
		sc.open = &op
		ctx.Send(sc.coord, coord.Requests{Cmds: [][][]byte{cmd}})
	case coord.Replies:
		if sc.open == nil || len(m.Data) == 0 {
			return
		}
		done := complete(*sc.open, m.Data)
		sc.rec.add(done)
		sc.open = nil
		ctx.After(sc.think(ctx), nextOp{})
	}
}

func (sc *SetClient) think(ctx actors.Context) time.Duration {
	return sc.Think/2 + time.Duration(ctx.Rand().Int64N(int64(sc.Think)+1))
}

// complete turns a RESP reply into the operation's completion: a set read
// (an array) gives Values, a register read (a bulk string) Value. A write
// that failed may still have reached some replicas, so its outcome is
// unknown (info) unless the node refused it outright; a failed read
// changed nothing.
func complete(inv check.Op, reply []byte) check.Op {
	op := inv
	if op.F == "read" {
		if elems, ok := bulkArray(reply); ok {
			op.Type, op.Values = check.OK, elems
			return op
		}
	}
	v, _, err := resp.ParseReply(reply)
	switch {
	case err != nil:
		op.Type, op.Error = check.Info, "unparsable reply: "+err.Error()
	case v.Type == resp.Error:
		op.Error = string(v.Str)
		op.Type = check.Fail
		if op.F != "read" && !strings.Contains(op.Error, "current state does not allow") {
			op.Type = check.Info
		}
	case op.F == "read" && v.Type == resp.Array:
		op.Type = check.OK
		if len(v.Elems) > 0 {
			op.Values = make([]string, len(v.Elems))
		}
		for i, e := range v.Elems {
			op.Values[i] = string(e.Str)
		}
	case op.F == "read":
		op.Type = check.OK
		op.Value = string(v.Str) // a nil bulk string reads as ""
	default:
		op.Type = check.OK
	}
	return op
}

// bulkArray reads a whole reply that is a non-empty RESP array of bulk
// strings (a set read's) into strings, without the Value tree ParseReply
// builds; false for any other reply, which complete parses in full.
func bulkArray(b []byte) ([]string, bool) {
	line := func(b []byte) (int64, []byte, bool) { // "<n>\r\n" after a type byte: 1-18 digits
		var n int64
		i := 0
		for ; i < len(b) && i < 18 && b[i] >= '0' && b[i] <= '9'; i++ {
			n = n*10 + int64(b[i]-'0')
		}
		if i == 0 || i+1 >= len(b) || b[i] != '\r' || b[i+1] != '\n' || (b[0] == '0' && i > 1) {
			return 0, nil, false
		}
		return n, b[i+2:], true
	}
	if len(b) == 0 || b[0] != '*' {
		return nil, false
	}
	count, b, ok := line(b[1:])
	if !ok || count <= 0 || count > int64(len(b)) {
		return nil, false
	}
	out := make([]string, count)
	for i := range out {
		if len(b) == 0 || b[0] != '$' {
			return nil, false
		}
		var n int64
		if n, b, ok = line(b[1:]); !ok || n < 0 || n+2 > int64(len(b)) || b[n] != '\r' || b[n+1] != '\n' {
			return nil, false
		}
		out[i], b = string(b[:n]), b[n+2:]
	}
	return out, len(b) == 0
}
