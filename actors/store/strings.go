package store

import (
	"math"

	"github.com/dynonode/dynonode/actors/resp"
)

// lookupString returns the string at key (nil if missing) or wrong=true
// when the key holds another type.
func (e *Engine) lookupString(key []byte) (v *value, wrong bool) {
	v = e.lookup(key)
	if v != nil && v.kind != kString {
		return nil, true
	}
	return v, false
}

// addString stores a new string value at key, which must be absent.
func (e *Engine) addString(key, b []byte) *value {
	v := newStringValue(key, len(b))
	v.kv = append(v.kv, b...)
	e.add(key, v)
	return v
}

// Values with their key and bytes inline, in nine sizes: with the 72-byte
// value each is a Go size class (80 to 192 bytes in steps of 16, and 224),
// so a value costs what a value, a key and a buffer would, without two of
// their allocations and, on a keyspace larger than the caches, without two
// of a lookup's cache misses: the lookup compares the key, checks the
// expiry and reads or overwrites the bytes, all in one object.
type (
	value8 struct {
		value
		b [8]byte
	}
	value24 struct {
		value
		b [24]byte
	}
	value40 struct {
		value
		b [40]byte
	}
	value56 struct {
		value
		b [56]byte
	}
	value72 struct {
		value
		b [72]byte
	}
	value88 struct {
		value
		b [88]byte
	}
	value104 struct {
		value
		b [104]byte
	}
	value120 struct {
		value
		b [120]byte
	}
	value152 struct {
		value
		b [152]byte
	}
)

// newStringValue returns an empty string value at key with room for n
// bytes: inline when key and bytes fit, else in one buffer of their own. A
// value that outgrows its room moves to a larger buffer, key and all.
func newStringValue(key []byte, n int) *value {
	var v *value
	var buf []byte
	switch n += len(key); {
	case n <= 8:
		x := new(value8)
		buf = x.b[:]
		v = &x.value
	case n <= 24:
		x := new(value24)
		buf = x.b[:]
		v = &x.value
	case n <= 40:
		x := new(value40)
		buf = x.b[:]
		v = &x.value
	case n <= 56:
		x := new(value56)
		buf = x.b[:]
		v = &x.value
	case n <= 72:
		x := new(value72)
		buf = x.b[:]
		v = &x.value
	case n <= 88:
		x := new(value88)
		buf = x.b[:]
		v = &x.value
	case n <= 104:
		x := new(value104)
		buf = x.b[:]
		v = &x.value
	case n <= 120:
		x := new(value120)
		buf = x.b[:]
		v = &x.value
	case n <= 152:
		x := new(value152)
		buf = x.b[:]
		v = &x.value
	default:
		buf = make([]byte, n) // key and bytes, one allocation
		v = &value{}
	}
	v.kv = buf[:copy(buf, key)]
	v.klen = uint32(len(key))
	v.kind = kString
	return v
}

// setString stores a copy of b at key, dropping any expiry unless keepTTL.
// Overwriting a string reuses its buffer, so a steady SET allocates
// nothing.
func (e *Engine) setString(key, b []byte, keepTTL bool) *value {
	if e.stale {
		return &value{kind: kString} // a stale write changes nothing
	}
	old := e.lookup(key)
	if old == nil {
		return e.addString(key, b)
	}
	if !keepTTL {
		e.persist(old)
	}
	old.kind, old.kv = kString, append(old.kv[:old.klen], b...) // a hash's or list's kv is its key alone
	old.coll = nil
	markPlain(old)
	e.wrote = true
	return old
}

func (e *Engine) cmdGet(args [][]byte, dst []byte) []byte {
	v, wrong := e.lookupString(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case v == nil:
		return resp.AppendNullBulk(dst)
	}
	return resp.AppendBulk(dst, v.str())
}

// String-command flags, as Redis's parseExtendedStringArgumentsOrReply
// sets them.
const (
	fNX = 1 << iota
	fXX
	fGet
	fKeepTTL
	fPersist
	fEX
	fPX
	fEXAT
	fPXAT
)

const fAnyExpiry = fEX | fPX | fEXAT | fPXAT

