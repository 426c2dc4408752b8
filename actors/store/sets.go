package store

import (
	"math"
	"slices"

	"github.com/dynonode/dynonode/actors/resp"
)

type set = dict[struct{}]

func (e *Engine) lookupSet(key []byte) (s *set, wrong bool) {
	v := e.lookup(key)
	switch {
	case v == nil:
		return nil, false
	case v.kind != kSet:
		return nil, true
	}
	return v.set(), false
}

func (e *Engine) cmdSAdd(args [][]byte, dst []byte) []byte {
	s, wrong := e.lookupSet(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if s == nil {
		s = newSetFor(args[2])
		e.add(args[1], &value{kind: kSet, coll: s})
	}
	n := int64(0)
	nonInt := false
	for _, m := range args[2:] {
		if s.set(m, struct{}{}) {
			n++
			nonInt = nonInt || !s.ht && !isLongString(m)
		}
	}
	if n > 0 { // Redis checks the size only when a member was added
		e.setAdded(s, nonInt)
	}
	return resp.AppendInt(dst, n)
}

func (e *Engine) cmdSRem(args [][]byte, dst []byte) []byte {
	s, wrong := e.lookupSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case s == nil:
		return resp.AppendInt(dst, 0)
	}
	n := int64(0)
	for _, m := range args[2:] {
		if s.del(m) {
			n++
		}
	}
	e.dropIfEmpty(args[1], s.len())
	return resp.AppendInt(dst, n)
}

func (e *Engine) cmdSCard(args [][]byte, dst []byte) []byte {
	s, wrong := e.lookupSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case s == nil:
		return resp.AppendInt(dst, 0)
	}
	return resp.AppendInt(dst, int64(s.len()))
}

