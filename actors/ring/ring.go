package ring

import (
	"cmp"
	"fmt"
	"slices"
)

// NodeID names a node. The ring only compares and returns it; the caller
// chooses the naming scheme (typically the peer name from dyn_seeds).
type NodeID = string

// Node is one member of the cluster as the ring sees it.
type Node struct {
	ID   NodeID
	DC   string
	Rack string
	// Tokens are the node's positions on its rack's continuum: at least one,
	// distinct from every other token in the same rack. Order does not matter.
	Tokens []uint32
}

// Config is everything New needs to build a Ring.
type Config struct {
	// Nodes lists every node of every DC, the local node included, in any
	// order. A rack is identified by (DC, Rack): rack "r1" of dc1 and rack
	// "r1" of dc2 are different racks.
	Nodes []Node
	// Local is the node this ring is built for; it must be in Nodes. Its DC
	// and rack are "local" for replica ordering and the empty-key rule.
	Local NodeID
	// Hash is the key hash function. Zero value: Murmur, Dynomite's default.
	Hash Hash
	// HashTag selects the hashed part of keys. Zero value: whole keys.
	HashTag HashTag
}

// Ring is an immutable view of token ownership for one node. Build it with
// New; rebuild it when membership or tokens change. All methods are safe to
// call concurrently because nothing is ever written after New returns.
type Ring struct {
	hash Hash
	tag  HashTag

	nodes []Node    // sorted by ID; Tokens are private sorted copies
	dcs   []dcEntry // sorted by name
	racks []rackEntry

	local     int // index into nodes
	localDC   int // index into dcs
	localRack int // index into racks

	// replicaOrder lists rack indices in the order Replicas reports them.
	replicaOrder []int
}

// dcEntry is one DC; its racks are racks[first:end], sorted by name.
type dcEntry struct {
	name       string
	first, end int
}

// rackEntry is one rack's continuum: tokens ascending and distinct, with
// owners[i] the index (into Ring.nodes) of the node holding tokens[i].
type rackEntry struct {
	dc     int
	name   string
	tokens []uint32
	owners []int32
}

