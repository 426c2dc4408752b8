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

// LateStore wraps a store producer as a datastore that is not up yet when
// its node starts: until upAt of node time has passed since the store actor
// first started (virtual time upAt for a node booted at the start of the
// run), every request is answered at once with the failure the real adapter
// (netio/datastore) gives while its datastore refuses connections, "Datastore
// refused connection: ... is not reachable yet: ..."; from upAt on, requests
// go to the wrapped store. A crash does not restart the wait (the store is
// durable: the datastore process outlives the node's).
func LateStore(p actors.Producer, upAt time.Duration) actors.Producer {
	return func() actors.Behaviour { return &lateStore{inner: p(), upAt: upAt} }
}

// LateStoreFailure is the start of a LateStore's failure before upAt (the
// real adapter's datastore.FailRefused and ": "); the store's address and
// "is not reachable yet" follow.
const LateStoreFailure = "Datastore refused connection: "

type lateStore struct {
	inner   actors.Behaviour
	upAt    time.Duration
	started bool
	since   time.Duration // the node's Elapsed at the first Started
	up      bool
}

func (l *lateStore) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		if !l.started {
			l.started, l.since = true, ctx.Elapsed()
		}
	case store.Exec:
		if !l.isUp(ctx) {
			if !m.Quiet {
				ctx.Send(ctx.Sender(), store.Result{ID: m.ID, Failure: l.failure(ctx)})
			}
			return
		}
	case store.Batch:
		if !l.isUp(ctx) {
			var rs []store.Result
			for _, e := range m.Execs {
				if !e.Quiet {
					rs = append(rs, store.Result{ID: e.ID, Failure: l.failure(ctx)})
				}
			}
			if rs != nil {
				ctx.Send(ctx.Sender(), store.Results{Results: rs})
			}
			return
		}
	}
	l.inner.Receive(ctx, m)
}

func (l *lateStore) isUp(ctx actors.Context) bool {
	if !l.up && ctx.Elapsed()-l.since >= l.upAt {
		l.up = true
		ctx.Log().Info("datastore connected (sim.LateStore)", "up_at", l.upAt)
	}
	return l.up
}

func (l *lateStore) failure(ctx actors.Context) string {
	return LateStoreFailure + "store " + ctx.Self().String() + " is not reachable yet: simulated, up " +
		l.upAt.String() + " after the node started"
}
