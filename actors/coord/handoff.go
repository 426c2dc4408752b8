package coord

import (
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
//     link bounced the write) or does not answer by the request's
//     deadline gets a hint;
//   - writes still unanswered when the connection ends get hints too
//     (the coordinator stops watching them; a hint of a write that did
//     apply changes nothing when replayed: it is not newer).
//
// Hints never count toward a consistency level: the client's reply is
// decided as without them. A replayed hint applies only if newer than
// what its replica holds, which makes replaying whole-value writes and
// deletes safe however often it happens. A read-modify-write (INCR,
// APPEND, SADD, ...) is not idempotent: it is hinted only when it was
// never sent (the replica was down); one that may have been applied (a
// failure or a timeout after sending) is not, and anti-entropy must
// repair that replica.
//
// With hints on, writes to replicas whose answer does not count (DC_ONE's
// other racks) ask for one anyway (Exec.Quiet is false): without it no
// failure could be seen.

// handoff is a connection's writes awaiting their replicas' answers.
type handoff struct {
	byID map[uint64]*hoWrite
	fifo []*hoWrite // in send order: deadlines only grow
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

// hintsOn reports whether this write is handed off when undeliverable.
func (p *pipeline) hintsOn(cfg *Config, o sendOpts) bool {
	return !cfg.Hints.IsZero() && !o.version.IsZero()
}

// track records a write sent to a replica.
func (p *pipeline) track(id uint64, target string, args [][]byte, v hlc.Version, deadline time.Time, awaited bool) {
	if p.ho.byID == nil {
		p.ho.byID = map[uint64]*hoWrite{}
	}
	w := &hoWrite{id: id, target: target, args: args, version: v, deadline: deadline, awaited: awaited}
	p.ho.byID[id] = w
	p.ho.fifo = append(p.ho.fifo, w)
}

// handedOff files a replica's answer to a tracked write: a failure makes
// a hint. It reports whether the answer was for a write nobody else
// waits for (the tally does not count it).
func (p *pipeline) handedOff(ctx actors.Context, cfg *Config, r store.Result) (tracked, unawaited bool) {
	w, ok := p.ho.byID[r.ID]
	if !ok {
		return false, false
	}
	delete(p.ho.byID, r.ID)
	w.done = true
	if r.Failure != "" && idempotent(w.args) {
		p.hint(ctx, cfg, w.target, w.args, w.version)
	}
	return true, !w.awaited
}

// expireHandoffs hints the tracked writes past their deadline (all of
// them when the connection ends: all is set).
func (p *pipeline) expireHandoffs(ctx actors.Context, cfg *Config, now time.Time, all bool) {
	n := 0
	for _, w := range p.ho.fifo {
		if !w.done && !all && now.Before(w.deadline) {
			break
		}
		if !w.done {
			delete(p.ho.byID, w.id)
			if idempotent(w.args) {
				p.hint(ctx, cfg, w.target, w.args, w.version)
			}
		}
		n++
	}
	clear(p.ho.fifo[:n])
	p.ho.fifo = p.ho.fifo[n:]
	if len(p.ho.fifo) == 0 {
		p.ho.fifo = nil
	}
}

// hint hands one write for target over to the hint manager.
func (p *pipeline) hint(ctx actors.Context, cfg *Config, target string, args [][]byte, v hlc.Version) {
	ctx.Send(cfg.Hints, hints.Hint{Target: target, Args: args, Version: v})
	p.count().Hinted++
}

// idempotent reports whether a write may be replayed whether or not it
// was applied: whole-value writes and deletes (versions make a replay a
// no-op where it is not newer); not read-modify-writes.
func idempotent(args [][]byte) bool {
	fam, _, _ := store.CommandFamily(args)
	return fam == store.FamilyWhole || fam == store.FamilyDelete
}
