package mcproto

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncoders(t *testing.T) {
	assert.Equal(t, "VALUE k 5 3\r\nabc\r\n", string(AppendValue(nil, []byte("k"), 5, []byte("abc"))))
	assert.Equal(t, "VALUE k 0 0 7\r\n\r\n", string(AppendValueCas(nil, []byte("k"), 0, nil, 7)))
	assert.Equal(t, "END\r\n", string(AppendLine(nil, End)))
	assert.Equal(t, "STORED\r\n", string(AppendLine(nil, Stored)))
	assert.Equal(t, "SERVER_ERROR a  b\r\n", string(AppendLine(nil, "SERVER_ERROR a\r\nb")), "CR/LF cannot forge a line")
	assert.Equal(t, "42\r\n", string(AppendNumber(nil, 42)))
}

func TestResponseLen(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		in   string
		want int    // length of the response
		err  string // "", "incomplete" or a malformed reason substring
	}{
		{"get miss", KindGet, "END\r\nSTORED\r\n", 5, ""},
		{"get hits", KindGet, "VALUE a 0 1\r\nx\r\nVALUE b 3 2\r\n\r\n\r\nEND\r\n", 38, ""},
		{"gets hit", KindGets, "VALUE a 0 1 99\r\nx\r\nEND\r\n", 24, ""},
		{"get error", KindGet, "CLIENT_ERROR bad command line format\r\n", 38, ""},
		{"stored", KindSet, "STORED\r\n", 8, ""},
		{"not stored", KindAdd, "NOT_STORED\r\n", 12, ""},
		{"exists", KindCas, "EXISTS\r\n", 8, ""},
		{"too large", KindSet, "SERVER_ERROR object too large for cache\r\n", 41, ""},
		{"deleted", KindDelete, "DELETED\r\n", 9, ""},
		{"incr", KindIncr, "12\r\n", 4, ""},
		{"incr miss", KindIncr, "NOT_FOUND\r\n", 11, ""},
		{"touched", KindTouch, "TOUCHED\r\n", 9, ""},
		{"version", KindVersion, "VERSION 1.6.21\r\n", 16, ""},
		{"verbosity", KindVerbosity, "OK\r\n", 4, ""},
		{"unknown", KindSet, "ERROR\r\n", 7, ""},

		{"partial line", KindGet, "VALUE a 0 1\r", 0, "incomplete"},
		{"partial data", KindGet, "VALUE a 0 3\r\nab", 0, "incomplete"},
		{"missing END", KindGet, "VALUE a 0 1\r\nx\r\n", 0, "incomplete"},

		{"cas on get", KindGet, "VALUE a 0 1 5\r\nx\r\nEND\r\n", 0, "bad VALUE line"},
		{"bad data CRLF", KindGet, "VALUE a 0 1\r\nxy\r\n", 0, "not followed by CRLF"},
		{"wrong status", KindDelete, "STORED\r\n", 0, "unexpected line"},
		{"value for set", KindSet, "VALUE a 0 1\r\nx\r\n", 0, "unexpected line"},
		{"LF only", KindSet, "STORED\n", 0, "LF without CR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ResponseLen(tt.kind, []byte(tt.in))
			var r Response
			pn, perr := ParseResponse(tt.kind, []byte(tt.in), &r)
			assert.Equal(t, n, pn)
			assert.Equal(t, err, perr)
			switch tt.err {
			case "":
				require.NoError(t, err)
				assert.Equal(t, tt.want, n)
			case "incomplete":
				assert.ErrorIs(t, err, ErrIncomplete)
			default:
				var me *MalformedResponseError
				require.ErrorAs(t, err, &me)
				assert.Contains(t, me.Reason, tt.err)
			}
		})
	}
}

func TestParseResponseItems(t *testing.T) {
	in := "VALUE a 1 1 7\r\nx\r\nVALUE b 2 0 8\r\n\r\nEND\r\n"
	var r Response
	n, err := ParseResponse(KindGets, []byte(in), &r)
	require.NoError(t, err)
	assert.Equal(t, len(in), n)
	assert.Equal(t, "END", string(r.Line))
	assert.Equal(t, []Item{
		{Key: []byte("a"), Flags: 1, Data: []byte("x"), Cas: 7, HasCas: true},
		{Key: []byte("b"), Flags: 2, Data: []byte{}, Cas: 8, HasCas: true},
	}, r.Items)
}

func TestResponseLenAllocatesNothing(t *testing.T) {
	var buf []byte
	for range 16 {
		buf = AppendValue(buf, []byte("key:0001"), 0, make([]byte, 64))
	}
	buf = AppendLine(buf, End)
	var r Response
	_, _ = ParseResponse(KindGet, buf, &r)
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := ParseResponse(KindGet, buf, &r); err != nil || n != len(buf) || len(r.Items) != 16 {
			t.Fatalf("ParseResponse: %d, %v", n, err)
		}
	})
	assert.Zero(t, allocs)
}

// TestMetaResponseLen frames a meta reply up to the MN of the mn sent
// after it, a quiet command's missing reply included.
func TestMetaResponseLen(t *testing.T) {
	for in, want := range map[string]int{
		"MN\r\n":                      4,
		"HD c1 O5\r\nMN\r\nEN\r\n":    14,
		"VA 3 f0 kk\r\nabc\r\nMN\r\n": 21,
		"CLIENT_ERROR bad\r\nMN\r\n":  22,
		"VA 2\r\nab\r\nMN\r\nextra":   14,
	} {
		n, err := ResponseLen(KindMetaGet, []byte(in))
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, n, "%q", in)
	}
	for _, in := range []string{"HD\r\n", "VA 5\r\nab\r\n", ""} {
		_, err := ResponseLen(KindMetaSet, []byte(in))
		assert.ErrorIs(t, err, ErrIncomplete, "%q", in)
	}
	for _, in := range []string{"HD\r\nHD\r\nMN\r\n", "VA x\r\n", "VA 1\r\nabMN\r\n"} {
		_, err := ResponseLen(KindMetaArith, []byte(in))
		var m *MalformedResponseError
		assert.ErrorAs(t, err, &m, "%q", in)
	}
}
