package store

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/dynonode/dynonode/actors/resp"
)

// Reading DUMP payloads (see rdb.go). Every length is checked against
// what is left, so a payload can name no more than it holds; nothing a
// payload says is allocated before the bytes that back it are seen.

const (
	errBadDump       = "ERR Bad data format"
	errDumpChecksum  = "ERR DUMP payload version or checksum are wrong"
	errBusyKey       = "BUSYKEY Target key name already exists."
	errRestoreStream = "ERR dynonode: the embedded store has no streams (RESTORE of a stream is served by a node in front of redis-server)"
)

// verifyDump checks a payload's footer: the RDB version (at most 10) and
// the CRC-64 of the rest; it returns the object's bytes.
func verifyDump(p []byte) ([]byte, bool) {
	if len(p) < 10 {
		return nil, false
	}
	body := p[:len(p)-10]
	if binary.LittleEndian.Uint16(p[len(p)-10:]) > rdbVersion {
		return nil, false
	}
	if binary.LittleEndian.Uint64(p[len(p)-8:]) != crc64Jones(0, p[:len(p)-8]) {
		return nil, false
	}
	return body, true
}

type rdbReader struct {
	p   []byte
	bad bool
}

func (r *rdbReader) fail() { r.bad = true; r.p = nil }

func (r *rdbReader) take(n uint64) []byte {
	if r.bad || n > uint64(len(r.p)) {
		r.fail()
		return nil
	}
	b := r.p[:n]
	r.p = r.p[n:]
	return b
}

func (r *rdbReader) byte1() byte {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// length reads an RDB length, or (enc true) the encoding of a special
// string.
func (r *rdbReader) length() (n uint64, enc bool) {
	b := r.byte1()
	switch b >> 6 {
	case 0:
		return uint64(b & 0x3f), false
	case 1:
		return uint64(b&0x3f)<<8 | uint64(r.byte1()), false
	case 3:
		return uint64(b & 0x3f), true
	}
	switch b {
	case 0x80:
		if x := r.take(4); x != nil {
			return uint64(binary.BigEndian.Uint32(x)), false
		}
	case 0x81:
		if x := r.take(8); x != nil {
			return binary.BigEndian.Uint64(x), false
		}
	default:
		r.fail()
	}
	return 0, false
}

// count reads a collection's length: at least one element, and no more
// than the bytes left could hold (each takes at least one).
func (r *rdbReader) count() int {
	n, enc := r.length()
	if enc || n == 0 || n > uint64(len(r.p)) {
		r.fail()
		return 0
	}
	return int(n)
}

// str reads an RDB string: plain, an integer, or LZF-compressed.
func (r *rdbReader) str() []byte {
	n, enc := r.length()
	if !enc {
		return r.take(n)
	}
	switch n {
	case rdbEncInt8:
		return strconv.AppendInt(nil, int64(int8(r.byte1())), 10)
	case rdbEncInt16:
		if x := r.take(2); x != nil {
			return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(x))), 10)
		}
	case rdbEncInt32:
		if x := r.take(4); x != nil {
			return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(x))), 10)
		}
	case rdbEncLZF:
		clen, e1 := r.length()
		ulen, e2 := r.length()
		data := r.take(clen)
		// LZF expands a byte to at most a few hundred: a claimed length
		// far beyond that is a lie, refused before allocating.
		if e1 || e2 || r.bad || ulen > clen*300+64 {
			r.fail()
			return nil
		}
		if ulen == 0 {
			return []byte{} // Redis takes any stream for an empty string
		}
		out, ok := lzfDecompress(data, int(ulen))
		if !ok {
			r.fail()
			return nil
		}
		return out
	default:
		r.fail()
	}
	return nil
}

// oldDouble reads RDB_TYPE_ZSET's score: a length byte (253 nan, 254
// +inf, 255 -inf) and the text.
func (r *rdbReader) oldDouble() float64 {
	switch n := r.byte1(); n {
	case 253:
		return math.NaN()
	case 254:
		return math.Inf(1)
	case 255:
		return math.Inf(-1)
	default:
		f, err := strconv.ParseFloat(string(r.take(uint64(n))), 64)
		if err != nil {
			r.fail()
		}
		return f
	}
}

