package datastore

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/store"
)

// Failures an adapter answers with (store.Result.Failure). A Failure is one
// of these, alone or followed by ": " and details (the dial error, the
// reason a connection was lost, the bad request). Its Kind is
// store.KindTimeout for FailTimeout, store.KindDatastore for the others.
const (
	// FailRefused: the datastore refused (or did not answer) a dial; until
	// a redial succeeds, requests fail fast with it. Dynomite's wording, for
	// "-ERR Storage: Datastore refused connection". The details name the
	// datastore and say it is not reachable (yet, when it never was):
	// "Datastore refused connection: redis 127.0.0.1:6379 is not reachable
	// yet: dial tcp 127.0.0.1:6379: connect: connection refused".
	FailRefused = "Datastore refused connection"
	// FailEjected: AutoEject took the server out for RetryTimeout.
	FailEjected = "datastore ejected"
	// FailQueueFull: every usable connection has MaxInFlight requests.
	FailQueueFull = "datastore queue full"
	// FailTimeout: no reply within Timeout. Its connection is closed.
	FailTimeout = "datastore request timed out"
	// FailClosedAfterTimeout: queued behind a request that timed out, on
	// the connection that was closed because of it.
	FailClosedAfterTimeout = "connection closed after timeout"
	// FailConnLost: the connection broke (EOF, reset, failed write, a reply
	// that does not parse) before the reply came.
	FailConnLost = "datastore connection lost"
	// FailStopped: the adapter stopped before the reply came.
	FailStopped = "datastore adapter stopped"
	// FailBadRequest: Exec.Args cannot be sent (empty, or not exactly one
	// complete memcached request with a reply).
	FailBadRequest = "bad datastore request"
	// FailMisconfigured: Options.Validate failed.
	FailMisconfigured = "datastore adapter misconfigured"
)

// pool is one adapter incarnation's connections and the server's health,
// shared by the actor and the socket goroutines.
type pool struct {
	opts   Options
	self   actors.Addr
	log    *slog.Logger
	stats  *Counters
	dialer net.Dialer
	ctx    context.Context // cancelled by close: aborts dials
	cancel context.CancelFunc
	wg     sync.WaitGroup
	conns  []*conn
	// vc is the version cache (vcache.go): with versions on Redis over
	// one connection. connects counts the dials that succeeded and the
	// sessions that ended: either empties it.
	vc       *verCache
	connects atomic.Uint64

	failures     atomic.Int64 // consecutive; a reply resets it
	ejectedUntil atomic.Int64 // unix ns; the server is ejected before it

	// Reachability, for the logs and the answer while ejected.
	everUp      atomic.Bool            // a dial succeeded once
	unreachable atomic.Pointer[string] // the last refusal, while no dial has succeeded since
	hmu         sync.Mutex             // guards refusals and downSince
	refusals    int                    // refused dials (every connection's) since the last success
	downSince   time.Time              // the first of them
}

// closeWait bounds how long Stopping waits for socket goroutines to exit.
const closeWait = 2 * time.Second

func newPool(self actors.Addr, opts Options, log *slog.Logger) *pool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pool{opts: opts, self: self, log: log, stats: opts.Counters, ctx: ctx, cancel: cancel}
	for i := range opts.Connections {
		p.conns = append(p.conns, &conn{p: p, idx: i, wait: opts.InitialBackoff})
	}
	if opts.Versions && opts.Protocol == Redis {
		if opts.Connections == 1 {
			p.vc = newVerCache(vcacheMax)
		}
		p.spawn(p.purge)
	}
	return p
}

// spawn runs f on a goroutine that close waits for.
func (p *pool) spawn(f func()) {
	p.wg.Add(1)
	live.Add(1)
	go func() {
		defer func() { live.Add(-1); p.wg.Done() }()
		f()
	}()
}

// reply hands a datastore reply to its requester.
func (p *pool) reply(pd pending, reply []byte) {
	switch {
	case pd.acked(reply):
		p.opts.Deliver(p.self, pd.to, store.Acks{IDs: []uint64{pd.id}})
	case !pd.quiet:
		p.opts.Deliver(p.self, pd.to, store.Result{ID: pd.id, Reply: reply})
	}
}

// ackRun gathers the IDs of acknowledged requests (pending.acked) for one
// requester, to send as one store.Acks.
type ackRun struct {
	to  actors.Addr
	ids []uint64
}

// add adds pd's ID, first sending what was gathered for another requester.
func (a *ackRun) add(p *pool, pd *pending) {
	if len(a.ids) > 0 && a.to != pd.to {
		a.flush(p)
	}
	a.to = pd.to
	a.ids = append(a.ids, pd.id)
}

// flush sends what was gathered.
func (a *ackRun) flush(p *pool) {
	if len(a.ids) > 0 {
		p.opts.Deliver(p.self, a.to, store.Acks{IDs: a.ids})
		a.ids = nil // the message owns them
	}
}

