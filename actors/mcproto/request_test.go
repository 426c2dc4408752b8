package mcproto

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcome is what a parser made of a byte stream: each request re-encoded
// (in-band errors as "!<reply>"), the fatal error's reply if any, and the
// bytes left over.
type outcome struct {
	Reqs  []string
	Fatal string
	Left  int
}

func describe(r *Request) string {
	if r.Kind == KindError {
		s := "!" + r.Err.Reply
		if r.NoReply {
			s += " (noreply)"
		}
		return s
	}
	return string(AppendRequest(nil, r))
}

// feed parses stream delivered in chunks cut at the given offsets, keeping
// the unconsumed remainder in a fresh slice between reads.
func feed(p *Parser, stream []byte, cuts ...int) outcome {
	var out outcome
	var buf []byte
	prev := 0
	for i := 0; i <= len(cuts); i++ {
		end := len(stream)
		if i < len(cuts) {
			end = min(max(cuts[i], prev), len(stream))
		}
		buf = append(buf, stream[prev:end]...)
		prev = end
		reqs, n, err := p.Parse(buf)
		for j := range reqs {
			out.Reqs = append(out.Reqs, describe(&reqs[j]))
		}
		if err != nil {
			out.Fatal = err.(*Error).Reply
			return out
		}
		buf = append([]byte(nil), buf[n:]...)
	}
	out.Left = len(buf)
	return out
}

