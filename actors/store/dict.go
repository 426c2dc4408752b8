package store

// dict is a map that remembers insertion order. It backs hashes and sets
// (the keyspace has a table of its own with the same order and cursors,
// keyspace.go) so that every reply whose order Redis leaves unspecified
// (HGETALL, SMEMBERS, HSCAN...) comes out in one deterministic order,
// never Go's randomised map order. For small hashes insertion order is also
// exactly Redis's own (a listpack keeps it).
//
// Deletion leaves a hole that compaction removes once holes outnumber live
// entries, so every operation is amortised O(1). Each entry carries a
// sequence number that only grows, so a SCAN cursor (the next sequence
// number to visit) survives compaction and deletions: entries present for a
// whole scan are returned exactly once.
type dict[V any] struct {
	index map[string]int // key -> position in slots
	slots []slot[V]
	live  int
	peak  int    // most live entries since index and slots were last made
	seq   uint64 // last sequence number handed out
	ht    bool   // Redis would hold it as a hash table, not intset/listpack (encoding.go)
}

// A dict that held at least shrinkFrom entries and now holds an eighth of
// its peak or fewer is rebuilt at its size, as Redis shrinks a hash table
// under a tenth full: a Go map never gives its buckets back, so a hash
// that once held a million fields would keep their memory. The rebuild
// copies what is left after at least seven eighths of the peak were
// deleted, so deletion stays amortised O(1).
const shrinkFrom = 256

type slot[V any] struct {
	key  string
	seq  uint64
	val  V
	dead bool
}

func newDict[V any]() *dict[V] { return &dict[V]{index: map[string]int{}} }

func (d *dict[V]) len() int { return d.live }

func (d *dict[V]) get(k []byte) (V, bool) {
	if i, ok := d.index[string(k)]; ok {
		return d.slots[i].val, true
	}
	var zero V
	return zero, false
}

func (d *dict[V]) has(k []byte) bool {
	_, ok := d.index[string(k)]
	return ok
}

// set stores v under k and reports whether k is new. A new key is appended
// (last in order); an existing one keeps its place.
func (d *dict[V]) set(k []byte, v V) bool {
	if i, ok := d.index[string(k)]; ok {
		d.slots[i].val = v
		return false
	}
	d.setNew(string(k), v)
	return true
}

// setNew appends a key known to be absent.
func (d *dict[V]) setNew(k string, v V) {
	d.seq++
	d.index[k] = len(d.slots)
	d.slots = append(d.slots, slot[V]{key: k, seq: d.seq, val: v})
	d.live++
	d.peak = max(d.peak, d.live)
}

func (d *dict[V]) del(k []byte) bool {
	i, ok := d.index[string(k)]
	if !ok {
		return false
	}
	delete(d.index, string(k))
	var zero V
	d.slots[i] = slot[V]{seq: d.slots[i].seq, dead: true, val: zero}
	d.live--
	if d.peak >= shrinkFrom && d.live <= d.peak/8 {
		d.shrink()
	} else if d.live == 0 {
		d.slots = d.slots[:0]
	} else if holes := len(d.slots) - d.live; holes > 16 && holes > d.live {
		d.compact()
	}
	return true
}

func (d *dict[V]) compact() {
	n := 0
	for _, s := range d.slots {
		if !s.dead {
			d.slots[n] = s
			d.index[s.key] = n
			n++
		}
	}
	clear(d.slots[n:])
	d.slots = d.slots[:n]
}

// shrink makes the index and the slots anew at the live size, in order,
// each entry keeping its sequence number (SCAN cursors stay valid).
func (d *dict[V]) shrink() {
	index := make(map[string]int, d.live)
	slots := make([]slot[V], 0, d.live)
	for _, s := range d.slots {
		if !s.dead {
			index[s.key] = len(slots)
			slots = append(slots, s)
		}
	}
	d.index, d.slots, d.peak = index, slots, d.live
}

// each calls fn for every entry in order until fn returns false. fn must
// not add or delete entries.
func (d *dict[V]) each(fn func(key string, v V) bool) {
	for i := range d.slots {
		if s := &d.slots[i]; !s.dead && !fn(s.key, s.val) {
			return
		}
	}
}

// keys returns the keys in order.
func (d *dict[V]) keys() []string {
	out := make([]string, 0, d.live)
	d.each(func(k string, _ V) bool { out = append(out, k); return true })
	return out
}

// scan visits up to count live entries starting at cursor (a sequence
// number; 0 starts) and returns the cursor to continue from, 0 when done.
// fn must not add or delete entries.
func (d *dict[V]) scan(cursor uint64, count int, fn func(key string, v V)) uint64 {
	lo, hi := 0, len(d.slots)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if d.slots[m].seq < cursor {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < len(d.slots); i++ {
		s := &d.slots[i]
		if s.dead {
			continue
		}
		if count == 0 {
			return s.seq
		}
		fn(s.key, s.val)
		count--
	}
	return 0
}

// nth returns the i-th live entry in order, compacting first so the
// random-member commands index in O(1) (amortised).
func (d *dict[V]) nth(i int) (string, V) {
	if d.live != len(d.slots) {
		d.compact()
	}
	return d.slots[i].key, d.slots[i].val
}
