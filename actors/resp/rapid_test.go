package resp

import (
	"bytes"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

func genArgs() *rapid.Generator[[][]byte] {
	return rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 40), 1, 8)
}

// cuts draws up to 6 split points in [0, n].
func cuts(t *rapid.T, n int) []int {
	return rapid.SliceOfN(rapid.IntRange(0, n), 0, 6).Draw(t, "cuts")
}

// Commands encoded with AppendCommand, pipelined and delivered in arbitrary
// reads, parse back to the same arguments.
func TestRapidCommandRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cmds := rapid.SliceOfN(genArgs(), 1, 10).Draw(t, "cmds")
		var stream []byte
		for _, c := range cmds {
			stream = AppendCommand(stream, c)
		}
		got := feed(NewParser(Limits{}), stream, cuts(t, len(stream))...)
		if got.Err != "" || got.Left != 0 || len(got.Cmds) != len(cmds) {
			t.Fatalf("got %+v for %d commands", got, len(cmds))
		}
		for i, c := range cmds {
			for j, a := range c {
				if got.Cmds[i][j] != string(a) {
					t.Fatalf("command %d arg %d: %q, want %q", i, j, got.Cmds[i][j], a)
				}
			}
		}
	})
}

// quoteInline writes b as a double-quoted inline argument, escaping every
// byte that sdssplitargs would not take literally.
func quoteInline(dst, b []byte) []byte {
	dst = append(dst, '"')
	for _, c := range b {
		if c >= 0x21 && c <= 0x7e && c != '"' && c != '\\' {
			dst = append(dst, c)
		} else {
			dst = fmt.Appendf(dst, "\\x%02x", c)
		}
	}
	return append(dst, '"')
}

// Any bytes survive inline quoting, whatever the reads.
func TestRapidInlineRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cmds := rapid.SliceOfN(genArgs(), 1, 5).Draw(t, "cmds")
		var stream []byte
		for _, c := range cmds {
			// An inline command cannot start with '*' (that means multibulk).
			stream = append(stream, "CMD"...)
			for _, a := range c {
				stream = quoteInline(append(stream, ' '), a)
			}
			stream = append(stream, "\r\n"...)
		}
		got := feed(NewParser(Limits{}), stream, cuts(t, len(stream))...)
		if got.Err != "" || got.Left != 0 || len(got.Cmds) != len(cmds) {
			t.Fatalf("got %+v for %d commands", got, len(cmds))
		}
		for i, c := range cmds {
			for j, a := range c {
				if got.Cmds[i][j+1] != string(a) {
					t.Fatalf("command %d arg %d: %q, want %q", i, j, got.Cmds[i][j+1], a)
				}
			}
		}
	})
}

func genValue(depth int) *rapid.Generator[Value] {
	return rapid.Custom(func(t *rapid.T) Value {
		kinds := []Type{SimpleString, Error, Integer, BulkString}
		if depth > 0 {
			kinds = append(kinds, Array)
		}
		v := Value{Type: rapid.SampledFrom(kinds).Draw(t, "type")}
		line := rapid.SliceOfN(rapid.ByteRange(0x20, 0x7e), 0, 20)
		switch v.Type {
		case SimpleString, Error:
			v.Str = line.Draw(t, "line")
		case Integer:
			v.Int = rapid.Int64().Draw(t, "int")
		case BulkString:
			if v.Null = rapid.Bool().Draw(t, "null"); !v.Null {
				v.Str = rapid.SliceOfN(rapid.Byte(), 0, 30).Draw(t, "bulk")
			}
		case Array:
			if v.Null = rapid.Bool().Draw(t, "null"); !v.Null {
				v.Elems = rapid.SliceOfN(genValue(depth-1), 0, 4).Draw(t, "elems")
			}
		}
		return v
	})
}

// Replies encoded with AppendValue and delivered in arbitrary reads are
// found by a resuming ReplyScanner and parse back to the same values.
func TestRapidReplyRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		vals := rapid.SliceOfN(genValue(3), 1, 6).Draw(t, "values")
		var stream []byte
		for _, v := range vals {
			stream = AppendValue(stream, v)
		}
		splits := append(cuts(t, len(stream)), len(stream))
		var s ReplyScanner
		var buf []byte
		prev, got := 0, 0
		for _, c := range splits {
			c = max(c, prev)
			buf = append(buf, stream[prev:c]...)
			prev = c
			for {
				n, err := s.Scan(buf)
				if err == ErrIncomplete {
					break
				}
				if err != nil {
					t.Fatalf("scan: %v", err)
				}
				v, pn, err := ParseReply(buf)
				if err != nil || pn != n {
					t.Fatalf("ParseReply %d,%v; scanner %d", pn, err, n)
				}
				if enc, want := AppendValue(nil, v), AppendValue(nil, vals[got]); !bytes.Equal(enc, want) {
					t.Fatalf("reply %d: %q, want %q", got, enc, want)
				}
				got++
				buf = append([]byte(nil), buf[n:]...)
			}
		}
		if got != len(vals) || len(buf) != 0 {
			t.Fatalf("parsed %d of %d replies, %d bytes left", got, len(vals), len(buf))
		}
	})
}
