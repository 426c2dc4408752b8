package store

import (
	"math"
	"slices"

	"github.com/dynonode/dynonode/actors/resp"
)

const (
	errMinMaxFloat = "ERR min or max is not a float"
	errMinMaxLex   = "ERR min or max not valid string range item"
	errZNaN        = "ERR resulting score is not a number (NaN)"
)

func (e *Engine) lookupZSet(key []byte) (z *zset, wrong bool) {
	v := e.lookup(key)
	switch {
	case v == nil:
		return nil, false
	case v.kind != kZSet:
		return nil, true
	}
	return v.zset(), false
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
func (e *Engine) cmdZAdd(args [][]byte, dst []byte) []byte { return e.zadd(args, false, dst) }

// ZINCRBY key increment member is ZADD with INCR, options parser included,
// exactly as Redis runs it.
func (e *Engine) cmdZIncrBy(args [][]byte, dst []byte) []byte { return e.zadd(args, true, dst) }

func (e *Engine) zadd(args [][]byte, incr bool, dst []byte) []byte {
	var nx, xx, gt, lt, ch bool
	i := 2
	for ; i < len(args); i++ {
		switch {
		case is(args[i], "nx"):
			nx = true
		case is(args[i], "xx"):
			xx = true
		case is(args[i], "ch"):
			ch = true
		case is(args[i], "incr"):
			incr = true
		case is(args[i], "gt"):
			gt = true
		case is(args[i], "lt"):
			lt = true
		default:
			goto parsed
		}
	}
parsed:
	pairs := args[i:]
	if len(pairs) == 0 || len(pairs)%2 != 0 {
		return appendErr(dst, errSyntax)
	}
	if nx && xx {
		return appendErr(dst, "ERR XX and NX options at the same time are not compatible")
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		return appendErr(dst, "ERR GT, LT, and/or NX options at the same time are not compatible")
	}
	if incr && len(pairs) > 2 {
		return appendErr(dst, "ERR INCR option supports a single increment-element pair")
	}
	scores := make([]float64, len(pairs)/2)
	for j := range scores {
		f, ok := parseDouble(pairs[2*j])
		if !ok {
			return appendErr(dst, errNotFloat)
		}
		scores[j] = f
	}
	z, wrong := e.lookupZSet(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	var added, updated, processed int64
	var last float64
	if z == nil && !xx {
		z = newZSet()
		// Redis 7.0 makes a skiplist at once only when the first member
		// is too long for a listpack (zaddGenericCommand).
		z.skiplist = len(pairs[1]) > e.enc.ZSetMaxListpackValue
		e.add(args[1], &value{kind: kZSet, coll: z})
	}
	for j := 0; z != nil && j < len(scores); j++ {
		score, member := scores[j], string(pairs[2*j+1])
		cur, exists := z.scores[member]
		switch {
		case exists && nx:
			continue
		case exists:
			if incr {
				score += cur
				if math.IsNaN(score) {
					return appendErr(dst, errZNaN)
				}
			}
			if (lt && score >= cur) || (gt && score <= cur) {
				continue
			}
			if score != cur {
				z.put(member, score)
				updated++
			}
		case xx:
			continue
		default:
			z.put(member, score)
			e.zsetAdded(z, member)
			added++
		}
		last = score
		processed++
	}
	if incr {
		if processed == 0 {
			return resp.AppendNullBulk(dst)
		}
		return appendScore(dst, last)
	}
	if ch {
		return resp.AppendInt(dst, added+updated)
	}
	return resp.AppendInt(dst, added)
}

func (e *Engine) cmdZRem(args [][]byte, dst []byte) []byte {
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil:
		return resp.AppendInt(dst, 0)
	}
	n := int64(0)
	for _, m := range args[2:] {
		if z.remove(string(m)) {
			n++
		}
	}
	e.dropIfEmpty(args[1], z.len())
	return resp.AppendInt(dst, n)
}

func (e *Engine) cmdZCard(args [][]byte, dst []byte) []byte {
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil:
		return resp.AppendInt(dst, 0)
	}
	return resp.AppendInt(dst, int64(z.len()))
}

