package store

import (
	"bytes"
	"math"
	"math/big"
	"slices"

	"github.com/dynonode/dynonode/actors/resp"
)

// SORT and SORT_RO as Redis 7.0's sortCommandGeneric (sort.c): options
// parsed first (syntax errors before the key's type), the elements of a
// list, set or sorted set sorted numerically (each read as C's strtod
// reads it) or with ALPHA as strings, by the elements themselves or by
// the keys and hash fields a BY pattern names, LIMIT applied, GET
// patterns looked up, the result replied or, with STORE, stored as a list.
//
// Where Redis's order is not defined the engine orders by the elements'
// bytes, so that every replica of a set answers alike whatever order its
// elements arrived in: a set under BY a constant (Redis: its hash order),
// and equal or missing ALPHA BY weights of a set or sorted set (Redis:
// load order, then glibc's stable merge sort, or its own unstable pqsort
// under LIMIT). A list keeps its order for equal weights, as Redis's
// stable sort does. Numeric sorting and ALPHA on the elements are total
// orders, as in Redis.

type sortElem struct {
	obj   []byte
	score float64
	cmp   []byte // ALPHA BY: the weight; nil when its key is missing
}

type sortOptions struct {
	desc, alpha, dontsort bool
	by, store             []byte
	gets                  [][]byte
	limitStart, limitCnt  int64
}

func (e *Engine) cmdSort(args [][]byte, dst []byte) []byte {
	readonly := cmdName(args) == "sort_ro"
	o := sortOptions{limitCnt: -1}
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case is(args[j], "asc"):
			o.desc = false
		case is(args[j], "desc"):
			o.desc = true
		case is(args[j], "alpha"):
			o.alpha = true
		case is(args[j], "limit") && left >= 2:
			s, ok1 := resp.ParseInt(args[j+1])
			c, ok2 := resp.ParseInt(args[j+2])
			if !ok1 || !ok2 {
				return appendErr(dst, errNotInt)
			}
			o.limitStart, o.limitCnt = s, c
			j += 2
		case !readonly && is(args[j], "store") && left >= 1:
			o.store = args[j+1]
			j++
		case is(args[j], "by") && left >= 1:
			o.by = args[j+1]
			// A pattern without '*' names one key for every element:
			// nothing to sort by. As in Redis, that stays so even when a
			// later BY (the one used) has a '*'.
			if bytes.IndexByte(cstr(o.by), '*') < 0 {
				o.dontsort = true
			}
			j++
		case is(args[j], "get") && left >= 1:
			o.gets = append(o.gets, args[j+1])
			j++
		default:
			return appendErr(dst, errSyntax)
		}
	}
	v := e.lookup(args[1])
	if v != nil && v.kind != kList && v.kind != kSet && v.kind != kZSet {
		return appendErr(dst, errWrongType)
	}
	kind := kList
	if v != nil {
		kind = v.kind
	}
	// A set's own order is no order: sorted (as strings) when the result
	// is stored or a script asks, so that replicas and replays agree.
	if o.dontsort && kind == kSet && (o.store != nil || e.inScript) {
		o.dontsort, o.alpha, o.by = false, true, nil
	}
	n := int64(0)
	if v != nil {
		switch kind {
		case kList:
			n = int64(v.list().len())
		case kSet:
			n = int64(v.set().len())
		case kZSet:
			n = int64(v.zset().len())
		}
	}
	start := min(max(o.limitStart, 0), n)
	cnt := min(max(o.limitCnt, -1), n)
	end := n - 1
	if cnt >= 0 {
		end = start + cnt - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)

	var vec []sortElem
	if v != nil {
		vec, start, end = e.sortLoad(v, o, start, end)
	}
	if !o.dontsort {
		bad := false
		for i := range vec {
			by := vec[i].obj
			if o.by != nil {
				if by = e.sortLookup(o.by, vec[i].obj); by == nil {
					continue
				}
			}
			if o.alpha {
				if o.by != nil {
					vec[i].cmp = by
				}
				continue
			}
			f, ok := sortScore(by)
			if !ok {
				bad = true
			}
			vec[i].score = f
		}
		if bad {
			return appendErr(dst, "ERR One or more scores can't be converted into double")
		}
		slices.SortStableFunc(vec, func(a, b sortElem) int {
			c := sortCompare(&a, &b, o)
			if c == 0 && kind != kList {
				// Equal weights (ALPHA BY): Redis keeps its load order, a
				// set's or sorted set's hash order, which is no order; the
				// elements' bytes make every replica answer alike. A list's
				// order is the same everywhere and is kept, as in Redis.
				c = bytes.Compare(a.obj, b.obj)
			}
			if o.desc {
				return -c
			}
			return c
		})
	}
	rows := max(end-start+1, 0)
	outLen := rows
	if len(o.gets) > 0 {
		outLen = rows * int64(len(o.gets))
	}
	if o.store == nil {
		dst = resp.AppendArrayHeader(dst, int(outLen))
		for i := start; i <= end; i++ {
			if len(o.gets) == 0 {
				dst = resp.AppendBulk(dst, vec[i].obj)
			}
			for _, g := range o.gets {
				if val := e.sortLookup(g, vec[i].obj); val == nil {
					dst = resp.AppendNullBulk(dst)
				} else {
					dst = resp.AppendBulk(dst, val)
				}
			}
		}
		return dst
	}
	items := make([][]byte, 0, outLen)
	for i := start; i <= end; i++ {
		if len(o.gets) == 0 {
			items = append(items, clone(vec[i].obj))
		}
		for _, g := range o.gets {
			items = append(items, clone(e.sortLookup(g, vec[i].obj))) // a missing value is stored as ""
		}
	}
	if len(items) == 0 {
		e.del(o.store)
		return resp.AppendInt(dst, 0)
	}
	for i, it := range items {
		if it == nil {
			items[i] = []byte{}
		}
	}
	l := &list{}
	l.reset(items)
	e.del(o.store) // setKey: whatever was there, and its expiry, goes
	e.add(o.store, &value{kind: kList, coll: l})
	return resp.AppendInt(dst, outLen)
}

