package store

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"
)

func formatInt(n int64) string   { return strconv.FormatInt(n, 10) }
func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// parseCDouble parses all of s as C's strtod would: optional sign, decimal
// or hex (0x, exponent p optional) digits, inf, infinity, nan, nan(...).
// erange reports what strtod reports with ERANGE: overflow (f is ±Inf) or
// underflow to zero.
func parseCDouble(s []byte) (f float64, ok, erange bool) {
	body := s
	neg := false
	if len(body) > 0 && (body[0] == '+' || body[0] == '-') {
		neg = body[0] == '-'
		body = body[1:]
	}
	if special, ok := parseSpecial(body); ok {
		if neg {
			special = -special
		}
		return special, true, false
	}
	if len(body) == 0 || bytes.IndexByte(body, '_') >= 0 || !isDigitOrDot(body[0]) {
		return 0, false, false
	}
	str := string(s)
	hex := len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	if hex && !strings.ContainsAny(str, "pP") {
		str += "p0"
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
			return f, true, true
		}
		return 0, false, false
	}
	if f == 0 && hasNonZeroMantissa(body, hex) {
		return f, true, true
	}
	return f, true, false
}

func isDigitOrDot(c byte) bool { return c == '.' || ('0' <= c && c <= '9') }

// parseSpecial recognises strtod's inf, infinity, nan and nan(chars).
func parseSpecial(b []byte) (float64, bool) {
	low := strings.ToLower(string(b))
	switch {
	case low == "inf" || low == "infinity":
		return math.Inf(1), true
	case low == "nan":
		return math.NaN(), true
	case strings.HasPrefix(low, "nan(") && strings.HasSuffix(low, ")"):
		for _, c := range low[4 : len(low)-1] {
			if !(c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z')) {
				return 0, false
			}
		}
		return math.NaN(), true
	}
	return 0, false
}

// hasNonZeroMantissa reports whether the digits before the exponent are
// not all zero, i.e. a zero result is an underflow.
func hasNonZeroMantissa(b []byte, hex bool) bool {
	if hex {
		b = b[2:]
	}
	for _, c := range b {
		switch {
		case c == '.' || c == '0':
		case !hex && (c == 'e' || c == 'E'):
			return false
		case hex && (c == 'p' || c == 'P'):
			return false
		default:
			return true
		}
	}
	return false
}

// parseDouble is Redis's getDoubleFromObject: the whole argument must be a
// number, not NaN, with no leading space and no overflow or underflow to
// zero.
func parseDouble(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	f, ok, erange := parseCDouble(b)
	if !ok || math.IsNaN(f) || (erange && (math.IsInf(f, 0) || f == 0)) {
		return 0, false
	}
	return f, true
}

// parseRangeDouble is the looser strtod use of zslParseRange: the argument
// is read as a C string, leading space is skipped, an empty string is 0 and
// out-of-range values saturate; only NaN and trailing garbage fail.
func parseRangeDouble(b []byte) (float64, bool) {
	b = cstr(b)
	for len(b) > 0 && isCSpace(b[0]) {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, true
	}
	f, ok, _ := parseCDouble(b)
	if !ok || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// appendScore appends a double as Redis 7.0 replies it in RESP2: C's %.17g,
// or inf/-inf, as a bulk string.
func appendScore(dst []byte, f float64) []byte {
	var buf [32]byte
	num := appendScoreText(buf[:0], f)
	dst = strconv.AppendInt(append(dst, '$'), int64(len(num)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, num...)
	return append(dst, '\r', '\n')
}

// appendScoreText appends a score's text: %.17g, inf or -inf.
func appendScoreText(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// Long doubles. INCRBYFLOAT and HINCRBYFLOAT compute in C's long double,
// the x87 80-bit format on the platforms Redis ships on: a 64-bit
// mantissa and a 15-bit exponent. A big.Float with 64 bits of precision,
// rounding to nearest even, gives the same sums; the exponent bounds are
// checked by hand.
const (
	ldPrec   = 64
	ldMaxExp = 16384  // |x| >= 2^16384 overflows
	ldMinExp = -16444 // smallest subnormal is 2^-16445
)

func newLD() *big.Float { return new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven) }

// parseLongDouble is Redis's string2ld: strtold over the whole argument,
// rejecting leading space, trailing garbage (a NUL included), NaN, overflow
// and underflow to zero. inf is accepted: callers
// reject it where Redis does. The returned value is nil for ±Inf, with
// inf set to its sign.
func parseLongDouble(b []byte) (x *big.Float, inf int, ok bool) {
	if len(b) == 0 || len(b) >= 5*1024 {
		return nil, 0, false
	}
	if isCSpace(b[0]) {
		return nil, 0, false
	}
	body := b
	neg := false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if f, special := parseSpecial(body); special {
		if math.IsNaN(f) {
			return nil, 0, false
		}
		if neg {
			return nil, -1, true
		}
		return nil, 1, true
	}
	if len(body) == 0 || bytes.IndexByte(body, '_') >= 0 || !isDigitOrDot(body[0]) {
		return nil, 0, false
	}
	hex := len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	base := 10
	if hex {
		base = 0
	} else if bytes.ContainsAny(body, "pPxXbBoO") {
		return nil, 0, false
	}
	x, _, err := newLD().Parse(string(b), base)
	if err != nil {
		return nil, 0, false
	}
	if x.IsInf() {
		return nil, 0, false
	}
	if x.Sign() == 0 {
		if hasNonZeroMantissa(body, hex) {
			return nil, 0, false
		}
		return x, 0, true
	}
	exp := x.MantExp(nil)
	if exp > ldMaxExp || exp < ldMinExp {
		return nil, 0, false
	}
	return x, 0, true
}

// ldOverflows reports whether x is beyond the long double range (C would
// hold an infinity).
func ldOverflows(x *big.Float) bool { return x.Sign() != 0 && x.MantExp(nil) > ldMaxExp }

// formatLongDouble is Redis's ld2string in human mode: %.17Lf with trailing
// zeros (and a trailing point) removed, and "-0" written "0".
func formatLongDouble(x *big.Float) string {
	s := x.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
