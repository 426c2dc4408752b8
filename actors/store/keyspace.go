package store

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// keyspace maps keys to values for the engine's top level. It does what
// dict does (insertion order, SCAN cursors that survive deletion) with
// fewer memory accesses per lookup, which is most of a GET or SET's cost
// once the keyspace outgrows the caches: a Go map[string]int reaches the
// value through its control word and slot, the key string it compares and
// the dict's slot array, four cache misses; here a lookup reads one table
// slot (the key's full hash and its value) and then the value, which holds
// its key in the same allocation (see newValue), two.
//
// The table is extendible hashing, as Go's own maps are: a directory,
// indexed by the hash's top bits, of small open-addressing tables (linear
// probing, backward-shift deletion, at most three quarters full). A table
// grows by doubling up to maxTableSlots and then splits in two by the next
// hash bit, so no insert ever rehashes more than maxTableSlots entries (a
// few microseconds), however large the keyspace: there is no stop-the-world
// rehash as a single big table would need. Splits and growth read only the
// hashes kept in the slots, never the keys. A table an eighth full halves
// and the order array gives back its excess when it compacts, so mass
// deletes return memory (Go's maps never shrink); the directory stays.
//
// The hash is keyed with secrets derived from Options.HashSeed (see
// hashKey), so clients that do not know the seed cannot choose keys that
// collide.
type keyspace struct {
	secret hashSecret
	dir    []*ktable // 1<<depth entries; a table of local depth d fills 1<<(depth-d) adjacent ones
	depth  uint8
	order  []kref // insertion order; nil v marks a deleted key's hole
	live   int
	seq    uint64 // last sequence number handed out
	sink   uint64 // what warm read, kept so the compiler keeps its loads
}

type ktable struct {
	slots []kslot // a power of two long
	used  int
	depth uint8 // the hash bits, from the top, that all its keys share
}

type kslot struct {
	h uint64
	v *value // nil: empty
}

type kref struct {
	seq uint64
	v   *value
}

const (
	minTableSlots = 8
	maxTableSlots = 1024 // 16 KiB of slots; a split rehashes at most 768 entries
)

func newKeyspace(seed uint64) *keyspace {
	return &keyspace{secret: newHashSecret(seed), dir: []*ktable{{slots: make([]kslot, minTableSlots)}}}
}

func (ks *keyspace) len() int { return ks.live }

func (ks *keyspace) table(h uint64) *ktable {
	return ks.dir[h>>(64-uint(ks.depth))&(uint64(len(ks.dir))-1)]
}

// get returns the value at key, or nil.
func (ks *keyspace) get(key []byte) *value { return ks.find(key, hashKey(&ks.secret, key)) }

// find, insert and remove take the key's hash, so tests can choose it.
func (ks *keyspace) find(key []byte, h uint64) *value {
	if t, i := ks.probe(key, h); t != nil {
		return t.slots[i].v
	}
	return nil
}

// probe returns the table and slot holding key, or a nil table.
func (ks *keyspace) probe(key []byte, h uint64) (*ktable, uint64) {
	t := ks.table(h)
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.v == nil {
			return nil, 0
		}
		if s.h == h && string(s.v.key()) == string(key) {
			return t, i
		}
	}
}

// add stores v at key, which must be absent, last in insertion order. The
// value keeps key: v.kv gets an owned copy unless it already starts with
// those bytes (newStringValue puts them there, in the value's own
// allocation).
func (ks *keyspace) add(key []byte, v *value) { ks.insert(key, hashKey(&ks.secret, key), v) }

func (ks *keyspace) insert(key []byte, h uint64, v *value) {
	if string(v.key()) != string(key) { // a new value, or one moved by RENAME: kv gets a copy of key
		str := v.str()
		kv := make([]byte, 0, len(key)+len(str))
		v.kv = append(append(kv, key...), str...)
		v.klen = uint32(len(key))
	}
	t := ks.table(h)
	for (t.used+1)*4 > len(t.slots)*3 {
		ks.grow(t, h)
		t = ks.table(h)
	}
	t.insert(h, v)
	ks.seq++
	v.pos = uint32(len(ks.order))
	ks.order = append(ks.order, kref{seq: ks.seq, v: v})
	ks.live++
}

