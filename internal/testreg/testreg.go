// Package testreg is a small replicated register written only to exercise
// the runtimes (sim/ and transport/) before the real cluster actors exist.
// It is actor code under the same rules as actors/: no goroutines, clocks,
// sockets or global randomness.
//
// Every replica writes rounds 1..Writes of its own value, broadcasting each
// write to its peers, and periodically pushes its state to one random peer
// (anti-entropy). A replica keeps the value with the highest Version, so once
// messages flow freely every replica converges to the value written in round
// Writes by the highest node id, whatever the timing and faults in between.
// That outcome is the same in every runtime, which is what the tests check.
package testreg

import (
	"fmt"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/msg"
)

// Version orders writes: by round, then by writer node id.
type Version struct {
	Round uint64
	Node  string
}

// Less reports whether v is older than o.
func (v Version) Less(o Version) bool {
	return v.Round < o.Round || (v.Round == o.Round && v.Node < o.Node)
}

// State carries a replica's value and version to a peer.
type State struct {
	Value string
	Ver   Version
}

func init() { msg.Register[State](0xFF00) }

type writeTick struct{}
type syncTick struct{}

// Config parameterises a replica.
type Config struct {
	Peers      []actors.Addr // the other replicas
	Writes     int           // rounds this replica writes
	WriteEvery time.Duration // mean pause between its writes
	SyncEvery  time.Duration // anti-entropy period
}

// Replica is the register's actor. Its fields are exported read-only views for
// tests that inspect state between steps.
type Replica struct {
	cfg     Config
	Value   string
	Ver     Version
	Written int
	Changed time.Time // node time of the last adopted value
}

// New returns a producer of fresh replicas.
func New(cfg Config) actors.Producer {
	return func() actors.Behaviour { return &Replica{cfg: cfg} }
}

// Expected is the value every replica must converge to.
func Expected(writes int, highestNode actors.NodeID) State {
	v := Version{Round: uint64(writes), Node: string(highestNode)}
	return State{Value: valueOf(v), Ver: v}
}

func valueOf(v Version) string { return fmt.Sprintf("v%d@%s", v.Round, v.Node) }

func (r *Replica) jittered(ctx actors.Context, d time.Duration) time.Duration {
	return d/2 + time.Duration(ctx.Rand().Int64N(int64(d)+1))
}

// Receive implements actors.Behaviour.
func (r *Replica) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		ctx.After(r.jittered(ctx, r.cfg.WriteEvery), writeTick{})
		ctx.After(r.jittered(ctx, r.cfg.SyncEvery), syncTick{})
	case writeTick:
		if r.Written >= r.cfg.Writes {
			return
		}
		r.Written++
		v := Version{Round: uint64(r.Written), Node: string(ctx.Self().Node)}
		r.adopt(ctx, State{Value: valueOf(v), Ver: v})
		for _, p := range r.cfg.Peers {
			ctx.Send(p, State{Value: r.Value, Ver: r.Ver})
		}
		ctx.After(r.jittered(ctx, r.cfg.WriteEvery), writeTick{})
	case syncTick:
		if len(r.cfg.Peers) > 0 && r.Ver.Round > 0 {
			ctx.Send(r.cfg.Peers[ctx.Rand().IntN(len(r.cfg.Peers))], State{Value: r.Value, Ver: r.Ver})
		}
		ctx.After(r.jittered(ctx, r.cfg.SyncEvery), syncTick{})
	case State:
		if r.Ver.Less(m.Ver) {
			r.adopt(ctx, m)
		} else if m.Ver.Less(r.Ver) {
			// The sender is behind: answer with what we have, which makes
			// convergence quick once a partition heals.
			ctx.Send(ctx.Sender(), State{Value: r.Value, Ver: r.Ver})
		}
	}
}

func (r *Replica) adopt(ctx actors.Context, s State) {
	r.Value, r.Ver, r.Changed = s.Value, s.Ver, ctx.Now()
}
