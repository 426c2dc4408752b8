package resp

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcome is what a parser made of a byte stream: the commands (copied out
// of the parser's buffers), the error text if any, and the bytes left over.
type outcome struct {
	Cmds [][]string
	Err  string
	Left int
}

// feed parses stream delivered in chunks cut at the given offsets, the way
// the listener does: append each read to the unconsumed remainder, parse,
// keep buf[n:]. The remainder is copied to a fresh slice each time so that
// any reliance on the old buffer's bytes shows up as a wrong result.
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
		cmds, n, err := p.Parse(buf)
		for _, c := range cmds {
			args := make([]string, len(c.Args))
			for j, a := range c.Args {
				args[j] = string(a)
			}
			out.Cmds = append(out.Cmds, args)
		}
		if err != nil {
			out.Err = err.Error()
			return out
		}
		buf = append([]byte(nil), buf[n:]...)
	}
	out.Left = len(buf)
	return out
}

func TestParseRequests(t *testing.T) {
	big := strings.Repeat("x", DefaultMaxInline+1)
	tests := []struct {
		name string
		in   string
		want outcome
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", outcome{Cmds: [][]string{{"GET", "k"}}}},
		{"pipelined", "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n",
			outcome{Cmds: [][]string{{"PING"}, {"GET", "k"}, {"PING"}}}},
		{"empty bulk", "*2\r\n$3\r\nGET\r\n$0\r\n\r\n", outcome{Cmds: [][]string{{"GET", ""}}}},
		{"binary bulk", "*1\r\n$4\r\n\r\n\x00\xff\r\n", outcome{Cmds: [][]string{{"\r\n\x00\xff"}}}},
		{"star zero is a no-op", "*0\r\n*1\r\n$4\r\nPING\r\n", outcome{Cmds: [][]string{{"PING"}}}},
		{"star minus one is a no-op", "*-1\r\n*-10\r\n", outcome{}},
		{"partial header", "*2\r", outcome{Left: 3}},
		{"partial bulk", "*2\r\n$3\r\nGET\r\n$5\r\nab", outcome{Left: 19}},
		{"partial bulk CRLF", "*1\r\n$2\r\nab\r", outcome{Left: 11}},
		{"complete then partial", "PING\r\n*1\r\n$4\r\nPI", outcome{Cmds: [][]string{{"PING"}}, Left: 10}},

		{"count not a number", "*x\r\n", outcome{Err: "ERR Protocol error: invalid multibulk length"}},
		{"count empty", "*\r\n", outcome{Err: "ERR Protocol error: invalid multibulk length"}},
		{"count leading zero", "*01\r\n", outcome{Err: "ERR Protocol error: invalid multibulk length"}},
		{"count over limit", "*1048577\r\n", outcome{Err: "ERR Protocol error: invalid multibulk length"}},
		{"count CR without LF", "*1\rx", outcome{Err: "ERR Protocol error: invalid multibulk length"}},
		{"count line too big", "*" + big, outcome{Err: "ERR Protocol error: too big mbulk count string"}},
		{"not a bulk", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
			outcome{Err: "ERR Protocol error: expected '$', got 'f'"}},
		{"not a bulk after header", "*1\r\nfoo\r\n", outcome{Err: "ERR Protocol error: expected '$', got 'f'"}},
		{"CR where bulk expected", "*1\r\n\r\n", outcome{Err: "ERR Protocol error: expected '$', got ' '"}},
		{"negative bulk", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n", outcome{Err: "ERR Protocol error: invalid bulk length"}},
		{"bulk over limit", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n", outcome{Err: "ERR Protocol error: invalid bulk length"}},
		{"bulk not a number", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n", outcome{Err: "ERR Protocol error: invalid bulk length"}},
		{"bulk count line too big", "*1\r\n$" + big, outcome{Err: "ERR Protocol error: too big bulk count string"}},
		{"bulk without CRLF", "*1\r\n$3\r\nfooXY", outcome{Err: "ERR Protocol error: expected CRLF after bulk argument"}},
		{"error after good commands", "PING\r\n*1\r\n$3\r\nfooXY",
			outcome{Cmds: [][]string{{"PING"}}, Err: "ERR Protocol error: expected CRLF after bulk argument"}},

		{"inline", "SET k v\r\n", outcome{Cmds: [][]string{{"SET", "k", "v"}}}},
		{"inline LF only", "GET k\n", outcome{Cmds: [][]string{{"GET", "k"}}}},
		{"inline blanks", "  SET\t k   v \r\n", outcome{Cmds: [][]string{{"SET", "k", "v"}}}},
		{"empty lines skipped", "\r\n\n  \r\nPING\r\n", outcome{Cmds: [][]string{{"PING"}}}},
		{"inline partial", "SET k", outcome{Left: 5}},
		{"inline double quotes", `SET "a b" "\x41\n\"\\"` + "\r\n", outcome{Cmds: [][]string{{"SET", "a b", "A\n\"\\"}}}},
		{"inline single quotes", `SET 'it\'s' '\n'` + "\r\n", outcome{Cmds: [][]string{{"SET", "it's", `\n`}}}},
		{"inline quote mid token", `SET a"b c"d` + "\r\n", outcome{Err: "ERR Protocol error: unbalanced quotes in request"}},
		{"inline quote joins token", `SET a"b c"` + "\r\n", outcome{Cmds: [][]string{{"SET", "ab c"}}}},
		{"inline empty quotes", `SET "" ''` + "\r\n", outcome{Cmds: [][]string{{"SET", "", ""}}}},
		{"inline unterminated", `SET "foo` + "\r\n", outcome{Err: "ERR Protocol error: unbalanced quotes in request"}},
		{"inline closing quote glued", `SET "foo"bar` + "\r\n", outcome{Err: "ERR Protocol error: unbalanced quotes in request"}},
		{"inline vertical tab inside token", "a\vb\r\n", outcome{Cmds: [][]string{{"a\vb"}}}},
		{"inline NUL ends the line", "GET k\x00junk\r\n", outcome{Cmds: [][]string{{"GET", "k"}}}},
		{"inline too big", big, outcome{Err: "ERR Protocol error: too big inline request"}},
		{"inline at the limit", strings.Repeat("y", DefaultMaxInline) + "\n", outcome{Cmds: [][]string{{strings.Repeat("y", DefaultMaxInline)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := feed(NewParser(Limits{}), []byte(tt.in))
			assert.Equal(t, tt.want, got)
			// Every split point must give the same result.
			for cut := 1; cut < len(tt.in) && cut < 80; cut++ {
				require.Equal(t, tt.want, feed(NewParser(Limits{}), []byte(tt.in), cut), "cut at %d", cut)
			}
		})
	}
}

func TestParseErrorOffsetAndConsumed(t *testing.T) {
	p := NewParser(Limits{})
	in := []byte("PING\r\n*1\r\nfoo\r\n")
	cmds, n, err := p.Parse(in)
	require.Len(t, cmds, 1)
	assert.Equal(t, 6, n, "consumed stops where the bad command starts")
	var pe *ProtocolError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 6, pe.Offset)
	assert.Equal(t, "-ERR Protocol error: expected '$', got 'f'\r\n", string(AppendError(nil, err.Error())))
}

func TestParseLimitsConfigurable(t *testing.T) {
	p := NewParser(Limits{MaxBulkLen: 3, MaxArgs: 2, MaxInline: 8})
	_, _, err := p.Parse([]byte("*3\r\n"))
	assert.EqualError(t, err, "ERR Protocol error: invalid multibulk length")
	_, _, err = p.Parse([]byte("*1\r\n$4\r\n"))
	assert.EqualError(t, err, "ERR Protocol error: invalid bulk length")
	_, _, err = p.Parse([]byte("123456789"))
	assert.EqualError(t, err, "ERR Protocol error: too big inline request")
	cmds, _, err := p.Parse([]byte("*2\r\n$3\r\nabc\r\n$0\r\n\r\n"))
	require.NoError(t, err)
	assert.Len(t, cmds, 1)
}

func TestParseRawAndAliasing(t *testing.T) {
	in := []byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO \"q\"\r\n")
	cmds, n, err := NewParser(Limits{}).Parse(in)
	require.NoError(t, err)
	require.Equal(t, len(in), n)
	assert.Equal(t, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", string(cmds[0].Raw))
	assert.Equal(t, "ECHO \"q\"\r\n", string(cmds[1].Raw))
	// Arguments alias the input and cannot grow into it.
	in[8] = 'S'
	assert.Equal(t, "SET", string(cmds[0].Args[0]))
	grown := append(cmds[0].Args[0], 'X')
	assert.Equal(t, "SETX", string(grown))
	assert.Equal(t, byte('\r'), in[11])
}

// A command whose arguments arrive one read at a time is resumed, not
// re-scanned: the pending state must survive the caller compacting its
// buffer between calls.
func TestParseResumesLargeCommand(t *testing.T) {
	var stream []byte
	args := make([][]byte, 1000)
	for i := range args {
		args[i] = []byte(strings.Repeat("v", i%7))
	}
	stream = AppendCommand(stream, args)
	cuts := make([]int, 0, len(stream)/5)
	for c := 5; c < len(stream); c += 5 {
		cuts = append(cuts, c)
	}
	got := feed(NewParser(Limits{}), stream, cuts...)
	require.Empty(t, got.Err)
	require.Len(t, got.Cmds, 1)
	require.Len(t, got.Cmds[0], 1000)
	for i, a := range got.Cmds[0] {
		require.Equal(t, string(args[i]), a)
	}
}

func TestParseSteadyStateAllocatesNothing(t *testing.T) {
	buf := pipeline(16)
	p := NewParser(Limits{})
	_, _, _ = p.Parse(buf)
	allocs := testing.AllocsPerRun(100, func() {
		cmds, n, err := p.Parse(buf)
		if err != nil || n != len(buf) || len(cmds) != 32 {
			t.Fatalf("parse: %d cmds, n=%d, err=%v", len(cmds), n, err)
		}
	})
	assert.Zero(t, allocs)
}
