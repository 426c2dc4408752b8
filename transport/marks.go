package transport

import (
	"maps"
	"sync/atomic"
)

// Coverage marks of the runtime the simulator does not run: the rare paths
// of real peer links. Each is a string constant named mark... (so
// internal/marks can list them from the source), counted here when the
// path runs; transport's TestMain fails naming any declared mark that its
// tests did not reach. A mark costs an atomic add, on paths that are rare
// by definition.
const (
	// A peer connection ended with part of a frame read: the peer's
	// process died, or the link reset, while a frame was on the wire.
	markResetMidFrame = "peerlink/reset-mid-frame"
	// A burst write to a peer failed after it started: the frames in it
	// are lost (the peer may have part of one), and the link redials.
	markWriteBroken = "peerlink/write-broken"
)

var markCounts = map[string]*atomic.Uint64{
	markResetMidFrame: new(atomic.Uint64),
	markWriteBroken:   new(atomic.Uint64),
}

func mark(name string) { markCounts[name].Add(1) }

// MarksReached returns how many times each of transport's coverage marks
// ran in this process.
func MarksReached() map[string]uint64 {
	out := make(map[string]uint64, len(markCounts))
	for name, c := range maps.All(markCounts) {
		out[name] = c.Load()
	}
	return out
}
