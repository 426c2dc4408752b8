package datastore

import (
	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/store"
)

// New returns the producer of a store adapter for opts. The adapter answers
// store.Exec with store.Result (to the sender) and GetStats with Stats.
func New(opts Options) actors.Producer {
	opts = opts.withDefaults()
	if opts.Counters == nil {
		opts.Counters = &Counters{}
	}
	l := &lineage{}
	return func() actors.Behaviour { return &adapter{opts: opts, line: l} }
}

// lineage is what the incarnations of one adapter share: the newest one's
// pool, so that a fresh incarnation (after a panic, which skips Stopping)
// closes the connections of the one it replaces.
type lineage struct{ pool *pool }

// adapter is the actor. It validates, encodes and queues requests; replies
// and failures found by the socket goroutines go straight to requesters.
type adapter struct {
	opts  Options
	line  *lineage
	pool  *pool
	check *requestCheck
	next  int    // round-robin position in pool.conns
	bad   string // FailMisconfigured, when Options.Validate failed
	watch store.Watches
}

// Receive implements actors.Behaviour.
func (a *adapter) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		a.start(ctx)
	case store.Exec:
		a.execWatched(ctx, m)
	case store.Batch:
		for _, e := range m.Execs {
			a.execWatched(ctx, e)
		}
	case GetStats:
		ctx.Send(ctx.Sender(), a.opts.Counters.Snapshot())
	case actors.Stopping:
		if a.pool != nil {
			a.pool.close()
			a.line.pool = nil
		}
	}
}

// execWatched is exec with blocking pops' watches (store.Watches): the
// adapter keeps them, and wakes them as it queues writes.
func (a *adapter) execWatched(ctx actors.Context, e store.Exec) {
	if a.opts.Protocol == Redis && a.watch.Handle(ctx, e) {
		return
	}
	a.exec(ctx, e)
	if a.opts.Protocol == Redis {
		a.watch.Touched(ctx, e.Args, nil, e.Version)
	}
}

// EndOfBatch writes what the requests handled since the last batch queued
// (the runtime calls it once the adapter's mailbox is empty).
func (a *adapter) EndOfBatch() {
	if a.pool != nil {
		for _, c := range a.pool.conns {
			c.kick()
		}
	}
}

func (a *adapter) start(ctx actors.Context) {
	if prev := a.line.pool; prev != nil {
		prev.close()
		a.line.pool = nil
	}
	log := a.opts.Log
	if log == nil {
		log = ctx.Log()
	}
	if err := a.opts.Validate(); err != nil {
		a.bad = FailMisconfigured + ": " + err.Error()
		log.Error("datastore adapter misconfigured: every request will fail", "err", err)
		return
	}
	a.check = newRequestCheck(a.opts.Protocol)
	a.pool = newPool(ctx.Self(), a.opts, log.With("datastore", a.opts.Addr, "protocol", a.opts.Protocol.String()))
	a.line.pool = a.pool
	if a.opts.Preconnect {
		a.pool.preconnect()
	}
}

func (a *adapter) exec(ctx actors.Context, m store.Exec) {
	a.opts.Counters.requests.Add(1)
	pd := pending{id: m.ID, to: ctx.Sender(), quiet: m.Quiet, ack: m.Ack}
	if a.bad != "" {
		a.failFast(ctx, pd, a.bad)
		return
	}
	kind, err := a.check.check(m.Args)
	if err != nil {
		a.failFast(ctx, pd, FailBadRequest+": "+err.Error())
		return
	}
	now := ctx.Now()
	if a.opts.Protocol == Redis {
		vc := a.pool.vc
		if vc != nil {
			vc.sync(a.pool.connects.Load())
		}
		vx, reply := planVersions(m.Args, m.Version, a.opts.Versions, a.opts.TombstoneTTL, now, vc)
		if reply != "" {
			a.answerNow(ctx, pd, []byte(reply))
			return
		}
		pd.vx = vx
	}
	if a.pool.ejected(now) {
		// Ejected by refusals: say what is wrong (not reachable), as
		// the connections would.
		failure := FailEjected
		if r := a.pool.unreachable.Load(); r != nil {
			failure = *r
		}
		a.failFast(ctx, pd, failure)
		return
	}
	pd.kind, pd.deadline = kind, now.Add(a.opts.Timeout)
	conns := a.pool.conns
	failure := ""
	for i := range conns {
		at := (a.next + i) % len(conns)
		f := conns[at].submit(pd, m.Args, now)
		if f == "" {
			a.next = (at + 1) % len(conns)
			return
		}
		// A full queue says more than a refusal: the server is up.
		if failure == "" || f == FailQueueFull {
			failure = f
		}
	}
	a.next = (a.next + 1) % len(conns)
	if failure == FailQueueFull {
		// Refused work is lost work (a replica write, at DC_ONE): say so,
		// at 1, 2, 4, 8... refusals so that a flood does not flood the log.
		if n := a.opts.Counters.queueFull.Add(1); n&(n-1) == 0 {
			a.pool.log.Warn("datastore queue full: request refused", "max_in_flight", a.opts.MaxInFlight,
				"connections", len(conns), "refused_so_far", n)
		}
	}
	a.failFast(ctx, pd, failure)
}

func (a *adapter) failFast(ctx actors.Context, pd pending, failure string) {
	a.opts.Counters.errors.Add(1)
	if !pd.quiet {
		ctx.Send(pd.to, store.Result{ID: pd.id, Failure: failure, Kind: store.KindDatastore})
	}
}
