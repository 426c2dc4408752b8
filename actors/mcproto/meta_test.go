package mcproto

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseMeta: the meta lines memcached 1.6.18 refuses before it looks at
// an item are refused with its lines (checked against a real one by
// TestMemcachedMetaLikeMemcached in cmd/dynonode); the rest are read as sent.
// An ms's data block is skipped exactly where memcached swallows it.
func TestParseMeta(t *testing.T) {
	const bad = "!CLIENT_ERROR bad command line format"
	key251 := strings.Repeat("k", 251)
	tests := []struct {
		name string
		in   string
		want outcome
	}{
		{"get", "mg k v f t c s k O1 q\r\n", outcome{Reqs: []string{"mg k v f t c s k O1 q\r\n"}}},
		{"noop", "mn\r\nmn extra\r\n", outcome{Reqs: []string{"mn\r\n", "mn\r\n"}}},
		{"set with its block", "ms k 9 T0 F5 c\r\ndelete v1\r\nget a\r\n",
			outcome{Reqs: []string{"ms k 9 T0 F5 c\r\ndelete v1\r\n", "get a\r\n"}}},
		{"delete and arith", "md k q C3 T5\r\nma k N0 J5 D2 MD v\r\n", outcome{Reqs: []string{"md k q C3 T5\r\n", "ma k N0 J5 D2 MD v\r\n"}}},
		{"no key", "mg\r\nms\r\nmd\r\nma\r\n", outcome{Reqs: []string{"!ERROR", "!ERROR", "!ERROR", "!ERROR"}}},
		{"key too long", "mg " + key251 + " v\r\n", outcome{Reqs: []string{bad}}},
		// memcached swallows no block for a bad datalen or a long key: the
		// block is read as a command, as memcached reads it.
		{"ms without datalen", "ms k\r\nget a\r\n", outcome{Reqs: []string{bad, "get a\r\n"}}},
		{"ms bad datalen", "ms k x\r\nmn\r\n", outcome{Reqs: []string{bad, "mn\r\n"}}},
		{"ms negative datalen", "ms k -1\r\nmn\r\n", outcome{Reqs: []string{bad, "mn\r\n"}}},
		{"ms long key reads the block", "ms " + key251 + " 2\r\nmn\r\n", outcome{Reqs: []string{bad, "mn\r\n"}}},
		{"too many tokens", "mg k" + strings.Repeat(" v", 18) + "\r\nma k" + strings.Repeat(" v", 18) + "\r\n",
			outcome{Reqs: []string{"!CLIENT_ERROR options flags are too long", "!CLIENT_ERROR options flags too long"}}},
		{"duplicate flag", "mg k v v\r\n", outcome{Reqs: []string{"!CLIENT_ERROR duplicate flag"}}},
		{"high byte is a duplicate", "mg k \x80\r\n", outcome{Reqs: []string{"!CLIENT_ERROR duplicate flag"}}},
		{"invalid flag", "mg k E5\r\n", outcome{Reqs: []string{"!CLIENT_ERROR invalid flag"}}},
		{"bad number", "mg k Tx\r\n", outcome{Reqs: []string{"!CLIENT_ERROR bad token in command line format"}}},
		{"bad F keeps the line", "mg k Tx Fx\r\n", outcome{Reqs: []string{"!CLIENT_ERROR bad token in command line format"}}},
		{"bad F alone", "mg k Fx\r\n", outcome{Reqs: []string{bad}}},
		{"last bad number wins", "ma k Jx Dx\r\nmg k Jx Dx\r\n",
			outcome{Reqs: []string{"!CLIENT_ERROR invalid or duplicate flag", "!CLIENT_ERROR invalid numeric delta value"}}},
		{"M length", "mg k MAB\r\n", outcome{Reqs: []string{"!CLIENT_ERROR incorrect length for M token"}}},
		// A flag error after a good datalen swallows the block.
		{"ms flag error swallows", "ms k 9 E1\r\ndelete v1\r\nmn\r\n", outcome{Reqs: []string{"!CLIENT_ERROR invalid flag", "mn\r\n"}}},
		{"ms bad data chunk", "ms k 1\r\nxyz\r\nmn\r\n", outcome{Reqs: []string{"!CLIENT_ERROR bad data chunk", "!ERROR", "mn\r\n"}}},
		{"ms too large swallows", "ms k 1048577 q\r\n" + strings.Repeat("v", 1048577) + "\r\nmn\r\n",
			outcome{Reqs: []string{"!SERVER_ERROR object too large for cache", "mn\r\n"}}},
		{"bad base64", "mg !!! b\r\n", outcome{Reqs: []string{"!CLIENT_ERROR error decoding key"}}},
		{"control byte key swallows", "ms k\x01 3\r\nabc\r\nmn\r\n", outcome{Reqs: []string{bad, "mn\r\n"}}},
		// Flags a cluster cannot honour are refused with a reason.
		{"unserved mg flags", "mg k h\r\nmg k l\r\nmg k N30\r\nmg k R30\r\n", outcome{Reqs: []string{
			"!CLIENT_ERROR meta flag h (hit before) is one server's LRU state: not served by dynonode",
			"!CLIENT_ERROR meta flag l (last access) is one server's LRU state: not served by dynonode",
			"!CLIENT_ERROR meta flag N hands out a win token, one server's state: a replica in another rack would hand out its own: not served by dynonode",
			"!CLIENT_ERROR meta flag R hands out a win token, one server's state: a replica in another rack would hand out its own: not served by dynonode",
		}}},
		{"unserved ms flag swallows", "ms k 3 I\r\nabc\r\nmn\r\n", outcome{Reqs: []string{
			"!CLIENT_ERROR meta flag I marks an item stale for a win token, one server's state: not served by dynonode", "mn\r\n"}}},
		{"me refused", "me k\r\n", outcome{Reqs: []string{"!" + ReplyMetaDebug}}},
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

// TestParseMetaFields: the routing key is the decoded key under b, and mg
// with T is a write.
func TestParseMetaFields(t *testing.T) {
	in := []byte("mg a2V5 b v\r\nmg k T30\r\nms a2==a2V5 1 b\r\nx\r\nmg k\r\n")
	reqs, n, err := NewParser(Limits{}).Parse(in)
	require.NoError(t, err)
	require.Equal(t, len(in), n)
	require.Len(t, reqs, 4)
	assert.Equal(t, "key", string(reqs[0].Key))
	assert.Equal(t, KindMetaGet, reqs[0].Kind)
	assert.False(t, reqs[0].Touch)
	assert.True(t, reqs[1].Touch)
	assert.Equal(t, "k", string(reqs[2].Key), "memcached stops at the first padded block")
	assert.Equal(t, "x", string(reqs[2].Data))
	assert.Equal(t, "k", string(reqs[3].Key))
}

// TestBase64DecodeMemcached compares with the standard decoder on valid
// input and pins memcached's leniency on the rest.
func TestBase64DecodeMemcached(t *testing.T) {
	for _, s := range []string{"k", "ke", "key", "keys", "\x00\xff binary\r\n"} {
		enc := base64.StdEncoding.EncodeToString([]byte(s))
		got, ok := base64DecodeMemcached(nil, []byte(enc))
		assert.True(t, ok, enc)
		assert.Equal(t, s, string(got), enc)
	}
	for in, want := range map[string]string{"a2V5!!": "key", "a2V\x015": "key", "a2==a2V5": "k"} {
		got, ok := base64DecodeMemcached(nil, []byte(in))
		assert.True(t, ok, in)
		assert.Equal(t, want, string(got), in)
	}
	for _, in := range []string{"", "!!!", "a2V", "A===", "===="} {
		_, ok := base64DecodeMemcached(nil, []byte(in))
		assert.False(t, ok, in)
	}
}
