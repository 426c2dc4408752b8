package store

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
)

// The internal commands of read repair. The router never sends them for a
// client (clients get Redis's unknown-command error, as for any command it
// does not route); a coordinator sends them to a replica's store:
//
//	DYNO.DUMP key            the whole value, or nil; Result.Version the key's
//	DYNO.RESTORE key payload replaces the key with a dumped value, under
//	                         Exec.Version only if newer; +OK either way
//	DYNO.DEL key             deletes the key, leaving a tombstone under
//	                         Exec.Version if newer; +OK either way
//
// The payload is engine-private: a format byte, the kind, the remaining TTL
// in milliseconds (a signed varint, -1 for none), then the contents:
// a string's bytes; a list's, hash's (field, value), set's or sorted
// set's (member, float64 bits) elements as a uvarint count and
// uvarint-length-prefixed strings, in the engine's order.

const dumpFormat = 1

const errBadPayload = "ERR DYNO.RESTORE payload is not valid"

// dump appends v's serialization.
func (e *Engine) dump(dst []byte, v *value) []byte {
	dst = append(dst, dumpFormat, byte(v.kind))
	ttl := int64(-1)
	if v.hasTTL() {
		ttl = max(v.deadline-e.now, 0)
	}
	dst = binary.AppendVarint(dst, ttl)
	putStr := func(b []byte) { dst = binary.AppendUvarint(dst, uint64(len(b))); dst = append(dst, b...) }
	switch v.kind {
	case kString:
		dst = append(dst, v.str()...)
	case kList:
		l := v.list()
		dst = binary.AppendUvarint(dst, uint64(l.len()))
		for i := range l.len() {
			putStr(l.at(i))
		}
	case kHash:
		h := v.hash()
		dst = binary.AppendUvarint(dst, uint64(h.len()))
		h.each(func(k string, val []byte) bool { putStr([]byte(k)); putStr(val); return true })
	case kSet:
		s := v.set()
		dst = binary.AppendUvarint(dst, uint64(s.len()))
		s.each(func(k string, _ struct{}) bool { putStr([]byte(k)); return true })
	case kZSet:
		z := v.zset()
		dst = binary.AppendUvarint(dst, uint64(z.len()))
		for _, it := range z.items {
			putStr([]byte(it.member))
			dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(it.score))
		}
	}
	return dst
}

// undump parses a payload into a value not yet in the keyspace, with its
// remaining TTL (-1: none).
func undump(key, p []byte) (v *value, ttl int64, ok bool) {
	if len(p) < 2 || p[0] != dumpFormat {
		return nil, 0, false
	}
	k := kind(p[1])
	ttl, n := binary.Varint(p[2:])
	if n <= 0 || ttl < -1 {
		return nil, 0, false
	}
	p = p[2+n:]
	count := func() (int, bool) {
		c, n := binary.Uvarint(p)
		if n <= 0 || c > uint64(len(p)) { // every element takes at least a byte
			return 0, false
		}
		p = p[n:]
		return int(c), true
	}
	str := func() ([]byte, bool) {
		c, n := binary.Uvarint(p)
		if n <= 0 || c > uint64(len(p)-n) {
			return nil, false
		}
		b := append([]byte(nil), p[n:n+int(c)]...)
		p = p[n+int(c):]
		return b, true
	}
	switch k {
	case kString:
		v = newStringValue(key, len(p))
		v.kv = append(v.kv, p...)
		return v, ttl, true
	case kList:
		c, ok := count()
		if !ok {
			return nil, 0, false
		}
		items := make([][]byte, c)
		for i := range items {
			if items[i], ok = str(); !ok {
				return nil, 0, false
			}
		}
		l := &list{}
		l.reset(items)
		v = &value{kind: kList, coll: l}
	case kHash:
		c, ok := count()
		if !ok {
			return nil, 0, false
		}
		h := newDict[[]byte]()
		for range c {
			f, ok1 := str()
			val, ok2 := str()
			if !ok1 || !ok2 {
				return nil, 0, false
			}
			h.set(f, val)
		}
		v = &value{kind: kHash, coll: h}
	case kSet:
		c, ok := count()
		if !ok {
			return nil, 0, false
		}
		s := newDict[struct{}]()
		for range c {
			m, ok := str()
			if !ok {
				return nil, 0, false
			}
			s.set(m, struct{}{})
		}
		v = &value{kind: kSet, coll: s}
	case kZSet:
		c, ok := count()
		if !ok {
			return nil, 0, false
		}
		z := newZSet()
		for range c {
			m, ok := str()
			if !ok || len(p) < 8 {
				return nil, 0, false
			}
			score := math.Float64frombits(binary.BigEndian.Uint64(p))
			p = p[8:]
			if math.IsNaN(score) {
				return nil, 0, false
			}
			z.put(string(m), score)
		}
		v = &value{kind: kZSet, coll: z}
	default:
		return nil, 0, false
	}
	if len(p) != 0 || collLen(v) == 0 {
		return nil, 0, false // trailing bytes, or an empty collection Redis would never hold
	}
	return v, ttl, true
}

func collLen(v *value) int {
	switch v.kind {
	case kList:
		return v.list().len()
	case kHash:
		return v.hash().len()
	case kSet:
		return v.set().len()
	case kZSet:
		return v.zset().len()
	}
	return 1
}

// DYNO.DUMP key
func (e *Engine) cmdDynoDump(args [][]byte, dst []byte) []byte {
	v := e.lookup(args[1])
	if v == nil {
		return resp.AppendNullBulk(dst)
	}
	return resp.AppendBulk(dst, e.dump(nil, v))
}

