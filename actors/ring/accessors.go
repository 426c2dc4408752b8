package ring

import "slices"

// The accessors return fresh copies in sorted order, so callers may keep or
// modify them without affecting the Ring, and output built from them is
// deterministic.

// Hash returns the ring's key hash function.
func (r *Ring) Hash() Hash { return r.hash }

// HashTag returns the ring's hash tag (zero when none).
func (r *Ring) HashTag() HashTag { return r.tag }

// Local returns the node the ring was built for.
func (r *Ring) Local() Node { return cloneNode(r.nodes[r.local]) }

// LocalDC returns the local node's DC.
func (r *Ring) LocalDC() string { return r.dcs[r.localDC].name }

// LocalRack returns the local node's rack.
func (r *Ring) LocalRack() string { return r.racks[r.localRack].name }

// NumRacks returns the number of racks over all DCs, which is the number of
// entries Replicas appends.
func (r *Ring) NumRacks() int { return len(r.racks) }

// DCs returns the DC names, sorted.
func (r *Ring) DCs() []string {
	out := make([]string, len(r.dcs))
	for i, d := range r.dcs {
		out[i] = d.name
	}
	return out
}

// Racks returns the rack names of dc, sorted; nil when dc does not exist.
func (r *Ring) Racks(dc string) []string {
	di, ok := r.dcIndex(dc)
	if !ok {
		return nil
	}
	d := r.dcs[di]
	out := make([]string, 0, d.end-d.first)
	for _, rk := range r.racks[d.first:d.end] {
		out = append(out, rk.name)
	}
	return out
}

// Nodes returns every node sorted by ID, each with its tokens ascending.
func (r *Ring) Nodes() []Node {
	out := make([]Node, len(r.nodes))
	for i, n := range r.nodes {
		out[i] = cloneNode(n)
	}
	return out
}

// RackNodes returns the IDs of the nodes in rack (dc, rack), sorted; nil
// when the rack does not exist.
func (r *Ring) RackNodes(dc, rack string) []NodeID {
	if _, ok := r.rackIndex(dc, rack); !ok {
		return nil
	}
	var out []NodeID
	for _, n := range r.nodes {
		if n.DC == dc && n.Rack == rack {
			out = append(out, n.ID)
		}
	}
	return out
}

// Node returns the node with the given ID.
func (r *Ring) Node(id NodeID) (Node, bool) {
	i, ok := r.nodeIndex(id)
	if !ok {
		return Node{}, false
	}
	return cloneNode(r.nodes[i]), true
}

func cloneNode(n Node) Node {
	n.Tokens = slices.Clone(n.Tokens)
	return n
}
