package check

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Levels, as the config spells them.
const (
	DCOne            = "DC_ONE"
	DCQuorum         = "DC_QUORUM"
	DCSafeQuorum     = "DC_SAFE_QUORUM"
	DCEachSafeQuorum = "DC_EACH_SAFE_QUORUM"
)

// Options says which promises apply to a run.
type Options struct {
	// DatastoreLoss is set when a fault wiped a datastore (cold restart):
	// without repair, acknowledged writes may then be forgotten.
	DatastoreLoss bool
	// Settled is set when the run ended with a fault-free, quiet period long
	// enough for asynchronous replication; final reads must then see every
	// acknowledged write.
	Settled bool
}

// Violation is one broken promise, with the operations that show it.
type Violation struct {
	Checker string
	What    string
}

func (v Violation) String() string { return v.Checker + ": " + v.What }

// Result is the verdict on a history.
type Result struct {
	Valid      bool
	Violations []Violation
	Stats      map[string]int
}

// newResult is a valid Result, ready to count and to fail.
func newResult() Result { return Result{Valid: true, Stats: map[string]int{}} }

// fail records a violation of checker's promise.
func (r *Result) fail(checker, format string, args ...any) {
	r.Valid = false
	r.Violations = append(r.Violations, Violation{Checker: checker, What: fmt.Sprintf(format, args...)})
}

func (r Result) String() string {
	if r.Valid {
		return fmt.Sprintf("valid (%v)", r.Stats)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d violations (%v):", len(r.Violations), r.Stats)
	for i, v := range r.Violations {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ... %d more", len(r.Violations)-10)
			break
		}
		b.WriteString("\n  " + v.String())
	}
	return b.String()
}

// strong reports whether a write at level reached a quorum of the
// coordinator's DC before it was acknowledged.
func strong(level string) bool { return level != DCOne }

// safe reports whether a read at level only succeeds on agreeing replicas.
func safe(level string) bool { return level == DCSafeQuorum || level == DCEachSafeQuorum }

// CheckSet judges a grow-only-set history (adds of unique elements, reads of
// whole sets) against what dynonode promises:
//
//   - no-phantoms (every level, every fault): a read returns only elements
//     some add was invoked for, before the read completed.
//   - safe-reads-see-quorum-writes (DC_SAFE_QUORUM and DC_EACH_SAFE_QUORUM
//     reads; faults that lose no datastore): a successful read includes
//     every element whose add at a quorum level, coordinated in the same DC
//     (any DC for DC_EACH_SAFE_QUORUM reads of DC_EACH_SAFE_QUORUM adds),
//     was acknowledged before the read began. Quorums of one DC intersect,
//     and agreeing replies need an intersecting replica.
//   - settled-reads-complete (after a quiet, fault-free end): reads of the
//     liveness phase at every level include every acknowledged add.
//   - liveness (after every fault healed): liveness-phase operations succeed.
func CheckSet(h History, opts Options) Result {
	ops := h.pair()
	res := newResult()
	add := res.fail
	// Each key's elements get dense ids in order of their first add, so
	// a read's elements are looked up once (a read returns up to a few
	// thousand) and marked seen in a slice rather than a map.
	type elems struct {
		id    map[string]int32
		first []time.Duration // id -> first add's invoke
		seen  []uint32        // id -> the last read (gen) that returned it
	}
	keys := map[string]*elems{}
	type acked struct {
		key, elem, level, dc string
		id                   int32
		at                   time.Duration
	}
	acks := map[string][]acked{} // by key, in acknowledgement order
	for i := range ops {
		o := &ops[i]
		res.Stats[o.inv.F+":"+string(o.done.Type)]++
		if o.inv.F != "add" {
			continue
		}
		ke := keys[o.inv.Key]
		if ke == nil {
			ke = &elems{id: map[string]int32{}}
			keys[o.inv.Key] = ke
		}
		id, seen := ke.id[o.inv.Value]
		if !seen {
			id = int32(len(ke.first))
			ke.id[o.inv.Value] = id
			ke.first = append(ke.first, o.inv.Time)
			ke.seen = append(ke.seen, 0)
		}
		if o.done.Type == OK {
			acks[o.inv.Key] = append(acks[o.inv.Key], acked{o.inv.Key, o.inv.Value, o.inv.Level, o.inv.DC, id, o.done.Time})
		}
	}
	for _, list := range acks {
		sort.SliceStable(list, func(i, j int) bool { return list[i].at < list[j].at })
	}
	var gen uint32
	for i := range ops {
		o := &ops[i]
		if o.inv.F != "read" || o.done.Type != OK {
			if o.inv.Phase == "liveness" && o.done.Type != OK {
				add("liveness", "%s %s of %q at %s via %s failed after the heal: %s", o.inv.F, string(o.done.Type), o.inv.Key, o.inv.Level, o.inv.Node, o.done.Error)
			}
			continue
		}
		gen++
		ke := keys[o.inv.Key]
		for _, e := range o.done.Values {
			var id int32
			ok := false
			if ke != nil {
				id, ok = ke.id[e]
			}
			if !ok || ke.first[id] > o.done.Time {
				add("no-phantoms", "read of %q at %s via %s at %s returned %q, never added", o.inv.Key, o.inv.Level, o.inv.Node, o.done.Time, e)
			}
			if ok {
				ke.seen[id] = gen
			}
		}
		for _, a := range acks[o.inv.Key] {
			if a.at >= o.inv.Time {
				break
			}
			if ke.seen[a.id] == gen {
				continue
			}
			switch {
			case opts.Settled && o.inv.Phase == "liveness":
				add("settled-reads-complete", "liveness read of %q at %s via %s lacks %q, acknowledged at %s (%s)", a.key, o.inv.Level, o.inv.Node, a.elem, a.at, a.level)
			case !opts.DatastoreLoss && safe(o.inv.Level) && strong(a.level) &&
				(a.dc == o.inv.DC || (o.inv.Level == DCEachSafeQuorum && a.level == DCEachSafeQuorum)):
				add("safe-reads-see-quorum-writes", "%s read of %q via %s at %s lacks %q, acknowledged at %s by a %s write in %s",
					o.inv.Level, a.key, o.inv.Node, o.inv.Time, a.elem, a.at, a.level, a.dc)
			}
		}
	}
	sort.SliceStable(res.Violations, func(i, j int) bool { return res.Violations[i].Checker < res.Violations[j].Checker })
	return res
}