// DYNO.RESTORE key payload: the key becomes the dumped value, its TTL
// counted from now.
func (e *Engine) cmdDynoRestore(args [][]byte, dst []byte) []byte {
	v, ttl, ok := undump(args[1], args[2])
	if !ok {
		return appendErr(dst, errBadPayload)
	}
	if e.lookup(args[1]) != nil {
		e.del(args[1])
	}
	e.encodingFromContent(v) // as Redis has a value it loads
	e.add(args[1], v)
	if ttl >= 0 {
		e.setExpire(v, e.now+ttl)
	}
	return appendOK(dst)
}

// DYNO.DEL key
func (e *Engine) cmdDynoDel(args [][]byte, dst []byte) []byte {
	if e.lookup(args[1]) != nil {
		e.del(args[1])
	}
	return appendOK(dst)
}

// The internal commands of anti-entropy (actors/antientropy), which lists
// what each replica holds and compares versions before it copies values:
//
//	DYNO.KEYS cursor count   a page of every versioned key and tombstone:
//	                         [next cursor, [key, version, ...]]; the cursor
//	                         is opaque, "0" starts and "0" ends the listing
//	DYNO.VERSIONS key ...    each key's version: [version, ...]
//	DYNO.MARK id             the datastore's marker ("" for none), which
//	                         becomes id if it was none: a datastore that
//	                         answers "" to a node that set a marker lost
//	                         its data (restarted empty)
//
// A version is hlc.AppendText's form ("" for none: a missing key, or one
// written without a version), with an 'r' before it for a value modified
// in place (rmwFlag), as the Redis adapter keeps it in its version hash.
// DYNO.KEYS lists live keys first (cursor "k<seq>"), then tombstones
// (cursor "t<seq>"), in insertion order, so a key present for a whole
// listing is listed at least once; count bounds the keys visited.

const errDynoCursor = "ERR invalid cursor"

// DYNO.KEYS cursor count
func (e *Engine) cmdDynoKeys(args [][]byte, dst []byte) []byte {
	phase, n, ok := parseDynoCursor(args[1])
	if !ok {
		return appendErr(dst, errDynoCursor)
	}
	count, ok := parseCursor(args[2])
	if !ok || count == 0 || count > 1<<20 {
		return appendErr(dst, errNotInt)
	}
	var seen []*value
	collect := func(v *value) { seen = append(seen, v) }
	var next []byte
	if phase == 'k' {
		c := e.keys.scan(n, int(count), collect)
		next = []byte("t0")
		if c != 0 {
			next = append([]byte{'k'}, strconv.AppendUint(nil, c, 10)...)
		}
	} else {
		c := e.tombs.scan(n, int(count), collect)
		next = []byte("0")
		if c != 0 {
			next = append([]byte{'t'}, strconv.AppendUint(nil, c, 10)...)
		}
	}
	var out [][]byte
	for _, v := range seen {
		key := v.key()
		var text []byte
		if phase == 'k' {
			live := e.lookup(key)
			if live == nil {
				continue
			}
			text = e.versionText(live)
		} else {
			t := e.tomb(key)
			if t == nil || e.lookup(key) != nil {
				continue
			}
			text = e.versionText(t)
		}
		if len(text) == 0 {
			continue
		}
		out = append(out, append([]byte(nil), key...), text)
	}
	dst = resp.AppendArrayHeader(dst, 2)
	dst = resp.AppendBulk(dst, next)
	dst = resp.AppendArrayHeader(dst, len(out))
	for _, b := range out {
		dst = resp.AppendBulk(dst, b)
	}
	return dst
}

// DYNO.VERSIONS key [key ...]
func (e *Engine) cmdDynoVersions(args [][]byte, dst []byte) []byte {
	dst = resp.AppendArrayHeader(dst, len(args)-1)
	for _, k := range args[1:] {
		var text []byte
		if live, tomb, _ := e.current(k); live != nil {
			text = e.versionText(live)
		} else if tomb != nil {
			text = e.versionText(tomb)
		}
		dst = resp.AppendBulk(dst, text)
	}
	return dst
}

// versionText is v's version as DYNO.KEYS and DYNO.VERSIONS give it.
func (e *Engine) versionText(v *value) []byte {
	ver := e.version(v)
	if ver.IsZero() {
		return nil
	}
	var b []byte
	if inPlace(v) {
		b = append(b, 'r')
	}
	return hlc.AppendText(b, ver)
}

// parseDynoCursor reads a DYNO.KEYS cursor: "0", "k<seq>" or "t<seq>".
func parseDynoCursor(b []byte) (phase byte, seq uint64, ok bool) {
	if string(b) == "0" {
		return 'k', 0, true
	}
	if len(b) < 2 || (b[0] != 'k' && b[0] != 't') {
		return 0, 0, false
	}
	for _, c := range b[1:] {
		if c < '0' || c > '9' || seq > (1<<63)/10 {
			return 0, 0, false
		}
		seq = seq*10 + uint64(c-'0')
	}
	return b[0], seq, true
}

// DYNO.MARK id: the engine's marker lives as long as the engine (a
// process of the daemon; a simulated datastore until it is wiped), and
// FLUSHALL keeps it: flushing every replica empties none of them alone.
func (e *Engine) cmdDynoMark(args [][]byte, dst []byte) []byte {
	old := e.mark
	if old == "" {
		e.mark = string(args[1])
	}
	return resp.AppendBulkString(dst, old)
}