// parseStringOpts parses SET's options (set=true) or GETEX's from args,
// returning the flags, the expiry argument and an error reply ("" if none).
// Each option is accepted only in the combinations Redis accepts; a
// repeated EX/PX/... simply replaces the earlier one, as in Redis.
func parseStringOpts(args [][]byte, set bool) (flags int, expire []byte, bad string) {
	for j := 0; j < len(args); j++ {
		opt := args[j]
		hasNext := j+1 < len(args)
		switch {
		case set && is(opt, "nx") && flags&fXX == 0:
			flags |= fNX
		case set && is(opt, "xx") && flags&fNX == 0:
			flags |= fXX
		case set && is(opt, "get"):
			flags |= fGet
		case set && is(opt, "keepttl") && flags&(fPersist|fAnyExpiry) == 0:
			flags |= fKeepTTL
		case !set && is(opt, "persist") && flags&(fKeepTTL|fAnyExpiry) == 0:
			flags |= fPersist
		case is(opt, "ex") && flags&(fKeepTTL|fPersist|fEXAT|fPX|fPXAT) == 0 && hasNext:
			flags |= fEX
			expire, j = args[j+1], j+1
		case is(opt, "px") && flags&(fKeepTTL|fPersist|fEX|fEXAT|fPXAT) == 0 && hasNext:
			flags |= fPX
			expire, j = args[j+1], j+1
		case is(opt, "exat") && flags&(fKeepTTL|fPersist|fEX|fPX|fPXAT) == 0 && hasNext:
			flags |= fEXAT
			expire, j = args[j+1], j+1
		case is(opt, "pxat") && flags&(fKeepTTL|fPersist|fEX|fEXAT|fPX) == 0 && hasNext:
			flags |= fPXAT
			expire, j = args[j+1], j+1
		default:
			return 0, nil, errSyntax
		}
	}
	return flags, expire, ""
}

