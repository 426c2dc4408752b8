package store

import (
	"bytes"
	"math"

	"github.com/dynonode/dynonode/actors/resp"
)

// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type
// offset increment] [OVERFLOW WRAP|SAT|FAIL] ... and BITFIELD_RO key [GET
// type offset] ...: integers of 1 to 64 bits (u63 at most unsigned) at any
// bit offset of a string, as Redis 7.0's bitfieldGeneric reads, writes and
// overflows them. All arguments are checked before anything runs; a write
// grows the string with zero bytes to the farthest bit it reaches (keeping
// its expiry) even when every write fails on overflow.

const errBitfieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

type bitfieldOp struct {
	op       byte // 'g', 's', 'i'
	signed   bool
	bits     uint
	offset   uint64
	arg      int64
	overflow byte // 'w', 's', 'f'
}

func (e *Engine) cmdBitField(args [][]byte, dst []byte) []byte {
	ro := cmdName(args) == "bitfield_ro"
	var ops []bitfieldOp
	overflow := byte('w')
	readonly := true
	var highest uint64
	for j := 2; j < len(args); j++ {
		rem := len(args) - j - 1
		var op byte
		switch sub := args[j]; {
		case bytes.EqualFold(sub, []byte("get")) && rem >= 2:
			op = 'g'
		case bytes.EqualFold(sub, []byte("set")) && rem >= 3:
			op = 's'
		case bytes.EqualFold(sub, []byte("incrby")) && rem >= 3:
			op = 'i'
		case bytes.EqualFold(sub, []byte("overflow")) && rem >= 1:
			j++
			switch t := args[j]; {
			case bytes.EqualFold(t, []byte("wrap")):
				overflow = 'w'
			case bytes.EqualFold(t, []byte("sat")):
				overflow = 's'
			case bytes.EqualFold(t, []byte("fail")):
				overflow = 'f'
			default:
				return appendErr(dst, "ERR Invalid OVERFLOW type specified")
			}
			continue
		default:
			return appendErr(dst, errSyntax)
		}
		f := bitfieldOp{op: op, overflow: overflow}
		t := args[j+1]
		if len(t) == 0 || (t[0] != 'i' && t[0] != 'u') {
			return appendErr(dst, errBitfieldType)
		}
		f.signed = t[0] == 'i'
		bits, ok := resp.ParseInt(t[1:])
		if !ok || bits < 1 || (f.signed && bits > 64) || (!f.signed && bits > 63) {
			return appendErr(dst, errBitfieldType)
		}
		f.bits = uint(bits)
		o := args[j+2]
		hash := len(o) > 0 && o[0] == '#'
		if hash {
			o = o[1:]
		}
		off, ok := resp.ParseInt(o)
		if ok && hash {
			if off > math.MaxInt64/bits || off < math.MinInt64/bits {
				ok = false // Redis's long long would wrap; it then refuses a negative one
			} else {
				off *= bits
			}
		}
		if !ok || off < 0 || off>>3 >= e.maxValue {
			return appendErr(dst, errBitOffset)
		}
		f.offset = uint64(off)
		if op != 'g' {
			readonly = false
			highest = max(highest, f.offset+uint64(f.bits)-1)
			if f.arg, ok = resp.ParseInt(args[j+3]); !ok {
				return appendErr(dst, errNotInt)
			}
		}
		ops = append(ops, f)
		if op == 'g' {
			j += 2
		} else {
			j += 3
		}
	}
	if !readonly && ro {
		return appendErr(dst, "ERR BITFIELD_RO only supports the GET subcommand")
	}
	v, wrong := e.lookupString(args[1])
	if wrong {
		return appendErr(dst, errWrongType)
	}
	if !readonly {
		if v == nil {
			v = &value{kind: kString}
			e.add(args[1], v)
		}
		if need := int(highest>>3) + 1; need > len(v.str()) {
			v.kv = append(v.kv, make([]byte, need-len(v.str()))...)
		}
		markRaw(v)
	}
	dst = resp.AppendArrayHeader(dst, len(ops))
	for _, f := range ops {
		if f.op == 'g' {
			var s []byte
			if v != nil {
				s = v.str()
			}
			u := getBits(s, f.offset, f.bits)
			if f.signed {
				dst = resp.AppendInt(dst, signExtend(u, f.bits))
			} else {
				dst = resp.AppendInt(dst, int64(u))
			}
			continue
		}
		s := v.str()
		old := getBits(s, f.offset, f.bits)
		var next uint64
		var over bool
		var reply int64
		if f.signed {
			o := signExtend(old, f.bits)
			var n int64
			if f.op == 'i' {
				var lim int64
				over, lim = signedOverflow(o, f.arg, f.bits, f.overflow)
				if over {
					n = lim
				} else {
					n = o + f.arg
				}
				reply = n
			} else {
				n = f.arg
				if ov, lim := signedOverflow(n, 0, f.bits, f.overflow); ov {
					over, n = true, lim
				}
				reply = o
			}
			next = uint64(n)
		} else {
			if f.op == 'i' {
				var lim uint64
				over, lim = unsignedOverflow(old, f.arg, f.bits, f.overflow)
				next = old + uint64(f.arg)
				if over {
					next = lim
				}
				reply = int64(next)
			} else {
				next = uint64(f.arg)
				if ov, lim := unsignedOverflow(next, 0, f.bits, f.overflow); ov {
					over, next = true, lim
				}
				reply = int64(old)
			}
		}
		if over && f.overflow == 'f' {
			dst = resp.AppendNullBulk(dst)
			continue
		}
		dst = resp.AppendInt(dst, reply)
		setBits(s, f.offset, f.bits, next)
	}
	return dst
}

