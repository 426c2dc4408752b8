package check

import (
	"strings"
	"testing"
)

// phased marks the ops of one operation as made in phase.
func phased(phase string, op []Op) []Op {
	for i := range op {
		op[i].Phase = phase
	}
	return op
}

// TestCheckConvergence: each promise holds on a converged run and fails
// on a run planted to break it.
func TestCheckConvergence(t *testing.T) {
	opts := ConvergenceOptions{LWWOptions: LWWOptions{Margin: 2 * s}}
	writes := func() History {
		return hist(
			lwwOp(1, "write", "k", "a", DCOne, 0, s, OK),
			lwwOp(2, "write", "k", "b", DCOne, 4*s, 5*s, OK),
			lwwOp(3, "write", "j", "x", DCQuorum, 0, s, OK),
			lwwOp(4, "delete", "j", "", DCOne, 4*s, 5*s, OK),
			lwwOp(5, "write", "f", "never", DCOne, 0, s, Fail),
			lwwOp(6, "write", "q", "y", DCQuorum, 0, s, OK),
		)
	}
	good := []Replica{
		{"k", "n1", "b", "v2"}, {"k", "n2", "b", "v2"}, {"k", "n3", "b", "v2"},
		{"j", "n1", "", "v4"}, {"j", "n2", "", "v4"}, {"j", "n3", "", "v4"},
	}
	proc := 10
	reads := func(k, v string, typ Type) []Op {
		proc++
		return phased("converge", lwwOp(proc, "read", k, v, DCQuorum, 60*s, 61*s, typ))
	}
	for _, tc := range []struct {
		name     string
		h        History
		replicas []Replica
		checker  string // "" when valid
		lost     int    // datastores lost
	}{
		{"converged and readable", append(writes(), hist(reads("k", "b", OK), reads("j", "", OK))...), good, "", 0},
		{"a replica holds another value", writes(), []Replica{{"k", "n1", "b", "v2"}, {"k", "n2", "a", "v1"}}, "converged", 0},
		{"same value, another version", writes(), []Replica{{"k", "n1", "b", "v2"}, {"k", "n2", "b", "v3"}}, "converged", 0},
		{"an acknowledged write lost everywhere", writes(), []Replica{{"k", "n1", "a", "v1"}, {"k", "n2", "a", "v1"}}, "survived", 0},
		{"an acknowledged delete undone", writes(), []Replica{{"j", "n1", "x", "v3"}, {"j", "n2", "x", "v3"}}, "survived", 0},
		{"an emptied datastore left empty", writes(), []Replica{{"k", "n1", "", ""}, {"k", "n2", "", ""}}, "survived", 0},
		{"a quorum write lost", writes(), []Replica{{"q", "n1", "", ""}, {"q", "n2", "", ""}}, "survived", 0},
		{"a read after the settle time sees another value", append(writes(), reads("k", "a", OK)...), good, "readable", 0},
		{"a read after the settle time fails", append(writes(), reads("k", "", Fail)...), good, "readable", 0},
		{"a DC_ONE write lost with a datastore", writes(), []Replica{{"k", "n1", "a", "v1"}, {"k", "n2", "a", "v1"}}, "", 1},
		{"a quorum write lost with a datastore is not excused", writes(), []Replica{{"q", "n1", "", ""}, {"q", "n2", "", ""}}, "survived", 1},
		{"a quorum write lost with two datastores", writes(), []Replica{{"q", "n1", "", ""}, {"q", "n2", "", ""}}, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := opts
			opts.DatastoreLoss, opts.LostDatastores = tc.lost > 0, tc.lost
			wantVerdict(t, CheckConvergence(tc.h, tc.replicas, opts), tc.checker)
		})
	}
}

// wantVerdict fails t unless r is valid (checker "") or holds violations
// of checker only.
func wantVerdict(t *testing.T, r Result, checker string) {
	t.Helper()
	if checker == "" {
		if !r.Valid {
			t.Fatalf("want valid, got %s", r)
		}
		return
	}
	if r.Valid {
		t.Fatalf("want a %s violation, got valid", checker)
	}
	for _, v := range r.Violations {
		if v.Checker != checker {
			t.Errorf("unexpected %s", v)
		}
	}
	if !strings.Contains(r.String(), checker) {
		t.Errorf("%s", r)
	}
}
