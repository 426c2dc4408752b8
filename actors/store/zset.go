package store

import (
	"slices"
	"sort"
	"strings"
)

// zset is a sorted set: a map for O(1) score lookup and a slice kept in
// (score, member) order, Redis's order. Rank and range lookups are binary
// searches, O(log n); an insert or removal moves the tail of the slice,
// O(n) but a memmove. A skiplist or B-tree would make updates O(log n) for
// very large sets; the slice keeps the code small until that matters.
type zset struct {
	scores   map[string]float64
	items    []zitem
	skiplist bool // Redis would hold it as a skiplist, not a listpack (encoding.go)
}

type zitem struct {
	score  float64
	member string
}

func newZSet() *zset { return &zset{scores: map[string]float64{}} }

func (z *zset) len() int { return len(z.items) }

func zless(a, b zitem) bool {
	return a.score < b.score || (a.score == b.score && a.member < b.member)
}

// search returns the position of it, or where it would go.
func (z *zset) search(it zitem) int {
	return sort.Search(len(z.items), func(i int) bool { return !zless(z.items[i], it) })
}

// rank returns the 0-based rank of member, -1 if absent.
func (z *zset) rank(member string) int {
	s, ok := z.scores[member]
	if !ok {
		return -1
	}
	return z.search(zitem{s, member})
}

// put sets member's score, reporting whether it was added. A score of -0
// is stored as 0, as Redis's compact encoding stores it.
func (z *zset) put(member string, score float64) bool {
	if score == 0 {
		score = 0
	}
	old, exists := z.scores[member]
	if exists {
		if old == score {
			return false
		}
		z.removeAt(z.search(zitem{old, member}))
	}
	z.scores[member] = score
	it := zitem{score, member}
	i := z.search(it)
	z.items = append(z.items, zitem{})
	copy(z.items[i+1:], z.items[i:])
	z.items[i] = it
	return !exists
}

// fill makes an empty sorted set of items (distinct members, no NaN) in
// one sort: a bulk load (RESTORE) stays O(n log n) whatever the order the
// items come in, where put one by one moves the slice each time.
func (z *zset) fill(items []zitem) {
	for i := range items {
		if items[i].score == 0 {
			items[i].score = 0 // -0 as put stores it
		}
		z.scores[items[i].member] = items[i].score
	}
	slices.SortFunc(items, func(a, b zitem) int {
		switch {
		case zless(a, b):
			return -1
		case zless(b, a):
			return 1
		}
		return 0
	})
	z.items = items
}

func (z *zset) removeAt(i int) {
	copy(z.items[i:], z.items[i+1:])
	z.items[len(z.items)-1] = zitem{}
	z.items = z.items[:len(z.items)-1]
}

func (z *zset) remove(member string) bool {
	s, ok := z.scores[member]
	if !ok {
		return false
	}
	z.removeAt(z.search(zitem{s, member}))
	delete(z.scores, member)
	return true
}

// removeRange deletes items[from:to].
func (z *zset) removeRange(from, to int) {
	for _, it := range z.items[from:to] {
		delete(z.scores, it.member)
	}
	n := copy(z.items[from:], z.items[to:])
	clear(z.items[from+n:])
	z.items = z.items[:from+n]
}

// scoreRange is a parsed score interval: min/max with exclusivity.
type scoreRange struct {
	min, max     float64
	minex, maxex bool
}

func (r scoreRange) gteMin(s float64) bool {
	if r.minex {
		return s > r.min
	}
	return s >= r.min
}

func (r scoreRange) lteMax(s float64) bool {
	if r.maxex {
		return s < r.max
	}
	return s <= r.max
}

// scoreBounds returns the half-open positions [lo, hi) of items in r.
func (z *zset) scoreBounds(r scoreRange) (int, int) {
	lo := sort.Search(len(z.items), func(i int) bool { return r.gteMin(z.items[i].score) })
	hi := sort.Search(len(z.items), func(i int) bool { return !r.lteMax(z.items[i].score) })
	return lo, max(lo, hi)
}

// lexBound is one end of a lexicographic range: -inf, +inf, or a string
// included or excluded.
type lexBound struct {
	inf int // -1 minus infinity, +1 plus infinity, 0 a string
	s   string
	ex  bool
}

type lexRange struct{ min, max lexBound }

func (r lexRange) gteMin(m string) bool {
	switch r.min.inf {
	case -1:
		return true
	case 1:
		return false
	}
	if r.min.ex {
		return strings.Compare(m, r.min.s) > 0
	}
	return strings.Compare(m, r.min.s) >= 0
}

func (r lexRange) lteMax(m string) bool {
	switch r.max.inf {
	case 1:
		return true
	case -1:
		return false
	}
	if r.max.ex {
		return strings.Compare(m, r.max.s) < 0
	}
	return strings.Compare(m, r.max.s) <= 0
}

// lexBounds returns [lo, hi) of items in r. Lex ranges are meaningful only
// when all scores are equal, as in Redis; with mixed scores the walk from
// the first member >= min matches Redis's compact (listpack) encoding.
func (z *zset) lexBounds(r lexRange) (int, int) {
	lo := 0
	for lo < len(z.items) && !r.gteMin(z.items[lo].member) {
		lo++
	}
	hi := lo
	for hi < len(z.items) && r.lteMax(z.items[hi].member) {
		hi++
	}
	return lo, hi
}