// parseScoreRange is Redis's zslParseRange: "(" excludes, "-inf"/"+inf"
// work through strtod.
func parseScoreRange(minArg, maxArg []byte) (scoreRange, bool) {
	var r scoreRange
	var ok bool
	parse := func(b []byte) (float64, bool, bool) {
		if len(b) > 0 && b[0] == '(' {
			f, ok := parseRangeDouble(b[1:])
			return f, true, ok
		}
		f, ok := parseRangeDouble(b)
		return f, false, ok
	}
	if r.min, r.minex, ok = parse(minArg); !ok {
		return r, false
	}
	if r.max, r.maxex, ok = parse(maxArg); !ok {
		return r, false
	}
	return r, true
}

// parseLexBound is Redis's zslParseLexRangeItem.
func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) > 1 && b[1] != 0 {
			return lexBound{}, false
		}
		if b[0] == '+' {
			return lexBound{inf: 1, ex: true}, true
		}
		return lexBound{inf: -1, ex: true}, true
	case '(':
		return lexBound{s: string(b[1:]), ex: true}, true
	case '[':
		return lexBound{s: string(b[1:])}, true
	}
	return lexBound{}, false
}

func parseLexRange(minArg, maxArg []byte) (lexRange, bool) {
	lo, ok1 := parseLexBound(minArg)
	hi, ok2 := parseLexBound(maxArg)
	return lexRange{lo, hi}, ok1 && ok2
}

func (e *Engine) cmdZCount(args [][]byte, dst []byte) []byte {
	r, ok := parseScoreRange(args[2], args[3])
	if !ok {
		return appendErr(dst, errMinMaxFloat)
	}
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil:
		return resp.AppendInt(dst, 0)
	}
	lo, hi := z.scoreBounds(r)
	return resp.AppendInt(dst, int64(hi-lo))
}

func (e *Engine) cmdZLexCount(args [][]byte, dst []byte) []byte {
	r, ok := parseLexRange(args[2], args[3])
	if !ok {
		return appendErr(dst, errMinMaxLex)
	}
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil:
		return resp.AppendInt(dst, 0)
	}
	lo, hi := z.lexBounds(r)
	return resp.AppendInt(dst, int64(hi-lo))
}