// listpackEntries decodes a listpack; integers come back as their text.
func listpackEntries(b []byte) ([][]byte, bool) {
	if len(b) < 7 || binary.LittleEndian.Uint32(b) != uint32(len(b)) || b[len(b)-1] != 0xFF {
		return nil, false
	}
	var out [][]byte
	p := 6
	for p < len(b)-1 {
		start := p
		c := b[p]
		var ent []byte
		need := func(n int) bool { return p+n <= len(b)-1 }
		switch {
		case c&0x80 == 0:
			ent = strconv.AppendInt(nil, int64(c), 10)
			p++
		case c&0xC0 == 0x80:
			n := int(c & 0x3f)
			if !need(1 + n) {
				return nil, false
			}
			ent = append([]byte(nil), b[p+1:p+1+n]...)
			p += 1 + n
		case c&0xE0 == 0xC0:
			if !need(2) {
				return nil, false
			}
			u := int64(c&0x1f)<<8 | int64(b[p+1])
			if u >= 1<<12 {
				u -= 1 << 13
			}
			ent = strconv.AppendInt(nil, u, 10)
			p += 2
		case c&0xF0 == 0xE0:
			if !need(2) {
				return nil, false
			}
			n := int(c&0x0f)<<8 | int(b[p+1])
			if !need(2 + n) {
				return nil, false
			}
			ent = append([]byte(nil), b[p+2:p+2+n]...)
			p += 2 + n
		case c == 0xF0:
			if !need(5) {
				return nil, false
			}
			n := binary.LittleEndian.Uint32(b[p+1:])
			if uint64(n) > uint64(len(b)) || !need(5+int(n)) {
				return nil, false
			}
			ent = append([]byte(nil), b[p+5:p+5+int(n)]...)
			p += 5 + int(n)
		case c == 0xF1:
			if !need(3) {
				return nil, false
			}
			ent = strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b[p+1:]))), 10)
			p += 3
		case c == 0xF2:
			if !need(4) {
				return nil, false
			}
			u := uint32(b[p+1]) | uint32(b[p+2])<<8 | uint32(b[p+3])<<16
			ent = strconv.AppendInt(nil, int64(int32(u<<8)>>8), 10)
			p += 4
		case c == 0xF3:
			if !need(5) {
				return nil, false
			}
			ent = strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b[p+1:]))), 10)
			p += 5
		case c == 0xF4:
			if !need(9) {
				return nil, false
			}
			ent = strconv.AppendInt(nil, int64(binary.LittleEndian.Uint64(b[p+1:])), 10)
			p += 9
		default:
			return nil, false
		}
		// The entry's length, written backwards after it.
		var bl [5]byte
		back := appendBacklen(bl[:0], p-start)
		if !need(len(back)) || string(b[p:p+len(back)]) != string(back) {
			return nil, false
		}
		p += len(back)
		out = append(out, ent) // a copy: strings copied above, integers made
	}
	if p != len(b)-1 {
		return nil, false
	}
	if n := int(binary.LittleEndian.Uint16(b[4:])); n != 65535 && n != len(out) {
		return nil, false
	}
	return out, true
}

// ziplistEntries decodes a ziplist (Redis before 7.0).
func ziplistEntries(b []byte) ([][]byte, bool) {
	if len(b) < 11 || binary.LittleEndian.Uint32(b) != uint32(len(b)) || b[len(b)-1] != 0xFF {
		return nil, false
	}
	var out [][]byte
	p := 10
	for p < len(b)-1 {
		// The previous entry's length: one byte, or 0xFE and four.
		if b[p] == 0xFE {
			p += 5
		} else {
			p++
		}
		if p >= len(b)-1 {
			return nil, false
		}
		need := func(n int) bool { return p+n <= len(b)-1 }
		c := b[p]
		var ent []byte
		switch {
		case c>>6 == 0:
			n := int(c & 0x3f)
			if !need(1 + n) {
				return nil, false
			}
			ent, p = append([]byte(nil), b[p+1:p+1+n]...), p+1+n
		case c>>6 == 1:
			if !need(2) {
				return nil, false
			}
			n := int(c&0x3f)<<8 | int(b[p+1])
			if !need(2 + n) {
				return nil, false
			}
			ent, p = append([]byte(nil), b[p+2:p+2+n]...), p+2+n
		case c == 0x80:
			if !need(5) {
				return nil, false
			}
			n := binary.BigEndian.Uint32(b[p+1:])
			if uint64(n) > uint64(len(b)) || !need(5+int(n)) {
				return nil, false
			}
			ent, p = append([]byte(nil), b[p+5:p+5+int(n)]...), p+5+int(n)
		case c == 0xC0:
			if !need(3) {
				return nil, false
			}
			ent, p = strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b[p+1:]))), 10), p+3
		case c == 0xD0:
			if !need(5) {
				return nil, false
			}
			ent, p = strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b[p+1:]))), 10), p+5
		case c == 0xE0:
			if !need(9) {
				return nil, false
			}
			ent, p = strconv.AppendInt(nil, int64(binary.LittleEndian.Uint64(b[p+1:])), 10), p+9
		case c == 0xF0:
			if !need(4) {
				return nil, false
			}
			u := int32(uint32(b[p+1])<<8 | uint32(b[p+2])<<16 | uint32(b[p+3])<<24)
			ent, p = strconv.AppendInt(nil, int64(u>>8), 10), p+4
		case c == 0xFE:
			if !need(2) {
				return nil, false
			}
			ent, p = strconv.AppendInt(nil, int64(int8(b[p+1])), 10), p+2
		case c >= 0xF1 && c <= 0xFD:
			ent, p = strconv.AppendInt(nil, int64(c&0x0f)-1, 10), p+1
		default:
			return nil, false
		}
		out = append(out, ent)
	}
	if n := int(binary.LittleEndian.Uint16(b[8:])); n != 65535 && n != len(out) {
		return nil, false
	}
	return out, true
}

