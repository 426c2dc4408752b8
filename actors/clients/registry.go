package clients

import (
	"maps"
	"slices"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
)

// Name is the registry's actor name on every node.
const Name = "clients"

// DefaultWait is Config.Wait's default.
const DefaultWait = 100 * time.Millisecond

// Config sets up a registry.
type Config struct {
	// Wait bounds how long a CLIENT LIST waits for the connections'
	// reports before it answers with what the registry knows. Zero:
	// DefaultWait.
	Wait time.Duration
}

// Update is a connection's state, sent by its coordinator (Conn) when it
// starts and when its name, user, subscriptions, MULTI or NO-EVICT
// change: the registry keeps the latest.
type Update struct {
	Conn  actors.Addr
	Entry Entry
}

// Left says connection ID ended.
type Left struct{ ID int64 }

// ListReq asks for CLIENT LIST's reply, the connections Filter selects;
// the registry answers store.Result{ID, Reply} with the bulk string.
type ListReq struct {
	ID     uint64
	Filter Filter
}

// KillReq asks the registry to close the connections Kill selects, but
// for By's (the connection that sends it, which decides its own fate:
// Self says it selected itself, and is counted). The registry answers
// store.Result{ID, Reply} with CLIENT KILL's reply.
type KillReq struct {
	ID   uint64
	By   int64
	Self bool
	Kill Kill
}

// Ask asks a connection's coordinator for its state now, for a CLIENT
// LIST; it answers Report with the same Round.
type Ask struct{ Round uint64 }

// Report is a coordinator's answer to Ask.
type Report struct {
	Round uint64
	Entry Entry
}

// Close tells a connection's coordinator that CLIENT KILL closed it.
type Close struct{}

// roundDue is the timer that ends a round's wait for reports.
type roundDue struct{ round uint64 }

// Registry is the actor.
type Registry struct {
	wait   time.Duration
	conns  map[int64]*conn
	rounds map[uint64]*round
	next   uint64
	// killed are connections told to close whose Left has not come yet:
	// what they still send (an Update, a KILL of their own) is dropped,
	// as Redis never runs a killed client's next command (found by
	// review: two connections killing each other both died).
	killed map[int64]bool
}

type conn struct {
	addr  actors.Addr
	entry Entry
}

// round is a CLIENT LIST waiting for the reports of the connections it
// shows.
type round struct {
	to      actors.Addr // the asking coordinator
	id      uint64      // the store.Result's ID
	filter  Filter
	waiting map[int64]bool
	timer   actors.TimerID
}

// New returns a producer of registries.
func New(cfg Config) actors.Producer {
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	return func() actors.Behaviour {
		return &Registry{wait: cfg.Wait, conns: map[int64]*conn{}, rounds: map[uint64]*round{}, killed: map[int64]bool{}}
	}
}

// Receive implements actors.Behaviour.
func (r *Registry) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case Update:
		if !r.killed[m.Entry.ID] {
			r.conns[m.Entry.ID] = &conn{addr: m.Conn, entry: m.Entry}
		}
	case Left:
		delete(r.killed, m.ID)
		r.forget(ctx, m.ID)
	case ListReq:
		r.list(ctx, m)
	case Report:
		r.report(ctx, m)
	case roundDue:
		r.finish(ctx, m.round)
	case KillReq:
		r.kill(ctx, m)
	}
}

// ids is every registered id, ascending.
func (r *Registry) ids() []int64 {
	ids := make([]int64, 0, len(r.conns))
	for id := range r.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// list starts a round: every connection the list may show is asked for
// its state, and the reply waits for their reports (at most r.wait).
func (r *Registry) list(ctx actors.Context, m ListReq) {
	r.next++
	rd := &round{to: ctx.Sender(), id: m.ID, filter: m.Filter, waiting: map[int64]bool{}}
	r.rounds[r.next] = rd
	for _, id := range r.ids() {
		if m.Filter.IDs != nil && !slices.Contains(m.Filter.IDs, id) {
			continue
		}
		rd.waiting[id] = true
		ctx.Send(r.conns[id].addr, Ask{Round: r.next})
	}
	if len(rd.waiting) == 0 {
		r.finish(ctx, r.next)
		return
	}
	rd.timer = ctx.After(r.wait, roundDue{round: r.next})
}

// report takes a connection's fresh state, and answers the round it
// completes.
func (r *Registry) report(ctx actors.Context, m Report) {
	c := r.conns[m.Entry.ID]
	if c == nil {
		return // killed or gone meanwhile
	}
	c.entry = m.Entry
	if rd := r.rounds[m.Round]; rd != nil && rd.waiting[m.Entry.ID] {
		delete(rd.waiting, m.Entry.ID)
		if len(rd.waiting) == 0 {
			r.finish(ctx, m.Round)
		}
	}
}

// finish answers a round with the lines of the connections it selects:
// in the order of its ids (CLIENT LIST ID), or every one by id.
func (r *Registry) finish(ctx actors.Context, n uint64) {
	rd := r.rounds[n]
	if rd == nil {
		return // answered already
	}
	delete(r.rounds, n)
	if rd.timer != 0 {
		ctx.Cancel(rd.timer)
	}
	ids := rd.filter.IDs
	if ids == nil {
		ids = r.ids()
	}
	now := ctx.Now()
	var text []byte
	for _, id := range ids {
		if c := r.conns[id]; c != nil && rd.filter.Match(&c.entry) {
			text = c.entry.AppendLine(text, now)
		}
	}
	ctx.Send(rd.to, store.Result{ID: rd.id, Reply: resp.AppendBulk(nil, text)})
}

// forget drops a connection, and stops waiting for its report.
func (r *Registry) forget(ctx actors.Context, id int64) {
	delete(r.conns, id)
	for _, n := range slices.Sorted(maps.Keys(r.rounds)) {
		if rd := r.rounds[n]; rd.waiting[id] {
			delete(rd.waiting, id)
			if len(rd.waiting) == 0 {
				r.finish(ctx, n)
			}
		}
	}
}

// kill closes the connections m selects (the asker's excepted), in id
// order, forgets them, and answers the asker: the old form +OK or "No
// such client", the new one the number killed, the asker included when it
// killed itself.
func (r *Registry) kill(ctx actors.Context, m KillReq) {
	if r.killed[m.By] {
		return // killed already: its connection closes without running this
	}
	killed := 0
	for _, id := range r.ids() {
		c := r.conns[id]
		if id == m.By || !m.Kill.Match(&c.entry) {
			continue
		}
		ctx.Send(c.addr, Close{})
		r.killed[id] = true
		r.forget(ctx, id)
		killed++
	}
	if m.Self {
		r.killed[m.By] = true
		r.forget(ctx, m.By)
		killed++
	}
	var reply []byte
	switch {
	case !m.Kill.Old:
		reply = resp.AppendInt(nil, int64(killed))
	case killed > 0:
		reply = resp.AppendSimpleString(nil, "OK")
	default:
		reply = resp.AppendError(nil, "ERR No such client")
	}
	ctx.Send(ctx.Sender(), store.Result{ID: m.ID, Reply: reply})
}
