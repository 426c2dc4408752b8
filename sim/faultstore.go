package sim

import (
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/store"
)

// StoreMode is how a wrapped datastore behaves.
type StoreMode struct {
	Slow    time.Duration // delay every request by this much
	Failing bool          // answer every request with a failure
}

// faultStore wraps a store actor so the fault schedule can make it slow or
// failing (a datastore under GC, a disk full, a restarting Redis). It is
// the node's durable "store" actor; SetStoreMode messages reach it.
type faultStore struct {
	inner actors.Behaviour
	mode  StoreMode
}

// SetStoreMode changes a wrapped store's behaviour.
type SetStoreMode struct{ Mode StoreMode }

type delayed struct {
	from actors.Addr
	exec any // store.Exec or store.Batch
}

// withSender is the inner store's view of a message that was held back:
// it answers the original requester, not the timer.
type withSender struct {
	actors.Context
	from actors.Addr
}

func (w withSender) Sender() actors.Addr { return w.from }

// FaultyStore wraps a store producer for fault injection.
func FaultyStore(p actors.Producer) actors.Producer {
	return func() actors.Behaviour { return &faultStore{inner: p()} }
}

func (f *faultStore) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case SetStoreMode:
		f.mode = m.Mode
	case store.Exec:
		switch {
		case f.mode.Failing:
			if !m.Quiet {
				ctx.Send(ctx.Sender(), store.Result{ID: m.ID, Failure: "Storage: Datastore refused connection (simulated)", Kind: store.KindDatastore})
			}
		case f.mode.Slow > 0:
			ctx.After(f.mode.Slow, delayed{from: ctx.Sender(), exec: m})
		default:
			f.inner.Receive(ctx, m)
		}
	case store.Batch:
		switch {
		case f.mode.Failing:
			var rs []store.Result
			for _, e := range m.Execs {
				if !e.Quiet {
					rs = append(rs, store.Result{ID: e.ID, Failure: "Storage: Datastore refused connection (simulated)", Kind: store.KindDatastore})
				}
			}
			if rs != nil {
				ctx.Send(ctx.Sender(), store.Results{Results: rs})
			}
		case f.mode.Slow > 0:
			ctx.After(f.mode.Slow, delayed{from: ctx.Sender(), exec: m})
		default:
			f.inner.Receive(ctx, m)
		}
	case delayed:
		f.inner.Receive(withSender{ctx, m.from}, m.exec)
	default:
		f.inner.Receive(ctx, m)
	}
}