// intsetMembers decodes an intset: sorted, distinct, of a known width.
func intsetMembers(b []byte) ([][]byte, bool) {
	if len(b) < 8 {
		return nil, false
	}
	w := binary.LittleEndian.Uint32(b)
	n := binary.LittleEndian.Uint32(b[4:])
	if (w != 2 && w != 4 && w != 8) || n == 0 || uint64(len(b)-8) != uint64(n)*uint64(w) {
		return nil, false
	}
	out := make([][]byte, n)
	var prev int64
	for i := range out {
		var v int64
		at := b[8+i*int(w):]
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(at)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(at)))
		default:
			v = int64(binary.LittleEndian.Uint64(at))
		}
		if i > 0 && v <= prev {
			return nil, false
		}
		prev = v
		out[i] = strconv.AppendInt(nil, v, 10)
	}
	return out, true
}

// loadRDB reads one object of a payload's body into a value not yet in
// the keyspace; why is the error reply when it cannot.
func (e *Engine) loadRDB(key, body []byte) (v *value, why string) {
	r := &rdbReader{p: body}
	typ := r.byte1()
	bad := func() (*value, string) { return nil, errBadDump }
	blob := func(decode func([]byte) ([][]byte, bool)) [][]byte {
		b := r.str()
		if r.bad {
			return nil
		}
		items, ok := decode(b)
		if !ok || len(items) == 0 || len(items) > 65535 { // Redis counts a node's entries in 16 bits
			r.fail()
		}
		return items
	}
	switch typ {
	case rdbTypeString:
		s := r.str()
		if r.bad {
			return bad()
		}
		v = newStringValue(key, len(s))
		v.kv = append(v.kv, s...)
	case rdbTypeList, rdbTypeListZiplist, rdbTypeListQuicklist, rdbTypeListQuicklist2:
		var items [][]byte
		switch typ {
		case rdbTypeList:
			for range r.count() {
				items = append(items, append([]byte(nil), r.str()...))
			}
		case rdbTypeListZiplist:
			items = blob(ziplistEntries)
		default:
			for range r.count() {
				container := uint64(quicklistPacked)
				if typ == rdbTypeListQuicklist2 {
					container, _ = r.length()
				}
				switch container {
				case quicklistPlain:
					if el := r.str(); len(el) > 0 {
						items = append(items, append([]byte(nil), el...))
					} else {
						r.fail() // Redis refuses an empty plain node
					}
				case quicklistPacked:
					dec := listpackEntries
					if typ == rdbTypeListQuicklist {
						dec = ziplistEntries
					}
					node := r.str()
					if r.bad {
						break
					}
					els, ok := dec(node)
					if !ok || len(els) > 65535 { // Redis counts a node's entries in 16 bits
						r.fail()
						break
					}
					items = append(items, els...) // an empty node adds nothing: Redis skips it
				default:
					r.fail()
				}
			}
		}
		if r.bad || len(items) == 0 {
			return bad()
		}
		l := &list{}
		l.reset(items)
		v = &value{kind: kList, coll: l}
	case rdbTypeSet, rdbTypeSetIntset:
		var members [][]byte
		if typ == rdbTypeSet {
			for range r.count() {
				members = append(members, r.str())
			}
		} else {
			members = blob(intsetMembers)
		}
		if r.bad {
			return bad()
		}
		s := newDict[struct{}]()
		for _, m := range members {
			if !s.set(m, struct{}{}) {
				return bad() // Redis: duplicate set members
			}
		}
		v = &value{kind: kSet, coll: s}
	case rdbTypeHash, rdbTypeHashZiplist, rdbTypeHashListpack:
		var kv [][]byte
		switch typ {
		case rdbTypeHash:
			for range r.count() {
				kv = append(kv, r.str(), r.str())
			}
		case rdbTypeHashZiplist:
			kv = blob(ziplistEntries)
		default:
			kv = blob(listpackEntries)
		}
		if r.bad || len(kv)%2 != 0 {
			return bad()
		}
		h := newDict[[]byte]()
		for i := 0; i < len(kv); i += 2 {
			if !h.set(kv[i], append([]byte(nil), kv[i+1]...)) {
				return bad() // Redis: duplicate hash fields
			}
		}
		v = &value{kind: kHash, coll: h}
	case rdbTypeZSet, rdbTypeZSet2, rdbTypeZSetZiplist, rdbTypeZSetListpack:
		z := newZSet()
		var items []zitem
		seen := map[string]bool{}
		add := func(m []byte, score float64) bool {
			if math.IsNaN(score) || seen[string(m)] {
				return false
			}
			seen[string(m)] = true
			items = append(items, zitem{score, string(m)})
			return true
		}
		switch typ {
		case rdbTypeZSet, rdbTypeZSet2:
			for range r.count() {
				m := r.str()
				var score float64
				if typ == rdbTypeZSet2 {
					if x := r.take(8); x != nil {
						score = math.Float64frombits(binary.LittleEndian.Uint64(x))
					}
				} else {
					score = r.oldDouble()
				}
				if r.bad || !add(m, score) {
					return bad()
				}
			}
		default:
			dec := listpackEntries
			if typ == rdbTypeZSetZiplist {
				dec = ziplistEntries
			}
			pairs := blob(dec)
			if r.bad || len(pairs)%2 != 0 {
				return bad()
			}
			for i := 0; i < len(pairs); i += 2 {
				score, ok := parseDouble(pairs[i+1])
				if !ok || !add(pairs[i], score) {
					return bad()
				}
			}
		}
		z.fill(items) // one sort: Redis writes skiplists greatest first
		v = &value{kind: kZSet, coll: z}
	case rdbTypeStreamListpacks, rdbTypeStreamListpack2:
		return nil, errRestoreStream
	default:
		return bad() // modules, zipmaps, unknown types
	}
	if r.bad {
		return bad()
	}
	e.encodingFromContent(v)
	switch typ {
	case rdbTypeHashListpack, rdbTypeHashZiplist:
		// Redis checks a compact payload's count, not its elements'
		// lengths ("an O(N) scan"): it stays compact unless too many.
		v.hash().ht = v.hash().len() > e.enc.HashMaxListpackEntries
	case rdbTypeZSetListpack, rdbTypeZSetZiplist:
		v.zset().skiplist = v.zset().len() > e.enc.ZSetMaxListpackEntries
	}
	return v, ""
}

