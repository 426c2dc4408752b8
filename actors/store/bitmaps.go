package store

import (
	"bytes"
	"math/bits"

	"github.com/dynonode/dynonode/actors/resp"
)

// Bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS on string values, as Redis
// 7.0's bitops.c: bit 0 is the most significant bit of the first byte,
// and a string grows with zero bytes to hold the bit SETBIT sets.

const (
	errBitOffset = "ERR bit offset is not an integer or out of range"
	errBitValue  = "ERR bit is not an integer or out of range"
)

// bitOffset parses a bit offset as Redis's getBitOffsetFromArgument does:
// a non-negative integer whose byte fits in the largest string.
func (e *Engine) bitOffset(arg []byte) (int64, bool) {
	off, ok := resp.ParseInt(arg)
	if !ok || off < 0 || off>>3 >= e.maxValue {
		return 0, false
	}
	return off, true
}

// SETBIT key offset 0|1: the bit's previous value.
func (e *Engine) cmdSetBit(args [][]byte, dst []byte) []byte {
	off, ok := e.bitOffset(args[2])
	if !ok {
		return appendErr(dst, errBitOffset)
	}
	on, ok := resp.ParseInt(args[3])
	if !ok || on&^1 != 0 {
		return appendErr(dst, errBitValue)
	}
	v, wrong := e.lookupString(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if v == nil {
		v = &value{kind: kString}
		e.add(args[1], v)
	}
	byteAt := int(off >> 3)
	if need := byteAt + 1; need > len(v.str()) {
		v.kv = append(v.kv, make([]byte, need-len(v.str()))...)
	}
	markRaw(v)
	s := v.str()
	mask := byte(1) << (7 - uint(off&7))
	old := s[byteAt]&mask != 0
	if on == 1 {
		s[byteAt] |= mask
	} else {
		s[byteAt] &^= mask
	}
	return appendBool(dst, old)
}

// GETBIT key offset.
func (e *Engine) cmdGetBit(args [][]byte, dst []byte) []byte {
	off, ok := e.bitOffset(args[2])
	if !ok {
		return appendErr(dst, errBitOffset)
	}
	v, wrong := e.lookupString(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if v == nil || int(off>>3) >= len(v.str()) {
		return resp.AppendInt(dst, 0)
	}
	return appendBool(dst, v.str()[off>>3]&(byte(1)<<(7-uint(off&7))) != 0)
}

// bitRange resolves BITCOUNT's and BITPOS's start and end, in bytes or
// (isBit) bits, over a string of n bytes, into a byte range and the masks
// of the bits outside it in its first and last byte, as Redis does.
// empty: the range holds nothing.
type bitRange struct {
	start, end        int64
	firstNeg, lastNeg byte
	empty             bool
}

func resolveBitRange(start, end, n int64, isBit bool) bitRange {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	r := bitRange{start: start, end: end}
	if isBit && start <= end {
		// Mask the bits before start in the first byte and after end in
		// the last one.
		r.firstNeg = ^byte(0xff >> uint(start&7))
		r.lastNeg = byte(0xff >> uint(end&7+1))
		r.start, r.end = start>>3, end>>3
	}
	r.empty = r.start > r.end
	return r
}

// BITCOUNT key [start end [BYTE|BIT]].
func (e *Engine) cmdBitCount(args [][]byte, dst []byte) []byte {
	v, wrong := e.lookupString(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if v == nil {
		return resp.AppendInt(dst, 0)
	}
	s := v.str()
	var r bitRange
	switch len(args) {
	case 2:
		r = bitRange{start: 0, end: int64(len(s)) - 1, empty: len(s) == 0}
	case 4, 5:
		start, ok1 := resp.ParseInt(args[2])
		end, ok2 := resp.ParseInt(args[3])
		if !ok1 || !ok2 {
			return appendErr(dst, errNotInt)
		}
		if start < 0 && end < 0 && start > end {
			return resp.AppendInt(dst, 0) // before the unit, as Redis 7.0
		}
		isBit := false
		if len(args) == 5 {
			switch {
			case is(args[4], "bit"):
				isBit = true
			case is(args[4], "byte"):
			default:
				return appendErr(dst, errSyntax)
			}
		}
		r = resolveBitRange(start, end, int64(len(s)), isBit)
	default:
		return appendErr(dst, errSyntax)
	}
	if r.empty {
		return resp.AppendInt(dst, 0)
	}
	b := s[r.start : r.end+1]
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	n -= bits.OnesCount8(b[0] & r.firstNeg)
	n -= bits.OnesCount8(b[len(b)-1] & r.lastNeg)
	return resp.AppendInt(dst, int64(n))
}

// BITPOS key bit [start [end [BYTE|BIT]]].
func (e *Engine) cmdBitPos(args [][]byte, dst []byte) []byte {
	bit, ok := resp.ParseInt(args[2])
	if !ok {
		return appendErr(dst, errNotInt)
	}
	if bit != 0 && bit != 1 {
		return appendErr(dst, "ERR The bit argument must be 1 or 0.")
	}
	v, wrong := e.lookupString(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if v == nil {
		if bit == 1 {
			return resp.AppendInt(dst, -1)
		}
		return resp.AppendInt(dst, 0)
	}
	s := v.str()
	n := int64(len(s))
	var r bitRange
	endGiven := false
	switch len(args) {
	case 3:
		r = bitRange{start: 0, end: n - 1, empty: n == 0}
	case 4, 5, 6:
		start, ok := resp.ParseInt(args[3])
		if !ok {
			return appendErr(dst, errNotInt)
		}
		isBit := false
		if len(args) == 6 {
			switch {
			case is(args[5], "bit"):
				isBit = true
			case is(args[5], "byte"):
			default:
				return appendErr(dst, errSyntax)
			}
		}
		var end int64
		if len(args) >= 5 {
			if end, ok = resp.ParseInt(args[4]); !ok {
				return appendErr(dst, errNotInt)
			}
			endGiven = true
		} else if isBit {
			end = n<<3 + 7
		} else {
			end = n - 1
		}
		r = resolveBitRange(start, end, n, isBit)
	default:
		return appendErr(dst, errSyntax)
	}
	if r.empty {
		return resp.AppendInt(dst, -1)
	}
	b := append([]byte(nil), s[r.start:r.end+1]...)
	// Bits outside a BIT range read as the opposite of the one sought.
	if bit == 1 {
		b[0] &^= r.firstNeg
		b[len(b)-1] &^= r.lastNeg
	} else {
		b[0] |= r.firstNeg
		b[len(b)-1] |= r.lastNeg
	}
	pos := int64(-1)
	for i, x := range b {
		if bit == 0 {
			x = ^x
		}
		if x != 0 {
			pos = int64(i)*8 + int64(bits.LeadingZeros8(x))
			break
		}
	}
	if pos == -1 && bit == 0 {
		// No clear bit in the range: the first one after it, past the
		// string's end, unless the caller gave the end.
		pos = int64(len(b)) * 8
	}
	if pos != -1 {
		pos += r.start * 8
	}
	if endGiven && bit == 0 && pos >= (r.end+1)*8 {
		return resp.AppendInt(dst, -1)
	}
	return resp.AppendInt(dst, pos)
}

// COPY source destination [DB 0] [REPLACE]: destination becomes a copy of
// source's value and TTL (by the engine's dump and undump). The engine
// has one database: DB 0 is accepted, another number refused.
func (e *Engine) cmdCopy(args [][]byte, dst []byte) []byte {
	replace := false
	for i := 3; i < len(args); i++ {
		switch {
		case is(args[i], "replace"):
			replace = true
		case is(args[i], "db") && i+1 < len(args):
			db, ok := resp.ParseInt(args[i+1])
			if !ok {
				return appendErr(dst, errNotInt)
			}
			if db != 0 {
				return appendErr(dst, "ERR DB index is out of range")
			}
			i++
		default:
			return appendErr(dst, errSyntax)
		}
	}
	if string(args[1]) == string(args[2]) {
		return appendErr(dst, "ERR source and destination objects are the same")
	}
	src := e.lookup(args[1])
	if src == nil {
		return resp.AppendInt(dst, 0)
	}
	if e.lookup(args[2]) != nil {
		if !replace {
			return resp.AppendInt(dst, 0)
		}
		if !e.stale {
			e.del(args[2])
		}
	}
	v, ttl, ok := undump(args[2], e.dump(nil, src))
	if !ok {
		return appendErr(dst, errBadPayload) // never: the engine reads what it writes
	}
	takeEncoding(src).apply(v) // Redis's COPY duplicates the object, encoding and all
	if v.kind == kString {
		v.flags |= fUnshared // a duplicate, never Redis's shared integer
	}
	e.add(args[2], v)
	if ttl >= 0 && !e.stale {
		e.setExpire(v, e.now+ttl)
	}
	return resp.AppendInt(dst, 1)
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]: the bitwise operation of the
// source strings (missing keys are empty, shorter strings are padded with
// zero bytes) stored at destkey, which loses its expiry, or deleted when
// the result is empty; the reply is the result's length (Redis 7.0's
// bitopCommand).
func (e *Engine) cmdBitOp(args [][]byte, dst []byte) []byte {
	var op byte
	switch {
	case bytes.EqualFold(args[1], []byte("and")):
		op = '&'
	case bytes.EqualFold(args[1], []byte("or")):
		op = '|'
	case bytes.EqualFold(args[1], []byte("xor")):
		op = '^'
	case bytes.EqualFold(args[1], []byte("not")):
		op = '~'
	default:
		return appendErr(dst, errSyntax)
	}
	if op == '~' && len(args) != 4 {
		return appendErr(dst, "ERR BITOP NOT must be called with a single source key.")
	}
	srcs := make([][]byte, 0, len(args)-3)
	maxLen := 0
	for _, k := range args[3:] {
		v, wrong := e.lookupString(k)
		if wrong {
			return appendErr(dst, errWrongType)
		}
		var b []byte
		if v != nil {
			b = v.str()
		}
		srcs = append(srcs, b)
		maxLen = max(maxLen, len(b))
	}
	if maxLen == 0 {
		e.del(args[2])
		return resp.AppendInt(dst, 0)
	}
	res := make([]byte, maxLen)
	for i := range res {
		byteAt := func(s []byte) byte {
			if i < len(s) {
				return s[i]
			}
			return 0
		}
		r := byteAt(srcs[0])
		switch op {
		case '~':
			r = ^r
		default:
			for _, s := range srcs[1:] {
				switch b := byteAt(s); op {
				case '&':
					r &= b
				case '|':
					r |= b
				case '^':
					r ^= b
				}
			}
		}
		res[i] = r
	}
	markRaw(e.setString(args[2], res, false)) // Redis builds it outside its int/embstr path
	return resp.AppendInt(dst, int64(maxLen))
}
