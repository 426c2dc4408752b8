package resp

import (
	"bytes"
	"fmt"
	"strconv"
)

// MaxReplyDepth bounds how deeply arrays may nest in one reply, so hostile
// or corrupt input cannot blow the stack of ParseReply. Redis's own replies
// nest a few levels (a Lua script's can go deeper); hiredis once capped at 9.
const MaxReplyDepth = 128

// maxReplyLen bounds a bulk length or array count in a reply. Redis strings
// are at most 512 MiB by default; the bound only keeps arithmetic safe.
const maxReplyLen = 1 << 40

// Type is a RESP2 reply type, named by its leading byte.
type Type byte

// The RESP2 reply types.
const (
	SimpleString Type = '+'
	Error        Type = '-'
	Integer      Type = ':'
	BulkString   Type = '$'
	Array        Type = '*'
)

// Value is one parsed reply.
type Value struct {
	Type Type
	// Str holds SimpleString, Error and BulkString contents; it aliases the
	// parsed buffer.
	Str []byte
	// Int holds an Integer.
	Int int64
	// Elems holds an Array's elements.
	Elems []Value
	// Null marks the null bulk string ($-1) and the null array (*-1).
	Null bool
}

// ReplyScanner finds the end of one complete reply. When a reply arrives in
// many reads, keep one scanner and call Scan with the growing buffer (which
// must start at the reply's first byte): it resumes where it stopped, so a
// large array is not re-walked from its start on every read.
type ReplyScanner struct {
	pos   int                // bytes of the reply already checked
	depth int                // open arrays
	left  [MaxReplyDepth]int // elements still to read in each open array
}

// Reset forgets a partly scanned reply.
func (s *ReplyScanner) Reset() { s.pos, s.depth = 0, 0 }

// ReplyLen returns the length of the complete reply at the start of buf,
// ErrIncomplete if buf holds only part of one, or a *MalformedReplyError.
// It does not allocate.
func ReplyLen(buf []byte) (int, error) {
	var s ReplyScanner
	return s.Scan(buf)
}

// Scan is ReplyLen, resuming from the previous call's progress; after a
// complete reply or an error the scanner is ready for the next reply.
func (s *ReplyScanner) Scan(buf []byte) (int, error) {
	if s.pos > len(buf) {
		s.Reset() // not the same buffer grown: start over
	}
	for {
		next, null, count, err := s.element(buf)
		if err != nil {
			if err != ErrIncomplete {
				s.Reset()
			}
			return 0, err
		}
		s.pos = next
		if count > 0 && !null {
			if s.depth == MaxReplyDepth {
				at := s.pos
				s.Reset()
				return 0, &MalformedReplyError{Offset: at, Reason: "arrays nested deeper than " + strconv.Itoa(MaxReplyDepth)}
			}
			s.left[s.depth] = count
			s.depth++
			continue
		}
		if s.valueDone() {
			n := s.pos
			s.Reset()
			return n, nil
		}
	}
}

// valueDone counts one finished value against the open arrays and reports
// whether the whole reply is complete.
func (s *ReplyScanner) valueDone() bool {
	for s.depth > 0 {
		s.left[s.depth-1]--
		if s.left[s.depth-1] > 0 {
			return false
		}
		s.depth-- // that array is finished: a finished value of its parent
	}
	return true
}

