package check

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// LWWOptions parameterises CheckLWW.
type LWWOptions struct {
	Options
	// Margin is how long after one write is acknowledged another must be
	// invoked to be ordered after it whatever the nodes' clocks (two gossip
	// intervals: every node's clock has merged the first write's by then).
	Margin time.Duration
	// Reach, when set, narrows that promise to the runs' facts: a write
	// acknowledged through node from at t0 precedes one invoked through
	// node to at t1 only if Reach(from, to, t0, t1, Margin) (the
	// simulator's World.Reach: from's clock surely reached to in time). A
	// cut, lossy or slow network, a pause or a crash of from can keep a
	// clock from spreading for any length of time, and no system orders
	// two writes by clocks it could not compare. Nil: Margin alone.
	Reach func(from, to string, t0, t1, span time.Duration) bool
}

// Final is what one replica of a key held once the run had settled: its
// value ("" for a missing or deleted key) and which replica.
type Final struct {
	Key, Replica, Value string
}

// CheckLWW judges a history of multi-writer registers with versioned,
// last-writer-wins replicas. Writes are F "write" (Value unique across the
// history) and F "delete" (no value); reads are F "read" with the value
// read in Value ("" for a miss). A write w1 precedes w2 when w1 was
// acknowledged and w2 invoked at least Margin later (and, with Reach, w1's
// node's clock could reach w2's node in between). The promises:
//
//   - no-phantoms (every level, every fault): a read returns "" or a value
//     some write was invoked for before the read completed.
//   - newest-write-wins (DC_QUORUM, DC_SAFE_QUORUM and DC_EACH_SAFE_QUORUM
//     reads; faults that lose no datastore): a read returns no write that
//     precedes a write acknowledged at a quorum level in the read's DC (any
//     DC for DC_EACH_SAFE_QUORUM) before the read began. That covers both
//     an acknowledged write replaced by an older one and a deleted key
//     coming back (a delete is a write of nothing; the key's state before
//     any write precedes every write).
//   - converged (when finals are given): every replica of a key holds the
//     same value, and that value is no write preceding another
//     acknowledged write (at any level), unless a datastore was lost.
//   - liveness (after every fault healed): liveness-phase operations succeed.
func CheckLWW(h History, finals []Final, opts LWWOptions) Result {
	ops := h.pair()
	res := newResult()
	add := res.fail
	for _, o := range ops {
		res.Stats[o.inv.F+":"+string(o.done.Type)]++
	}
	x := newLWWIndex(ops, opts)
	allowed := x.allowed
	for _, o := range ops {
		if o.inv.Phase == "liveness" && o.done.Type != OK {
			add("liveness", "%s %s of %q at %s via %s failed after the heal: %s", o.inv.F, string(o.done.Type), o.inv.Key, o.inv.Level, o.inv.Node, o.done.Error)
		}
		if o.inv.F != "read" || o.done.Type != OK {
			continue
		}
		v := o.done.Value
		if v != "" {
			if w, ok := x.byValue[o.inv.Key+"\x00"+v]; !ok || w.invoked > o.done.Time {
				add("no-phantoms", "read of %q at %s via %s at %s returned %q, never written", o.inv.Key, o.inv.Level, o.inv.Node, o.done.Time, v)
				continue
			}
		}
		if opts.DatastoreLoss || !strong(o.inv.Level) {
			continue
		}
		level, dc := o.inv.Level, o.inv.DC
		counts := func(w lwwWrite) bool {
			return strong(w.level) && (w.dc == dc || (level == DCEachSafeQuorum && w.level == DCEachSafeQuorum))
		}
		if ok, w := allowed(o.inv.Key, v, o.inv.Time, o.done.Time, counts); !ok {
			got := fmt.Sprintf("%q", v)
			if v == "" {
				got = "nothing"
			}
			if w != nil {
				add("newest-write-wins", "%s read of %q via %s at %s returned %s: %s, which precedes %s %s write in %s",
					level, o.inv.Key, o.inv.Node, o.inv.Time, got, describe(w.old), describe(w.newer), w.newer.level, w.newer.dc)
			} else {
				add("newest-write-wins", "%s read of %q via %s at %s returned nothing, but no delete was invoked before it", level, o.inv.Key, o.inv.Node, o.inv.Time)
			}
		}
	}
	if len(finals) > 0 {
		byKey := map[string][]Final{}
		for _, f := range finals {
			byKey[f.Key] = append(byKey[f.Key], f)
		}
		for _, k := range slices.Sorted(maps.Keys(byKey)) {
			fs := byKey[k]
			for _, f := range fs[1:] {
				if f.Value != fs[0].Value {
					add("converged", "replicas of %q differ after the heal: %s holds %q, %s holds %q", k, fs[0].Replica, fs[0].Value, f.Replica, f.Value)
				}
			}
			if opts.DatastoreLoss {
				continue
			}
			end := time.Duration(1 << 62)
			if ok, w := allowed(k, fs[0].Value, end, end, func(lwwWrite) bool { return true }); !ok {
				what := "nothing"
				if w != nil {
					what = describe(w.old) + ", which precedes " + describe(w.newer)
				}
				add("converged", "replicas of %q settled on %q: %s", k, fs[0].Value, what)
			}
		}
	}
	return res
}

