package check

import (
	"maps"
	"slices"
	"time"
)

// Replica is what one replica of a key held once a run had settled, read
// from its datastore directly: the value ("" for a missing or deleted
// key) and the version text (hlc.AppendText's form, "" for none; a
// tombstone's for a deleted key).
type Replica struct {
	Key, Node, Value, Version string
}

// ConvergenceOptions parameterise CheckConvergence.
type ConvergenceOptions struct {
	// LWWOptions order the writes (Margin, Reach) as CheckLWW does.
	LWWOptions
	// Phase is the Phase of the operations made after the settle time
	// (reads through every node at every level). Default "converge".
	Phase string
	// LostDatastores counts the distinct datastores lost during the run
	// (set Options.DatastoreLoss too): from two on, a quorum's every copy
	// of a write may have been on them.
	LostDatastores int
}

// CheckConvergence judges the end of a register history (writes and
// deletes with unique values, as CheckLWW's), once every fault has healed
// and the cluster has had the settle time the caller states, from each
// replica's own datastore and the reads made after it:
//
//   - converged: every replica of a key holds the same value under the
//     same version;
//   - survived: that value is no write that precedes an acknowledged
//     write (at any level): every acknowledged write, or a newer one,
//     is what the replicas hold. A datastore lost during the run
//     (Options.DatastoreLoss) excuses no write acknowledged at a quorum
//     level: the others' copies must have refilled it. It excuses a
//     DC_ONE write, whose only copy may have been the lost one, and two
//     lost datastores or more (LostDatastores) excuse every write;
//   - readable: every read of the converge phase succeeded and returned
//     the replicas' value.
func CheckConvergence(h History, replicas []Replica, opts ConvergenceOptions) Result {
	if opts.Phase == "" {
		opts.Phase = "converge"
	}
	ops := h.pair()
	res := newResult()
	add := res.fail
	x := newLWWIndex(ops, opts.LWWOptions)
	byKey := map[string][]Replica{}
	for _, r := range replicas {
		byKey[r.Key] = append(byKey[r.Key], r)
	}
	keys := slices.Sorted(maps.Keys(byKey))
	held := map[string]string{}
	differ := 0
	for _, k := range keys {
		rs := byKey[k]
		res.Stats["replicas"] += len(rs)
		ok := true
		for _, r := range rs[1:] {
			if r.Value != rs[0].Value || r.Version != rs[0].Version {
				add("converged", "replicas of %q differ after the settle time: %s holds %q@%q, %s holds %q@%q",
					k, rs[0].Node, rs[0].Value, rs[0].Version, r.Node, r.Value, r.Version)
				ok = false
			}
		}
		if !ok {
			differ++
			continue
		}
		held[k] = rs[0].Value
		end := time.Duration(1<<63 - 1)
		counts := func(w lwwWrite) bool {
			return !opts.DatastoreLoss || strong(w.level) && opts.LostDatastores < 2
		}
		if fine, w := x.allowed(k, rs[0].Value, end, end, counts); !fine {
			what := "nothing"
			if w != nil {
				what = describe(w.old) + ", which precedes " + describe(w.newer)
			}
			add("survived", "replicas of %q converged on %q: %s", k, rs[0].Value, what)
		}
	}
	res.Stats["keys"], res.Stats["keys-differing"] = len(keys), differ
	for _, o := range ops {
		if o.inv.Phase != opts.Phase || o.inv.F != "read" {
			continue
		}
		res.Stats["converge-reads"]++
		v, known := held[o.inv.Key]
		switch {
		case o.done.Type != OK:
			add("readable", "%s read of %q via %s after the settle time failed: %s %s", o.inv.Level, o.inv.Key, o.inv.Node, o.done.Type, o.done.Error)
		case known && o.done.Value != v:
			add("readable", "%s read of %q via %s after the settle time returned %q; the replicas hold %q", o.inv.Level, o.inv.Key, o.inv.Node, o.done.Value, v)
		}
	}
	return res
}
