package mcproto

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
