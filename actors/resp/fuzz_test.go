package resp

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzLimits are small so that every limit is within the fuzzer's reach.
var fuzzLimits = Limits{MaxBulkLen: 1 << 10, MaxArgs: 64, MaxInline: 64}

// FuzzRequestParser checks that parsing never panics, never claims more
// bytes than it was given, re-encodes every multibulk command to exactly
// the bytes it came from, and gives the same result however the stream is
// split into reads.
func FuzzRequestParser(f *testing.F) {
	f.Add([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n"), uint16(3), uint16(9))
	f.Add([]byte("SET \"a\\x41\" 'b\\'c'\r\n*0\r\n"), uint16(5), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, cut1, cut2 uint16) {
		p := NewParser(fuzzLimits)
		cmds, n, err := p.Parse(data)
		if n < 0 || n > len(data) {
			t.Fatalf("consumed %d of %d", n, len(data))
		}
		for _, c := range cmds {
			if len(c.Raw) > 0 && c.Raw[0] == '*' {
				if enc := AppendCommand(nil, c.Args); !bytes.Equal(enc, c.Raw) {
					t.Fatalf("command %q re-encodes to %q", c.Raw, enc)
				}
			}
		}
		var pe *ProtocolError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		whole := feed(NewParser(fuzzLimits), data)
		split := feed(NewParser(fuzzLimits), data, int(cut1)%(len(data)+1), int(cut2)%(len(data)+1))
		if !equalOutcome(whole, split) {
			t.Fatalf("split at %d,%d: %+v, whole: %+v", cut1, cut2, split, whole)
		}
	})
}

func equalOutcome(a, b outcome) bool {
	if a.Err != b.Err || a.Left != b.Left || len(a.Cmds) != len(b.Cmds) {
		return false
	}
	for i := range a.Cmds {
		if len(a.Cmds[i]) != len(b.Cmds[i]) {
			return false
		}
		for j := range a.Cmds[i] {
			if a.Cmds[i][j] != b.Cmds[i][j] {
				return false
			}
		}
	}
	return true
}

// FuzzReplyParser checks that ReplyLen and ParseReply agree, never panic,
// that a parsed reply re-encodes to exactly its bytes, and that a scanner
// fed the reply in two steps finds the same end.
func FuzzReplyParser(f *testing.F) {
	f.Add([]byte("*2\r\n$3\r\nfoo\r\n:1\r\n"), uint16(7))
	f.Add([]byte("*-1\r\n$-1\r\n+OK\r\n-ERR x\r\n"), uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		n, err := ReplyLen(data)
		v, pn, perr := ParseReply(data)
		if n != pn || (err == nil) != (perr == nil) {
			t.Fatalf("ReplyLen %d,%v; ParseReply %d,%v", n, err, pn, perr)
		}
		var me *MalformedReplyError
		if err != nil && !errors.Is(err, ErrIncomplete) && !errors.As(err, &me) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if err == nil {
			if n <= 0 || n > len(data) {
				t.Fatalf("length %d of %d", n, len(data))
			}
			if enc := AppendValue(nil, v); !bytes.Equal(enc, data[:n]) {
				t.Fatalf("reply %q re-encodes to %q", data[:n], enc)
			}
		}
		var s ReplyScanner
		c := int(cut) % (len(data) + 1)
		if _, serr := s.Scan(data[:c]); serr == nil || !errors.Is(serr, ErrIncomplete) {
			// The prefix held a whole reply or an error: nothing to resume.
			return
		}
		sn, serr := s.Scan(data)
		if sn != n || (serr == nil) != (err == nil) {
			t.Fatalf("resumed scan %d,%v; whole %d,%v", sn, serr, n, err)
		}
	})
}