func (e *Engine) cmdZScore(args [][]byte, dst []byte) []byte {
	z, wrong := e.lookupZSet(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if z != nil {
		if s, ok := z.scores[string(args[2])]; ok {
			return appendScore(dst, s)
		}
	}
	return resp.AppendNullBulk(dst)
}

func (e *Engine) cmdZMScore(args [][]byte, dst []byte) []byte {
	z, wrong := e.lookupZSet(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	dst = resp.AppendArrayHeader(dst, len(args)-2)
	for _, m := range args[2:] {
		if z != nil {
			if s, ok := z.scores[string(m)]; ok {
				dst = appendScore(dst, s)
				continue
			}
		}
		dst = resp.AppendNullBulk(dst)
	}
	return dst
}

func (e *Engine) cmdZRank(args [][]byte, dst []byte) []byte {
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil:
		return resp.AppendNullBulk(dst)
	}
	r := z.rank(string(args[2]))
	if r < 0 {
		return resp.AppendNullBulk(dst)
	}
	if cmdName(args) == "zrevrank" {
		r = z.len() - 1 - r
	}
	return resp.AppendInt(dst, int64(r))
}

// Range kinds and directions of Redis's zrangeGenericCommand.
const (
	byAuto = iota
	byRank
	byScore
	byLex
)

// ZRANGE and its older forms (ZREVRANGE, Z[REV]RANGEBYSCORE,
// Z[REV]RANGEBYLEX), one parser as in Redis 7.0.
func (e *Engine) cmdZRange(args [][]byte, dst []byte) []byte {
	by, rev, fixedDir := byAuto, false, false
	switch cmdName(args) {
	case "zrevrange":
		by, rev, fixedDir = byRank, true, true
	case "zrangebyscore":
		by, fixedDir = byScore, true
	case "zrevrangebyscore":
		by, rev, fixedDir = byScore, true, true
	case "zrangebylex":
		by, fixedDir = byLex, true
	case "zrevrangebylex":
		by, rev, fixedDir = byLex, true, true
	}
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := 4; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case is(args[j], "withscores"):
			withScores = true
		case is(args[j], "limit") && left >= 2:
			var ok1, ok2 bool
			offset, ok1 = resp.ParseInt(args[j+1])
			if ok1 {
				limit, ok2 = resp.ParseInt(args[j+2])
			}
			if !ok1 || !ok2 {
				return appendErr(dst, errNotInt)
			}
			j += 2
		case !fixedDir && is(args[j], "rev"):
			rev, fixedDir = true, true
		case by == byAuto && is(args[j], "bylex"):
			by = byLex
		case by == byAuto && is(args[j], "byscore"):
			by = byScore
		default:
			return appendErr(dst, errSyntax)
		}
	}
	if by == byAuto {
		by = byRank
	}
	if limit != -1 && by == byRank {
		return appendErr(dst, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	}
	if withScores && by == byLex {
		return appendErr(dst, "ERR syntax error, WITHSCORES not supported in combination with BYLEX")
	}
	minArg, maxArg := args[2], args[3]
	if rev && by != byRank {
		minArg, maxArg = maxArg, minArg
	}
	var start, end int64
	var sr scoreRange
	var lr lexRange
	switch by {
	case byRank:
		var ok1, ok2 bool
		start, ok1 = resp.ParseInt(minArg)
		if ok1 {
			end, ok2 = resp.ParseInt(maxArg)
		}
		if !ok1 || !ok2 {
			return appendErr(dst, errNotInt)
		}
	case byScore:
		var ok bool
		if sr, ok = parseScoreRange(minArg, maxArg); !ok {
			return appendErr(dst, errMinMaxFloat)
		}
	case byLex:
		var ok bool
		if lr, ok = parseLexRange(minArg, maxArg); !ok {
			return appendErr(dst, errMinMaxLex)
		}
	}
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil:
		return append(dst, replyEmptyArr...)
	}
	var lo, hi int // the selected items, before direction and LIMIT
	switch by {
	case byRank:
		s, t, ok := rangeBounds(start, end, int64(z.len()))
		if !ok {
			return append(dst, replyEmptyArr...)
		}
		if rev {
			s, t = int64(z.len())-1-t, int64(z.len())-1-s
		}
		lo, hi = int(s), int(t)+1
	case byScore:
		lo, hi = z.scoreBounds(sr)
	case byLex:
		lo, hi = z.lexBounds(lr)
	}
	sel := z.items[lo:hi]
	if by != byRank {
		sel = applyLimit(sel, rev, offset, limit)
	}
	return appendZItems(dst, sel, rev, withScores)
}

// applyLimit applies LIMIT offset count in the reply's direction: a
// negative offset selects nothing and a negative count means all, as
// Redis's loops behave.
func applyLimit(sel []zitem, rev bool, offset, limit int64) []zitem {
	if offset < 0 || offset >= int64(len(sel)) {
		return nil
	}
	n := int64(len(sel)) - offset
	if limit >= 0 && limit < n {
		n = limit
	}
	if rev {
		end := int64(len(sel)) - offset
		return sel[end-n : end]
	}
	return sel[offset : offset+n]
}

// appendZItems appends items (reversed if rev) as members, or member-score
// pairs.
func appendZItems(dst []byte, items []zitem, rev, withScores bool) []byte {
	n := len(items)
	if withScores {
		dst = resp.AppendArrayHeader(dst, 2*n)
	} else {
		dst = resp.AppendArrayHeader(dst, n)
	}
	for k := range n {
		it := items[k]
		if rev {
			it = items[n-1-k]
		}
		dst = resp.AppendBulkString(dst, it.member)
		if withScores {
			dst = appendScore(dst, it.score)
		}
	}
	return dst
}

// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX key min max
func (e *Engine) cmdZRemRange(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	var start, end int64
	var sr scoreRange
	var lr lexRange
	switch name {
	case "zremrangebyrank":
		var ok1, ok2 bool
		start, ok1 = resp.ParseInt(args[2])
		if ok1 {
			end, ok2 = resp.ParseInt(args[3])
		}
		if !ok1 || !ok2 {
			return appendErr(dst, errNotInt)
		}
	case "zremrangebyscore":
		var ok bool
		if sr, ok = parseScoreRange(args[2], args[3]); !ok {
			return appendErr(dst, errMinMaxFloat)
		}
	default:
		var ok bool
		if lr, ok = parseLexRange(args[2], args[3]); !ok {
			return appendErr(dst, errMinMaxLex)
		}
	}
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil:
		return resp.AppendInt(dst, 0)
	}
	var lo, hi int
	switch name {
	case "zremrangebyrank":
		s, t, ok := rangeBounds(start, end, int64(z.len()))
		if !ok {
			return resp.AppendInt(dst, 0)
		}
		lo, hi = int(s), int(t)+1
	case "zremrangebyscore":
		lo, hi = z.scoreBounds(sr)
	default:
		lo, hi = z.lexBounds(lr)
	}
	z.removeRange(lo, hi)
	e.dropIfEmpty(args[1], z.len())
	return resp.AppendInt(dst, int64(hi-lo))
}

// ZPOPMIN and ZPOPMAX key [count]: a flat array of member, score pairs.
func (e *Engine) cmdZPop(args [][]byte, dst []byte) []byte {
	if len(args) > 3 {
		return appendErr(dst, errSyntax)
	}
	count := int64(1)
	if len(args) == 3 {
		var bad string
		if count, bad = parsePositive(args[2], ""); bad != "" {
			return appendErr(dst, bad)
		}
	}
	z, wrong := e.lookupZSet(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case z == nil || count == 0:
		return append(dst, replyEmptyArr...)
	}
	n := int(min(count, int64(z.len())))
	var popped []zitem
	if cmdName(args) == "zpopmin" {
		popped = append(popped, z.items[:n]...)
		z.removeRange(0, n)
	} else {
		popped = append(popped, z.items[z.len()-n:]...)
		z.removeRange(z.len()-n, z.len())
		for i, j := 0, len(popped)-1; i < j; i, j = i+1, j-1 {
			popped[i], popped[j] = popped[j], popped[i]
		}
	}
	e.dropIfEmpty(args[1], z.len())
	return appendZItems(dst, popped, false, true)
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: pops from the first
// sorted set that exists, answering [key, [[member, score] ...]], or a
// null array.
func (e *Engine) cmdZMPop(args [][]byte, dst []byte) []byte {
	keys, min_, count, bad := ParseMPop(args, [2]string{"MIN", "MAX"})
	if bad != "" {
		return appendErr(dst, bad)
	}
	for _, k := range keys {
		z, wrong := e.lookupZSet(k)
		switch {
		case wrong:
			return appendErr(dst, errWrongType)
		case z == nil:
			continue
		}
		n := int(min(count, int64(z.len())))
		var popped []zitem
		if min_ {
			popped = append(popped, z.items[:n]...)
			z.removeRange(0, n)
		} else {
			popped = append(popped, z.items[z.len()-n:]...)
			z.removeRange(z.len()-n, z.len())
			slices.Reverse(popped)
		}
		e.dropIfEmpty(k, z.len())
		dst = resp.AppendArrayHeader(dst, 2)
		dst = resp.AppendBulk(dst, k)
		dst = resp.AppendArrayHeader(dst, n)
		for _, it := range popped {
			dst = resp.AppendArrayHeader(dst, 2)
			dst = resp.AppendBulkString(dst, it.member)
			dst = appendScore(dst, it.score)
		}
		return dst
	}
	return resp.AppendNullArray(dst)
}
