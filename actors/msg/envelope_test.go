package msg

import (
	"testing"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

type testPut struct {
	Key     string
	Value   []byte
	Version uint64
	Tags    []string
}

func (p testPut) CorrelationID() uint64 { return p.Version }

type testAck struct{ OK bool }

func init() {
	Register[testPut](0xFFF0)
	Register[testAck](0xFFF1)
}

var (
	from = actors.Addr{Node: "dc1/r1/a", Name: "coord"}
	to   = actors.Addr{Node: "dc1/r2/b", Name: "store"}
)

func TestEnvelopeRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := testPut{
			Key:     rapid.String().Draw(t, "key"),
			Value:   rapid.SliceOf(rapid.Byte()).Draw(t, "value"),
			Version: rapid.Uint64().Draw(t, "version"),
			Tags:    rapid.SliceOfN(rapid.String(), 0, 4).Draw(t, "tags"),
		}
		f := actors.Addr{Node: actors.NodeID(rapid.String().Draw(t, "fn")), Name: rapid.String().Draw(t, "fa")}
		c := NewCodec()
		b, err := c.Append(nil, f, to, in)
		require.NoError(t, err)
		env, err := NewCodec().Decode(b)
		require.NoError(t, err)
		require.Equal(t, Code(0xFFF0), env.Code)
		require.Equal(t, f, env.From)
		require.Equal(t, to, env.To)
		require.Equal(t, in.Version, env.CorrID, "corr id comes from Correlated")
		got, ok := env.Msg.(testPut)
		require.True(t, ok, "payload decoded into %T", env.Msg)
		// msgpack gives nil for empty slices; compare by content.
		require.Equal(t, in.Key, got.Key)
		require.Equal(t, string(in.Value), string(got.Value))
		require.Equal(t, len(in.Tags), len(got.Tags))
	})
}

func TestEncodeUnregisteredType(t *testing.T) {
	_, err := NewCodec().Append(nil, from, to, struct{ X int }{1})
	require.ErrorContains(t, err, "not registered")
}

func TestDecodeRejects(t *testing.T) {
	c := NewCodec()
	good, err := c.Append(nil, from, to, testAck{OK: true})
	require.NoError(t, err)

	unknown := append([]byte(nil), good...)
	unknown[2] = 0xEE // code is encoded as uint16 0xcd 0xff 0xf1: make it 0xffee
	_, err = c.Decode(unknown)
	require.ErrorIs(t, err, ErrUnknownCode)

	_, err = c.Decode(append(append([]byte(nil), good...), 0xc0))
	require.ErrorContains(t, err, "trailing")

	for i := 0; i < len(good); i++ {
		_, err := c.Decode(good[:i])
		require.Error(t, err, "truncated at %d of %d", i, len(good))
	}
	// msgpack v5.4.1 allocated 32 GiB for this; we must just fail.
	for _, garbage := range [][]byte{{0xdd, 0xff, 0xff, 0xff, 0xff}, {}, {0x97}, []byte("hello world")} {
		_, err := c.Decode(garbage)
		require.Error(t, err)
	}
	// After errors the codec still works.
	env, err := c.Decode(good)
	require.NoError(t, err)
	require.Equal(t, testAck{OK: true}, env.Msg)
}

func TestDecodeHugeSliceInPayload(t *testing.T) {
	c := NewCodec()
	b, err := c.Append(nil, from, to, testPut{Key: "k"})
	require.NoError(t, err)
	// Replace the payload (a 4-element array at the end) with one whose Tags
	// field claims 2^32-1 elements.
	env := b[:len(b)-1-1-1-1-1-1] // strip payload: fixarray(4) "k" nil 0 nil
	hostile := append(append([]byte(nil), env...), 0x94, 0xa1, 'k', 0xc0, 0x00, 0xdd, 0xff, 0xff, 0xff, 0xff)
	_, err = c.Decode(hostile)
	require.Error(t, err)
}

func TestRegistryTable(t *testing.T) {
	require.Equal(t, "msg.testPut", Name(0xFFF0))
	require.Equal(t, "", Name(0xABCD))
	codes := Codes()
	require.Contains(t, codes, Code(0xFFF0))
	for i := 1; i < len(codes); i++ {
		require.Less(t, codes[i-1], codes[i])
	}
	require.Panics(t, func() { Register[testAck](0xFFF2) }, "type registered twice")
	require.Panics(t, func() { Register[struct{ Y int }](0xFFF0) }, "code registered twice")
	require.Panics(t, func() { Register[*testAck](0xFFF3) }, "pointer type")
}

func TestFrame(t *testing.T) {
	f := AppendFrame(nil, []byte("abc"))
	n, err := FrameLen(f, 16)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, "abc", string(f[FrameHeader:]))
	_, err = FrameLen(f, 2)
	require.ErrorContains(t, err, "exceeds")
	_, err = FrameLen([]byte{0, 0, 0, 0}, 16)
	require.Error(t, err)
	_, err = FrameLen([]byte{0, 0}, 16)
	require.Error(t, err)
}

func FuzzDecode(f *testing.F) {
	c := NewCodec()
	for _, m := range []any{testAck{OK: true}, testPut{Key: "a", Value: []byte("b"), Tags: []string{"x"}}, testCustom{N: 3, Data: []byte("d")}} {
		b, err := c.Append(nil, from, to, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := c.Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same envelope.
		again, err := c.Append(nil, env.From, env.To, env.Msg)
		if err != nil {
			t.Fatalf("re-encode %T: %v", env.Msg, err)
		}
		env2, err := c.Decode(again)
		if err != nil || env2.Code != env.Code || env2.From != env.From || env2.To != env.To {
			t.Fatalf("re-decode mismatch: %v %+v %+v", err, env, env2)
		}
	})
}

func BenchmarkEnvelope(b *testing.B) {
	c := NewCodec()
	m := testPut{Key: "user:12345", Value: make([]byte, 64), Version: 7}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = c.Append(buf[:0], from, to, m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err = c.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// TestEnvelopeCarriesHLC: a stamped envelope carries the sender's clock
// reading; an unstamped one keeps the seven-field form that nodes built
// before clocks write, and decodes with a zero reading.
func TestEnvelopeCarriesHLC(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ts := hlc.Timestamp{Wall: rapid.Int64Min(1).Draw(t, "wall"), Logical: rapid.Uint32().Draw(t, "logical")}
		c := NewCodec()
		b, err := c.AppendStamped(nil, from, to, ts, testAck{OK: true})
		require.NoError(t, err)
		require.Equal(t, byte(0x90|envelopeFields), b[0])
		env, err := NewCodec().Decode(b)
		require.NoError(t, err)
		require.Equal(t, ts, env.HLC)
		require.Equal(t, testAck{OK: true}, env.Msg)
	})
	old, err := NewCodec().Append(nil, from, to, testAck{OK: true})
	require.NoError(t, err)
	require.Equal(t, byte(0x90|envelopeFieldsNoHLC), old[0])
	env, err := NewCodec().Decode(old)
	require.NoError(t, err)
	require.True(t, env.HLC.IsZero())
	require.Equal(t, testAck{OK: true}, env.Msg)
}
