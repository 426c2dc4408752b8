package mcproto

import (
	"bytes"
	"strconv"
)

// maxResponseLine bounds a response line. memcached's longest is a VALUE
// line: a 250-byte key and three numbers.
const maxResponseLine = 2048

// Item is one hit of a get/gets response; Key and Data alias the buffer.
type Item struct {
	Key    []byte
	Flags  uint32
	Data   []byte
	Cas    uint64
	HasCas bool
}

// Response is one parsed response from memcached.
type Response struct {
	// Line is the line that ends the response, without CRLF: END after get
	// hits, STORED, DELETED, the new value of incr/decr, VERSION x, or an
	// error line.
	Line []byte
	// Items are the hits of get/gets, in order.
	Items []Item
}

// ResponseLen returns the length of the complete response to a request of
// kind at the start of buf, ErrIncomplete if buf holds only part of it, or
// a *MalformedResponseError. It does not allocate. Requests sent with
// noreply, and quit, have no response: do not wait for one.
func ResponseLen(kind Kind, buf []byte) (int, error) {
	return scanResponse(kind, buf, nil)
}

// ParseResponse is ResponseLen that also fills r, reusing r.Items.
func ParseResponse(kind Kind, buf []byte, r *Response) (int, error) {
	r.Line, r.Items = nil, r.Items[:0]
	return scanResponse(kind, buf, r)
}

func scanResponse(kind Kind, buf []byte, r *Response) (int, error) {
	if kind.IsMeta() {
		return scanMetaResponse(buf, r)
	}
	pos := 0
	for {
		line, next, err := responseLine(buf, pos)
		if err != nil {
			return 0, err
		}
		if kind.Retrieval() && bytes.HasPrefix(line, []byte("VALUE ")) {
			it, n, ok := valueLine(line, kind.WithCas())
			if !ok {
				return 0, &MalformedResponseError{Offset: pos, Reason: "bad VALUE line " + quote(line)}
			}
			end := next + n
			if len(buf)-next < n+2 {
				return 0, ErrIncomplete
			}
			if buf[end] != '\r' || buf[end+1] != '\n' {
				return 0, &MalformedResponseError{Offset: end, Reason: "data block not followed by CRLF"}
			}
			if r != nil {
				it.Data = buf[next:end:end]
				r.Items = append(r.Items, it)
			}
			pos = end + 2
			continue
		}
		if !finalLine(kind, line) {
			return 0, &MalformedResponseError{Offset: pos, Reason: "unexpected line " + quote(line) + " for " + kind.String()}
		}
		if r != nil {
			r.Line = line[:len(line):len(line)]
		}
		return next, nil
	}
}

// scanMetaResponse frames the reply to a meta command sent followed by mn
// (see MetaSuffix): at most one reply (a line, or "VA <size> <flags>*" and
// its data block; none when quiet mode suppressed it), then "MN". r.Line is
// the reply's first line, or MN when there is none; no Items are filled.
func scanMetaResponse(buf []byte, r *Response) (int, error) {
	pos, replies := 0, 0
	for {
		line, next, err := responseLine(buf, pos)
		if err != nil {
			return 0, err
		}
		if r != nil && (replies == 0 || string(line) != "MN") {
			r.Line = line[:len(line):len(line)]
		}
		if string(line) == "MN" {
			return next, nil
		}
		if replies++; replies > 1 {
			return 0, &MalformedResponseError{Offset: pos, Reason: "a second reply " + quote(line) + " before MN"}
		}
		if bytes.HasPrefix(line, []byte("VA ")) {
			size := line[3:]
			if i := bytes.IndexByte(size, ' '); i >= 0 {
				size = size[:i]
			}
			n, ok := parseUint(size, 31)
			if !ok {
				return 0, &MalformedResponseError{Offset: pos, Reason: "bad VA line " + quote(line)}
			}
			end := next + int(n)
			if len(buf)-next < int(n)+2 {
				return 0, ErrIncomplete
			}
			if buf[end] != '\r' || buf[end+1] != '\n' {
				return 0, &MalformedResponseError{Offset: end, Reason: "data block not followed by CRLF"}
			}
			next = end + 2
		}
		pos = next
	}
}

// MetaSuffix follows every meta command sent to a memcached: its MN ends
// the reply whether or not quiet mode suppressed the command's own.
const MetaSuffix = "mn\r\n"

// responseLine returns the CRLF-terminated line at pos and the offset after it.
func responseLine(buf []byte, pos int) ([]byte, int, error) {
	window := buf[pos:min(len(buf), pos+maxResponseLine+2)]
	i := bytes.IndexByte(window, '\n')
	if i < 0 {
		if len(window) > maxResponseLine+1 {
			return nil, 0, &MalformedResponseError{Offset: pos, Reason: "line longer than " + strconv.Itoa(maxResponseLine) + " bytes"}
		}
		return nil, 0, ErrIncomplete
	}
	if i == 0 || window[i-1] != '\r' {
		return nil, 0, &MalformedResponseError{Offset: pos + i, Reason: "LF without CR"}
	}
	line := window[:i-1]
	if j := bytes.IndexByte(line, '\r'); j >= 0 {
		return nil, 0, &MalformedResponseError{Offset: pos + j, Reason: "CR inside a line"}
	}
	return line, pos + i + 1, nil
}

// valueLine parses "VALUE <key> <flags> <bytes>[ <cas>]" and returns the
// item (without its data) and the data length.
func valueLine(line []byte, wantCas bool) (Item, int, bool) {
	var f [6][]byte
	nf := 0
	for rest := line; nf < len(f); nf++ {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			f[nf] = rest
			nf++
			break
		}
		f[nf], rest = rest[:i], rest[i+1:]
	}
	if nf != 4 && !(wantCas && nf == 5) || len(f[1]) == 0 {
		return Item{}, 0, false
	}
	flags, ok1 := parseUint(f[2], 32)
	n, ok2 := parseUint(f[3], 31)
	if !ok1 || !ok2 {
		return Item{}, 0, false
	}
	it := Item{Key: f[1][:len(f[1]):len(f[1])], Flags: uint32(flags)}
	if nf == 5 {
		cas, ok := parseUint(f[4], 64)
		if !ok {
			return Item{}, 0, false
		}
		it.Cas, it.HasCas = cas, true
	}
	return it, int(n), true
}

// finalLine reports whether line can end the response to a request of kind.
func finalLine(kind Kind, line []byte) bool {
	if isErrorLine(line) {
		return true
	}
	switch string(line) {
	case End:
		return kind.Retrieval()
	case Stored, NotStored:
		return kind.IsStorage()
	case Exists:
		return kind == KindCas
	case NotFound:
		return kind == KindCas || kind == KindDelete || kind == KindIncr || kind == KindDecr || kind == KindTouch
	case Deleted:
		return kind == KindDelete
	case Touched:
		return kind == KindTouch
	case OK:
		return kind == KindVerbosity
	}
	switch kind {
	case KindIncr, KindDecr:
		_, ok := parseUint(line, 64)
		return ok
	case KindVersion:
		return bytes.HasPrefix(line, []byte("VERSION "))
	}
	return false
}

// isErrorLine matches memcached's three error replies: "ERROR" (possibly
// with text, e.g. "ERROR: shutdown not enabled"), "CLIENT_ERROR <text>" and
// "SERVER_ERROR <text>".
func isErrorLine(line []byte) bool {
	return bytes.HasPrefix(line, []byte("ERROR")) ||
		bytes.HasPrefix(line, []byte("CLIENT_ERROR ")) ||
		bytes.HasPrefix(line, []byte("SERVER_ERROR "))
}
