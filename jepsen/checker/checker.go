// Package checker judges the register and counter histories of the Jepsen
// harness, in the format and Result shape of internal/check (whose CheckSet
// judges the grow-only set, the same checker the simulator runs). Each
// checker enforces only what dynonode promises today for these values:
// the register writers' whole values converge (check.CheckConvergence
// judges them), but a counter modified in place is not merged, so a
// replica that missed increments stays behind.
package checker

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dynonode/dynonode/internal/check"
)

// operation is an invoke with its completion; still-open ones are Info.
type operation struct{ inv, done check.Op }

func pair(h check.History) []operation {
	open := map[int]int{}
	var out []operation
	for _, op := range h {
		if op.Type == check.Invoke {
			open[op.Process] = len(out)
			out = append(out, operation{inv: op, done: op})
			out[len(out)-1].done.Type = check.Info
			continue
		}
		if i, ok := open[op.Process]; ok {
			out[i].done = op
			delete(open, op.Process)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].inv.Time < out[j].inv.Time })
	return out
}

type verdict struct{ res check.Result }

func newVerdict() *verdict {
	return &verdict{check.Result{Valid: true, Stats: map[string]int{}}}
}

func (v *verdict) fail(checker, format string, args ...any) {
	v.res.Valid = false
	v.res.Violations = append(v.res.Violations, check.Violation{Checker: checker, What: fmt.Sprintf(format, args...)})
}

func safe(level string) bool { return level == check.DCSafeQuorum || level == check.DCEachSafeQuorum }

// Register judges registers with one writer per key, which writes "1",
// "2", ... in order (a write starts only after the previous one completed):
//
//   - no-phantoms (every level, every fault): a read returns nothing (the
//     key was never written) or a value whose write was invoked before the
//     read completed.
//   - safe-reads-not-stale (DC_SAFE_QUORUM and DC_EACH_SAFE_QUORUM reads,
//     no datastore lost): a successful read returns the latest write
//     acknowledged at a quorum level in the reader's DC before the read
//     began, or a later one. An agreeing read quorum intersects the write
//     quorum, and one writer's writes reach each replica in order.
func Register(h check.History, opts check.Options) check.Result {
	v := newVerdict()
	ops := pair(h)
	invoked := map[string]time.Duration{} // key/value -> write invoke
	type ack struct {
		n         int
		level, dc string
		at        time.Duration
	}
	acks := map[string][]ack{}
	for _, o := range ops {
		v.res.Stats[o.inv.F+":"+string(o.done.Type)]++
		if o.inv.F != "write" {
			continue
		}
		invoked[o.inv.Key+"/"+o.inv.Value] = o.inv.Time
		if o.done.Type == check.OK {
			n, _ := strconv.Atoi(o.inv.Value)
			acks[o.inv.Key] = append(acks[o.inv.Key], ack{n, o.inv.Level, o.inv.DC, o.done.Time})
		}
	}
	for _, o := range ops {
		if o.inv.F != "read" || o.done.Type != check.OK {
			continue
		}
		got := o.done.Value
		if got != "" {
			if at, ok := invoked[o.inv.Key+"/"+got]; !ok || at > o.done.Time {
				v.fail("no-phantoms", "read of %q at %s via %s at %s returned %q, never written", o.inv.Key, o.inv.Level, o.inv.Node, o.done.Time, got)
				continue
			}
		}
		if opts.DatastoreLoss || !safe(o.inv.Level) {
			continue
		}
		n, _ := strconv.Atoi(got) // 0 when never written
		for _, a := range acks[o.inv.Key] {
			if a.at < o.inv.Time && a.level != check.DCOne && n < a.n &&
				(a.dc == o.inv.DC || (o.inv.Level == check.DCEachSafeQuorum && a.level == check.DCEachSafeQuorum)) {
				v.fail("safe-reads-not-stale", "%s read of %q via %s at %s returned %q, but write %d was acknowledged at %s (%s in %s)",
					o.inv.Level, o.inv.Key, o.inv.Node, o.inv.Time, got, a.n, a.at, a.level, a.dc)
				break
			}
		}
	}
	return v.res
}

// Counter judges counters (INCR, GET):
//
//   - no-phantom-increments (every level, every fault): a read returns a
//     value between 0 and the number of increments invoked before the read
//     completed (each replica applies an increment at most once).
//   - settled-reads-complete (only with opts.Settled: a fault-free run):
//     reads after every increment completed see at least every
//     acknowledged one. With faults a replica may have missed increments
//     for good (in-place values are not merged), so this is measured (stat
//     "read-below-acked"), not promised.
func Counter(h check.History, opts check.Options) check.Result {
	v := newVerdict()
	ops := pair(h)
	type incr struct {
		inv, done time.Duration
		ok        bool
	}
	incrs := map[string][]incr{}
	for _, o := range ops {
		v.res.Stats[o.inv.F+":"+string(o.done.Type)]++
		if o.inv.F == "incr" {
			incrs[o.inv.Key] = append(incrs[o.inv.Key], incr{o.inv.Time, o.done.Time, o.done.Type == check.OK})
		}
	}
	for _, o := range ops {
		if o.inv.F != "read" || o.done.Type != check.OK {
			continue
		}
		got := int64(0)
		if o.done.Value != "" {
			n, err := strconv.ParseInt(o.done.Value, 10, 64)
			if err != nil {
				v.fail("no-phantom-increments", "read of %q via %s returned %q, not a number", o.inv.Key, o.inv.Node, o.done.Value)
				continue
			}
			got = n
		}
		var invokedBefore, ackedBefore int64
		for _, in := range incrs[o.inv.Key] {
			if in.inv < o.done.Time {
				invokedBefore++
			}
			if in.ok && in.done < o.inv.Time {
				ackedBefore++
			}
		}
		if got < 0 || got > invokedBefore {
			v.fail("no-phantom-increments", "read of %q at %s via %s at %s returned %d, but only %d increments were invoked",
				o.inv.Key, o.inv.Level, o.inv.Node, o.done.Time, got, invokedBefore)
		}
		if got < ackedBefore {
			v.res.Stats["read-below-acked"]++
			if opts.Settled && o.inv.Phase == "liveness" {
				v.fail("settled-reads-complete", "read of %q at %s via %s returned %d, %d increments acknowledged before",
					o.inv.Key, o.inv.Level, o.inv.Node, got, ackedBefore)
			}
		}
	}
	return v.res
}