// lwwWrite is one write (or delete) of a register history.
type lwwWrite struct {
	value              string // "" for a delete
	level, dc, node    string
	invoked, acked     time.Duration
	ok                 bool
	process            int
	isDelete, isOrigin bool
}

// lwwIndex is a register history's writes by key, and what they promise.
type lwwIndex struct {
	opts    LWWOptions
	writes  map[string][]lwwWrite // by key; each key starts with its origin (never written)
	byValue map[string]lwwWrite
}

func newLWWIndex(ops []operation, opts LWWOptions) *lwwIndex {
	x := &lwwIndex{opts: opts, writes: map[string][]lwwWrite{}, byValue: map[string]lwwWrite{}}
	origin := lwwWrite{isOrigin: true, isDelete: true, ok: true, acked: -1 << 62, invoked: -1 << 62}
	for _, o := range ops {
		if o.inv.F != "write" && o.inv.F != "delete" {
			continue
		}
		if _, ok := x.writes[o.inv.Key]; !ok {
			x.writes[o.inv.Key] = []lwwWrite{origin}
		}
		w := lwwWrite{value: o.inv.Value, level: o.inv.Level, dc: o.inv.DC, node: o.inv.Node, invoked: o.inv.Time, acked: o.done.Time,
			ok: o.done.Type == OK, process: o.inv.Process, isDelete: o.inv.F == "delete"}
		x.writes[o.inv.Key] = append(x.writes[o.inv.Key], w)
		if !w.isDelete {
			x.byValue[o.inv.Key+"\x00"+w.value] = w
		}
	}
	return x
}

// precedes reports whether write a is ordered before b whatever the
// nodes' clocks: acknowledged Margin before b was invoked (and, with
// Reach, a's node's clock could reach b's node in between).
func (x *lwwIndex) precedes(a, b lwwWrite) bool {
	if !a.ok || b.invoked < a.acked+x.opts.Margin {
		return false
	}
	return a.isOrigin || x.opts.Reach == nil || x.opts.Reach(a.node, b.node, a.acked, b.invoked, x.opts.Margin)
}

// lwwWhy is a write that value may not be (old), and the acknowledged
// write it precedes (newer).
type lwwWhy struct{ old, newer lwwWrite }

// allowed reports whether value may be what a read of key that began at
// start (and ended at end) returns, counting the acknowledged writes
// counts selects, and if not, which write shows it.
func (x *lwwIndex) allowed(key, value string, start, end time.Duration, counts func(lwwWrite) bool) (bool, *lwwWhy) {
	var cands []lwwWrite
	for _, w := range x.writes[key] {
		if w.invoked > end {
			continue
		}
		if value == "" && w.isDelete || value != "" && !w.isDelete && w.value == value {
			cands = append(cands, w)
		}
	}
	if value == "" && len(x.writes[key]) == 0 {
		return true, nil // a key nobody writes
	}
	var last *lwwWhy
	for _, c := range cands {
		ok := true
		for _, w2 := range x.writes[key] {
			if !w2.isOrigin && w2.ok && w2.acked < start && counts(w2) && x.precedes(c, w2) {
				ok, last = false, &lwwWhy{c, w2}
				break
			}
		}
		if ok {
			return true, nil
		}
	}
	return false, last
}

// describe names a write for a violation.
func describe(w lwwWrite) string {
	switch {
	case w.isOrigin:
		return "the key's state before any write"
	case w.isDelete:
		return fmt.Sprintf("a delete by process %d acknowledged at %s", w.process, w.acked)
	}
	return fmt.Sprintf("write %q by process %d acknowledged at %s", w.value, w.process, w.acked)
}
