package coord

import (
	"slices"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hints"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/store"
)

// Hinted handoff, the coordinator's part: every versioned write sent to a
// replica is tracked until the replica answers. A write that cannot be
// delivered becomes a hint, handed to the node's hint manager
// (actors/hints), which replays it when the replica is back:
//
//   - a replica down in the failure detector gets no send, only a hint;
//   - a replica that answers a failure (its datastore failed, its peer
//     link bounced the write), or an error its datastore may not give
//     again (hints.Transient: -LOADING, -OOM, ...), or does not answer
//     by the request's deadline, gets a hint;
//   - writes still unanswered when the connection ends get hints too
//     (the coordinator stops watching them; a hint of a write that did
//     apply changes nothing when replayed: it is not newer).
//
// Hints never count toward a consistency level: the client's reply is
// decided as without them. A replayed hint applies only if newer than
// what its replica holds, which makes replaying whole-value writes and
// deletes safe however often, and in whatever order, it happens. Only
// they are hinted: a read-modify-write (INCR, APPEND, SADD, ...) applies
// whatever its version (it leaves the key at the newer one), so a replay
// landing after a newer write, or after the write itself, would change
// the replica's value; a replica that missed one is left to anti-entropy
// (and to read repair, for strings).
//
// With hints on, the whole-value writes and deletes to replicas whose
// answer does not count (DC_ONE's other racks) ask for one anyway
// (Exec.Quiet is false): without it no failure could be seen. They ask
// for an acknowledgement (Exec.Ack): a success comes back as the write's
// ID alone, many in one store.Acks, which costs the replica and the
// coordinator a fraction of a Result each.

// handoff is a connection's writes awaiting their replicas' answers, in
// send order, which is the order of their IDs (execID: parts are numbered
// as they are sent, replicas in order within a part): an answer finds its
// write by binary search, mostly at the front. Values, not pointers: a
// write tracked costs no allocation.
type handoff struct {
	ws   []hoWrite
	ids  []uint64 // ws's ids, apart: a dense array searches faster
	head int      // ws[:head] and ids[:head] are gone
}

type hoWrite struct {
	id       uint64
	target   string
	args     [][]byte
	version  hlc.Version
	deadline time.Time
	awaited  bool // the tally counts its answer
	done     bool
}

// pending is how many writes are tracked.
func (h *handoff) pending() int { return len(h.ws) - h.head }

// hintsOn reports whether this write is handed off when undeliverable.
func (p *pipeline) hintsOn(cfg *Config, o sendOpts) bool {
	return !cfg.Hints.IsZero() && !o.version.IsZero()
}

// track records a write sent to a replica (an idempotent one: see
// idempotent); id is above every id tracked.
func (p *pipeline) track(id uint64, target string, args [][]byte, v hlc.Version, deadline time.Time, awaited bool) {
	h := &p.ho
	if h.head > 64 && h.head*2 > len(h.ws) {
		n := copy(h.ws, h.ws[h.head:])
		clear(h.ws[n:])
		copy(h.ids, h.ids[h.head:])
		h.ws, h.ids, h.head = h.ws[:n], h.ids[:n], 0
	}
	h.ws = append(h.ws, hoWrite{id: id, target: target, args: args, version: v, deadline: deadline, awaited: awaited})
	h.ids = append(h.ids, id)
}

// find returns the tracked write of id, or nil.
func (h *handoff) find(id uint64) *hoWrite {
	ids := h.ids[h.head:]
	if len(ids) == 0 || id < ids[0] || id > ids[len(ids)-1] {
		return nil
	}
	i, ok := 0, ids[0] == id
	if !ok {
		i, ok = slices.BinarySearch(ids, id)
	}
	if !ok {
		return nil
	}
	return &h.ws[h.head+i]
}

// handedOff files a replica's answer to a tracked write: a failure makes
// a hint. It reports whether the answer was for a write nobody else
// waits for (the tally does not count it).
func (p *pipeline) handedOff(ctx actors.Context, cfg *Config, r store.Result) (tracked, unawaited bool) {
	w := p.ho.find(r.ID)
	if w == nil || w.done {
		return false, false
	}
	w.done = true
	if r.Failure != "" || hints.Transient(r.Reply) {
		p.hint(ctx, cfg, w.target, w.args, w.version)
	}
	unawaited = !w.awaited
	p.ho.popDone()
	return true, unawaited
}

// popDone drops the answered writes at the front.
func (h *handoff) popDone() {
	for h.head < len(h.ws) && h.ws[h.head].done {
		h.ws[h.head] = hoWrite{}
		h.head++
	}
	if h.head == len(h.ws) {
		h.ws, h.ids, h.head = h.ws[:0], h.ids[:0], 0
	}
}

// expireHandoffs hints the tracked writes past their deadline (all of
// them when the connection ends: all is set).
func (p *pipeline) expireHandoffs(ctx actors.Context, cfg *Config, now time.Time, all bool) {
	h := &p.ho
	for h.head < len(h.ws) {
		w := &h.ws[h.head]
		if !w.done && !all && now.Before(w.deadline) {
			break
		}
		if !w.done {
			p.hint(ctx, cfg, w.target, w.args, w.version)
		}
		*w = hoWrite{}
		h.head++
	}
	if h.head == len(h.ws) {
		h.ws, h.ids, h.head = h.ws[:0], h.ids[:0], 0
	}
}

// hint hands one write for target over to the hint manager.
func (p *pipeline) hint(ctx actors.Context, cfg *Config, target string, args [][]byte, v hlc.Version) {
	ctx.Send(cfg.Hints, hints.Hint{Target: target, Args: args, Version: v})
}

// idempotent reports whether a write may be replayed whether or not it
// was applied: whole-value writes and deletes (versions make a replay a
// no-op where it is not newer); not read-modify-writes.
func idempotent(args [][]byte) bool {
	if n := args[0]; len(n) == 3 && n[0]|0x20 == 's' && n[1]|0x20 == 'e' && n[2]|0x20 == 't' {
		return true // SET, the write sent most, without a lookup
	}
	fam, _, _ := store.CommandFamily(args)
	return fam == store.FamilyWhole || fam == store.FamilyDelete
}
