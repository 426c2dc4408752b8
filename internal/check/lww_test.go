package check

import (
	"testing"
	"time"
)

// lwwOp builds one completed operation (invoke at inv, completion at done).
func lwwOp(p int, f, key, value, level string, inv, done time.Duration, typ Type) []Op {
	in := Op{Process: p, Type: Invoke, F: f, Key: key, Level: level, DC: "dc1", Node: "n1", Time: inv}
	out := in
	out.Type, out.Time = typ, done
	if f == "write" {
		in.Value, out.Value = value, value
	} else if f == "read" {
		out.Value = value
	}
	return []Op{in, out}
}

func hist(ops ...[]Op) History {
	var h History
	for _, o := range ops {
		h = append(h, o...)
	}
	// Time order, as a recorder writes it.
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && h[j].Time < h[j-1].Time; j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
	return h
}

const s = time.Second

// reach is LWWOptions whose Reach answers ok, after checking what it is
// asked: from the first write's node at its ack to the second's
// invocation, over the margin.
func reach(ok bool) LWWOptions {
	return LWWOptions{Margin: 2 * s, Reach: func(from, to string, t0, t1, span time.Duration) bool {
		if from != "n1" || to != "n1" || t0 != s || t1 != 5*s || span != 2*s {
			panic("Reach asked the wrong question")
		}
		return ok
	}}
}

func TestCheckLWW(t *testing.T) {
	opts := LWWOptions{Margin: 2 * s}
	for _, tc := range []struct {
		name    string
		h       History
		finals  []Final
		opts    LWWOptions
		checker string // "" when valid
	}{
		{"newer write read", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(2, "write", "k", "b", DCQuorum, 5*s, 6*s, OK),
			lwwOp(3, "read", "k", "b", DCQuorum, 7*s, 8*s, OK)), nil, opts, ""},
		{"older write read after a newer quorum write", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(2, "write", "k", "b", DCQuorum, 5*s, 6*s, OK),
			lwwOp(3, "read", "k", "a", DCQuorum, 7*s, 8*s, OK)), nil, opts, "newest-write-wins"},
		{"the older write's node could not reach the newer's: no promise", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(2, "write", "k", "b", DCQuorum, 5*s, 6*s, OK),
			lwwOp(3, "read", "k", "a", DCQuorum, 7*s, 8*s, OK)), nil, reach(false), ""},
		{"the older write's node reached the newer's: the promise holds", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(2, "write", "k", "b", DCQuorum, 5*s, 6*s, OK),
			lwwOp(3, "read", "k", "a", DCQuorum, 7*s, 8*s, OK)), nil, reach(true), "newest-write-wins"},
		{"concurrent writes: either may win", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(2, "write", "k", "b", DCQuorum, 2*s, 3*s, OK), // within the margin
			lwwOp(3, "read", "k", "a", DCQuorum, 7*s, 8*s, OK)), nil, opts, ""},
		{"older write read at DC_ONE: no promise", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(2, "write", "k", "b", DCQuorum, 5*s, 6*s, OK),
			lwwOp(3, "read", "k", "a", DCOne, 7*s, 8*s, OK)), nil, opts, ""},
		{"deleted key comes back", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(2, "delete", "k", "", DCQuorum, 5*s, 6*s, OK),
			lwwOp(3, "read", "k", "a", DCSafeQuorum, 7*s, 8*s, OK)), nil, opts, "newest-write-wins"},
		{"deleted key reads nothing", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(2, "delete", "k", "", DCQuorum, 5*s, 6*s, OK),
			lwwOp(3, "read", "k", "", DCSafeQuorum, 7*s, 8*s, OK)), nil, opts, ""},
		{"acknowledged write lost to nil", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(3, "read", "k", "", DCQuorum, 7*s, 8*s, OK)), nil, opts, "newest-write-wins"},
		{"lost write excused by a wiped datastore", hist(
			lwwOp(1, "write", "k", "a", DCQuorum, 0, s, OK),
			lwwOp(3, "read", "k", "", DCQuorum, 7*s, 8*s, OK)), nil, LWWOptions{Margin: 2 * s, Options: Options{DatastoreLoss: true}}, ""},
		{"phantom", hist(
			lwwOp(3, "read", "k", "z", DCOne, 7*s, 8*s, OK)), nil, opts, "no-phantoms"},
		{"replicas differ", hist(
			lwwOp(1, "write", "k", "a", DCOne, 0, s, OK)),
			[]Final{{"k", "r1", "a"}, {"k", "r2", ""}}, opts, "converged"},
		{"replicas settled on an older write", hist(
			lwwOp(1, "write", "k", "a", DCOne, 0, s, OK),
			lwwOp(2, "write", "k", "b", DCOne, 5*s, 6*s, OK)),
			[]Final{{"k", "r1", "a"}, {"k", "r2", "a"}}, opts, "converged"},
		{"replicas settled on the newest", hist(
			lwwOp(1, "write", "k", "a", DCOne, 0, s, OK),
			lwwOp(2, "write", "k", "b", DCOne, 5*s, 6*s, OK)),
			[]Final{{"k", "r1", "b"}, {"k", "r2", "b"}}, opts, ""},
		{"failed liveness operation", hist(
			func() []Op {
				o := lwwOp(1, "write", "k", "a", DCOne, 0, s, Fail)
				o[0].Phase, o[1].Phase = "liveness", "liveness"
				return o
			}()), nil, opts, "liveness"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantVerdict(t, CheckLWW(tc.h, tc.finals, tc.opts), tc.checker)
		})
	}
}
