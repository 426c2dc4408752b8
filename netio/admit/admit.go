// Package admit is a node's admission gate: the readers that bring new
// work into the node (peer links, client connections) wait at it, for a
// bounded time after each read, while a local component has more queued
// than it can take.
//
// It exists for bursts. A peer's asynchronous replication (DC_ONE writes)
// is not paced by any client: when a node falls a few milliseconds behind,
// the backlog in its peer sockets arrives in one rush, and a reader that
// hands it straight to the datastore adapter can fill the adapter's queue
// (and have the excess refused, i.e. replicas silently lost) before the
// adapter's own reader gets the processor to drain it. Holding the reader
// instead leaves the rest in the socket, where TCP flow control pushes it
// back to the sender's link queue, which is far larger and bounded by
// max_msgs. The wait is bounded so that a stuck datastore cannot stop a
// node from hearing gossip (which shares the peer links) for long.
package admit

import (
	"sync"
	"sync/atomic"
	"time"
)

// Gate is open while no component holds it. The zero value is an open gate;
// a nil *Gate is open forever. Safe for concurrent use.
type Gate struct {
	holds atomic.Int32  // components over their high watermark
	waits atomic.Uint64 // reads that waited
	mu    sync.Mutex
	open  chan struct{} // closed when the last hold is released; nil while open
}

// Hold closes the gate until a matching Release.
func (g *Gate) Hold() {
	g.mu.Lock()
	if g.holds.Add(1) == 1 {
		g.open = make(chan struct{})
	}
	g.mu.Unlock()
}

// Release undoes one Hold; the gate opens when none is left.
func (g *Gate) Release() {
	g.mu.Lock()
	if n := g.holds.Add(-1); n == 0 {
		close(g.open)
		g.open = nil
	} else if n < 0 {
		g.mu.Unlock()
		panic("admit: Release without Hold")
	}
	g.mu.Unlock()
}

// Held reports whether the gate is closed now.
func (g *Gate) Held() bool { return g != nil && g.holds.Load() > 0 }

// Wait returns when the gate is open, or after max. It costs one atomic
// load when the gate is open (or nil).
func (g *Gate) Wait(max time.Duration) { g.wait(max, true) }

// WaitMore is Wait for a reader that waits in slices (to do other work
// between them): it does not count as one more wait.
func (g *Gate) WaitMore(max time.Duration) { g.wait(max, false) }

func (g *Gate) wait(max time.Duration, count bool) {
	if g == nil || g.holds.Load() == 0 {
		return
	}
	g.mu.Lock()
	ch := g.open
	g.mu.Unlock()
	if ch == nil {
		return
	}
	if count {
		g.waits.Add(1)
	}
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

// Waits is how many times a reader waited at the gate.
func (g *Gate) Waits() uint64 {
	if g == nil {
		return 0
	}
	return g.waits.Load()
}

// DefaultWait bounds one reader's wait at the gate.
const DefaultWait = 100 * time.Millisecond