func (e *Engine) cmdSIsMember(args [][]byte, dst []byte) []byte {
	s, wrong := e.lookupSet(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	return appendBool(dst, s != nil && s.has(args[2]))
}

func (e *Engine) cmdSMIsMember(args [][]byte, dst []byte) []byte {
	s, wrong := e.lookupSet(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	dst = resp.AppendArrayHeader(dst, len(args)-2)
	for _, m := range args[2:] {
		dst = appendBool(dst, s != nil && s.has(m))
	}
	return dst
}

// SMEMBERS replies in insertion order (Redis's order is unspecified).
func (e *Engine) cmdSMembers(args [][]byte, dst []byte) []byte {
	s, wrong := e.lookupSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case s == nil:
		return append(dst, replyEmptyArr...)
	}
	return appendMembers(dst, s)
}

// appendMembers appends a set's members as a RESP array, straight from the
// set: no slice of its keys, and the reply grown once to its exact size
// (SMEMBERS of growing sets was a simulated cluster's largest store cost,
// much of it the reply's append growth). The order is the set's, as
// keys() gives it.
func appendMembers(dst []byte, s *set) []byte {
	size := 0
	s.each(func(k string, _ struct{}) bool {
		size += len(k) + 5 + decimalLen(len(k)) // $<len>\r\n<member>\r\n
		return true
	})
	dst = resp.AppendArrayHeader(slices.Grow(dst, size+16), s.len())
	s.each(func(k string, _ struct{}) bool {
		dst = resp.AppendBulkString(dst, k)
		return true
	})
	return dst
}

// decimalLen is how many digits n (>= 0) has in base 10.
func decimalLen(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

func (e *Engine) cmdSMove(args [][]byte, dst []byte) []byte {
	src, wrong := e.lookupSet(args[1])
	if src == nil && !wrong {
		return resp.AppendInt(dst, 0)
	}
	to, wrongTo := e.lookupSet(args[2])
	if wrong || wrongTo {
		return appendErr(dst, errWrongType)
	}
	m := args[3]
	if src == to {
		return appendBool(dst, src.has(m))
	}
	if !src.del(m) {
		return resp.AppendInt(dst, 0)
	}
	e.dropIfEmpty(args[1], src.len())
	if to == nil {
		to = newSetFor(m)
		e.add(args[2], &value{kind: kSet, coll: to})
	}
	if to.set(m, struct{}{}) {
		e.setAdded(to, !isLongString(m))
	}
	return resp.AppendInt(dst, 1)
}

// loadSets looks up keys as sets (nil for missing ones); wrong reports a
// key of another type.
func (e *Engine) loadSets(keys [][]byte) (sets []*set, wrong bool) {
	sets = make([]*set, len(keys))
	for i, k := range keys {
		s, w := e.lookupSet(k)
		if w {
			return nil, true
		}
		sets[i] = s
	}
	return sets, false
}

// setOp computes an intersection, union or difference in the order the
// first operand (union: each operand in turn) holds its members; limit
// bounds an intersection's size (0: none).
func setOp(op string, sets []*set, limit int) []string {
	var out []string
	switch op {
	case "inter":
		for _, s := range sets {
			if s == nil {
				return nil
			}
		}
		sets[0].each(func(m string, _ struct{}) bool {
			for _, o := range sets[1:] {
				if !o.has([]byte(m)) {
					return true
				}
			}
			out = append(out, m)
			return limit == 0 || len(out) < limit
		})
	case "union":
		seen := map[string]bool{}
		for _, s := range sets {
			if s == nil {
				continue
			}
			s.each(func(m string, _ struct{}) bool {
				if !seen[m] {
					seen[m] = true
					out = append(out, m)
				}
				return true
			})
		}
	case "diff":
		if sets[0] == nil {
			return nil
		}
		sets[0].each(func(m string, _ struct{}) bool {
			for _, o := range sets[1:] {
				if o != nil && o.has([]byte(m)) {
					return true
				}
			}
			out = append(out, m)
			return true
		})
	}
	return out
}

// SINTER, SUNION, SDIFF and their STORE forms. Every key is type-checked
// before any work, as Redis does.
func (e *Engine) cmdSetOp(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	op := name[1:]
	keys := args[1:]
	var dstKey []byte
	if len(op) > 5 && op[len(op)-5:] == "store" {
		op, dstKey, keys = op[:len(op)-5], args[1], args[2:]
	}
	sets, wrong := e.loadSets(keys)
	if wrong {
		return appendErr(dst, errWrongType)
	}
	members := setOp(op, sets, 0)
	if dstKey == nil {
		return appendStrings(dst, members)
	}
	if len(members) == 0 {
		e.del(dstKey)
		return resp.AppendInt(dst, 0)
	}
	s := newDict[struct{}]()
	for _, m := range members {
		s.setNew(m, struct{}{})
	}
	s.ht = e.setNeedsHT(s)
	if op == "diff" && diffAddsFirstWhole(sets) {
		// Redis's second SDIFF algorithm copies the first set into the
		// result, then removes: the copy decides the encoding.
		s.ht = e.setNeedsHT(sets[0])
	}
	e.del(dstKey)
	e.add(dstKey, &value{kind: kSet, coll: s})
	return resp.AppendInt(dst, int64(len(members)))
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]
func (e *Engine) cmdSInterCard(args [][]byte, dst []byte) []byte {
	numkeys, ok := resp.ParseInt(args[1])
	if !ok || numkeys < 1 {
		return appendErr(dst, "ERR numkeys should be greater than 0")
	}
	if numkeys > int64(len(args)-2) {
		return appendErr(dst, "ERR Number of keys can't be greater than number of args")
	}
	limit := int64(0)
	for j := 2 + int(numkeys); j < len(args); j++ {
		if is(args[j], "limit") && j < len(args)-1 {
			j++
			var bad string
			if limit, bad = parsePositive(args[j], "ERR LIMIT can't be negative"); bad != "" {
				return appendErr(dst, bad)
			}
			continue
		}
		return appendErr(dst, errSyntax)
	}
	sets, wrong := e.loadSets(args[2 : 2+numkeys])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	return resp.AppendInt(dst, int64(len(setOp("inter", sets, int(min(limit, math.MaxInt32))))))
}

// SPOP key [count], drawing from the engine's seeded source.
func (e *Engine) cmdSPop(args [][]byte, dst []byte) []byte {
	if len(args) > 3 {
		return appendErr(dst, errSyntax)
	}
	var count int64 = -1
	if len(args) == 3 {
		var bad string
		if count, bad = parsePositive(args[2], ""); bad != "" {
			return appendErr(dst, bad)
		}
	}
	s, wrong := e.lookupSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case s == nil && count >= 0:
		return append(dst, replyEmptyArr...)
	case s == nil:
		return resp.AppendNullBulk(dst)
	}
	if count < 0 {
		m, _ := s.nth(e.rand.IntN(s.len()))
		s.del([]byte(m))
		e.dropIfEmpty(args[1], s.len())
		return resp.AppendBulkString(dst, m)
	}
	var picked []string
	for _, i := range e.randomPicks(s.len(), count) {
		m, _ := s.nth(i)
		picked = append(picked, m)
	}
	for _, m := range picked {
		s.del([]byte(m))
	}
	if left := int64(s.len()); left > 0 && left*5 <= count {
		// Redis pops most of a set by building a new one from what is
		// left (spopWithCountCommand's third case).
		e.setFromContent(s)
	}
	e.dropIfEmpty(args[1], s.len())
	return appendStrings(dst, picked)
}

// SRANDMEMBER key [count], drawing from the engine's seeded source.
func (e *Engine) cmdSRandMember(args [][]byte, dst []byte) []byte {
	if len(args) > 3 {
		return appendErr(dst, errSyntax)
	}
	if len(args) == 2 {
		s, wrong := e.lookupSet(args[1])
		switch {
		case wrong:
			return appendErr(dst, errWrongType)
		case s == nil:
			return resp.AppendNullBulk(dst)
		}
		m, _ := s.nth(e.rand.IntN(s.len()))
		return resp.AppendBulkString(dst, m)
	}
	l, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	if l == math.MinInt64 {
		return appendErr(dst, "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
	}
	s, wrong := e.lookupSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case s == nil || l == 0:
		return append(dst, replyEmptyArr...)
	}
	picks := e.randomPicks(s.len(), l)
	dst = resp.AppendArrayHeader(dst, len(picks))
	for _, i := range picks {
		m, _ := s.nth(i)
		dst = resp.AppendBulkString(dst, m)
	}
	return dst
}

// SSCAN key cursor [MATCH pattern] [COUNT count]
func (e *Engine) cmdSScan(args [][]byte, dst []byte) []byte {
	cursor, ok := parseCursor(args[2])
	if !ok {
		return appendErr(dst, errCursor)
	}
	s, wrong := e.lookupSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case s == nil:
		return append(dst, replyEmptyScan...)
	}
	o, bad := parseScanOpts(args[3:], false)
	if bad != "" {
		return appendErr(dst, bad)
	}
	var out []string
	next := s.scan(cursor, scanCount(s.len(), o.count), func(m string, _ struct{}) {
		if o.pattern == nil || matchGlob(o.pattern, []byte(m)) {
			out = append(out, m)
		}
	})
	return appendScan(dst, next, out)
}

// diffAddsFirstWhole reports whether Redis 7.0's SDIFF takes its second
// algorithm (copy the first set, then remove the others' members) for
// these sets, as sunionDiffGenericCommand weighs the two.
func diffAddsFirstWhole(sets []*set) bool {
	if sets[0] == nil {
		return false
	}
	one, two := 0, 0
	for i, s := range sets {
		if s == nil {
			continue
		}
		if i > 0 && s == sets[0] {
			return false // the same set: Redis answers empty at once
		}
		one += sets[0].len()
		two += s.len()
	}
	return one/2 > two
}
