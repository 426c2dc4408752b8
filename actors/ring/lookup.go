package ring

import "slices"

// Replica is one copy of a key: the owner of its token in one rack.
type Replica struct {
	DC   string
	Rack string
	Node NodeID
	// LocalDC is true for racks of the local node's DC, the ones whose
	// replies count towards DC_QUORUM.
	LocalDC bool
}

// Token returns the token of key: the configured hash of its hash-tagged
// part. It does not allocate.
func (r *Ring) Token(key []byte) uint32 {
	return r.hash.Sum(r.tag.Extract(key))
}

// OwnerInRack returns the node owning token in rack (dc, rack), following
// Dynomite's vnode_dispatch: the node holding the smallest token >= token,
// wrapping to the node with the smallest token when token is larger than
// every token of the rack. ok is false when the rack does not exist.
func (r *Ring) OwnerInRack(dc, rack string, token uint32) (NodeID, bool) {
	ri, ok := r.rackIndex(dc, rack)
	if !ok {
		return "", false
	}
	return r.nodes[r.racks[ri].owner(token)].ID, true
}

// KeyOwnerInRack returns the node owning key in rack (dc, rack). Unlike
// OwnerInRack(dc, rack, Token(key)) it applies the empty-key rule: a key whose
// hashed part is empty belongs to the local node in the local rack and to the
// owner of token 0 elsewhere (see the package documentation). ok is false
// when the rack does not exist.
func (r *Ring) KeyOwnerInRack(dc, rack string, key []byte) (NodeID, bool) {
	ri, ok := r.rackIndex(dc, rack)
	if !ok {
		return "", false
	}
	hashed := r.tag.Extract(key)
	return r.nodes[r.keyOwner(ri, hashed)].ID, true
}

// LocalOwner returns the node owning key in the local rack, the node a
// DC_ONE request is sent to. It applies the empty-key rule.
func (r *Ring) LocalOwner(key []byte) NodeID {
	return r.nodes[r.keyOwner(r.localRack, r.tag.Extract(key))].ID
}

// Replicas appends to dst the owner of key in every rack of every DC and
// returns the extended slice: the local rack first, then the other racks of
// the local DC by name, then each remote DC by name with its racks by name.
// It applies the empty-key rule, and does not allocate when dst has room
// for NumRacks more entries.
func (r *Ring) Replicas(key []byte, dst []Replica) []Replica {
	hashed := r.tag.Extract(key)
	var token uint32
	if len(hashed) > 0 {
		token = r.hash.Sum(hashed)
	}
	for _, ri := range r.replicaOrder {
		rk := &r.racks[ri]
		owner := rk.owner(token)
		if len(hashed) == 0 && ri == r.localRack {
			owner = int32(r.local)
		}
		dst = append(dst, Replica{
			DC:      r.dcs[rk.dc].name,
			Rack:    rk.name,
			Node:    r.nodes[owner].ID,
			LocalDC: rk.dc == r.localDC,
		})
	}
	return dst
}

// RemoteTargetRack returns the rack of dc that this node forwards
// cross-DC writes to, following Dynomite: with the racks of each DC sorted
// by name, the rack at (index of the local rack in the local DC) modulo (the
// number of racks in dc). For the local DC this is the local rack. ok is
// false when dc does not exist.
func (r *Ring) RemoteTargetRack(dc string) (string, bool) {
	di, ok := r.dcIndex(dc)
	if !ok {
		return "", false
	}
	d := r.dcs[di]
	own := r.localRack - r.dcs[r.localDC].first
	return r.racks[d.first+own%(d.end-d.first)].name, true
}

// keyOwner applies the empty-key rule on top of the token owner.
func (r *Ring) keyOwner(ri int, hashed []byte) int32 {
	if len(hashed) == 0 {
		if ri == r.localRack {
			return int32(r.local)
		}
		return r.racks[ri].owner(0)
	}
	return r.racks[ri].owner(r.hash.Sum(hashed))
}

// owner is vnode_dispatch: token T_i owns (T_{i-1}, T_i], and hashes at or
// below the smallest token or above the largest wrap to the smallest.
func (rk *rackEntry) owner(token uint32) int32 {
	ts := rk.tokens
	if token <= ts[0] || token > ts[len(ts)-1] {
		return rk.owners[0]
	}
	// Tokens are distinct, so the insertion point is the first token >= token.
	i, _ := slices.BinarySearch(ts, token)
	return rk.owners[i]
}