// expireMillis turns an EX/PX/EXAT/PXAT argument into an absolute deadline
// in milliseconds, as Redis's getExpireMillisecondsOrReply.
func (e *Engine) expireMillis(arg []byte, flags int, cmd string) (int64, string) {
	ms, ok := resp.ParseInt(arg)
	if !ok {
		return 0, errNotInt
	}
	bad := "ERR invalid expire time in '" + cmd + "' command"
	seconds := flags&(fEX|fEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		return 0, bad
	}
	if seconds {
		ms *= 1000
	}
	if flags&(fEX|fPX) != 0 {
		ms += e.now // wraps negative on overflow, caught below as Redis does
	}
	if ms <= 0 {
		return 0, bad
	}
	return ms, ""
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
func (e *Engine) cmdSet(args [][]byte, dst []byte) []byte {
	flags, expire, bad := parseStringOpts(args[3:], true)
	if bad != "" {
		return appendErr(dst, bad)
	}
	return e.set(args[1], args[2], flags, expire, "set", dst, nil, nil)
}

// set is Redis's setGenericCommand; okReply and abortReply replace +OK and
// the null reply when not nil (SETNX answers 1 and 0).
func (e *Engine) set(key, val []byte, flags int, expire []byte, cmd string, dst, okReply, abortReply []byte) []byte {
	var deadline int64
	if expire != nil {
		var bad string
		if deadline, bad = e.expireMillis(expire, flags, cmd); bad != "" {
			return appendErr(dst, bad)
		}
	}
	if flags&fGet != 0 {
		v, wrong := e.lookupString(key)
		switch {
		case wrong:
			return appendErr(dst, errWrongType)
		case v == nil:
			dst = resp.AppendNullBulk(dst)
		default:
			dst = resp.AppendBulk(dst, v.str())
		}
	}
	found := e.lookup(key) != nil
	if (flags&fNX != 0 && found) || (flags&fXX != 0 && !found) {
		if flags&fGet != 0 {
			return dst
		}
		if abortReply != nil {
			return append(dst, abortReply...)
		}
		return resp.AppendNullBulk(dst)
	}
	v := e.setString(key, val, flags&fKeepTTL != 0)
	if expire != nil {
		e.setExpire(v, deadline)
	}
	if flags&fGet != 0 {
		return dst
	}
	if okReply != nil {
		return append(dst, okReply...)
	}
	return appendOK(dst)
}

var (
	replyOne  = []byte(":1\r\n")
	replyZero = []byte(":0\r\n")
)

func (e *Engine) cmdSetNX(args [][]byte, dst []byte) []byte {
	return e.set(args[1], args[2], fNX, nil, "setnx", dst, replyOne, replyZero)
}

// SETEX key seconds value and PSETEX key milliseconds value.
func (e *Engine) cmdSetEX(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	flags := fEX
	if name == "psetex" {
		flags = fPX
	}
	return e.set(args[1], args[3], flags, args[2], name, dst, nil, nil)
}

// GETSET sets and returns the old value; the expiry is dropped.
func (e *Engine) cmdGetSet(args [][]byte, dst []byte) []byte {
	v, wrong := e.lookupString(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case v == nil:
		dst = resp.AppendNullBulk(dst)
	default:
		dst = resp.AppendBulk(dst, v.str())
	}
	e.setString(args[1], args[2], false)
	return dst
}

func (e *Engine) cmdGetDel(args [][]byte, dst []byte) []byte {
	v, wrong := e.lookupString(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case v == nil:
		return resp.AppendNullBulk(dst)
	}
	dst = resp.AppendBulk(dst, v.str())
	e.del(args[1])
	return dst
}

// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
func (e *Engine) cmdGetEx(args [][]byte, dst []byte) []byte {
	flags, expire, bad := parseStringOpts(args[2:], false)
	if bad != "" {
		return appendErr(dst, bad)
	}
	v, wrong := e.lookupString(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case v == nil:
		return resp.AppendNullBulk(dst)
	}
	var deadline int64
	if expire != nil {
		if deadline, bad = e.expireMillis(expire, flags, "getex"); bad != "" {
			return appendErr(dst, bad)
		}
	}
	dst = resp.AppendBulk(dst, v.str())
	switch {
	case flags&(fEXAT|fPXAT) != 0 && deadline <= e.now:
		e.del(args[1])
	case expire != nil:
		e.setExpire(v, deadline)
	case flags&fPersist != 0:
		e.persist(v)
	}
	return dst
}

// MGET answers nil for missing keys and for keys of other types.
func (e *Engine) cmdMGet(args [][]byte, dst []byte) []byte {
	dst = resp.AppendArrayHeader(dst, len(args)-1)
	for _, k := range args[1:] {
		if v, _ := e.lookupString(k); v != nil {
			dst = resp.AppendBulk(dst, v.str())
		} else {
			dst = resp.AppendNullBulk(dst)
		}
	}
	return dst
}

// MSET and MSETNX key value [key value ...]
func (e *Engine) cmdMSet(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	if len(args)%2 == 0 {
		return appendArityErr(dst, name)
	}
	if name == "msetnx" {
		for i := 1; i < len(args); i += 2 {
			if e.lookup(args[i]) != nil {
				return resp.AppendInt(dst, 0)
			}
		}
	}
	for i := 1; i < len(args); i += 2 {
		e.setString(args[i], args[i+1], false)
	}
	if name == "msetnx" {
		return resp.AppendInt(dst, 1)
	}
	return appendOK(dst)
}

// INCR, DECR, INCRBY, DECRBY. The value keeps its expiry.
func (e *Engine) cmdIncr(args [][]byte, dst []byte) []byte {
	var incr int64 = 1
	switch name := cmdName(args); name {
	case "decr":
		incr = -1
	case "incrby", "decrby":
		n, ok := resp.ParseInt(args[2])
		if !ok {
			return appendErr(dst, errNotInt)
		}
		if name == "decrby" {
			if n == math.MinInt64 {
				return appendErr(dst, "ERR decrement would overflow")
			}
			n = -n
		}
		incr = n
	}
	v, wrong := e.lookupString(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	var old int64
	if v != nil {
		var ok bool
		if old, ok = resp.ParseInt(v.str()); !ok {
			return appendErr(dst, errNotInt)
		}
	}
	if (incr < 0 && old < 0 && incr < math.MinInt64-old) || (incr > 0 && old > 0 && incr > math.MaxInt64-old) {
		return appendErr(dst, errOverflow)
	}
	n := old + incr
	if v == nil {
		v = &value{kind: kString}
		e.add(args[1], v)
	}
	v.kv = appendIntStr(v.kv[:v.klen], n)
	markPlain(v)
	return resp.AppendInt(dst, n)
}

func appendIntStr(dst []byte, n int64) []byte { return append(dst, formatInt(n)...) }

// INCRBYFLOAT computes in long double precision (see parseLongDouble) and
// stores the result as Redis's human-readable %.17Lf.
func (e *Engine) cmdIncrByFloat(args [][]byte, dst []byte) []byte {
	v, wrong := e.lookupString(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	cur := newLD()
	curInf := 0
	if v != nil {
		x, inf, ok := parseLongDouble(v.str())
		if !ok {
			return appendErr(dst, errNotFloat)
		}
		cur, curInf = x, inf
	}
	incr, incrInf, ok := parseLongDouble(args[2])
	if !ok {
		return appendErr(dst, errNotFloat)
	}
	if curInf != 0 || incrInf != 0 {
		return appendErr(dst, errNaNInf)
	}
	sum := newLD().Add(cur, incr)
	if ldOverflows(sum) {
		return appendErr(dst, errNaNInf)
	}
	s := formatLongDouble(sum)
	if v == nil {
		v = &value{kind: kString}
		e.add(args[1], v)
	}
	v.kv = append(v.kv[:v.klen], s...)
	v.flags = v.flags&^fRaw | fNotInt // Redis stores its text as is: "3" is an embstr
	return resp.AppendBulkString(dst, s)
}

func (e *Engine) cmdAppend(args [][]byte, dst []byte) []byte {
	v, wrong := e.lookupString(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case v == nil:
		v = e.addString(args[1], args[2])
	default:
		if int64(len(v.str()))+int64(len(args[2])) > e.maxValue {
			return appendErr(dst, errTooBig)
		}
		v.kv = append(v.kv, args[2]...)
		markRaw(v)
	}
	return resp.AppendInt(dst, int64(len(v.str())))
}

func (e *Engine) cmdStrlen(args [][]byte, dst []byte) []byte {
	v, wrong := e.lookupString(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if v == nil {
		return resp.AppendInt(dst, 0)
	}
	return resp.AppendInt(dst, int64(len(v.str())))
}

// GETRANGE key start end, with Redis's clamping of negative and
// out-of-range offsets.
func (e *Engine) cmdGetRange(args [][]byte, dst []byte) []byte {
	start, ok1 := resp.ParseInt(args[2])
	end, ok2 := resp.ParseInt(args[3])
	if !ok1 || !ok2 {
		return appendErr(dst, errNotInt)
	}
	v, wrong := e.lookupString(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case v == nil:
		return append(dst, replyEmptyBulk...)
	}
	n := int64(len(v.str()))
	if start < 0 && end < 0 && start > end {
		return append(dst, replyEmptyBulk...)
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return append(dst, replyEmptyBulk...)
	}
	return resp.AppendBulk(dst, v.str()[start:end+1])
}

// SETRANGE key offset value, zero-padding as needed.
func (e *Engine) cmdSetRange(args [][]byte, dst []byte) []byte {
	off, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	if off < 0 {
		return appendErr(dst, "ERR offset is out of range")
	}
	val := args[3]
	v, wrong := e.lookupString(args[1])
	switch {
	case wrong:
		return appendErr(dst, errWrongType)
	case v == nil && len(val) == 0:
		return resp.AppendInt(dst, 0)
	case v != nil && len(val) == 0:
		return resp.AppendInt(dst, int64(len(v.str())))
	}
	if off > e.maxValue || off+int64(len(val)) > e.maxValue {
		return appendErr(dst, errTooBig)
	}
	if v == nil {
		v = &value{kind: kString}
		e.add(args[1], v)
	}
	if need := int(off) + len(val); need > len(v.str()) {
		v.kv = append(v.kv, make([]byte, need-len(v.str()))...)
	}
	copy(v.str()[off:], val)
	markRaw(v)
	return resp.AppendInt(dst, int64(len(v.str())))
}
