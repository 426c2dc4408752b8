package sim

import (
	"time"

	"github.com/dynonode/dynonode/actors"
)

// The reach log: what the network and the nodes allowed, over time, so a
// checker can tell which promises about clocks the run could keep.
//
// A node's hybrid logical clock reaches another node with any message
// (gossip ticks every heartbeat interval go to every peer), so a write
// acknowledged by one node is ordered before a write invoked later at
// another only if some message could get from the first to the second in
// between, quickly and surely: Reach answers that.

// reachSnap is the state of every link from one instant on.
type reachSnap struct {
	at    time.Duration
	clean map[linkKey]bool // delivered surely and fast: both ends running, not cut, no loss, no latency spike
}

// reachLog is every change of the links' state, and every crash.
type reachLog struct {
	snaps   []reachSnap
	crashes map[actors.NodeID][]time.Duration
}

// cleanLatency bounds the latency and jitter of a link counted clean.
const cleanLatency = 10 * time.Millisecond

// reachChanged records the links' state from now on (called by every
// fault and repair of the network or of a node).
func (w *World) reachChanged() {
	clean := map[linkKey]bool{}
	for _, a := range w.order {
		for _, b := range w.order {
			if a == b || !a.up || a.paused || !b.up || b.paused {
				continue
			}
			k := linkKey{a.spec.ID, b.spec.ID}
			l, ok := w.net.links[k]
			if !ok {
				l = w.net.def
			}
			if !w.net.blocked[k] && l.Drop == 0 && l.latency() <= cleanLatency && l.Jitter <= cleanLatency {
				clean[k] = true
			}
		}
	}
	if n := len(w.reach.snaps); n > 0 && w.reach.snaps[n-1].at == w.now {
		w.reach.snaps[n-1].clean = clean
		return
	}
	w.reach.snaps = append(w.reach.snaps, reachSnap{at: w.now, clean: clean})
}

// crashed records that node id lost its process state (its clock) now.
func (w *World) crashed(id actors.NodeID) {
	if w.reach.crashes == nil {
		w.reach.crashes = map[actors.NodeID][]time.Duration{}
	}
	w.reach.crashes[id] = append(w.reach.crashes[id], w.now)
}

// Reach reports whether what node from knew at t0 (its clock) surely
// reached node to by t1: from did not crash after t0 and, for from !=
// to, for at least span somewhere in [t0, t1] (and before any crash of
// from) both ran and the link from -> to was clean: not cut, no loss,
// latency and jitter within 10 ms. With span two heartbeat intervals,
// at least one gossip tick crossed the link in that stretch.
func (w *World) Reach(from, to actors.NodeID, t0, t1, span time.Duration) bool {
	for _, c := range w.reach.crashes[from] {
		if c > t0 && c <= t1 {
			t1 = c // what from knew at t0 is lost at c
			if from == to {
				return false
			}
		}
	}
	if from == to {
		return true
	}
	k := linkKey{from, to}
	run := time.Duration(-1) // start of the current clean stretch
	for i, s := range w.reach.snaps {
		end := time.Duration(1 << 62)
		if i+1 < len(w.reach.snaps) {
			end = w.reach.snaps[i+1].at
		}
		a, b := max(s.at, t0), min(end, t1)
		if a >= b {
			if s.at >= t1 {
				break
			}
			continue
		}
		if !s.clean[k] {
			run = -1
			continue
		}
		if run < 0 {
			run = a
		}
		if b-run >= span {
			return true
		}
	}
	return false
}
