package store

import (
	"math"

	"github.com/dynonode/dynonode/actors/resp"
)

func (e *Engine) lookupHash(key []byte) (h *dict[[]byte], wrong bool) {
	v := e.lookup(key)
	switch {
	case v == nil:
		return nil, false
	case v.kind != kHash:
		return nil, true
	}
	return v.hash(), false
}

// hashForWrite returns the hash at key, creating an empty one (added to
// the keyspace) when missing.
func (e *Engine) hashForWrite(key []byte) (h *dict[[]byte], wrong bool) {
	h, wrong = e.lookupHash(key)
	if h == nil && !wrong {
		h = newDict[[]byte]()
		e.add(key, &value{kind: kHash, coll: h})
	}
	return h, wrong
}

// dropIfEmpty deletes key once its collection is empty: Redis never keeps
// an empty hash, list, set or sorted set.
func (e *Engine) dropIfEmpty(key []byte, n int) {
	if n == 0 {
		e.del(key)
	}
}

// HSET and HMSET key field value [field value ...]
func (e *Engine) cmdHSet(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	if len(args)%2 == 1 {
		return appendArityErr(dst, name)
	}
	h, wrong := e.hashForWrite(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	e.hashArgs(h, args[2:]...)
	added := int64(0)
	for i := 2; i < len(args); i += 2 {
		if h.set(args[i], append([]byte(nil), args[i+1]...)) {
			added++
		}
	}
	e.hashAdded(h)
	if name == "hmset" {
		return appendOK(dst)
	}
	return resp.AppendInt(dst, added)
}

func (e *Engine) cmdHSetNX(args [][]byte, dst []byte) []byte {
	h, wrong := e.hashForWrite(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if h.has(args[2]) {
		return resp.AppendInt(dst, 0)
	}
	e.hashArgs(h, args[2], args[3])
	h.set(args[2], append([]byte(nil), args[3]...))
	e.hashAdded(h)
	return resp.AppendInt(dst, 1)
}

func (e *Engine) cmdHGet(args [][]byte, dst []byte) []byte {
	h, wrong := e.lookupHash(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if h != nil {
		if val, ok := h.get(args[2]); ok {
			return resp.AppendBulk(dst, val)
		}
	}
	return resp.AppendNullBulk(dst)
}

func (e *Engine) cmdHMGet(args [][]byte, dst []byte) []byte {
	h, wrong := e.lookupHash(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	dst = resp.AppendArrayHeader(dst, len(args)-2)
	for _, f := range args[2:] {
		var val []byte
		ok := false
		if h != nil {
			val, ok = h.get(f)
		}
		if ok {
			dst = resp.AppendBulk(dst, val)
		} else {
			dst = resp.AppendNullBulk(dst)
		}
	}
	return dst
}

func (e *Engine) cmdHDel(args [][]byte, dst []byte) []byte {
	h, wrong := e.lookupHash(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if h == nil {
		return resp.AppendInt(dst, 0)
	}
	n := int64(0)
	for _, f := range args[2:] {
		if h.del(f) {
			n++
		}
	}
	e.dropIfEmpty(args[1], h.len())
	return resp.AppendInt(dst, n)
}

func (e *Engine) cmdHExists(args [][]byte, dst []byte) []byte {
	h, wrong := e.lookupHash(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	return appendBool(dst, h != nil && h.has(args[2]))
}

func (e *Engine) cmdHLen(args [][]byte, dst []byte) []byte {
	h, wrong := e.lookupHash(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if h == nil {
		return resp.AppendInt(dst, 0)
	}
	return resp.AppendInt(dst, int64(h.len()))
}

func (e *Engine) cmdHStrlen(args [][]byte, dst []byte) []byte {
	h, wrong := e.lookupHash(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if h != nil {
		if val, ok := h.get(args[2]); ok {
			return resp.AppendInt(dst, int64(len(val)))
		}
	}
	return resp.AppendInt(dst, 0)
}

// HGETALL, HKEYS and HVALS reply in insertion order, which is Redis's own
// order for hashes small enough to be listpacks.
func (e *Engine) cmdHGetAll(args [][]byte, dst []byte) []byte {
	h, wrong := e.lookupHash(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if h == nil {
		return append(dst, replyEmptyArr...)
	}
	name := cmdName(args)
	n := h.len()
	if name == "hgetall" {
		n *= 2
	}
	dst = resp.AppendArrayHeader(dst, n)
	h.each(func(f string, val []byte) bool {
		if name != "hvals" {
			dst = resp.AppendBulkString(dst, f)
		}
		if name != "hkeys" {
			dst = resp.AppendBulk(dst, val)
		}
		return true
	})
	return dst
}

func (e *Engine) cmdHIncrBy(args [][]byte, dst []byte) []byte {
	incr, ok := resp.ParseInt(args[3])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	h, wrong := e.hashForWrite(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	var old int64
	if cur, ok := h.get(args[2]); ok {
		if old, ok = resp.ParseInt(cur); !ok {
			e.dropIfEmpty(args[1], h.len())
			return appendErr(dst, "ERR hash value is not an integer")
		}
	}
	if (incr < 0 && old < 0 && incr < math.MinInt64-old) || (incr > 0 && old > 0 && incr > math.MaxInt64-old) {
		e.dropIfEmpty(args[1], h.len())
		return appendErr(dst, errOverflow)
	}
	n := old + incr
	val := appendIntStr(nil, n)
	e.hashArgs(h, args[2], val) // the field and the new value, not the increment
	h.set(args[2], val)
	e.hashAdded(h)
	return resp.AppendInt(dst, n)
}

func (e *Engine) cmdHIncrByFloat(args [][]byte, dst []byte) []byte {
	incr, incrInf, ok := parseLongDouble(args[3])
	if !ok {
		return appendErr(dst, errNotFloat)
	}
	if incrInf != 0 {
		return appendErr(dst, "ERR value is NaN or Infinity")
	}
	h, wrong := e.hashForWrite(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	cur := newLD()
	if old, ok := h.get(args[2]); ok {
		x, inf, ok := parseLongDouble(old)
		if !ok {
			e.dropIfEmpty(args[1], h.len())
			return appendErr(dst, "ERR hash value is not a float")
		}
		if inf != 0 {
			return appendErr(dst, errNaNInf)
		}
		cur = x
	}
	sum := newLD().Add(cur, incr)
	if ldOverflows(sum) {
		e.dropIfEmpty(args[1], h.len())
		return appendErr(dst, errNaNInf)
	}
	s := formatLongDouble(sum)
	e.hashArgs(h, args[2], []byte(s)) // the field and the new value, not the increment
	h.set(args[2], []byte(s))
	e.hashAdded(h)
	return resp.AppendBulkString(dst, s)
}

// HRANDFIELD key [count [WITHVALUES]], drawing from the engine's seeded
// source.
func (e *Engine) cmdHRandField(args [][]byte, dst []byte) []byte {
	if len(args) == 2 {
		h, wrong := e.lookupHash(args[1])
		switch {
		case wrong:
			return appendErr(dst, errWrongType)
		case h == nil:
			return resp.AppendNullBulk(dst)
		}
		f, _ := h.nth(e.rand.IntN(h.len()))
		return resp.AppendBulkString(dst, f)
	}
	l, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	if l == math.MinInt64 {
		return appendErr(dst, "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
	}
	withValues := false
	if len(args) > 4 || (len(args) == 4 && !is(args[3], "withvalues")) {
		return appendErr(dst, errSyntax)
	}
	if len(args) == 4 {
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			return appendErr(dst, "ERR value is out of range")
		}
	}
	h, wrong := e.lookupHash(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case h == nil || l == 0:
		return append(dst, replyEmptyArr...)
	}
	picks := e.randomPicks(h.len(), l)
	width := 1
	if withValues {
		width = 2
	}
	dst = resp.AppendArrayHeader(dst, len(picks)*width)
	for _, i := range picks {
		f, val := h.nth(i)
		dst = resp.AppendBulkString(dst, f)
		if withValues {
			dst = resp.AppendBulk(dst, val)
		}
	}
	return dst
}

// randomPicks chooses positions in [0, n) for a random-member reply with
// Redis's count semantics: count < 0 draws -count positions with
// repetition; count > 0 draws min(count, n) distinct positions (all of
// them, in order, when count >= n).
func (e *Engine) randomPicks(n int, count int64) []int {
	if count < 0 {
		out := make([]int, min(-count, math.MaxInt32))
		for i := range out {
			out[i] = e.rand.IntN(n)
		}
		return out
	}
	if count >= int64(n) {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	perm := e.rand.Perm(n)[:count]
	return perm
}

// HSCAN key cursor [MATCH pattern] [COUNT count]. Hashes are scanned whole
// in one call, as Redis does for hashes small enough to be listpacks.
func (e *Engine) cmdHScan(args [][]byte, dst []byte) []byte {
	cursor, ok := parseCursor(args[2])
	if !ok {
		return appendErr(dst, errCursor)
	}
	h, wrong := e.lookupHash(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case h == nil:
		return append(dst, replyEmptyScan...)
	}
	o, bad := parseScanOpts(args[3:], false)
	if bad != "" {
		return appendErr(dst, bad)
	}
	var out []string
	next := h.scan(cursor, scanCount(h.len(), o.count), func(f string, val []byte) {
		if o.pattern == nil || matchGlob(o.pattern, []byte(f)) {
			out = append(out, f, string(val))
		}
	})
	return appendScan(dst, next, out)
}

// scanCount is how many elements one HSCAN/SSCAN/ZSCAN call visits: all of
// a small collection (Redis replies whole for its compact encodings), else
// COUNT.
func scanCount(n, count int) int {
	if n <= 128 {
		return n
	}
	return count
}
