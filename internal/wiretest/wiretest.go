// Package wiretest checks hand-written msgpack codecs against msgpack's
// reflection, which defined the wire form before them: a message type M
// that encodes itself is compared with a plain mirror P (the same fields,
// no methods), encoded as msg.Codec's encoder is configured.
package wiretest

import (
	"bytes"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
	"pgregory.net/rapid"
)

// CodecEncode encodes v as msg.Codec's encoder is configured (array-encoded
// structs, compact integers).
func CodecEncode(t require.TestingT, v any) []byte {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	e.UseArrayEncodedStructs(true)
	e.UseCompactInts(true)
	require.NoError(t, e.Encode(v))
	return buf.Bytes()
}

// Identical requires that m writes the bytes reflection writes for its
// mirror (with the codec's settings and with msgpack's defaults), and that
// those bytes decode to m, and by reflection to the mirror.
func Identical[M, P any](t require.TestingT, m M, plain func(M) P) {
	want := CodecEncode(t, plain(m))
	require.Equal(t, want, CodecEncode(t, m), "codec settings")
	got, err := msgpack.Marshal(m)
	require.NoError(t, err)
	require.Equal(t, want, got, "default settings")
	var p P
	require.NoError(t, msgpack.Unmarshal(want, &p))
	var back M
	require.NoError(t, msgpack.Unmarshal(want, &back))
	require.Equal(t, p, plain(back))
	require.Equal(t, m, back)
}

// DecodesLikeReflection damages the encoding of a mirror (bytes changed,
// the tail cut, integers inserted where arrays, strings or nil were) and
// requires that the hand-written decoder accepts nothing reflection
// refuses, and decodes what both accept to the same value. (It may refuse
// more: map-encoded structs, lengths the input cannot back.)
func DecodesLikeReflection[M, P any](t *rapid.T, p P, plain func(M) P) {
	b := CodecEncode(t, p)
	for range rapid.IntRange(0, 4).Draw(t, "damage") {
		if len(b) == 0 {
			break
		}
		i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
		switch rapid.IntRange(0, 2).Draw(t, "how") {
		case 0:
			b[i] = rapid.Byte().Draw(t, "byte")
		case 1:
			b = b[:i]
		case 2:
			b = append(b[:i:i], append(CodecEncode(t, rapid.Int64().Draw(t, "n")), b[i:]...)...)
		}
	}
	var want P
	errPlain := msgpack.Unmarshal(b, &want)
	var got M
	if err := msgpack.Unmarshal(b, &got); err == nil {
		require.NoError(t, errPlain, "% x: reflection refuses what the codec accepts", b)
		require.Equal(t, want, plain(got), "% x", b)
	}
}
