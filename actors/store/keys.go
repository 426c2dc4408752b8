package store

import (
	"math"

	"github.com/dynonode/dynonode/actors/resp"
)

// DEL and UNLINK: how many of the keys existed (an expired key did not).
func (e *Engine) cmdDel(args [][]byte, dst []byte) []byte {
	n := int64(0)
	for _, k := range args[1:] {
		if e.lookup(k) != nil && e.del(k) {
			n++
		}
	}
	return resp.AppendInt(dst, n)
}

// EXISTS counts a key once per time it is named.
func (e *Engine) cmdExists(args [][]byte, dst []byte) []byte {
	n := int64(0)
	for _, k := range args[1:] {
		if e.lookup(k) != nil {
			n++
		}
	}
	return resp.AppendInt(dst, n)
}

// TOUCH counts like EXISTS; the engine keeps no access times.
func (e *Engine) cmdTouch(args [][]byte, dst []byte) []byte { return e.cmdExists(args, dst) }

func (e *Engine) cmdType(args [][]byte, dst []byte) []byte {
	if v := e.lookup(args[1]); v != nil {
		return resp.AppendSimpleString(dst, v.kind.String())
	}
	return resp.AppendSimpleString(dst, "none")
}

// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT key time [NX|XX|GT|LT], as Redis's
// expireGenericCommand: options first, then the time, then the key.
func (e *Engine) cmdExpire(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	var nx, xx, gt, lt bool
	for _, opt := range args[3:] {
		switch {
		case is(opt, "nx"):
			nx = true
		case is(opt, "xx"):
			xx = true
		case is(opt, "gt"):
			gt = true
		case is(opt, "lt"):
			lt = true
		default:
			return appendErr(dst, "ERR Unsupported option "+string(cstr(opt)))
		}
	}
	if nx && (xx || gt || lt) {
		return appendErr(dst, "ERR NX and XX, GT or LT options at the same time are not compatible")
	}
	if gt && lt {
		return appendErr(dst, "ERR GT and LT options at the same time are not compatible")
	}
	when, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	if name == "expire" || name == "expireat" {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			return appendErr(dst, "ERR invalid expire time in '"+name+"' command")
		}
		when *= 1000
	}
	if name == "expire" || name == "pexpire" {
		if when > math.MaxInt64-e.now {
			return appendErr(dst, "ERR invalid expire time in '"+name+"' command")
		}
		when += e.now
	}
	v := e.lookup(args[1])
	if v == nil {
		return resp.AppendInt(dst, 0)
	}
	switch {
	case nx && v.hasTTL(),
		xx && !v.hasTTL(),
		gt && (!v.hasTTL() || when <= v.deadline),
		lt && v.hasTTL() && when >= v.deadline:
		return resp.AppendInt(dst, 0)
	}
	if when <= e.now {
		e.del(args[1])
		return resp.AppendInt(dst, 1)
	}
	e.setExpire(v, when)
	return resp.AppendInt(dst, 1)
}

// TTL and PTTL: -2 missing, -1 no expiry, else the time left (never
// negative). TTL rounds to the nearest second as Redis does. If the node's
// clock went backwards since the expiry was set, the time left is simply
// larger: deadlines are absolute.
func (e *Engine) cmdTTL(args [][]byte, dst []byte) []byte {
	v := e.lookup(args[1])
	if v == nil {
		return resp.AppendInt(dst, -2)
	}
	if !v.hasTTL() {
		return resp.AppendInt(dst, -1)
	}
	ttl := v.deadline - e.now
	if ttl < 0 {
		ttl = 0
	}
	if cmdName(args) == "ttl" {
		ttl = (ttl + 500) / 1000
	}
	return resp.AppendInt(dst, ttl)
}

func (e *Engine) cmdPersist(args [][]byte, dst []byte) []byte {
	v := e.lookup(args[1])
	return appendBool(dst, v != nil && e.persist(v))
}

// RENAME and RENAMENX move the value and its expiry.
func (e *Engine) cmdRename(args [][]byte, dst []byte) []byte {
	nx := cmdName(args) == "renamenx"
	src, dstKey := args[1], args[2]
	v := e.lookup(src)
	if v == nil {
		return appendErr(dst, errNoKey)
	}
	if string(src) == string(dstKey) {
		if nx {
			return resp.AppendInt(dst, 0)
		}
		return appendOK(dst)
	}
	if e.lookup(dstKey) != nil {
		if nx {
			return resp.AppendInt(dst, 0)
		}
		e.del(dstKey)
	}
	hasTTL, deadline := v.hasTTL(), v.deadline
	e.del(src)
	nv := *v
	nv.flags &^= fTTL
	e.add(dstKey, &nv)
	if hasTTL {
		e.setExpire(&nv, deadline)
	}
	if nx {
		return resp.AppendInt(dst, 1)
	}
	return appendOK(dst)
}

