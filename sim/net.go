package sim

import (
	"math/rand/v2"
	"time"

	"github.com/dynonode/dynonode/actors"
)

// Link is how one directed link between two nodes behaves.
type Link struct {
	// Latency is the minimum one-way delay. Zero means 500µs.
	Latency time.Duration
	// Jitter is the mean of an exponentially distributed extra delay.
	Jitter time.Duration
	// Drop, Duplicate and Reorder are probabilities in [0,1]. Without Reorder
	// a link is FIFO, like the TCP connection it models; a reordered message
	// skips the FIFO clamp and may overtake earlier ones.
	Drop, Duplicate, Reorder float64
}

type linkKey struct{ from, to actors.NodeID }

type network struct {
	def     Link
	links   map[linkKey]Link
	blocked map[linkKey]bool
	last    map[linkKey]time.Duration // latest scheduled arrival per link, for FIFO
	rng     *rand.Rand
}

func newNetwork(def Link, rng *rand.Rand) network {
	return network{
		def: def, rng: rng,
		links:   map[linkKey]Link{},
		blocked: map[linkKey]bool{},
		last:    map[linkKey]time.Duration{},
	}
}

func (l Link) latency() time.Duration {
	if l.Latency == 0 {
		return 500 * time.Microsecond
	}
	return l.Latency
}

// transmit decides the fate of one message from src to dst sent at now and
// returns its arrival times: none if lost, two if duplicated.
func (nw *network) transmit(src, dst *node, now time.Duration) []time.Duration {
	k := linkKey{src.spec.ID, dst.spec.ID}
	if nw.blocked[k] {
		src.w.stats.Dropped++
		src.w.record(recDrop, now, actors.Addr{Node: k.from}, actors.Addr{Node: k.to}, "partition")
		return nil
	}
	l, ok := nw.links[k]
	if !ok {
		l = nw.def
	}
	if l.Drop > 0 && nw.rng.Float64() < l.Drop {
		src.w.stats.Dropped++
		src.w.record(recDrop, now, actors.Addr{Node: k.from}, actors.Addr{Node: k.to}, "loss")
		return nil
	}
	copies := 1
	if l.Duplicate > 0 && nw.rng.Float64() < l.Duplicate {
		copies = 2
		src.w.stats.Duplicated++
	}
	out := make([]time.Duration, 0, copies)
	for range copies {
		at := now + l.latency()
		if l.Jitter > 0 {
			at += time.Duration(nw.rng.ExpFloat64() * float64(l.Jitter))
		}
		if l.Reorder > 0 && nw.rng.Float64() < l.Reorder {
			at += time.Duration(nw.rng.Float64() * 4 * float64(l.latency()+l.Jitter))
		} else if prev := nw.last[k]; at < prev {
			at = prev
		}
		if at > nw.last[k] {
			nw.last[k] = at
		}
		out = append(out, at)
	}
	return out
}

// SetNet changes the default behaviour of every link without an override.
func (w *World) SetNet(l Link) {
	w.net.def = l
	w.record(recFault, w.now, actors.Addr{}, actors.Addr{}, "set-net")
	w.reachChanged()
}

// SetLink overrides the behaviour of the directed link from -> to.
func (w *World) SetLink(from, to actors.NodeID, l Link) {
	w.net.links[linkKey{from, to}] = l
	w.record(recFault, w.now, actors.Addr{Node: from}, actors.Addr{Node: to}, "set-link")
	w.reachChanged()
}

// Partition cuts every link between the two groups in both directions.
func (w *World) Partition(a, b []actors.NodeID) {
	w.PartitionOneWay(a, b)
	w.PartitionOneWay(b, a)
}

// PartitionOneWay cuts links from every node of from to every node of to;
// replies in the other direction still flow (an asymmetric partition).
func (w *World) PartitionOneWay(from, to []actors.NodeID) {
	for _, f := range from {
		for _, t := range to {
			if f != t {
				w.net.blocked[linkKey{f, t}] = true
				w.record(recFault, w.now, actors.Addr{Node: f}, actors.Addr{Node: t}, "cut")
			}
		}
	}
	w.reachChanged()
}

// Isolate cuts the given nodes off from every other node.
func (w *World) Isolate(ids []actors.NodeID) {
	in := map[actors.NodeID]bool{}
	for _, id := range ids {
		in[id] = true
	}
	w.Partition(ids, w.nodesWhere(func(n *node) bool { return !in[n.spec.ID] }))
}

// IsolateRack cuts one rack of one DC off from the rest of the cluster.
func (w *World) IsolateRack(dc, rack string) {
	w.Isolate(w.nodesWhere(func(n *node) bool { return n.spec.DC == dc && n.spec.Rack == rack }))
}

// IsolateDC cuts one datacenter off from the others.
func (w *World) IsolateDC(dc string) {
	w.Isolate(w.nodesWhere(func(n *node) bool { return n.spec.DC == dc }))
}

// Heal restores every cut link. Link behaviour overrides stay.
func (w *World) Heal() {
	w.net.blocked = map[linkKey]bool{}
	w.record(recFault, w.now, actors.Addr{}, actors.Addr{}, "heal")
	w.reachChanged()
}

// Blocked reports whether the directed link from -> to is cut.
func (w *World) Blocked(from, to actors.NodeID) bool { return w.net.blocked[linkKey{from, to}] }