// sortLoad returns the elements to sort: with nothing to sort, a list's or
// sorted set's own range (start..end, in DESC order when asked), rebased to
// 0; otherwise every element.
func (e *Engine) sortLoad(v *value, o sortOptions, start, end int64) ([]sortElem, int64, int64) {
	var n int
	var at func(int) []byte
	switch v.kind {
	case kSet:
		s := v.set()
		vec := make([]sortElem, 0, s.len())
		s.each(func(k string, _ struct{}) bool {
			vec = append(vec, sortElem{obj: []byte(k)})
			return true
		})
		if o.dontsort {
			// Redis answers in its set's order, which is no order; the
			// engine's set order is the order of insertion, which differs
			// from replica to replica. By the elements' bytes, every
			// replica answers alike.
			slices.SortFunc(vec, func(a, b sortElem) int { return bytes.Compare(a.obj, b.obj) })
		}
		return vec, start, end
	case kList:
		l := v.list()
		n, at = l.len(), l.at
	case kZSet:
		z := v.zset()
		n, at = z.len(), func(i int) []byte { return []byte(z.items[i].member) }
	}
	if o.dontsort { // already in order: the range as it is, from the end for DESC
		var vec []sortElem
		for i := start; i <= end; i++ {
			j := i
			if o.desc {
				j = int64(n) - 1 - i
			}
			vec = append(vec, sortElem{obj: at(int(j))})
		}
		return vec, 0, end - start
	}
	vec := make([]sortElem, n)
	for i := range vec {
		vec[i].obj = at(i)
	}
	return vec, start, end
}