// element checks the element at s.pos and returns the offset after it (after
// its header, for a non-empty array, whose element count is count).
func (s *ReplyScanner) element(buf []byte) (next int, null bool, count int, err error) {
	at := s.pos
	if at >= len(buf) {
		return 0, false, 0, ErrIncomplete
	}
	switch Type(buf[at]) {
	case SimpleString, Error, Integer, BulkString, Array:
	default:
		return 0, false, 0, malformed(at, "unknown RESP2 type byte %q", buf[at:at+1])
	}
	end, err := replyLine(buf, at+1)
	if err != nil {
		return 0, false, 0, err
	}
	line := buf[at+1 : end]
	switch Type(buf[at]) {
	case SimpleString, Error:
		return end + 2, false, 0, nil
	case Integer:
		if _, ok := ParseInt(line); !ok {
			return 0, false, 0, malformed(at, "bad integer %q", line)
		}
		return end + 2, false, 0, nil
	case BulkString:
		n, ok := ParseInt(line)
		if !ok || n < -1 || n > maxReplyLen {
			return 0, false, 0, malformed(at, "bad bulk length %q", line)
		}
		if n == -1 {
			return end + 2, true, 0, nil
		}
		data := end + 2
		if int64(len(buf)-data) < n+2 {
			return 0, false, 0, ErrIncomplete
		}
		stop := data + int(n)
		if buf[stop] != '\r' || buf[stop+1] != '\n' {
			return 0, false, 0, malformed(stop, "bulk data not followed by CRLF: %q", buf[stop:stop+2])
		}
		return stop + 2, false, 0, nil
	default: // Array
		n, ok := ParseInt(line)
		if !ok || n < -1 || n > maxReplyLen {
			return 0, false, 0, malformed(at, "bad array length %q", line)
		}
		return end + 2, n == -1, int(n), nil
	}
}

// replyLine returns the index of the "\r\n" ending the line starting at at.
func replyLine(buf []byte, at int) (int, error) {
	i := bytes.IndexByte(buf[at:], '\r')
	if i < 0 {
		if j := bytes.IndexByte(buf[at:], '\n'); j >= 0 {
			return 0, malformed(at+j, "LF without CR")
		}
		return 0, ErrIncomplete
	}
	end := at + i
	if end+1 >= len(buf) {
		return 0, ErrIncomplete
	}
	if buf[end+1] != '\n' {
		return 0, malformed(end, "CR not followed by LF")
	}
	if j := bytes.IndexByte(buf[at:end], '\n'); j >= 0 {
		return 0, malformed(at+j, "LF without CR")
	}
	return end, nil
}

func malformed(at int, format string, arg ...any) *MalformedReplyError {
	return &MalformedReplyError{Offset: at, Reason: fmt.Sprintf(format, arg...)}
}

// ParseReply parses the complete reply at the start of buf into a Value
// whose strings alias buf, and returns its length. Errors are those of
// ReplyLen. Arrays allocate their element slices; use ReplyLen when only
// the extent of the reply is needed.
func ParseReply(buf []byte) (Value, int, error) {
	n, err := ReplyLen(buf)
	if err != nil {
		return Value{}, 0, err
	}
	v, _ := build(buf[:n], 0)
	return v, n, nil
}

// build decodes the element at buf[at:], already validated by ReplyLen,
// so nesting is bounded by MaxReplyDepth and every length is present.
func build(buf []byte, at int) (Value, int) {
	end := at + bytes.IndexByte(buf[at:], '\r')
	line := buf[at+1 : end]
	v := Value{Type: Type(buf[at])}
	next := end + 2
	switch v.Type {
	case SimpleString, Error:
		v.Str = line[:len(line):len(line)]
	case Integer:
		v.Int, _ = ParseInt(line)
	case BulkString:
		n, _ := ParseInt(line)
		if n < 0 {
			v.Null = true
			break
		}
		v.Str = buf[next : next+int(n) : next+int(n)]
		next += int(n) + 2
	case Array:
		n, _ := ParseInt(line)
		if n < 0 {
			v.Null = true
			break
		}
		v.Elems = make([]Value, n)
		for i := range v.Elems {
			v.Elems[i], next = build(buf, next)
		}
	}
	return v, next
}

// AppendValue appends v in RESP2. Values parsed by ParseReply re-encode to
// the bytes they came from.
func AppendValue(dst []byte, v Value) []byte {
	switch v.Type {
	case SimpleString:
		return appendLine(append(dst, '+'), v.Str)
	case Error:
		return appendLine(append(dst, '-'), v.Str)
	case Integer:
		return AppendInt(dst, v.Int)
	case BulkString:
		if v.Null {
			return AppendNullBulk(dst)
		}
		return AppendBulk(dst, v.Str)
	case Array:
		if v.Null {
			return AppendNullArray(dst)
		}
		dst = AppendArrayHeader(dst, len(v.Elems))
		for _, e := range v.Elems {
			dst = AppendValue(dst, e)
		}
	}
	return dst
}
