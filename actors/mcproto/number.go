package mcproto

import "bytes"

// parseUint parses decimal digits into a value of at most bits bits. It is
// stricter than memcached's strtoul-based helpers (no sign, no blanks), so
// anything it accepts memcached accepts with the same meaning.
func parseUint(b []byte, bits uint) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	limit := uint64(1)<<bits - 1
	if bits == 64 {
		limit = 1<<64 - 1
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (limit-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseInt32 parses an optionally negative decimal int32 (exptime: negative
// means already expired).
func parseInt32(b []byte) (int32, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, ok := parseUint(b, 32)
	if !ok || v > 1<<31 || (!neg && v == 1<<31) {
		return 0, false
	}
	if neg {
		return int32(-int64(v)), true
	}
	return int32(v), true
}

// The numbers of a storage command line are read as memcached 1.6's
// safe_strtoul, safe_strtol and safe_strtoull read them (util.c), not by
// the stricter rules above: when such a line is refused, memcached reads
// the data block that follows as commands, so dynonode must refuse
// exactly the lines memcached refuses, or a value memcached would store
// would run as commands here. C's strtoul/strtol skip leading white
// space, take a sign, need a digit, and stop at the first byte that is
// not one; the token must end there or at white space. The results are
// truncated as memcached truncates them.

// cStrto reads what strtoul/strtol (base 10) read from tok: the value's
// magnitude, its sign, and whether a digit was read and the rest of tok
// is empty or starts with white space. over reports a magnitude beyond
// 2^64-1 (strtoul's ERANGE).
func cStrto(tok []byte) (mag uint64, neg, ok, over bool) {
	i := 0
	for i < len(tok) && isCSpace(tok[i]) {
		i++
	}
	if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
		neg = tok[i] == '-'
		i++
	}
	start := i
	for ; i < len(tok) && tok[i] >= '0' && tok[i] <= '9'; i++ {
		d := uint64(tok[i] - '0')
		if mag > (1<<64-1-d)/10 {
			over = true
		} else if !over {
			mag = mag*10 + d
		}
	}
	ok = i > start && (i == len(tok) || isCSpace(tok[i]))
	return mag, neg, ok, over
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// safeStrtoul is memcached's safe_strtoul into a uint32: strtoul, refused
// on ERANGE or, when the value is negative as a long, if the token holds a
// '-' anywhere; then truncated to 32 bits (4294967296 reads as 0).
func safeStrtoul(tok []byte) (uint32, bool) {
	v, ok := safeStrtoull(tok)
	return uint32(v), ok
}

// safeStrtoull is memcached's safe_strtoull (a cas unique): as
// safeStrtoul, in 64 bits.
func safeStrtoull(tok []byte) (uint64, bool) {
	mag, neg, ok, over := cStrto(tok)
	if !ok || over {
		return 0, false
	}
	v := mag
	if neg {
		v = -mag // strtoul negates in unsigned arithmetic: "-1" is 2^64-1
	}
	if int64(v) < 0 && bytes.IndexByte(tok, '-') >= 0 {
		return 0, false
	}
	return v, true
}

// safeStrtol is memcached's safe_strtol into an int32: strtol (ERANGE
// outside a 64-bit long), then truncated to 32 bits without a range check
// (-4294967295 reads as 1, 4294967296 as 0).
func safeStrtol(tok []byte) (int32, bool) {
	mag, neg, ok, over := cStrto(tok)
	if !ok || over || (!neg && mag > 1<<63-1) || (neg && mag > 1<<63) {
		return 0, false
	}
	l := int64(mag)
	if neg {
		l = -l // for mag == 1<<63 this wraps to the minimum, as it should
	}
	return int32(l), true
}
