package check

import (
	"sort"
	"strconv"
	"time"
)

// RegisterOptions says which promises apply to a register run.
type RegisterOptions struct {
	Options
	// Reordering is set when a fault may deliver a replica's writes out of
	// order or twice (a lossy network that reorders or duplicates, a slow
	// datastore's backlog applied after newer writes): a replica may then
	// go back to an older value. Grow-only sets do not care; registers do.
	Reordering bool
}

// CheckRegister judges a single-writer register history: each key is
// written (F "write", a memcached set) by one process only, with values
// that are decimal integers increasing in invocation order, and read (F
// "read", a get) by any process; a read's completion holds the value read
// in Value, empty for a miss (the format of the Jepsen harness's register
// checker, package jepsen/checker); a reply that held several values puts
// them all in Values. The promises, per level, of an AP store whose
// replicas keep the last write they received, with no versions and no
// repair:
//
//   - no-phantoms (every level, every fault): a read returns nothing or
//     one value some write of that key was invoked with before the read
//     completed.
//   - safe-reads-not-stale (DC_SAFE_QUORUM and DC_EACH_SAFE_QUORUM reads;
//     faults that lose no datastore and reorder no writes): a successful
//     read returns a value at least as new as every write at a quorum level
//     acknowledged before the read began, when that write was coordinated
//     in the read's DC or at DC_EACH_SAFE_QUORUM (a quorum in every DC). A
//     quorum write is in a majority of the DC's replicas, a replica's value
//     only moves forward when its writer's writes arrive in order, and a
//     safe read needs a majority that agrees: one of them holds the write
//     or a newer one. A miss is older than every write.
//   - settled-reads-latest (after a quiet, fault-free end): reads of the
//     liveness phase at every level return a value at least as new as
//     every acknowledged write.
//   - liveness (after every fault healed): liveness-phase operations succeed.
//
// What is not promised, and why: a DC_ONE write is in one replica when
// acknowledged, so no read is bound by it until replication settles; a
// DC_QUORUM read answers with the first reply when the replicas disagree,
// so it may be stale even after a heal (replicas that missed writes during
// a partition are never repaired); a write that failed or timed out may
// have reached some replicas, so any read may return it.
func CheckRegister(h History, opts RegisterOptions) Result {
	ops := h.pair()
	res := newResult()
	add := res.fail
	invokedAt := map[string]time.Duration{} // key/value -> its write's invoke
	writer := map[string]int{}              // key -> its writing process
	last := map[string]int64{}              // key -> last value invoked
	type acked struct {
		value     int64
		level, dc string
		at        time.Duration
	}
	acks := map[string][]acked{} // by key, in acknowledgement order
	for _, o := range ops {
		res.Stats[o.inv.F+":"+string(o.done.Type)]++
		if o.inv.F != "write" {
			continue
		}
		k := o.inv.Key
		v, err := strconv.ParseInt(o.inv.Value, 10, 64)
		switch p, seen := writer[k]; {
		case err != nil:
			add("history", "write of %q by process %d has value %q, not an integer", k, o.inv.Process, o.inv.Value)
			continue
		case seen && p != o.inv.Process:
			add("history", "key %q written by processes %d and %d: registers have one writer", k, p, o.inv.Process)
		case seen && v <= last[k]:
			add("history", "key %q written with %d after %d: values must increase", k, v, last[k])
		}
		writer[k], last[k] = o.inv.Process, v
		invokedAt[k+"/"+o.inv.Value] = o.inv.Time
		if o.done.Type == OK {
			acks[k] = append(acks[k], acked{v, o.inv.Level, o.inv.DC, o.done.Time})
		}
	}
	for _, list := range acks {
		sort.SliceStable(list, func(i, j int) bool { return list[i].at < list[j].at })
	}
	for _, o := range ops {
		if o.inv.F != "read" || o.done.Type != OK {
			if o.inv.Phase == "liveness" && o.done.Type != OK {
				add("liveness", "%s %s of %q at %s via %s failed after the heal: %s", o.inv.F, string(o.done.Type), o.inv.Key, o.inv.Level, o.inv.Node, o.done.Error)
			}
			continue
		}
		k, e := o.inv.Key, o.done.Value
		if len(o.done.Values) > 0 {
			add("no-phantoms", "read of %q at %s via %s at %s returned %d values %q", k, o.inv.Level, o.inv.Node, o.done.Time, len(o.done.Values), o.done.Values)
			continue
		}
		got, hit := int64(-1), e != "" // a miss is older than every value
		if hit {
			if at, ok := invokedAt[k+"/"+e]; !ok || at > o.done.Time {
				add("no-phantoms", "read of %q at %s via %s at %s returned %q, never written", k, o.inv.Level, o.inv.Node, o.done.Time, e)
				continue
			}
			got, _ = strconv.ParseInt(e, 10, 64)
		}
		seen := "a miss"
		if hit {
			seen = strconv.FormatInt(got, 10)
		}
		for _, a := range acks[k] {
			if a.at >= o.inv.Time {
				break
			}
			if a.value <= got {
				continue
			}
			if opts.Settled && o.inv.Phase == "liveness" {
				add("settled-reads-latest", "liveness read of %q at %s via %s returned %s, older than %d acknowledged at %s (%s)", k, o.inv.Level, o.inv.Node, seen, a.value, a.at, a.level)
				break // one violation per read is enough
			}
			if !opts.DatastoreLoss && !opts.Reordering && safe(o.inv.Level) && strong(a.level) &&
				(a.dc == o.inv.DC || a.level == DCEachSafeQuorum) {
				add("safe-reads-not-stale", "%s read of %q via %s at %s returned %s, older than %d acknowledged at %s by a %s write in %s",
					o.inv.Level, k, o.inv.Node, o.inv.Time, seen, a.value, a.at, a.level, a.dc)
				break
			}
		}
	}
	sort.SliceStable(res.Violations, func(i, j int) bool { return res.Violations[i].Checker < res.Violations[j].Checker })
	return res
}