// getBits reads bits bits at offset, most significant first; past the end
// of s they are zero.
func getBits(s []byte, offset uint64, bits uint) uint64 {
	var v uint64
	for range bits {
		b := offset >> 3
		var bit uint64
		if b < uint64(len(s)) {
			bit = uint64(s[b]>>(7-offset&7)) & 1
		}
		v = v<<1 | bit
		offset++
	}
	return v
}

// setBits writes the low bits bits of v at offset, most significant first.
func setBits(s []byte, offset uint64, bits uint, v uint64) {
	for j := range bits {
		on := v&(1<<(bits-1-j)) != 0
		b, mask := offset>>3, byte(1)<<(7-offset&7)
		if on {
			s[b] |= mask
		} else {
			s[b] &^= mask
		}
		offset++
	}
}

func signExtend(u uint64, bits uint) int64 {
	if bits < 64 && u&(1<<(bits-1)) != 0 {
		u |= ^uint64(0) << bits
	}
	return int64(u)
}

// unsignedOverflow is Redis's checkUnsignedBitfieldOverflow: whether
// value+incr leaves bits unsigned bits, and the value to store then
// (wrapped, or saturated; unused for FAIL).
func unsignedOverflow(value uint64, incr int64, bits uint, ow byte) (bool, uint64) {
	max := uint64(1)<<bits - 1
	maxIncr := int64(max - value)
	minIncr := -int64(value)
	wrap := func() (bool, uint64) { return true, (value + uint64(incr)) &^ (^uint64(0) << bits) }
	switch {
	case value > max || (incr > 0 && incr > maxIncr):
		if ow == 'w' {
			return wrap()
		}
		return true, max
	case incr < 0 && incr < minIncr:
		if ow == 'w' {
			return wrap()
		}
		return true, 0
	}
	return false, 0
}

// signedOverflow is Redis's checkSignedBitfieldOverflow.
func signedOverflow(value, incr int64, bits uint, ow byte) (bool, int64) {
	max := int64(math.MaxInt64)
	if bits < 64 {
		max = int64(1)<<(bits-1) - 1
	}
	min := -max - 1
	maxIncr := int64(uint64(max) - uint64(value))
	minIncr := min - value
	wrap := func() (bool, int64) {
		c := uint64(value) + uint64(incr)
		if bits < 64 {
			mask := ^uint64(0) << bits
			if c&(1<<(bits-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return true, int64(c)
	}
	switch {
	case value > max || (bits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		if ow == 'w' {
			return wrap()
		}
		return true, max
	case value < min || (bits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		if ow == 'w' {
			return wrap()
		}
		return true, min
	}
	return false, 0
}
