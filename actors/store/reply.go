package store

import (
	"bytes"

	"github.com/dynonode/dynonode/actors/resp"
)

// Error replies, worded exactly as Redis 7.0 words them.
const (
	errWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errNotInt     = "ERR value is not an integer or out of range"
	errNotFloat   = "ERR value is not a valid float"
	errSyntax     = "ERR syntax error"
	errOverflow   = "ERR increment or decrement would overflow"
	errNoKey      = "ERR no such key"
	errIndexRange = "ERR index out of range"
	errNaNInf     = "ERR increment would produce NaN or Infinity"
	errTooBig     = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errPositive   = "ERR value is out of range, must be positive"
	errCursor     = "ERR invalid cursor"
)

var (
	replyOK        = []byte("+OK\r\n")
	replyEmptyBulk = []byte("$0\r\n\r\n")
	replyEmptyArr  = []byte("*0\r\n")
	replyEmptyScan = []byte("*2\r\n$1\r\n0\r\n*0\r\n")
)

func appendErr(dst []byte, msg string) []byte { return resp.AppendError(dst, msg) }

func appendOK(dst []byte) []byte { return append(dst, replyOK...) }

func appendBool(dst []byte, b bool) []byte {
	if b {
		return resp.AppendInt(dst, 1)
	}
	return resp.AppendInt(dst, 0)
}

// cstr is b up to its first NUL: Redis reads option names and error
// arguments as C strings, so "nx\x00junk" is the option NX to it.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// is reports whether b, read as a C string, equals the lower-case word w
// ignoring case (strcasecmp).
func is(b []byte, w string) bool {
	b = cstr(b)
	if len(b) != len(w) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// appendUnknownCommand formats Redis 7.0's reply to an unknown command:
// the name cut to 128 bytes, then quoted arguments while the list is
// shorter than 128 bytes, each cut so the list stays within 128.
func appendUnknownCommand(dst []byte, args [][]byte) []byte {
	name := cstr(args[0])
	if len(name) > 128 {
		name = name[:128]
	}
	var list []byte
	for _, a := range args[1:] {
		if len(list) >= 128 {
			break
		}
		a = cstr(a)
		if room := 128 - len(list); len(a) > room {
			a = a[:room]
		}
		list = append(list, '\'')
		list = append(list, a...)
		list = append(list, '\'', ' ')
	}
	msg := make([]byte, 0, 64+len(name)+len(list))
	msg = append(msg, "ERR unknown command '"...)
	msg = append(msg, name...)
	msg = append(msg, "', with args beginning with: "...)
	msg = append(msg, list...)
	return resp.AppendError(dst, string(msg))
}

func appendArityErr(dst []byte, name string) []byte {
	return resp.AppendError(dst, "ERR wrong number of arguments for '"+name+"' command")
}

func appendStrings[S ~string | ~[]byte](dst []byte, items []S) []byte {
	dst = resp.AppendArrayHeader(dst, len(items))
	for _, it := range items {
		if b, ok := any(it).([]byte); ok { // KEYS and SCAN: the keys themselves, not copies
			dst = resp.AppendBulk(dst, b)
		} else {
			dst = resp.AppendBulkString(dst, string(it))
		}
	}
	return dst
}

// appendScan appends a SCAN-family reply: the next cursor, then the items.
func appendScan[S ~string | ~[]byte](dst []byte, cursor uint64, items []S) []byte {
	dst = resp.AppendArrayHeader(dst, 2)
	dst = resp.AppendBulkString(dst, formatUint(cursor))
	return appendStrings(dst, items)
}