func TestParseRequests(t *testing.T) {
	key250 := strings.Repeat("k", 250)
	key251 := strings.Repeat("k", 251)
	tests := []struct {
		name string
		in   string
		want outcome
	}{
		{"get", "get a\r\n", outcome{Reqs: []string{"get a\r\n"}}},
		{"multi get LF only", "get a b  c\n", outcome{Reqs: []string{"get a b c\r\n"}}},
		{"gets", "gets a b\r\n", outcome{Reqs: []string{"gets a b\r\n"}}},
		{"gat", "gat 100 a b\r\n", outcome{Reqs: []string{"gat 100 a b\r\n"}}},
		{"gats negative exptime", "gats -1 a\r\n", outcome{Reqs: []string{"gats -1 a\r\n"}}},
		{"gat without a key", "gat 5\r\n", outcome{Reqs: []string{"gat 5\r\n"}}},
		{"gat without an exptime", "gat\r\n", outcome{Reqs: []string{"!ERROR"}}},
		{"gat bad exptime", "gat x a\r\n", outcome{Reqs: []string{"!CLIENT_ERROR invalid exptime argument"}}},
		{"set", "set k 5 -1 3\r\nabc\r\n", outcome{Reqs: []string{"set k 5 -1 3\r\nabc\r\n"}}},
		{"set noreply", "set k 0 0 0 noreply\r\n\r\n", outcome{Reqs: []string{"set k 0 0 0 noreply\r\n\r\n"}}},
		{"data with CRLF inside", "append k 0 0 4\r\n\r\n\r\n\r\n", outcome{Reqs: []string{"append k 0 0 4\r\n\r\n\r\n\r\n"}}},
		{"cas", "cas k 1 2 1 99\r\nx\r\n", outcome{Reqs: []string{"cas k 1 2 1 99\r\nx\r\n"}}},
		{"add replace prepend", "add k 0 0 1\r\na\r\nreplace k 0 0 1\r\nb\r\nprepend k 0 0 1\r\nc\r\n",
			outcome{Reqs: []string{"add k 0 0 1\r\na\r\n", "replace k 0 0 1\r\nb\r\n", "prepend k 0 0 1\r\nc\r\n"}}},
		{"delete", "delete k\r\ndelete k noreply\r\ndelete k 0\r\ndelete k 0 noreply\r\n",
			outcome{Reqs: []string{"delete k\r\n", "delete k noreply\r\n", "delete k\r\n", "delete k noreply\r\n"}}},
		{"incr decr", "incr k 18446744073709551615\r\ndecr k 1 noreply\r\n",
			outcome{Reqs: []string{"incr k 18446744073709551615\r\n", "decr k 1 noreply\r\n"}}},
		{"touch", "touch k 10\r\n", outcome{Reqs: []string{"touch k 10\r\n"}}},
		{"verbosity version quit", "verbosity 1\r\nversion\r\nquit\r\n",
			outcome{Reqs: []string{"verbosity 1\r\n", "version\r\n", "quit\r\n"}}},
		{"key at the limit", "get " + key250 + "\r\n", outcome{Reqs: []string{"get " + key250 + "\r\n"}}},
		{"partial line", "get a", outcome{Left: 5}},
		{"partial data", "set k 0 0 3\r\nab", outcome{Left: 15}},
		{"partial data CRLF", "set k 0 0 3\r\nabc\r", outcome{Left: 17}},

		{"unknown command", "bogus\r\nget a\r\n", outcome{Reqs: []string{"!ERROR", "get a\r\n"}}},
		{"empty line", "\r\n", outcome{Reqs: []string{"!ERROR"}}},
		{"get without key", "get\r\n", outcome{Reqs: []string{"!ERROR"}}},
		{"key too long", "get a " + key251 + "\r\n", outcome{Reqs: []string{"!CLIENT_ERROR bad command line format"}}},
		{"key with control byte", "get a\tb\r\n", outcome{Reqs: []string{"!CLIENT_ERROR bad command line format"}}},
		{"delete the key noreply", "delete noreply\r\ndelete noreply 0\r\ndelete noreply noreply\r\n",
			outcome{Reqs: []string{"delete noreply\r\n", "delete noreply\r\n", "delete noreply noreply\r\n"}}},
		{"delete usage", "delete k 5\r\n", outcome{Reqs: []string{"!CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"}}},
		{"delete too many", "delete a b c d\r\n", outcome{Reqs: []string{"!ERROR"}}},
		{"bad delta", "incr k -1\r\n", outcome{Reqs: []string{"!CLIENT_ERROR invalid numeric delta argument"}}},
		{"bad exptime", "touch k x noreply\r\n", outcome{Reqs: []string{"!CLIENT_ERROR invalid exptime argument (noreply)"}}},
		{"bad verbosity", "verbosity x\r\n", outcome{Reqs: []string{"!CLIENT_ERROR bad command line format"}}},
		// memcached 1.6 reads the data block after a bad storage line as
		// a command ("abc": ERROR); the integration test compares with one.
		{"set bad key reads data as a command", "set " + key251 + " 0 0 3\r\nabc\r\nget a\r\n",
			outcome{Reqs: []string{"!CLIENT_ERROR bad command line format", "!ERROR", "get a\r\n"}}},
		{"set bad flags reads data as a command", "set k x 0 3\r\nabc\r\nget a\r\n",
			outcome{Reqs: []string{"!CLIENT_ERROR bad command line format", "!ERROR", "get a\r\n"}}},
		{"set bad flags noreply", "set k x 0 3 noreply\r\nget a\r\n",
			outcome{Reqs: []string{"!CLIENT_ERROR bad command line format (noreply)", "get a\r\n"}}},
		{"set key with a control byte skips data", "set k\x01 0 0 3\r\nabc\r\nget a\r\n",
			outcome{Reqs: []string{"!CLIENT_ERROR bad command line format", "get a\r\n"}}},
		{"too large skips data", "set k 0 0 1048577 noreply\r\n" + strings.Repeat("v", 1048577) + "\r\nget a\r\n",
			outcome{Reqs: []string{"!SERVER_ERROR object too large for cache (noreply)", "get a\r\n"}}},

		// <bytes>+2 bytes are read ("abcd\r"), then "\n" is a command.
		{"bad data chunk", "set k 0 0 3\r\nabcd\r\n", outcome{Reqs: []string{"!CLIENT_ERROR bad data chunk", "!ERROR"}}},
		{"bad data chunk noreply", "set k 0 0 1 noreply\r\nxyz\r\nget a\r\n",
			outcome{Reqs: []string{"!CLIENT_ERROR bad data chunk (noreply)", "!ERROR", "get a\r\n"}}},
		{"negative bytes", "set k 0 0 -1\r\n", outcome{Reqs: []string{"!CLIENT_ERROR bad command line format"}}},
		{"storage token count", "get a\r\nset k 0 0\r\n", outcome{Reqs: []string{"get a\r\n", "!ERROR"}}},
		{"line too long", strings.Repeat("x", 2049), outcome{Fatal: "CLIENT_ERROR line too long"}},
		{"binary protocol", "\x80\x01\x00\x01\x08\x00\x00\x00", outcome{Fatal: "SERVER_ERROR the binary protocol is not served by dynonode"}},
		{"long get line allowed", "get" + strings.Repeat(" "+key250, 20) + "\r\n",
			outcome{Reqs: []string{"get" + strings.Repeat(" "+key250, 20) + "\r\n"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, feed(NewParser(Limits{}), []byte(tt.in)))
			for cut := 1; cut < len(tt.in) && cut < 60; cut++ {
				require.Equal(t, tt.want, feed(NewParser(Limits{}), []byte(tt.in), cut), "cut at %d", cut)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	in := []byte("cas k 4294967295 -2147483648 3 18446744073709551615 noreply\r\nabc\r\nget a b\r\n")
	reqs, n, err := NewParser(Limits{}).Parse(in)
	require.NoError(t, err)
	assert.Equal(t, len(in), n)
	require.Len(t, reqs, 2)
	r := reqs[0]
	assert.Equal(t, KindCas, r.Kind)
	assert.Equal(t, "k", string(r.Key))
	assert.Equal(t, uint32(4294967295), r.Flags)
	assert.Equal(t, int32(-2147483648), r.Exptime)
	assert.Equal(t, uint64(18446744073709551615), r.Cas)
	assert.Equal(t, "abc", string(r.Data))
	assert.True(t, r.NoReply)
	assert.Equal(t, [][]byte{[]byte("a"), []byte("b")}, reqs[1].Keys)
	assert.Equal(t, "a", string(reqs[1].Key))
}

func TestParseFatalOffset(t *testing.T) {
	reqs, n, err := NewParser(Limits{}).Parse([]byte("get a\r\n" + strings.Repeat("x", 2049)))
	require.Len(t, reqs, 1)
	assert.Equal(t, 7, n)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.True(t, e.Close)
	assert.Equal(t, 7, e.Offset)
	assert.Equal(t, "CLIENT_ERROR line too long\r\n", string(AppendLine(nil, e.Reply)))
}

func TestParseSteadyStateAllocatesNothing(t *testing.T) {
	buf := pipeline(16)
	p := NewParser(Limits{})
	_, _, _ = p.Parse(buf)
	allocs := testing.AllocsPerRun(100, func() {
		reqs, n, err := p.Parse(buf)
		if err != nil || n != len(buf) || len(reqs) != 32 {
			t.Fatalf("parse: %d reqs, n=%d, err=%v", len(reqs), n, err)
		}
	})
	assert.Zero(t, allocs)
}

// TestSafeStrtoLikeMemcached: storage-line numbers are read as memcached's
// safe_strtoul, safe_strtol and safe_strtoull read them (glibc strtoul and
// strtol with memcached's checks), truncation included.
func TestSafeStrtoLikeMemcached(t *testing.T) {
	type want struct {
		v  int64
		ok bool
	}
	ul := map[string]want{"1": {1, true}, "+1": {1, true}, "-0": {0, true}, "4294967296": {0, true}, "4294967297": {1, true},
		"18446744073709551615": {4294967295, true}, "18446744073709551616": {0, false}, "-1": {0, false}, "\t5": {5, true},
		"5\t": {5, true}, "5\r": {5, true}, "5x": {0, false}, "": {0, false}, "+": {0, false}, "-": {0, false}, "0x1": {0, false},
		"1e2": {0, false}, "-18446744073709551615": {1, true}}
	for in, w := range ul {
		v, ok := safeStrtoul([]byte(in))
		assert.Equal(t, w, want{int64(v), ok}, "safe_strtoul(%q)", in)
	}
	l := map[string]want{"1": {1, true}, "-1": {-1, true}, "+7": {7, true}, "-4294967295": {1, true}, "4294967296": {0, true},
		"2147483648": {-2147483648, true}, "9223372036854775807": {-1, true}, "9223372036854775808": {0, false},
		"-9223372036854775808": {0, true}, "-9223372036854775809": {0, false}, "x": {0, false}, "1 ": {1, true}, "\v-3": {-3, true}}
	for in, w := range l {
		v, ok := safeStrtol([]byte(in))
		assert.Equal(t, w, want{int64(v), ok}, "safe_strtol(%q)", in)
	}
	for in, w := range map[string]struct {
		v  uint64
		ok bool
	}{"18446744073709551615": {1<<64 - 1, true}, "-1": {0, false}, "+0": {0, true}, "-9223372036854775807": {0, false}, "-5": {0, false}} {
		v, ok := safeStrtoull([]byte(in))
		if !w.ok {
			v = 0
		}
		assert.Equal(t, w, struct {
			v  uint64
			ok bool
		}{v, ok}, "safe_strtoull(%q)", in)
	}
}
