// Package check holds the history format workloads record and the checkers
// that judge it, shared by the simulator (sim/) and the Jepsen harness
// (jepsen/). Checkers are pure functions of a history: what each
// consistency level promises is written here as code.
package check

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// Type is an operation's event kind, as in Jepsen.
type Type string

const (
	Invoke Type = "invoke"
	OK     Type = "ok"
	Fail   Type = "fail" // definitely did not happen
	Info   Type = "info" // outcome unknown (timeout, lost connection, partial quorum)
)

// Op is one event of a history. An operation is an Invoke followed by one
// completion (OK, Fail or Info) with the same Process; a process has at most
// one operation open.
type Op struct {
	Process int           `json:"process"`
	Type    Type          `json:"type"`
	F       string        `json:"f"` // sets: "add" (SADD one element) or "read" (SMEMBERS); registers: "write" (set) or "read" (get)
	Key     string        `json:"key"`
	Value   string        `json:"value,omitempty"`  // add: the element; write: the value; register read: the value read ("": a miss)
	Values  []string      `json:"values,omitempty"` // set read: the set returned
	Level   string        `json:"level"`            // consistency level of the operation
	Node    string        `json:"node"`             // coordinator node
	DC      string        `json:"dc"`               // coordinator's datacenter
	Time    time.Duration `json:"time"`             // since the start of the run
	Error   string        `json:"error,omitempty"`
	Phase   string        `json:"phase,omitempty"` // "faults" or "liveness"
}

// History is a run's events in time order.
type History []Op

// WriteJSONLines writes one JSON object per line.
func (h History) WriteJSONLines(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, op := range h {
		if err := enc.Encode(op); err != nil {
			return fmt.Errorf("check: write history: %w", err)
		}
	}
	return nil
}

// operation is an invoke paired with its completion.
type operation struct {
	inv, done Op
	complete  bool
}

// pair matches each invoke with its completion. Operations still open at
// the end count as Info (their outcome is unknown).
func (h History) pair() []operation {
	open := map[int]int{}
	n := 0
	for i := range h {
		if h[i].Type == Invoke {
			n++
		}
	}
	out := make([]operation, 0, n)
	for i := range h {
		op := &h[i]
		if op.Type == Invoke {
			open[op.Process] = len(out)
			out = append(out, operation{inv: *op})
			continue
		}
		if i, ok := open[op.Process]; ok {
			out[i].done, out[i].complete = *op, true
			delete(open, op.Process)
		}
	}
	for i := range out {
		if !out[i].complete {
			out[i].done = out[i].inv
			out[i].done.Type = Info
		}
	}
	// A recorded history is in time order already; sorting is for the
	// ones that are not (a Jepsen history merged from several files).
	byInvoke := func(a, b operation) int { return cmp.Compare(a.inv.Time, b.inv.Time) }
	if !slices.IsSortedFunc(out, byInvoke) {
		slices.SortStableFunc(out, byInvoke)
	}
	return out
}
