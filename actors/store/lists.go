package store

import (
	"bytes"
	"math"

	"github.com/dynonode/dynonode/actors/resp"
)

func (e *Engine) lookupList(key []byte) (l *list, wrong bool) {
	v := e.lookup(key)
	switch {
	case v == nil:
		return nil, false
	case v.kind != kList:
		return nil, true
	}
	return v.list(), false
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// LPUSH, RPUSH, LPUSHX, RPUSHX key element [element ...]
func (e *Engine) cmdPush(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	l, wrong := e.lookupList(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if l == nil {
		if name == "lpushx" || name == "rpushx" {
			return resp.AppendInt(dst, 0)
		}
		l = &list{}
		e.add(args[1], &value{kind: kList, coll: l})
	}
	for _, el := range args[2:] {
		if name[0] == 'l' {
			l.pushFront(clone(el))
		} else {
			l.pushBack(clone(el))
		}
	}
	return resp.AppendInt(dst, int64(l.len()))
}

// parsePositive is Redis's getPositiveLongFromObjectOrReply: msg (by
// default "value is out of range, must be positive") answers both a
// non-integer and a negative argument.
func parsePositive(b []byte, msg string) (int64, string) {
	if msg == "" {
		msg = errPositive
	}
	n, ok := resp.ParseInt(b)
	if !ok || n < 0 {
		return 0, msg
	}
	return n, ""
}

// LPOP and RPOP key [count]
func (e *Engine) cmdPop(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	if len(args) > 3 {
		return appendArityErr(dst, name)
	}
	hasCount := len(args) == 3
	var count int64
	if hasCount {
		var bad string
		if count, bad = parsePositive(args[2], ""); bad != "" {
			return appendErr(dst, bad)
		}
	}
	l, wrong := e.lookupList(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case l == nil && hasCount:
		return resp.AppendNullArray(dst)
	case l == nil:
		return resp.AppendNullBulk(dst)
	case hasCount && count == 0:
		return append(dst, replyEmptyArr...)
	}
	pop := l.popFront
	if name == "rpop" {
		pop = l.popBack
	}
	if !hasCount {
		dst = resp.AppendBulk(dst, pop())
	} else {
		n := int(min(count, int64(l.len())))
		dst = resp.AppendArrayHeader(dst, n)
		for range n {
			dst = resp.AppendBulk(dst, pop())
		}
	}
	e.dropIfEmpty(args[1], l.len())
	return dst
}

func (e *Engine) cmdLLen(args [][]byte, dst []byte) []byte {
	l, wrong := e.lookupList(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if l == nil {
		return resp.AppendInt(dst, 0)
	}
	return resp.AppendInt(dst, int64(l.len()))
}

// listIndex resolves a possibly negative index; ok is false out of range.
func listIndex(l *list, i int64) (int, bool) {
	if i < 0 {
		i += int64(l.len())
	}
	if i < 0 || i >= int64(l.len()) {
		return 0, false
	}
	return int(i), true
}

func (e *Engine) cmdLIndex(args [][]byte, dst []byte) []byte {
	l, wrong := e.lookupList(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case l == nil:
		return resp.AppendNullBulk(dst)
	}
	i, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	if at, ok := listIndex(l, i); ok {
		return resp.AppendBulk(dst, l.at(at))
	}
	return resp.AppendNullBulk(dst)
}

// LINSERT key BEFORE|AFTER pivot element
func (e *Engine) cmdLInsert(args [][]byte, dst []byte) []byte {
	var after bool
	switch {
	case is(args[2], "after"):
		after = true
	case is(args[2], "before"):
	default:
		return appendErr(dst, errSyntax)
	}
	l, wrong := e.lookupList(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case l == nil:
		return resp.AppendInt(dst, 0)
	}
	items := l.items()
	for i, it := range items {
		if !bytes.Equal(it, args[3]) {
			continue
		}
		if after {
			i++
		}
		items = append(items[:i], append([][]byte{clone(args[4])}, items[i:]...)...)
		l.reset(items)
		return resp.AppendInt(dst, int64(l.len()))
	}
	return resp.AppendInt(dst, -1)
}

// rangeBounds clamps LRANGE-style start/stop over n elements; ok is false
// when the range is empty.
func rangeBounds(start, end, n int64) (int64, int64, bool) {
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= n {
		return 0, 0, false
	}
	if end >= n {
		end = n - 1
	}
	return start, end, true
}

func (e *Engine) cmdLRange(args [][]byte, dst []byte) []byte {
	start, ok1 := resp.ParseInt(args[2])
	end, ok2 := resp.ParseInt(args[3])
	if !ok1 || !ok2 {
		return appendErr(dst, errNotInt)
	}
	l, wrong := e.lookupList(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case l == nil:
		return append(dst, replyEmptyArr...)
	}
	s, t, ok := rangeBounds(start, end, int64(l.len()))
	if !ok {
		return append(dst, replyEmptyArr...)
	}
	dst = resp.AppendArrayHeader(dst, int(t-s+1))
	for i := s; i <= t; i++ {
		dst = resp.AppendBulk(dst, l.at(int(i)))
	}
	return dst
}

// LREM key count element: count > 0 from the head, < 0 from the tail, 0
// all.
func (e *Engine) cmdLRem(args [][]byte, dst []byte) []byte {
	count, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	l, wrong := e.lookupList(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case l == nil:
		return resp.AppendInt(dst, 0)
	}
	items := l.items()
	limit := count
	if limit < 0 {
		limit = -limit
	}
	if count == 0 || limit < 0 { // -MinInt64 wraps: Redis then removes all
		limit = math.MaxInt64
	}
	removed := int64(0)
	keep := make([]bool, len(items))
	for k := range items {
		i := k
		if count < 0 {
			i = len(items) - 1 - k
		}
		if removed < limit && bytes.Equal(items[i], args[3]) {
			removed++
			continue
		}
		keep[i] = true
	}
	out := items[:0]
	for i, it := range items {
		if keep[i] {
			out = append(out, it)
		}
	}
	l.reset(out)
	e.dropIfEmpty(args[1], l.len())
	return resp.AppendInt(dst, removed)
}

func (e *Engine) cmdLSet(args [][]byte, dst []byte) []byte {
	l, wrong := e.lookupList(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case l == nil:
		return appendErr(dst, errNoKey)
	}
	i, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	at, ok := listIndex(l, i)
	if !ok {
		return appendErr(dst, errIndexRange)
	}
	l.setAt(at, clone(args[3]))
	return appendOK(dst)
}

func (e *Engine) cmdLTrim(args [][]byte, dst []byte) []byte {
	start, ok1 := resp.ParseInt(args[2])
	end, ok2 := resp.ParseInt(args[3])
	if !ok1 || !ok2 {
		return appendErr(dst, errNotInt)
	}
	l, wrong := e.lookupList(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case l == nil:
		return appendOK(dst)
	}
	s, t, ok := rangeBounds(start, end, int64(l.len()))
	if !ok {
		l.reset(nil)
	} else {
		l.reset(l.items()[s : t+1])
	}
	e.dropIfEmpty(args[1], l.len())
	return appendOK(dst)
}

// RPOPLPUSH source destination and LMOVE source destination LEFT|RIGHT
// LEFT|RIGHT. When source and destination are the same list it rotates,
// keeping the key (and its expiry).
func (e *Engine) cmdLMove(args [][]byte, dst []byte) []byte {
	fromLeft, toLeft := false, true
	if len(args) == 5 {
		var ok1, ok2 bool
		if fromLeft, ok1 = parseWhere(args[3]); !ok1 {
			return appendErr(dst, errSyntax)
		}
		if toLeft, ok2 = parseWhere(args[4]); !ok2 {
			return appendErr(dst, errSyntax)
		}
	}
	src, wrong := e.lookupList(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case src == nil:
		return resp.AppendNullBulk(dst)
	}
	to, wrong := e.lookupList(args[2])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	var el []byte
	if fromLeft {
		el = src.popFront()
	} else {
		el = src.popBack()
	}
	if to == nil {
		to = &list{}
		e.add(args[2], &value{kind: kList, coll: to})
	}
	if toLeft {
		to.pushFront(el)
	} else {
		to.pushBack(el)
	}
	e.dropIfEmpty(args[1], src.len())
	return resp.AppendBulk(dst, el)
}

func parseWhere(b []byte) (left, ok bool) {
	switch {
	case is(b, "left"):
		return true, true
	case is(b, "right"):
		return false, true
	}
	return false, false
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
func (e *Engine) cmdLPos(args [][]byte, dst []byte) []byte {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(args); j++ {
		more := j < len(args)-1
		switch {
		case is(args[j], "rank") && more:
			j++
			r, ok := resp.ParseInt(args[j])
			if !ok {
				return appendErr(dst, errNotInt)
			}
			if r == 0 {
				return appendErr(dst, "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
			}
			rank = r
		case is(args[j], "count") && more:
			j++
			var bad string
			if count, bad = parsePositive(args[j], "ERR COUNT can't be negative"); bad != "" {
				return appendErr(dst, bad)
			}
		case is(args[j], "maxlen") && more:
			j++
			var bad string
			if maxlen, bad = parsePositive(args[j], "ERR MAXLEN can't be negative"); bad != "" {
				return appendErr(dst, bad)
			}
		default:
			return appendErr(dst, errSyntax)
		}
	}
	fromTail := rank < 0
	if fromTail {
		rank = -rank // wraps for MinInt64, as Redis's C does: the first match counts
	}
	l, wrong := e.lookupList(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case l == nil && count != -1:
		return append(dst, replyEmptyArr...)
	case l == nil:
		return resp.AppendNullBulk(dst)
	}
	n := l.len()
	var found []int64
	matches := int64(0)
	for k := 0; k < n && (maxlen == 0 || int64(k) < maxlen); k++ {
		i := k
		if fromTail {
			i = n - 1 - k
		}
		if !bytes.Equal(l.at(i), args[2]) {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		found = append(found, int64(i))
		if count == -1 || (count != 0 && matches-rank+1 >= count) {
			break
		}
	}
	if count == -1 {
		if len(found) == 0 {
			return resp.AppendNullBulk(dst)
		}
		return resp.AppendInt(dst, found[0])
	}
	dst = resp.AppendArrayHeader(dst, len(found))
	for _, i := range found {
		dst = resp.AppendInt(dst, i)
	}
	return dst
}

// ParseMPop parses LMPOP's and ZMPOP's arguments after the name as Redis
// 7.0 does (lmpopGenericCommand, zmpopGenericCommand): numkeys, the keys,
// the end (ends names the two accepted, upper case), then COUNT n. It
// answers the keys, whether the first end was given, the count, or
// Redis's error. args[0] is the name; the coordinator parses BLMPOP's and
// BZMPOP's arguments after their timeout with it.
func ParseMPop(args [][]byte, ends [2]string) (keys [][]byte, first bool, count int64, bad string) {
	n, ok := resp.ParseInt(args[1])
	if !ok || n < 1 {
		return nil, false, 0, "ERR numkeys should be greater than 0"
	}
	if n > int64(len(args))-3 { // no room for the keys and the end (and 2+n cannot overflow)
		return nil, false, 0, errSyntax
	}
	where := 2 + n
	switch {
	case bytes.EqualFold(args[where], []byte(ends[0])):
		first = true
	case bytes.EqualFold(args[where], []byte(ends[1])):
	default:
		return nil, false, 0, errSyntax
	}
	count = -1
	for j := where + 1; j < int64(len(args)); j++ {
		if count == -1 && bytes.EqualFold(args[j], []byte("count")) && j+1 < int64(len(args)) {
			j++
			c, ok := resp.ParseInt(args[j])
			if !ok || c < 1 {
				return nil, false, 0, "ERR count should be greater than 0"
			}
			count = c
			continue
		}
		return nil, false, 0, errSyntax
	}
	if count == -1 {
		count = 1
	}
	return args[2:where], first, count, ""
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops from the
// first non-empty list, answering [key, [element ...]], or a null array.
func (e *Engine) cmdLMPop(args [][]byte, dst []byte) []byte {
	keys, left, count, bad := ParseMPop(args, [2]string{"LEFT", "RIGHT"})
	if bad != "" {
		return appendErr(dst, bad)
	}
	for _, k := range keys {
		l, wrong := e.lookupList(k)
		switch {
		case wrong:
			return appendErr(dst, errWrongType)
		case l == nil:
			continue
		}
		pop := l.popBack
		if left {
			pop = l.popFront
		}
		n := int(min(count, int64(l.len())))
		dst = resp.AppendArrayHeader(dst, 2)
		dst = resp.AppendBulk(dst, k)
		dst = resp.AppendArrayHeader(dst, n)
		for range n {
			dst = resp.AppendBulk(dst, pop())
		}
		e.dropIfEmpty(k, l.len())
		return dst
	}
	return resp.AppendNullArray(dst)
}
