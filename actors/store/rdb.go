package store

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
)

// Redis's DUMP payload (RDB version 10, Redis 7.0): one object in RDB
// form, the RDB version as two little-endian bytes, and the CRC-64 (Jones)
// of everything before it, little-endian. DUMP writes a value as
// redis-server 7.0 would write it in the encoding OBJECT ENCODING
// reports (encoding.go): strings with RDB's integer and LZF encodings,
// lists as quicklists of listpacks, intsets, listpack hashes and sorted
// sets, hash tables and skiplists element by element. RESTORE reads every
// object type Redis 7.0 reads but modules and streams (the engine has
// neither): the listpack and ziplist forms of older servers included, so
// values move from any Redis the payload version allows. The reader
// checks every length against the payload and refuses what does not
// parse whole ("Bad data format"), where Redis, without
// sanitize-dump-payload, trusts more.

const (
	rdbVersion = 10

	rdbTypeString          = 0
	rdbTypeList            = 1
	rdbTypeSet             = 2
	rdbTypeZSet            = 3
	rdbTypeHash            = 4
	rdbTypeZSet2           = 5
	rdbTypeHashZipmap      = 9
	rdbTypeListZiplist     = 10
	rdbTypeSetIntset       = 11
	rdbTypeZSetZiplist     = 12
	rdbTypeHashZiplist     = 13
	rdbTypeListQuicklist   = 14
	rdbTypeStreamListpacks = 15
	rdbTypeHashListpack    = 16
	rdbTypeZSetListpack    = 17
	rdbTypeListQuicklist2  = 18
	rdbTypeStreamListpack2 = 19

	rdbEncInt8  = 0
	rdbEncInt16 = 1
	rdbEncInt32 = 2
	rdbEncLZF   = 3

	quicklistPlain  = 1
	quicklistPacked = 2
)

// ---------------------------------------------------------------- writing

// appendRDBLen appends an RDB length: 6 bits, 14 bits (big-endian), or a
// marker byte and 32 or 64 bits big-endian.
func appendRDBLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0x81), n)
}

// appendRDBInt appends v in RDB's integer string encoding when it fits 32
// bits; ok is false otherwise.
func appendRDBInt(dst []byte, v int64) ([]byte, bool) {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(dst, 0xC0|rdbEncInt8, byte(v)), true
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return binary.LittleEndian.AppendUint16(append(dst, 0xC0|rdbEncInt16), uint16(v)), true
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return binary.LittleEndian.AppendUint32(append(dst, 0xC0|rdbEncInt32), uint32(v)), true
	}
	return dst, false
}

// appendRDBString appends s as Redis's rdbSaveRawString does: a short
// string that is an integer's canonical text as an integer, a string over
// 20 bytes that LZF shrinks by at least 4 bytes compressed, else verbatim.
func appendRDBString(t *lzfTable, dst, s []byte) []byte {
	if len(s) <= 11 && isLongString(s) {
		v, _ := strconv.ParseInt(string(s), 10, 64)
		if out, ok := appendRDBInt(dst, v); ok {
			return out
		}
	}
	if len(s) > 20 {
		if c := lzfCompress(t, s, len(s)-4); c != nil {
			dst = appendRDBLen(append(dst, 0xC0|rdbEncLZF), uint64(len(c)))
			dst = appendRDBLen(dst, uint64(len(s)))
			return append(dst, c...)
		}
	}
	return append(appendRDBLen(dst, uint64(len(s))), s...)
}

// d2string is Redis 7.0's text of a double in compact encodings: whole
// values in [-2^62, 2^62] as integers (double2ll), else %.17g.
func d2string(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	case f >= -(1<<62) && f <= 1<<62 && f == math.Trunc(f):
		return strconv.FormatInt(int64(f), 10)
	}
	return string(appendScoreText(nil, f))
}

// listpack builds Redis's listpack: a 6-byte header (total bytes, element
// count), entries each followed by its length backwards, and 0xFF.
type listpack struct {
	b []byte
	n int
}

func newListpack() *listpack { return &listpack{b: make([]byte, 6, 64)} }

// add appends an entry: an integer encoding when s is an integer's
// canonical text, else a string one.
func (lp *listpack) add(s []byte) {
	start := len(lp.b)
	if isLongString(s) {
		v, _ := strconv.ParseInt(string(s), 10, 64)
		switch {
		case v >= 0 && v <= 127:
			lp.b = append(lp.b, byte(v))
		case v >= -4096 && v <= 4095:
			u := uint16(v) & 0x1fff
			lp.b = append(lp.b, 0xC0|byte(u>>8), byte(u))
		case v >= math.MinInt16 && v <= math.MaxInt16:
			lp.b = binary.LittleEndian.AppendUint16(append(lp.b, 0xF1), uint16(v))
		case v >= -1<<23 && v < 1<<23:
			u := uint32(v)
			lp.b = append(lp.b, 0xF2, byte(u), byte(u>>8), byte(u>>16))
		case v >= math.MinInt32 && v <= math.MaxInt32:
			lp.b = binary.LittleEndian.AppendUint32(append(lp.b, 0xF3), uint32(v))
		default:
			lp.b = binary.LittleEndian.AppendUint64(append(lp.b, 0xF4), uint64(v))
		}
	} else {
		switch n := len(s); {
		case n < 64:
			lp.b = append(lp.b, 0x80|byte(n))
		case n < 4096:
			lp.b = append(lp.b, 0xE0|byte(n>>8), byte(n))
		default:
			lp.b = binary.LittleEndian.AppendUint32(append(lp.b, 0xF0), uint32(n))
		}
		lp.b = append(lp.b, s...)
	}
	lp.b = appendBacklen(lp.b, len(lp.b)-start)
	lp.n++
}

