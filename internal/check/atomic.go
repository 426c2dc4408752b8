package check

import (
	"sort"
	"strings"
)

// CheckAtomic judges scripts' atomicity. Each write is one script (EVAL)
// that sets both keys of a pair, "<pair>:a" and "<pair>:b", to the same
// value; each read is one read-only script (EVAL_RO) returning both, F
// "read" with Values [a, b]. A script runs whole on each replica or not
// at all, so no successful read may show the two keys different, and no
// replica read directly at the end (finals, per key and replica) may hold
// them different: either would be half of a script.
func CheckAtomic(h History, finals []Final) Result {
	res := newResult()
	for _, op := range h {
		if op.Type != OK || op.F != "read" {
			continue
		}
		res.Stats["reads"]++
		if len(op.Values) != 2 {
			res.fail("atomic", "process %d read pair %s through %s at %s: %d values, want 2 (%q)", op.Process, op.Key, op.Node, op.Level, len(op.Values), op.Values)
			continue
		}
		if op.Values[0] != op.Values[1] {
			res.fail("atomic", "process %d read pair %s through %s at %s at %v: half a script (%q, %q)", op.Process, op.Key, op.Node, op.Level, op.Time, op.Values[0], op.Values[1])
		}
	}
	type half struct {
		a, b       string
		hasA, hasB bool
	}
	byReplica := map[[2]string]*half{}
	for _, f := range finals {
		pair, side, ok := strings.Cut(f.Key, ":")
		if !ok {
			continue
		}
		k := [2]string{pair, f.Replica}
		p := byReplica[k]
		if p == nil {
			p = &half{}
			byReplica[k] = p
		}
		switch side {
		case "a":
			p.a, p.hasA = f.Value, true
		case "b":
			p.b, p.hasB = f.Value, true
		}
	}
	keys := make([][2]string, 0, len(byReplica))
	for k := range byReplica {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+" "+keys[i][1] < keys[j][0]+" "+keys[j][1] })
	for _, k := range keys {
		p := byReplica[k]
		res.Stats["replica-pairs"]++
		if p.hasA && p.hasB && p.a != p.b {
			res.fail("atomic", "replica %s holds half a script on pair %s: a=%q b=%q", k[1], k[0], p.a, p.b)
		}
	}
	return res
}
