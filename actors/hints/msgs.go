package hints

import (
	"bytes"
	"time"

	"github.com/dynonode/dynonode/actors/hlc"
)

// Hint asks the node's hint manager to hand a write over to Target later:
// a coordinator could not deliver it (the replica was down, unreachable,
// timed out or its datastore failed). Local: coordinator to manager.
type Hint struct {
	Target  string
	Args    [][]byte
	Version hlc.Version
}

// The log protocol: the manager keeps hints in memory and writes each one
// ahead to its target's log; the log is the runtime's (files under
// hints_dir in the daemon, a durable actor in the simulator).
type (
	// Append appends Data, one or more framed records, to Target's log.
	// The log answers nothing unless the write fails (AppendFailed); it
	// makes what it appended durable within its sync interval.
	Append struct {
		Target string
		Data   []byte
	}
	// AppendFailed says an Append could not be written (a full disk, an
	// I/O error): those hints live in memory only.
	AppendFailed struct {
		Target string
		Err    string
	}
	// Clear deletes Target's log: every hint in it was delivered or
	// dropped.
	Clear struct{ Target string }
	// Cut shortens Target's log to Len bytes (its damaged tail).
	Cut struct {
		Target string
		Len    int
	}
	// Load asks for every log; the log answers Loaded.
	Load struct{}
	// Loaded is every target's log as stored, sorted by target.
	Loaded struct{ Logs []Log }
	// Log is one target's log.
	Log struct {
		Target string
		Data   []byte
	}
)

// The operators' messages (admin port).
type (
	// GetStatus asks the manager for a Status.
	GetStatus struct{}
	// Status is the manager's counters and its hints per target.
	Status struct {
		Stored, Replayed, Dropped, WriteErrors uint64
		Targets                                []TargetStatus
	}
	// TargetStatus is what waits for one target.
	TargetStatus struct {
		Target string
		Hints  int
		Bytes  int64
		Oldest time.Duration // age of the oldest hint
	}
	// Drop drops every hint for Target (anti-entropy must then repair
	// it); the manager answers with the Status after.
	Drop struct{ Target string }
)

// transientErrors start the error replies of a datastore that may take the
// same write later: loading its data, out of memory, unable to persist,
// a read-only replica, a busy script, a cluster not ready.
var transientErrors = [][]byte{[]byte("-LOADING"), []byte("-OOM"), []byte("-MISCONF"), []byte("-READONLY"),
	[]byte("-BUSY"), []byte("-TRYAGAIN"), []byte("-MASTERDOWN"), []byte("-CLUSTERDOWN"), []byte("-NOREPLICAS")}

// Transient reports whether reply is an error its datastore may not give
// for the same write later: such a write is not delivered (a hint stays,
// or is made). Other errors (a command's own, as -ERR or -WRONGTYPE) would
// come back on every replay: the write counts as delivered.
func Transient(reply []byte) bool {
	if len(reply) == 0 || reply[0] != '-' {
		return false
	}
	for _, p := range transientErrors {
		if bytes.HasPrefix(reply, p) {
			return true
		}
	}
	return false
}
