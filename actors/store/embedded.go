package store

import (
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
)

// ActiveExpireInterval is how often, in node time, the embedded store
// reclaims expired keys (Redis's default hz 10).
const ActiveExpireInterval = 100 * time.Millisecond

// ActiveExpireBudget bounds the expiry-index entries one tick examines, so
// a tick never stalls the actor (Redis's cycle is time-bounded instead).
const ActiveExpireBudget = 200

// expireTick is the embedded store's timer message.
type expireTick struct{}

// embedded is the store-adapter actor around an Engine.
type embedded struct {
	engine *Engine
	buf    []byte // scratch reply buffer
	slab   []byte // replies are carved from it: one allocation for many
	watch  Watches
}

// warmAhead is how many of a batch's commands have their keys' memory
// loaded together before they run (see keyspace.warm).
const warmAhead = 16

// warm loads the memory of the keys of execs (the first argument of each,
// where single-key commands have their key) ahead of running them.
func (s *embedded) warm(execs []Exec) {
	if len(execs) < 2 {
		return
	}
	var keys [warmAhead][]byte
	var hs [warmAhead]uint64
	n := 0
	for _, e := range execs {
		if len(e.Args) > 1 {
			keys[n] = e.Args[1]
			n++
		}
	}
	s.engine.keys.warm(keys[:n], hs[:n])
}

// slabSize is the size of the buffer small replies are carved from.
const slabSize = 8 << 10

// own copies a reply out of the scratch buffer into memory the Result can
// keep: a capacity-limited piece of the current slab.
func (s *embedded) own(reply []byte) []byte {
	if len(reply) > slabSize/4 {
		return append([]byte(nil), reply...)
	}
	if cap(s.slab)-len(s.slab) < len(reply) {
		s.slab = make([]byte, 0, slabSize)
	}
	at := len(s.slab)
	s.slab = append(s.slab, reply...)
	return s.slab[at:len(s.slab):len(s.slab)]
}

// NewEmbedded returns the producer of the embedded store actor: it answers
// each Exec with a Result (each Batch with Results) whose Reply is exactly
// what Redis 7.0 would send, using the node's clock for expiry; Quiet ones
// get no answer, and a success that asked for an Ack comes in Acks. Each incarnation starts empty, like a
// restarted Redis without persistence.
func NewEmbedded(opts Options) actors.Producer {
	return func() actors.Behaviour { return &embedded{engine: NewEngine(opts)} }
}

func (s *embedded) Receive(ctx actors.Context, msg any) {
	switch m := msg.(type) {
	case actors.Started:
		ctx.After(ActiveExpireInterval, expireTick{})
	case expireTick:
		s.engine.ActiveExpire(ctx.Now(), ActiveExpireBudget)
		ctx.After(ActiveExpireInterval, expireTick{})
	case Exec:
		if s.watch.Handle(ctx, m) {
			return
		}
		var ver hlc.Version
		s.buf, ver = s.engine.ExecVersion(ctx.Now(), m.Args, m.Version, s.buf[:0])
		s.watch.Touched(ctx, m.Args, s.buf, m.Version)
		if ev := s.engine.TakeEvent(); ev != "" {
			actors.Mark(ctx, ev)
		}
		switch {
		case m.Acked(s.buf):
			ctx.Send(ctx.Sender(), Acks{IDs: []uint64{m.ID}})
		case !m.Quiet:
			ctx.Send(ctx.Sender(), Result{ID: m.ID, Reply: s.own(s.buf), Version: ver})
		}
	case Batch:
		// One clock reading for the batch, as Redis reads its clock once
		// per event-loop iteration; the answers go back together.
		now := ctx.Now()
		var rs []Result
		var acks []uint64
		for i, e := range m.Execs {
			if i%warmAhead == 0 {
				s.warm(m.Execs[i:min(i+warmAhead, len(m.Execs))])
			}
			if s.watch.Handle(ctx, e) {
				continue
			}
			var ver hlc.Version
			s.buf, ver = s.engine.ExecVersion(now, e.Args, e.Version, s.buf[:0])
			s.watch.Touched(ctx, e.Args, s.buf, e.Version)
			if ev := s.engine.TakeEvent(); ev != "" {
				actors.Mark(ctx, ev)
			}
			switch {
			case e.Acked(s.buf):
				acks = append(acks, e.ID)
			case !e.Quiet:
				if rs == nil {
					rs = make([]Result, 0, len(m.Execs))
				}
				rs = append(rs, Result{ID: e.ID, Reply: s.own(s.buf), Version: ver})
			}
		}
		if rs != nil {
			ctx.Send(ctx.Sender(), Results{Results: rs})
		}
		if acks != nil {
			ctx.Send(ctx.Sender(), Acks{IDs: acks})
		}
	}
}
