package antientropy

import (
	"slices"

	"github.com/dynonode/dynonode/actors/ring"
)

// layout is how anti-entropy cuts the ring: at every token of every rack
// of every DC, so that each segment has exactly one owner in each rack.
// Segment i (i > 0) holds the tokens in (bounds[i-1], bounds[i]];
// segment 0 wraps: (bounds[last], 2^32) and [0, bounds[0]]. Two replicas
// compare the segments they both own; a segment is named by its upper
// token, bounds[i], the same on every node with the same ring.
type layout struct {
	ring   *ring.Ring
	self   ring.Node
	bounds []uint32
	own    []bool // the local node owns segment i in its rack
	sum    uint64 // fingerprint: two layouts compare only if equal
}

func newLayout(r *ring.Ring) *layout {
	l := &layout{ring: r, self: r.Local()}
	h := newFNV()
	h.str(r.Hash().String())
	h.str(r.HashTag().String())
	for _, n := range r.Nodes() {
		h.str(n.ID)
		h.str(n.DC)
		h.str(n.Rack)
		for _, t := range n.Tokens {
			h.u64(uint64(t))
			l.bounds = append(l.bounds, t)
		}
	}
	l.sum = h.sum()
	slices.Sort(l.bounds)
	l.bounds = slices.Compact(l.bounds)
	l.own = make([]bool, len(l.bounds))
	for i := range l.bounds {
		l.own[i] = l.owner(i, l.self.DC, l.self.Rack) == l.self.ID
	}
	return l
}

// segment is the index of the segment holding token.
func (l *layout) segment(token uint32) int {
	i, _ := slices.BinarySearch(l.bounds, token)
	if i == len(l.bounds) {
		return 0
	}
	return i
}

// index is the segment named by its upper token, or -1.
func (l *layout) index(bound uint32) int {
	i, ok := slices.BinarySearch(l.bounds, bound)
	if !ok {
		return -1
	}
	return i
}

// owner is the node owning segment i in rack (dc, rack).
func (l *layout) owner(i int, dc, rack string) string {
	id, _ := l.ring.OwnerInRack(dc, rack, l.bounds[i])
	return id
}

// keySegment is the segment of key, or -1 for a key the layout does not
// place the same on every node (an empty hashed part: each node keeps it
// locally, see ring.Replicas).
func (l *layout) keySegment(key []byte) int {
	if len(l.ring.HashTag().Extract(key)) == 0 {
		return -1
	}
	return l.segment(l.ring.Token(key))
}

// shared lists the segments both the local node and peer own (in their
// racks), ascending.
func (l *layout) shared(peer ring.Node) []int {
	if peer.DC == l.self.DC && peer.Rack == l.self.Rack {
		return nil
	}
	var out []int
	for i := range l.bounds {
		if l.own[i] && l.owner(i, peer.DC, peer.Rack) == peer.ID {
			out = append(out, i)
		}
	}
	return out
}

// peers lists the nodes of other racks that share a segment with the
// local node, by id.
func (l *layout) peers() []ring.Node {
	var out []ring.Node
	for _, n := range l.ring.Nodes() {
		if n.ID != l.self.ID && len(l.shared(n)) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// owned counts the segments the local node owns.
func (l *layout) owned() int {
	n := 0
	for _, o := range l.own {
		if o {
			n++
		}
	}
	return n
}

// fnv is 64-bit FNV-1a, the hash of keys and versions in digests: the
// same on every node and every platform.
type fnv uint64

func newFNV() fnv { return 14695981039346656037 }

func (h *fnv) bytes(b []byte) {
	x := uint64(*h)
	for _, c := range b {
		x ^= uint64(c)
		x *= 1099511628211
	}
	*h = fnv(x)
}

func (h *fnv) str(s string) {
	x := uint64(*h)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= 1099511628211
	}
	*h = fnv(x)
	h.u64(uint64(len(s))) // the length ends the string: "ab","c" differs from "a","bc"
}

func (h *fnv) u64(v uint64) {
	var b [8]byte
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	h.bytes(b[:])
}

func (h fnv) sum() uint64 { return mix(uint64(h)) }

// mix is splitmix64's finalizer: FNV's low bits are weak, and buckets
// take the high ones.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// keyHash places a key in its segment's buckets (the top bits).
func keyHash(key []byte) uint64 {
	h := newFNV()
	h.bytes(key)
	return h.sum()
}

// leafOf is what one (key, version) adds to its bucket's digest:
// the version text without the in-place mark, so a copied value (which
// loses the mark) digests as its source.
func leafOf(kh uint64, version []byte) uint64 {
	if len(version) > 0 && version[0] == 'r' {
		version = version[1:]
	}
	h := newFNV()
	h.u64(kh)
	h.bytes(version)
	return h.sum()
}
