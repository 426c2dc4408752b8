package resp

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplyLen(t *testing.T) {
	deep := strings.Repeat("*1\r\n", MaxReplyDepth) + ":1\r\n"
	tooDeep := strings.Repeat("*1\r\n", MaxReplyDepth+1) + ":1\r\n"
	tests := []struct {
		name, in string
		want     int    // length of the first reply
		err      string // "" for none, "incomplete", or a malformed reason substring
	}{
		{"simple", "+OK\r\n+next", 5, ""},
		{"error", "-ERR wrong type\r\n", 17, ""},
		{"integer", ":-42\r\n", 6, ""},
		{"bulk", "$3\r\nfoo\r\n", 9, ""},
		{"binary bulk", "$4\r\n\r\n\r\n\r\n", 10, ""},
		{"empty bulk", "$0\r\n\r\n", 6, ""},
		{"null bulk", "$-1\r\n", 5, ""},
		{"null array", "*-1\r\n", 5, ""},
		{"empty array", "*0\r\n:1\r\n", 4, ""},
		{"nested", "*2\r\n*2\r\n:1\r\n$-1\r\n+x\r\n:9\r\n", 21, ""},
		{"nested to the limit", deep, len(deep), ""},

		{"empty", "", 0, "incomplete"},
		{"partial line", "+OK\r", 0, "incomplete"},
		{"partial bulk", "$3\r\nfo", 0, "incomplete"},
		{"partial array", "*3\r\n:1\r\n:2\r\n", 0, "incomplete"},

		{"unknown type", "%1\r\n", 0, "unknown RESP2 type"},
		{"bad integer", ":12a\r\n", 0, "bad integer"},
		{"integer leading zero", ":01\r\n", 0, "bad integer"},
		{"bad bulk length", "$-2\r\n", 0, "bad bulk length"},
		{"bulk without CRLF", "$3\r\nfooXY", 0, "not followed by CRLF"},
		{"bad array length", "*x\r\n", 0, "bad array length"},
		{"CR without LF", "+OK\rX\n", 0, "CR not followed by LF"},
		{"LF without CR", "+OK\n", 0, "LF without CR"},
		{"too deep", tooDeep, 0, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ReplyLen([]byte(tt.in))
			_, pn, perr := ParseReply([]byte(tt.in))
			assert.Equal(t, n, pn, "ParseReply agrees with ReplyLen")
			assert.Equal(t, err, perr)
			switch tt.err {
			case "":
				require.NoError(t, err)
				assert.Equal(t, tt.want, n)
			case "incomplete":
				assert.ErrorIs(t, err, ErrIncomplete)
			default:
				var me *MalformedReplyError
				require.ErrorAs(t, err, &me)
				assert.Contains(t, me.Reason, tt.err)
			}
		})
	}
}

func TestParseReplyValues(t *testing.T) {
	in := "*5\r\n+OK\r\n-ERR no\r\n:7\r\n$-1\r\n*2\r\n$2\r\nab\r\n*-1\r\n"
	v, n, err := ParseReply([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, len(in), n)
	want := Value{Type: Array, Elems: []Value{
		{Type: SimpleString, Str: []byte("OK")},
		{Type: Error, Str: []byte("ERR no")},
		{Type: Integer, Int: 7},
		{Type: BulkString, Null: true},
		{Type: Array, Elems: []Value{{Type: BulkString, Str: []byte("ab")}, {Type: Array, Null: true}}},
	}}
	assert.Equal(t, want, v)
	assert.Equal(t, in, string(AppendValue(nil, v)))
}

func TestReplyScannerResumes(t *testing.T) {
	var stream []byte
	stream = AppendArrayHeader(stream, 3)
	stream = AppendBulkString(stream, "hello")
	stream = AppendArrayHeader(stream, 2)
	stream = AppendInt(stream, 1)
	stream = AppendNullBulk(stream)
	stream = AppendSimpleString(stream, "done")
	var s ReplyScanner
	for i := 0; i < len(stream); i++ {
		_, err := s.Scan(stream[:i])
		require.ErrorIs(t, err, ErrIncomplete, "prefix %d", i)
	}
	n, err := s.Scan(stream)
	require.NoError(t, err)
	assert.Equal(t, len(stream), n)
	// Ready for the next reply.
	n, err = s.Scan([]byte(":5\r\n"))
	require.NoError(t, err)
	assert.Equal(t, 4, n)
}

func TestReplyLenAllocatesNothing(t *testing.T) {
	buf := AppendArrayHeader(nil, 16)
	for range 16 {
		buf = AppendBulkString(buf, strings.Repeat("v", 64))
	}
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := ReplyLen(buf); err != nil || n != len(buf) {
			t.Fatalf("ReplyLen: %d, %v", n, err)
		}
	})
	assert.Zero(t, allocs)
}

func TestAppendEncoders(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"simple", AppendSimpleString(nil, "OK"), "+OK\r\n"},
		{"simple sanitised", AppendSimpleString(nil, "a\r\nb"), "+a  b\r\n"},
		{"error", AppendError(nil, "ERR unknown command 'x'"), "-ERR unknown command 'x'\r\n"},
		{"error sanitised", AppendError(nil, "ERR\nx"), "-ERR x\r\n"},
		{"int", AppendInt(nil, -12), ":-12\r\n"},
		{"int min", AppendInt(nil, math.MinInt64), ":-9223372036854775808\r\n"},
		{"bulk", AppendBulk(nil, []byte("a\r\nb")), "$4\r\na\r\nb\r\n"},
		{"bulk empty", AppendBulk(nil, nil), "$0\r\n\r\n"},
		{"bulk string", AppendBulkString(nil, "foo"), "$3\r\nfoo\r\n"},
		{"null bulk", AppendNullBulk(nil), "$-1\r\n"},
		{"array header", AppendArrayHeader(nil, 2), "*2\r\n"},
		{"null array", AppendNullArray(nil), "*-1\r\n"},
		{"double", AppendDouble(nil, 1.5), "$3\r\n1.5\r\n"},
		{"double integral", AppendDouble(nil, 1234567), "$7\r\n1234567\r\n"},
		{"double shortest", AppendDouble(nil, 0.1), "$3\r\n0.1\r\n"},
		{"double small", AppendDouble(nil, 1e-5), "$5\r\n1e-05\r\n"},
		{"double large", AppendDouble(nil, 1e21), "$5\r\n1e+21\r\n"},
		{"double inf", AppendDouble(nil, math.Inf(-1)), "$4\r\n-inf\r\n"},
		{"command", AppendCommand(nil, [][]byte{[]byte("GET"), []byte("k")}), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, string(tt.got)) })
	}
}

func TestAppendAllocatesNothingWithCapacity(t *testing.T) {
	dst := make([]byte, 0, 4096)
	val := []byte(strings.Repeat("v", 64))
	allocs := testing.AllocsPerRun(100, func() {
		d := dst[:0]
		d = AppendSimpleString(d, "OK")
		d = AppendError(d, "ERR x")
		d = AppendInt(d, 12345)
		d = AppendBulk(d, val)
		d = AppendNullBulk(d)
		d = AppendArrayHeader(d, 3)
		d = AppendDouble(d, 3.25)
		_ = AppendNullArray(d)
	})
	assert.Zero(t, allocs)
}