func (e *Engine) cmdDBSize(_ [][]byte, dst []byte) []byte {
	return resp.AppendInt(dst, int64(e.keys.len()))
}

// KEYS returns the live keys matching a glob, in insertion order (Redis's
// order is unspecified).
func (e *Engine) cmdKeys(args [][]byte, dst []byte) []byte {
	pat := args[1]
	all := len(pat) == 1 && pat[0] == '*'
	var out [][]byte
	e.keys.each(func(v *value) bool {
		if v.hasTTL() && e.now > v.deadline {
			return true
		}
		if all || matchGlob(pat, v.key()) {
			out = append(out, v.key())
		}
		return true
	})
	return appendStrings(dst, out)
}

// parseCursor reads a SCAN cursor as Redis does, with strtoul: an optional
// sign (a negative cursor wraps around), decimal digits, read as a C
// string; an empty string is cursor 0.
func parseCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && isCSpace(b[0]) {
		return 0, false
	}
	b = cstr(b)
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if len(b) == 0 && neg {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// scanOpts are the options shared by SCAN, HSCAN, SSCAN and ZSCAN.
type scanOpts struct {
	count   int
	pattern []byte // nil: every element
	typ     []byte // SCAN only; nil: every type
}

// parseScanOpts parses [MATCH pattern] [COUNT n] (and [TYPE t] for the
// keyspace) from args, returning an error reply or "".
func parseScanOpts(args [][]byte, keyspace bool) (scanOpts, string) {
	o := scanOpts{count: 10}
	for i := 0; i < len(args); {
		more := len(args)-i >= 2
		switch {
		case is(args[i], "count") && more:
			n, ok := resp.ParseInt(args[i+1])
			if !ok {
				return o, errNotInt
			}
			if n < 1 {
				return o, errSyntax
			}
			if n > math.MaxInt32 {
				n = math.MaxInt32
			}
			o.count = int(n)
		case is(args[i], "match") && more:
			p := args[i+1]
			if len(p) == 1 && p[0] == '*' {
				o.pattern = nil
			} else {
				o.pattern = append([]byte{}, p...)
			}
		case is(args[i], "type") && keyspace && more:
			o.typ = cstr(args[i+1])
		default:
			return o, errSyntax
		}
		i += 2
	}
	return o, ""
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The cursor is a
// position in the keyspace's insertion order (see keyspace.scan), so a key
// present for a whole scan is returned exactly once.
func (e *Engine) cmdScan(args [][]byte, dst []byte) []byte {
	cursor, ok := parseCursor(args[1])
	if !ok {
		return appendErr(dst, errCursor)
	}
	o, bad := parseScanOpts(args[2:], true)
	if bad != "" {
		return appendErr(dst, bad)
	}
	var seen [][]byte
	next := e.keys.scan(cursor, o.count, func(v *value) { seen = append(seen, v.key()) })
	out := seen[:0]
	for _, k := range seen {
		if o.pattern != nil && !matchGlob(o.pattern, k) {
			continue
		}
		v := e.lookup(k)
		if o.typ != nil {
			// Redis 7.0 checks the type first, with a lookup that reclaims
			// an expired key, whose type is then "none", and its expiry
			// check then finds nothing to expire: TYPE none lists a key
			// that has just expired.
			typ := "none"
			if v != nil {
				typ = v.kind.String()
			}
			if is(o.typ, typ) {
				out = append(out, k)
			}
			continue
		}
		if v == nil {
			continue
		}
		out = append(out, k)
	}
	return appendScan(dst, next, out)
}

// RANDOMKEY: a live key drawn at random (from the engine's seeded
// source), or nil when there is none; an expired key drawn is reclaimed
// and another drawn, as Redis does. Tombstones are not keys.
func (e *Engine) cmdRandomKey(_ [][]byte, dst []byte) []byte {
	for range 1000 {
		v := e.keys.random(e.rand)
		if v == nil {
			break
		}
		if v.hasTTL() && e.now > v.deadline {
			e.lookup(v.key()) // reclaims it
			continue
		}
		return resp.AppendBulk(dst, v.key())
	}
	return resp.AppendNullBulk(dst)
}

// FLUSHDB and FLUSHALL [ASYNC|SYNC]: the engine has one database, so both
// empty it.
func (e *Engine) cmdFlush(args [][]byte, dst []byte) []byte {
	if len(args) > 2 || (len(args) == 2 && !is(args[1], "sync") && !is(args[1], "async")) {
		return appendErr(dst, errSyntax)
	}
	e.flush()
	return appendOK(dst)
}

func (e *Engine) cmdPing(args [][]byte, dst []byte) []byte {
	switch len(args) {
	case 1:
		return resp.AppendSimpleString(dst, "PONG")
	case 2:
		return resp.AppendBulk(dst, args[1])
	}
	return appendArityErr(dst, "ping")
}

func (e *Engine) cmdEcho(args [][]byte, dst []byte) []byte { return resp.AppendBulk(dst, args[1]) }
