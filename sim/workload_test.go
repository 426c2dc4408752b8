package sim

import (
	"testing"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestBulkArrayAgreesWithParseReply: the set read's fast path reads what
// the full parser reads, and declines anything that is not a whole array
// of bulk strings.
func TestBulkArrayAgreesWithParseReply(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		elems := rapid.SliceOf(rapid.StringOf(rapid.SampledFrom([]rune("ab\r\n$*-0123")))).Draw(t, "elems")
		b := resp.AppendArrayHeader(nil, len(elems))
		for _, e := range elems {
			b = resp.AppendBulkString(b, e)
		}
		damaged := rapid.Bool().Draw(t, "damage")
		if damaged && len(b) > 0 {
			i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
			switch rapid.IntRange(0, 2).Draw(t, "how") {
			case 0:
				b[i] = rapid.SampledFrom([]byte("ab\r\n$*-:+9")).Draw(t, "byte")
			case 1:
				b = b[:i]
			case 2:
				b = append(b, b[i:]...)
			}
		}
		got, ok := bulkArray(b)
		if !damaged && len(elems) > 0 {
			require.True(t, ok, "%q: an array of bulk strings", b)
			require.Equal(t, elems, got)
		}
		v, n, err := resp.ParseReply(b)
		if !ok {
			return // complete parses it in full
		}
		require.NoError(t, err, "%q", b)
		require.Equal(t, len(b), n, "%q: the whole reply", b)
		require.Equal(t, resp.Array, v.Type)
		require.Len(t, got, len(v.Elems))
		for i, e := range v.Elems {
			require.Equal(t, resp.BulkString, e.Type, "%q", b)
			require.Equal(t, string(e.Str), got[i])
		}
	})
}
