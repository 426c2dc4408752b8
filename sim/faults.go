package sim

import (
	"slices"
	"strconv"
	"time"

	"github.com/dynonode/dynonode/actors"
)

// Crash stops a node at once: its actors, their state, their timers and its
// queued input are lost (durable actors keep their state for the restart);
// messages in flight to it are dropped on arrival.
func (w *World) Crash(id actors.NodeID) {
	n := w.mustNode(id)
	if !n.up {
		return
	}
	n.crash(false)
	w.record(recFault, w.now, actors.Addr{Node: id}, actors.Addr{}, "crash")
	w.crashed(id)
	w.reachChanged()
}

// CrashWipe crashes a node and loses its durable actors' state too: the
// restart comes back with an empty datastore (a cold cache).
func (w *World) CrashWipe(id actors.NodeID) {
	n := w.mustNode(id)
	if n.up {
		n.crash(true)
		w.crashed(id)
	} else {
		// Already down: what it kept goes, but for its own disk.
		for name := range n.kept {
			if !slices.Contains(n.spec.Persistent, name) {
				delete(n.kept, name)
			}
		}
	}
	w.record(recFault, w.now, actors.Addr{Node: id}, actors.Addr{}, "crash-wipe")
	w.reachChanged()
}

// Restart boots a crashed node as a fresh incarnation (its Boot runs again).
// Restarting a running node crashes it first (durable state kept).
func (w *World) Restart(id actors.NodeID) {
	n := w.mustNode(id)
	if n.up {
		n.crash(false)
		w.crashed(id)
	}
	w.record(recFault, w.now, actors.Addr{Node: id}, actors.Addr{}, "restart")
	n.boot()
	w.reachChanged()
}

// Pause freezes a node (a stop-the-world GC, SIGSTOP): nothing it receives is
// handled and none of its timers fire until Resume, but nothing is lost.
func (w *World) Pause(id actors.NodeID) {
	n := w.mustNode(id)
	if !n.up || n.paused {
		return
	}
	n.paused = true
	w.record(recFault, w.now, actors.Addr{Node: id}, actors.Addr{}, "pause")
	w.reachChanged()
}

// Resume releases a paused node; everything it missed is handled now, in the
// order it arrived.
func (w *World) Resume(id actors.NodeID) {
	n := w.mustNode(id)
	if !n.paused {
		return
	}
	n.paused = false
	w.record(recFault, w.now, actors.Addr{Node: id}, actors.Addr{}, "resume")
	w.reachChanged()
	parked := n.parked
	n.parked = nil
	for _, e := range parked {
		e.at = w.now
		w.schedule(e)
	}
}

// Up reports whether a node is running (not crashed; it may be paused).
func (w *World) Up(id actors.NodeID) bool { return w.mustNode(id).up }

// NodeTime is what ctx.Now() returns on a node right now.
func (w *World) NodeTime(id actors.NodeID) time.Time {
	n := w.mustNode(id)
	return n.clock.now(w.now)
}

// JumpClock moves a node's clock by d, forward or backward (an NTP step, a VM
// migration). Pending timers are unaffected, as with a monotonic clock.
func (w *World) JumpClock(id actors.NodeID, d time.Duration) {
	n := w.mustNode(id)
	n.clock.jump(w.now, d)
	w.record(recFault, w.now, actors.Addr{Node: id}, actors.Addr{}, "jump "+d.String())
}

// SetClockOffset sets a node's clock to run at offset from virtual time.
func (w *World) SetClockOffset(id actors.NodeID, offset time.Duration) {
	n := w.mustNode(id)
	n.clock.reanchor(w.now)
	n.clock.anchorLocal = w.start.Add(w.now + offset)
	w.record(recFault, w.now, actors.Addr{Node: id}, actors.Addr{}, "offset "+offset.String())
}

// SetDrift makes a node's clock gain (positive) or lose ppm parts per million
// from now on; its timers stretch or shrink accordingly.
func (w *World) SetDrift(id actors.NodeID, ppm float64) {
	n := w.mustNode(id)
	n.clock.setDrift(w.now, ppm)
	w.record(recFault, w.now, actors.Addr{Node: id}, actors.Addr{}, "drift "+strconv.FormatFloat(ppm, 'g', -1, 64))
}
