package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The heap floor keeps Go's garbage collector from running every few
// megabytes while a node's live heap is small. With GOGC=100 the collector
// runs whenever the program has allocated as much as survived the last
// collection: a proxy or an embedded store of a few hundred thousand keys
// keeps 5-30 MiB alive and allocates that much in well under a second
// under load (each request's arguments, messages and replies), so it spent
// 10-12% of its CPU marking the same live objects again and again
// (docs/profiling.md). A node does not need to be that frugal: after each
// collection the floor lets the heap grow by at least floor bytes before
// the next, that is GOGC = 100*floor/live, between 100 (large heaps behave
// exactly as before) and maxFloorPercent (bounding the overshoot while the
// live heap grows fast, as during a bulk load, before the next collection
// measures it). The cost is memory: at most floor bytes of garbage more
// than GOGC=100 would keep.
const (
	defaultHeapFloorMiB = 64
	maxFloorPercent     = 400
)

// heapFloorBytes is the floor a node keeps: --heap-floor, else the
// default; none when the flag turned it off or GOGC was set (the user's
// own tuning wins).
func heapFloorBytes(flagMiB int, gogcSet bool) uint64 {
	switch {
	case gogcSet || flagMiB < 0:
		return 0
	case flagMiB == 0:
		return defaultHeapFloorMiB << 20
	}
	return uint64(flagMiB) << 20
}

// floorPercent is the GOGC that lets a heap of live bytes grow by floor
// bytes: 100 when live is at least floor, at most maxFloorPercent.
func floorPercent(live, floor uint64) int {
	if live == 0 || live >= floor {
		return 100
	}
	p := floor * 100 / live
	if p > maxFloorPercent {
		return maxFloorPercent
	}
	return int(max(p, 100))
}

// heapFloor re-tunes GOGC after every collection (a cleanup attached to an
// object that each collection frees).
type heapFloor struct {
	floor   uint64
	log     *slog.Logger
	sample  []metrics.Sample
	mu      sync.Mutex
	stopped bool
	percent int // last set
	prior   int // GOGC before start, restored by stop
}

type gcMark struct{ _ *heapFloor }

// startHeapFloor keeps the heap floor until stop is called; floor 0 does
// nothing. The caller leaves it off when the user set GOGC.
func startHeapFloor(floor uint64, log *slog.Logger) (stop func()) {
	if floor == 0 {
		return func() {}
	}
	h := &heapFloor{floor: floor, log: log, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}, percent: 100}
	prior := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(prior)
	h.prior = int(prior[0].Value.Uint64())
	h.arm()
	return h.stop
}

func (h *heapFloor) arm() {
	runtime.AddCleanup(&gcMark{}, func(h *heapFloor) { h.collected() }, h)
}

// collected runs after a collection: it sets GOGC for the next one and
// re-arms for the one after.
func (h *heapFloor) collected() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	metrics.Read(h.sample)
	var live uint64
	if h.sample[0].Value.Kind() == metrics.KindUint64 {
		live = h.sample[0].Value.Uint64()
	}
	// Small moves are left alone: the live heap wobbles between
	// collections, and the pacer need not be re-planned for that.
	if p := floorPercent(live, h.floor); p*20 < h.percent*19 || p*20 > h.percent*21 {
		debug.SetGCPercent(p)
		h.percent = p
		h.log.Debug("heap floor: GOGC set", "gogc", p, "live_bytes", live)
	}
	h.arm()
}

func (h *heapFloor) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.stopped {
		h.stopped = true
		debug.SetGCPercent(h.prior)
	}
}