// sortCompare is Redis's sortCompare before DESC: numeric by score, equal
// scores by the elements' bytes; ALPHA by the weights (a missing one
// first), or the elements, as C strings unless the result is stored.
func sortCompare(a, b *sortElem, o sortOptions) int {
	switch {
	case !o.alpha:
		switch {
		case a.score > b.score:
			return 1
		case a.score < b.score:
			return -1
		}
		return bytes.Compare(a.obj, b.obj)
	case o.by != nil:
		switch {
		case a.cmp == nil && b.cmp == nil:
			return 0
		case a.cmp == nil:
			return -1
		case b.cmp == nil:
			return 1
		case o.store != nil:
			return bytes.Compare(a.cmp, b.cmp)
		}
		return bytes.Compare(cstr(a.cmp), cstr(b.cmp)) // strcoll in the C locale
	case o.store != nil:
		return bytes.Compare(a.obj, b.obj)
	}
	return bytes.Compare(cstr(a.obj), cstr(b.obj))
}

// sortScore reads an element or weight as SORT does, with C's strtod on
// the C string: leading space skipped, the rest all number; an empty
// string is 0; NaN, trailing bytes and overflow or underflow are errors.
func sortScore(b []byte) (float64, bool) {
	b = cstr(b)
	if len(b) == 0 {
		return 0, true
	}
	t := b
	for len(t) > 0 && isCSpace(t[0]) {
		t = t[1:]
	}
	f, ok, erange := parseCDouble(t)
	if !ok || erange || math.IsNaN(f) {
		return 0, false
	}
	if f != 0 && math.Abs(f) < 0x1p-1022 {
		// glibc's strtod also reports ERANGE for a subnormal result it had
		// to round (1e-310), not for an exact one (0x1p-1074).
		exact, ok := new(big.Rat).SetString(string(t))
		if !ok || exact.Cmp(new(big.Rat).SetFloat64(f)) != 0 {
			return 0, false
		}
	}
	return f, true
}

// sortLookup is Redis's lookupKeyByPattern: "#" is the element itself;
// otherwise the first '*' of the pattern is replaced by the element to
// make a key name, whose string value is the result, or, when "->field"
// follows the '*', that field of the hash at the key. Nil when the
// pattern has no '*', or the key, the field or the right type is missing.
func (e *Engine) sortLookup(pattern, elem []byte) []byte {
	if c := cstr(pattern); len(c) == 1 && c[0] == '#' {
		if elem == nil {
			return []byte{} // an empty element is found, not missing
		}
		return elem
	}
	p := bytes.IndexByte(cstr(pattern), '*')
	if p < 0 {
		return nil
	}
	var field []byte
	if f := bytes.Index(cstr(pattern[p+1:]), []byte("->")); f >= 0 && p+1+f+2 < len(cstr(pattern)) {
		field = pattern[p+1+f+2:]
	}
	postfix := len(pattern) - p - 1
	if field != nil {
		postfix -= len(field) + 2
	}
	key := make([]byte, 0, p+len(elem)+postfix)
	key = append(append(append(key, pattern[:p]...), elem...), pattern[p+1:p+1+postfix]...)
	v := e.lookup(key)
	switch {
	case v == nil:
		return nil
	case field != nil:
		if v.kind != kHash {
			return nil
		}
		val, ok := v.hash().get(field)
		if !ok {
			return nil
		}
		if val == nil {
			return []byte{}
		}
		return val
	case v.kind != kString:
		return nil
	}
	if b := v.str(); b != nil {
		return b
	}
	return []byte{}
}

// sortStoreArg is where the key a SORT stores to is in args, or 0: the
// last STORE, as cmdSort parses options (LIMIT takes two arguments, BY,
// GET and STORE one). The router's Spec.StoreIndex reads it the same way
// (TestSortStoreKeyAgrees).
func sortStoreArg(args [][]byte) int {
	at := 0
	for i := 2; i < len(args); i++ {
		left := len(args) - i - 1
		switch {
		case is(args[i], "limit") && left >= 2:
			i += 2
		case is(args[i], "store") && left >= 1:
			at = i + 1
			i++
		case (is(args[i], "by") || is(args[i], "get")) && left >= 1:
			i++
		}
	}
	return at
}