// del removes key and reports whether it was present.
func (ks *keyspace) del(key []byte) bool { return ks.remove(key, hashKey(&ks.secret, key)) }

func (ks *keyspace) remove(key []byte, h uint64) bool {
	t, i := ks.probe(key, h)
	if t == nil {
		return false
	}
	ks.order[t.slots[i].v.pos].v = nil
	t.remove(i)
	if len(t.slots) > minTableSlots && t.used*8 < len(t.slots) {
		t.resize(len(t.slots) / 2) // a quarter full now: memory goes back after mass deletes
	}
	ks.live--
	if ks.live == 0 {
		ks.order = nil
	} else if holes := len(ks.order) - ks.live; holes > 16 && holes > ks.live {
		ks.compact()
	}
	return true
}

func (ks *keyspace) compact() {
	n := 0
	for _, r := range ks.order {
		if r.v != nil {
			r.v.pos = uint32(n)
			ks.order[n] = r
			n++
		}
	}
	clear(ks.order[n:])
	ks.order = ks.order[:n]
	if cap(ks.order) > 64 && cap(ks.order) > 4*n {
		ks.order = append(make([]kref, 0, 2*n), ks.order...) // give back most of a shrunk keyspace's array
	}
}

// grow makes room in t, the table for hash h: it doubles a table below
// maxTableSlots and splits a full-sized one in two by its next hash bit,
// doubling the directory first when t already uses all of the directory's
// bits. A split that would leave one side empty (keys chosen to share their
// hashes' top bits) doubles the table instead, so the directory only grows
// when it spreads keys.
func (ks *keyspace) grow(t *ktable, h uint64) {
	d := t.depth + 1
	split := len(t.slots) >= maxTableSlots && d < 48
	if split {
		ones := 0
		for _, s := range t.slots {
			if s.v != nil && s.h>>(64-uint(d))&1 == 1 {
				ones++
			}
		}
		split = ones > 0 && ones < t.used
	}
	if !split {
		t.resize(2 * len(t.slots))
		return
	}
	if t.depth == ks.depth {
		dir := make([]*ktable, 2*len(ks.dir))
		for i, x := range ks.dir {
			dir[2*i], dir[2*i+1] = x, x
		}
		ks.dir, ks.depth = dir, ks.depth+1
	}
	lo := &ktable{slots: make([]kslot, len(t.slots)), depth: d}
	hi := &ktable{slots: make([]kslot, len(t.slots)), depth: d}
	for _, s := range t.slots {
		if s.v == nil {
			continue
		}
		if s.h>>(64-uint(d))&1 == 0 {
			lo.insert(s.h, s.v)
		} else {
			hi.insert(s.h, s.v)
		}
	}
	// The directory entries for t are the 1<<(depth-t.depth) adjacent
	// ones that share h's top t.depth bits; the first half now points at
	// lo, the second at hi.
	shift := uint(ks.depth - t.depth)
	first := int(h>>(64-uint(ks.depth))) >> shift << shift
	span := 1 << shift
	for i := range span {
		if i < span/2 {
			ks.dir[first+i] = lo
		} else {
			ks.dir[first+i] = hi
		}
	}
}

// resize rehashes t into n slots (a power of two, more than it holds).
func (t *ktable) resize(n int) {
	old := t.slots
	t.slots = make([]kslot, n)
	t.used = 0
	for _, s := range old {
		if s.v != nil {
			t.insert(s.h, s.v)
		}
	}
}

func (t *ktable) insert(h uint64, v *value) {
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].v != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = kslot{h: h, v: v}
	t.used++
}