// DUMP key: the value in Redis's payload format, nil if the key is missing.
func (e *Engine) cmdDump(args [][]byte, dst []byte) []byte {
	v := e.lookup(args[1])
	if v == nil {
		return resp.AppendNullBulk(dst)
	}
	return resp.AppendBulk(dst, e.rdbPayload(v))
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ
// frequency], checked in Redis 7.0's order. IDLETIME and FREQ are
// checked and ignored: the engine keeps no access times.
func (e *Engine) cmdRestore(args [][]byte, dst []byte) []byte {
	replace, absTTL := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(args); j++ {
		more := len(args) - j - 1
		switch {
		case is(args[j], "replace"):
			replace = true
		case is(args[j], "absttl"):
			absTTL = true
		case is(args[j], "idletime") && more >= 1 && freq == -1:
			n, ok := resp.ParseInt(args[j+1])
			if !ok {
				return appendErr(dst, errNotInt)
			}
			if n < 0 {
				return appendErr(dst, "ERR Invalid IDLETIME value, must be >= 0")
			}
			idle, j = n, j+1
		case is(args[j], "freq") && more >= 1 && idle == -1:
			n, ok := resp.ParseInt(args[j+1])
			if !ok {
				return appendErr(dst, errNotInt)
			}
			if n < 0 || n > 255 {
				return appendErr(dst, "ERR Invalid FREQ value, must be >= 0 and <= 255")
			}
			freq, j = n, j+1
		default:
			return appendErr(dst, errSyntax)
		}
	}
	key := args[1]
	if !replace && e.lookup(key) != nil {
		return appendErr(dst, errBusyKey)
	}
	ttl, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	if ttl < 0 {
		return appendErr(dst, "ERR Invalid TTL value, must be >= 0")
	}
	body, ok := verifyDump(args[3])
	if !ok {
		return appendErr(dst, errDumpChecksum)
	}
	v, why := e.loadRDB(key, body)
	if v == nil {
		return appendErr(dst, why)
	}
	if replace {
		e.del(key)
	}
	if ttl != 0 && !absTTL {
		ttl += e.now
	}
	if ttl != 0 && ttl <= e.now {
		return appendOK(dst) // already expired: nothing is stored
	}
	e.add(key, v)
	if ttl != 0 && !e.stale {
		e.setExpire(v, ttl)
	}
	return appendOK(dst)
}
