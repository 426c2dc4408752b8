package resp

import (
	"math"
	"strconv"
)

// AppendSimpleString appends "+s\r\n". CR and LF in s become spaces: a
// status line cannot carry them, and passing them through would let a value
// forge further replies.
func AppendSimpleString(dst []byte, s string) []byte {
	return appendLine(append(dst, '+'), s)
}

// AppendError appends "-msg\r\n"; msg starts with the error code, e.g.
// "ERR unknown command". CR and LF become spaces, as in Redis's
// addReplyErrorFormat.
func AppendError(dst []byte, msg string) []byte {
	return appendLine(append(dst, '-'), msg)
}

func appendLine[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, '\r', '\n')
}

// AppendInt appends the integer reply ":n\r\n".
func AppendInt(dst []byte, n int64) []byte {
	dst = strconv.AppendInt(append(dst, ':'), n, 10)
	return append(dst, '\r', '\n')
}

// AppendBulk appends the bulk string "$len\r\nb\r\n".
func AppendBulk(dst, b []byte) []byte {
	dst = strconv.AppendInt(append(dst, '$'), int64(len(b)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendBulkString is AppendBulk for a string.
func AppendBulkString(dst []byte, s string) []byte {
	dst = strconv.AppendInt(append(dst, '$'), int64(len(s)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendNullBulk appends the null bulk string "$-1\r\n" (GET of a missing
// key).
func AppendNullBulk(dst []byte) []byte { return append(dst, "$-1\r\n"...) }

// AppendArrayHeader appends "*n\r\n"; the caller appends the n elements.
func AppendArrayHeader(dst []byte, n int) []byte {
	dst = strconv.AppendInt(append(dst, '*'), int64(n), 10)
	return append(dst, '\r', '\n')
}

// AppendNullArray appends the null array "*-1\r\n".
func AppendNullArray(dst []byte) []byte { return append(dst, "*-1\r\n"...) }

// AppendDouble appends f as a bulk string, as Redis replies scores in RESP2:
// the shortest digits that read back as f, in plain notation when the
// exponent is in [-4, 17) like C's %.17g and in e-notation otherwise;
// infinities are "inf" and "-inf", NaN is "nan".
func AppendDouble(dst []byte, f float64) []byte {
	var buf [32]byte
	var num []byte
	switch {
	case math.IsInf(f, 1):
		num = append(buf[:0], "inf"...)
	case math.IsInf(f, -1):
		num = append(buf[:0], "-inf"...)
	case math.IsNaN(f):
		num = append(buf[:0], "nan"...)
	default:
		fmtc := byte('f')
		if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e17) {
			fmtc = 'e'
		}
		num = strconv.AppendFloat(buf[:0], f, fmtc, -1, 64)
	}
	return AppendBulk(dst, num)
}

// AppendCommand appends args as a multibulk request, the form the store
// adapter sends to redis-server.
func AppendCommand(dst []byte, args [][]byte) []byte {
	dst = AppendArrayHeader(dst, len(args))
	for _, a := range args {
		dst = AppendBulk(dst, a)
	}
	return dst
}