// remove empties slot i, shifting back the entries after it that probed
// past it, so lookups never need tombstones.
func (t *ktable) remove(i uint64) {
	mask := uint64(len(t.slots) - 1)
	for j := (i + 1) & mask; t.slots[j].v != nil; j = (j + 1) & mask {
		home := t.slots[j].h & mask
		if (j-home)&mask >= (j-i)&mask { // i lies in [home, j): the entry may move back to i
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = kslot{}
	t.used--
}

// warm loads, for each of up to len(hs) keys, the table slot it hashes
// to and then the values those slots hold, without changing anything. A
// lookup on a keyspace larger than the caches waits for two cache misses
// (the slot, the value); a batch's lookups one after another wait for them
// one at a time, while these loads do not depend on each other, so the
// processor overlaps them and the lookups that follow find their memory
// in the cache. hs is scratch space for the hashes.
func (ks *keyspace) warm(keys [][]byte, hs []uint64) {
	var sink uint64
	n := min(len(keys), len(hs))
	for i, k := range keys[:n] {
		h := hashKey(&ks.secret, k)
		hs[i] = h
		t := ks.table(h)
		sink += t.slots[h&uint64(len(t.slots)-1)].h
	}
	for i := range n {
		t := ks.table(hs[i])
		if v := t.slots[hs[i]&uint64(len(t.slots)-1)].v; v != nil {
			sink += uint64(v.kind) + uint64(v.klen)
			if n := len(v.kv); n > 0 {
				sink += uint64(v.kv[n-1])
			}
		}
	}
	ks.sink += sink
}

// each calls fn for every key in insertion order until fn returns false.
// fn must not add or delete keys.
func (ks *keyspace) each(fn func(v *value) bool) {
	for _, r := range ks.order {
		if r.v != nil && !fn(r.v) {
			return
		}
	}
}

// random returns a value drawn at random from the keyspace, nil if it is
// empty: a slot of the insertion order, drawn again while it is a hole
// left by a delete (compaction keeps them a minority), then the next
// value from there.
func (ks *keyspace) random(r *rand.Rand) *value {
	if ks.live == 0 || len(ks.order) == 0 {
		return nil
	}
	for range 16 {
		if v := ks.order[r.IntN(len(ks.order))].v; v != nil {
			return v
		}
	}
	start := r.IntN(len(ks.order))
	for i := range ks.order {
		if v := ks.order[(start+i)%len(ks.order)].v; v != nil {
			return v
		}
	}
	return nil
}

// scan visits up to count keys from cursor (a sequence number; 0 starts)
// in insertion order and returns the cursor to continue from, 0 when done.
// fn must not add or delete keys.
func (ks *keyspace) scan(cursor uint64, count int, fn func(v *value)) uint64 {
	lo, hi := 0, len(ks.order)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ks.order[m].seq < cursor {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for _, r := range ks.order[lo:] {
		if r.v == nil {
			continue
		}
		if count == 0 {
			return r.seq
		}
		fn(r.v)
		count--
	}
	return 0
}

// hashSecret keys hashKey: three 64-bit words derived from the seed.
type hashSecret struct{ s0, s1, s2 uint64 }

func newHashSecret(seed uint64) hashSecret {
	next := func() uint64 { // splitmix64
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		return z ^ z>>31
	}
	return hashSecret{next(), next(), next()}
}

// hashKey is a 64-bit keyed hash of b in the style of wyhash (the fallback
// of Go's own map hash): 64x64->128-bit multiplies folded by xor, which
// mix every input bit into every output bit. Every word of input is
// combined with a secret before it is multiplied, as the runtime does with
// its random hashkey: with public constants there, a key holding the
// constant multiplies by zero (or one) and a client could make any number
// of keys collide whatever the seed.
func hashKey(k *hashSecret, b []byte) uint64 {
	n := len(b)
	whole := b
	h := k.s0
	var a, c uint64
	switch {
	case n == 0:
		return mix(k.s1^h, k.s2)
	case n < 4:
		a = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
	case n <= 8:
		a = uint64(binary.LittleEndian.Uint32(b))
		c = uint64(binary.LittleEndian.Uint32(b[n-4:]))
	case n <= 16:
		a = binary.LittleEndian.Uint64(b)
		c = binary.LittleEndian.Uint64(b[n-8:])
	default:
		for len(b) > 16 {
			h = mix(binary.LittleEndian.Uint64(b)^k.s1, binary.LittleEndian.Uint64(b[8:])^h)
			b = b[16:]
		}
		a = binary.LittleEndian.Uint64(whole[n-16:])
		c = binary.LittleEndian.Uint64(whole[n-8:])
	}
	return mix(k.s2^uint64(n), mix(a^k.s1, c^h))
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