// New validates cfg and builds its Ring. It rejects: an invalid hash, nodes
// with an empty ID, DC or rack, nodes without tokens, duplicate node IDs,
// a token held twice within one rack, and a Local that is not in Nodes.
func New(cfg Config) (*Ring, error) {
	if !cfg.Hash.Valid() {
		return nil, fmt.Errorf("ring: hash %v: %w", cfg.Hash, ErrUnknownHash)
	}
	r := &Ring{hash: cfg.Hash, tag: cfg.HashTag}

	r.nodes = make([]Node, len(cfg.Nodes))
	for i, n := range cfg.Nodes {
		switch {
		case n.ID == "":
			return nil, fmt.Errorf("ring: node #%d (dc %q, rack %q): empty ID: %w", i, n.DC, n.Rack, ErrInvalidNode)
		case n.DC == "":
			return nil, fmt.Errorf("ring: node %q: empty DC: %w", n.ID, ErrInvalidNode)
		case n.Rack == "":
			return nil, fmt.Errorf("ring: node %q: empty rack: %w", n.ID, ErrInvalidNode)
		case len(n.Tokens) == 0:
			return nil, fmt.Errorf("ring: node %q: no tokens: %w", n.ID, ErrInvalidNode)
		}
		n.Tokens = slices.Clone(n.Tokens)
		slices.Sort(n.Tokens)
		r.nodes[i] = n
	}
	slices.SortFunc(r.nodes, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	for i := 1; i < len(r.nodes); i++ {
		if r.nodes[i].ID == r.nodes[i-1].ID {
			return nil, fmt.Errorf("ring: node %q: listed twice: %w", r.nodes[i].ID, ErrDuplicateNode)
		}
	}

	local, ok := r.nodeIndex(cfg.Local)
	if !ok {
		return nil, fmt.Errorf("ring: local node %q: not among the %d nodes: %w", cfg.Local, len(r.nodes), ErrUnknownLocal)
	}
	r.local = local

	r.buildRacks()
	if err := r.fillContinuums(); err != nil {
		return nil, err
	}

	ln := r.nodes[r.local]
	r.localRack, _ = r.rackIndex(ln.DC, ln.Rack)
	r.localDC = r.racks[r.localRack].dc
	r.buildReplicaOrder()
	return r, nil
}

// buildRacks creates the DC and rack entries, both sorted by name, with each
// DC's racks contiguous so a DC is a range of rack indices.
func (r *Ring) buildRacks() {
	type dcRack struct{ dc, rack string }
	pairs := make([]dcRack, 0, len(r.nodes))
	for _, n := range r.nodes {
		pairs = append(pairs, dcRack{n.DC, n.Rack})
	}
	slices.SortFunc(pairs, func(a, b dcRack) int {
		return cmp.Or(cmp.Compare(a.dc, b.dc), cmp.Compare(a.rack, b.rack))
	})
	pairs = slices.Compact(pairs)

	for _, p := range pairs {
		if len(r.dcs) == 0 || r.dcs[len(r.dcs)-1].name != p.dc {
			r.dcs = append(r.dcs, dcEntry{name: p.dc, first: len(r.racks)})
		}
		r.racks = append(r.racks, rackEntry{dc: len(r.dcs) - 1, name: p.rack})
		r.dcs[len(r.dcs)-1].end = len(r.racks)
	}
}

// fillContinuums puts every token of every node on its rack's continuum and
// rejects tokens held twice in one rack: Dynomite would sort them in an
// unspecified order and route their range to either holder.
func (r *Ring) fillContinuums() error {
	type point struct {
		token uint32
		owner int32
	}
	points := make([][]point, len(r.racks))
	for i, n := range r.nodes {
		ri, _ := r.rackIndex(n.DC, n.Rack)
		for _, t := range n.Tokens {
			points[ri] = append(points[ri], point{t, int32(i)})
		}
	}
	for ri := range r.racks {
		ps := points[ri]
		slices.SortFunc(ps, func(a, b point) int {
			return cmp.Or(cmp.Compare(a.token, b.token), cmp.Compare(a.owner, b.owner))
		})
		rk := &r.racks[ri]
		rk.tokens = make([]uint32, len(ps))
		rk.owners = make([]int32, len(ps))
		for i, p := range ps {
			if i > 0 && ps[i-1].token == p.token && ps[i-1].owner == p.owner {
				return fmt.Errorf("ring: token %d in dc %q rack %q: listed twice by node %q: %w",
					p.token, r.dcs[rk.dc].name, rk.name, r.nodes[p.owner].ID, ErrDuplicateToken)
			}
			if i > 0 && ps[i-1].token == p.token {
				return fmt.Errorf("ring: token %d in dc %q rack %q: held by node %q and node %q: %w",
					p.token, r.dcs[rk.dc].name, rk.name, r.nodes[ps[i-1].owner].ID, r.nodes[p.owner].ID, ErrDuplicateToken)
			}
			rk.tokens[i] = p.token
			rk.owners[i] = p.owner
		}
	}
	return nil
}

// buildReplicaOrder fixes the order Replicas reports racks in: the local
// rack, the other racks of the local DC, then every remote DC by name, each
// with its racks by name.
func (r *Ring) buildReplicaOrder() {
	r.replicaOrder = make([]int, 0, len(r.racks))
	r.replicaOrder = append(r.replicaOrder, r.localRack)
	ld := r.dcs[r.localDC]
	for ri := ld.first; ri < ld.end; ri++ {
		if ri != r.localRack {
			r.replicaOrder = append(r.replicaOrder, ri)
		}
	}
	for di, d := range r.dcs {
		if di == r.localDC {
			continue
		}
		for ri := d.first; ri < d.end; ri++ {
			r.replicaOrder = append(r.replicaOrder, ri)
		}
	}
}

func (r *Ring) nodeIndex(id NodeID) (int, bool) {
	return slices.BinarySearchFunc(r.nodes, id, func(n Node, id NodeID) int { return cmp.Compare(n.ID, id) })
}

func (r *Ring) dcIndex(dc string) (int, bool) {
	return slices.BinarySearchFunc(r.dcs, dc, func(d dcEntry, name string) int { return cmp.Compare(d.name, name) })
}

// rackIndex finds a rack by binary search over the DCs and then the DC's
// racks, so lookups by name neither hash nor allocate.
func (r *Ring) rackIndex(dc, rack string) (int, bool) {
	di, ok := r.dcIndex(dc)
	if !ok {
		return 0, false
	}
	d := r.dcs[di]
	i, ok := slices.BinarySearchFunc(r.racks[d.first:d.end], rack, func(rk rackEntry, name string) int { return cmp.Compare(rk.name, name) })
	return d.first + i, ok
}