// appendBacklen appends an entry's length l so that it reads backwards:
// 7 bits a byte, the last byte first, each but the first with bit 7 set.
func appendBacklen(dst []byte, l int) []byte {
	switch {
	case l <= 127:
		return append(dst, byte(l))
	case l < 16383:
		return append(dst, byte(l>>7), byte(l&127)|128)
	case l < 2097151:
		return append(dst, byte(l>>14), byte(l>>7&127)|128, byte(l&127)|128)
	case l < 268435455:
		return append(dst, byte(l>>21), byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
	}
	return append(dst, byte(l>>28), byte(l>>21&127)|128, byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
}

// size is the listpack's bytes once finished.
func (lp *listpack) size() int { return len(lp.b) + 1 }

func (lp *listpack) finish() []byte {
	lp.b = append(lp.b, 0xFF)
	binary.LittleEndian.PutUint32(lp.b, uint32(len(lp.b)))
	binary.LittleEndian.PutUint16(lp.b[4:], uint16(min(lp.n, 65535)))
	return lp.b
}

// quicklistNodes splits a list into the listpacks Redis 7.0 fills when
// the elements are pushed at the tail with list-max-listpack-size -2:
// an element joins the tail node while the node's bytes, the element's
// and an 8-byte estimate of its overhead stay within 8 KiB
// (_quicklistNodeAllowInsert).
func quicklistNodes(items [][]byte) [][]byte {
	var nodes [][]byte
	lp := newListpack()
	for _, it := range items {
		if lp.n > 0 && lp.size()+len(it)+8 > 8192 {
			nodes = append(nodes, lp.finish())
			lp = newListpack()
		}
		lp.add(it)
	}
	return append(nodes, lp.finish())
}

// intsetBytes is Redis's intset of the (integer) members: the narrowest
// of 16, 32 and 64 bits that holds them all, the count, the values
// sorted, all little-endian.
func intsetBytes(members []string) []byte {
	vals := make([]int64, len(members))
	width := 2
	for i, m := range members {
		vals[i], _ = strconv.ParseInt(m, 10, 64)
		switch v := vals[i]; {
		case v < math.MinInt32 || v > math.MaxInt32:
			width = 8
		case (v < math.MinInt16 || v > math.MaxInt16) && width < 4:
			width = 4
		}
	}
	slices.Sort(vals)
	b := binary.LittleEndian.AppendUint32(nil, uint32(width))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vals)))
	for _, v := range vals {
		switch width {
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}

// rdbPayload is DUMP's payload for v.
func (e *Engine) rdbPayload(v *value) []byte {
	if e.lzf == nil {
		e.lzf = new(lzfTable) // 512 KiB, made at the first DUMP
	}
	t := e.lzf
	var b []byte
	switch v.kind {
	case kString:
		b = appendRDBString(t, append(b, rdbTypeString), v.str())
	case kList:
		nodes := quicklistNodes(v.list().items())
		b = appendRDBLen(append(b, rdbTypeListQuicklist2), uint64(len(nodes)))
		for _, n := range nodes {
			b = appendRDBString(t, appendRDBLen(b, quicklistPacked), n)
		}
	case kSet:
		s := v.set()
		if !s.ht {
			b = appendRDBString(t, append(b, rdbTypeSetIntset), intsetBytes(s.keys()))
			break
		}
		b = appendRDBLen(append(b, rdbTypeSet), uint64(s.len()))
		s.each(func(m string, _ struct{}) bool { b = appendRDBString(t, b, []byte(m)); return true })
	case kHash:
		h := v.hash()
		if !h.ht {
			lp := newListpack()
			h.each(func(f string, val []byte) bool { lp.add([]byte(f)); lp.add(val); return true })
			b = appendRDBString(t, append(b, rdbTypeHashListpack), lp.finish())
			break
		}
		b = appendRDBLen(append(b, rdbTypeHash), uint64(h.len()))
		h.each(func(f string, val []byte) bool {
			b = appendRDBString(t, appendRDBString(t, b, []byte(f)), val)
			return true
		})
	case kZSet:
		z := v.zset()
		if !z.skiplist {
			lp := newListpack()
			for _, it := range z.items {
				lp.add([]byte(it.member))
				lp.add([]byte(d2string(it.score)))
			}
			b = appendRDBString(t, append(b, rdbTypeZSetListpack), lp.finish())
			break
		}
		// From the greatest to the smallest, as Redis walks its skiplist.
		b = appendRDBLen(append(b, rdbTypeZSet2), uint64(z.len()))
		for i := z.len() - 1; i >= 0; i-- {
			b = appendRDBString(t, b, []byte(z.items[i].member))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(z.items[i].score))
		}
	}
	b = binary.LittleEndian.AppendUint16(b, rdbVersion)
	return binary.LittleEndian.AppendUint64(b, crc64Jones(0, b))
}