// fail answers every request in pds with failure, a datastore failure.
func (p *pool) fail(pds []pending, failure string) {
	p.failAs(pds, failure, store.KindDatastore)
}

// failAs answers every request in pds with failure, of kind.
func (p *pool) failAs(pds []pending, failure string, kind store.FailureKind) {
	for i := 0; i < len(pds); i++ {
		if g := pds[i].vx; g != nil && g.mode == vGroup {
			// A group of stamps fails as its members.
			pds = append(append(append([]pending(nil), pds[:i]...), g.members...), pds[i+1:]...)
			i--
		}
	}
	p.stats.inFlight.Add(-int64(len(pds)))
	for _, pd := range pds {
		if pd.vx != nil && pd.vx.done != nil {
			pd.vx.done(nil) // internal: not a request of the node's
			continue
		}
		p.stats.errors.Add(1)
		if !pd.quiet {
			p.opts.Deliver(p.self, pd.to, store.Result{ID: pd.id, Failure: failure, Kind: kind})
		}
	}
}

// failure records one failure of the server (refused dial, timeout, lost
// connection) and ejects it when AutoEject and FailureLimit say so.
func (p *pool) failure() {
	n := p.failures.Add(1)
	if !p.opts.AutoEject || n < int64(p.opts.FailureLimit) {
		return
	}
	now := time.Now().UnixNano()
	if prev := p.ejectedUntil.Swap(now + int64(p.opts.RetryTimeout)); prev <= now {
		p.stats.ejections.Add(1)
		if p.unreachable.Load() == nil { // refusals have their own log lines (refused)
			p.log.Warn("datastore ejected", "consecutive_failures", n, "for", p.opts.RetryTimeout)
		}
	}
}

// refusal is the Failure for the requests a dial refused with err.
func (p *pool) refusal(err error) string {
	yet := " yet"
	if p.everUp.Load() {
		yet = ""
	}
	return fmt.Sprintf("%s: %s %s is not reachable%s: %v", FailRefused, p.opts.Protocol, p.opts.Addr, yet, err)
}

// refused records a refused dial. It logs the first of a streak, then the
// 2nd, 4th, 8th... (every connection's dials count), so a datastore that
// stays down is reported at growing intervals, not at every redial.
func (p *pool) refused(err error, refusal string, retryIn time.Duration) {
	p.unreachable.Store(&refusal)
	p.hmu.Lock()
	p.refusals++
	n := p.refusals
	if n == 1 {
		p.downSince = time.Now()
	}
	since := p.downSince
	p.hmu.Unlock()
	switch {
	case n == 1 && !p.everUp.Load():
		p.log.Warn("datastore not reachable yet: requests that need it fail until it is; redialling with backoff",
			"err", err, "retry_in", retryIn, "max_backoff", p.opts.RetryTimeout)
	case n == 1:
		p.log.Warn("datastore not reachable: requests that need it fail until it is; redialling with backoff",
			"err", err, "retry_in", retryIn, "max_backoff", p.opts.RetryTimeout)
	case n&(n-1) == 0:
		p.log.Warn("datastore still not reachable", "failed_dials", n,
			"down_for", time.Since(since).Round(time.Millisecond), "retry_in", retryIn, "err", err)
	}
}

// reachable records a successful dial. After refused ones it ends their
// failure streak and the ejection they caused (the datastore is up: serve
// it now, not at the end of the ejection) and says so.
func (p *pool) reachable() {
	p.hmu.Lock()
	// Under the lock with the refusals: of connections that reconnect at
	// once, exactly one says so (the first to take the lock).
	first := !p.everUp.Swap(true)
	n, since := p.refusals, p.downSince
	p.refusals = 0
	p.hmu.Unlock()
	if n > 0 {
		p.unreachable.Store(nil)
		p.failures.Store(0)
		p.ejectedUntil.Store(0)
		p.log.Info("datastore connected", "after_failed_dials", n, "down_for", time.Since(since).Round(time.Millisecond))
		return
	}
	if first {
		p.log.Info("datastore connected")
	}
}

// success records a reply: the failure streak is over.
func (p *pool) success() {
	if p.failures.Load() != 0 {
		p.failures.Store(0)
	}
}

func (p *pool) ejected(now time.Time) bool {
	return p.opts.AutoEject && now.UnixNano() < p.ejectedUntil.Load()
}

func (p *pool) preconnect() {
	for _, c := range p.conns {
		c.connect()
	}
}

// close ends every connection, answers what is pending with FailStopped
// and waits (bounded) for the socket goroutines to exit.
func (p *pool) close() {
	p.cancel()
	for _, c := range p.conns {
		p.fail(c.close(), FailStopped)
	}
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		p.log.Error("datastore goroutines still running after close", "wait", closeWait)
	}
}
