package msg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dynonode/dynonode/actors"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// testCustom has a hand-written codec, so the registry calls it directly.
// fail is not on the wire, so no decoded value fails to encode (FuzzDecode
// re-encodes whatever it decodes).
type testCustom struct {
	N    uint64
	Data []byte
	fail bool
}

var errTestEncode = errors.New("test encode failure")

func (c testCustom) EncodeMsgpack(e *msgpack.Encoder) error {
	if c.fail {
		return errTestEncode
	}
	return errors.Join(e.EncodeArrayLen(2), e.EncodeUint(c.N), e.EncodeBytes(c.Data))
}

func (c *testCustom) DecodeMsgpack(d *msgpack.Decoder) error {
	ok, err := DecodeStructHeader(d, "testCustom", 2)
	if !ok || err != nil {
		return err
	}
	if c.N, err = d.DecodeUint64(); err != nil {
		return err
	}
	c.Data, err = DecodeBytes(d)
	return err
}

func init() { Register[testCustom](0xFFF4) }

func TestCustomCodecThroughRegistry(t *testing.T) {
	c := NewCodec()
	for _, m := range []testCustom{{}, {N: 1}, {N: 1 << 40, Data: []byte("abc")}, {Data: []byte{}}} {
		b, err := c.Append(nil, from, to, m)
		require.NoError(t, err)
		// The same bytes as msgpack's own dispatch to the method.
		var want bytes.Buffer
		e := msgpack.NewEncoder(&want)
		require.NoError(t, errors.Join(e.EncodeArrayLen(envelopeFieldsNoHLC), e.EncodeUint(0xFFF4),
			e.EncodeString(string(from.Node)), e.EncodeString(from.Name),
			e.EncodeString(string(to.Node)), e.EncodeString(to.Name), e.EncodeUint(0), e.Encode(m)))
		require.Equal(t, want.Bytes(), b)
		env, err := c.Decode(b)
		require.NoError(t, err)
		require.Equal(t, m, env.Msg)
	}
	// nil decodes to the zero value without calling the method, as msgpack
	// does for a non-pointer type.
	b, err := c.Append(nil, from, to, testCustom{})
	require.NoError(t, err)
	b = append(b[:len(b)-3], 0xc0) // payload [0, nil] (3 bytes) -> nil
	env, err := c.Decode(b)
	require.NoError(t, err)
	require.Equal(t, testCustom{}, env.Msg)
}

func TestAppendErrorsLeaveDst(t *testing.T) {
	c := NewCodec()
	for _, dst := range [][]byte{nil, []byte("keep"), append(make([]byte, 0, 256), "keep"...)} {
		got, err := c.Append(dst, from, to, testCustom{N: 1, fail: true})
		require.ErrorIs(t, err, errTestEncode)
		require.ErrorContains(t, err, "msg: encode msg.testCustom (code 65524): ")
		require.Equal(t, dst, got)
	}
	// The codec still works afterwards.
	b, err := c.Append(nil, from, to, testAck{OK: true})
	require.NoError(t, err)
	env, err := c.Decode(b)
	require.NoError(t, err)
	require.Equal(t, testAck{OK: true}, env.Msg)
}

func TestAppendInPlace(t *testing.T) {
	c := NewCodec()
	m := testPut{Key: "k", Value: bytes.Repeat([]byte("v"), 100), Version: 9, Tags: []string{"a"}}
	alone, err := c.Append(nil, from, to, m)
	require.NoError(t, err)
	for _, spare := range []int{0, 1, 10, len(alone), 4096} {
		dst := append(make([]byte, 0, 3+spare), "abc"...)
		got, err := c.Append(dst, from, to, m)
		require.NoError(t, err)
		require.Equal(t, append([]byte("abc"), alone...), got, "spare %d", spare)
	}
	// A nil dst is one allocation of the right size, as before.
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.Append(nil, from, to, testAck{OK: true}); err != nil {
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, allocs, 1.0)
	// A huge message does not stay pinned by the codec.
	_, err = c.Append(nil, from, to, testPut{Value: make([]byte, 1<<20)})
	require.NoError(t, err)
	require.LessOrEqual(t, cap(c.own), maxOwnBuffer)
}

func TestDecodeInternsAddresses(t *testing.T) {
	c := NewCodec()
	named, err := c.Append(nil, from, to, testAck{OK: true})
	require.NoError(t, err)
	anon, err := c.Append(nil, actors.Addr{}, actors.Addr{}, testAck{OK: true})
	require.NoError(t, err)
	decode := func(b []byte) func() {
		return func() {
			if _, err := c.Decode(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Once seen, named addresses cost no more than empty ones.
	require.Equal(t, testing.AllocsPerRun(100, decode(anon)), testing.AllocsPerRun(100, decode(named)))
	env, err := c.Decode(named)
	require.NoError(t, err)
	require.Equal(t, from, env.From)
	require.Equal(t, to, env.To)

	// Many distinct names, and long ones, never grow the cache past its
	// bound, and all decode correctly.
	long := strings.Repeat("n", maxInternLen+1)
	for i := range 3 * maxInterned {
		f := actors.Addr{Node: actors.NodeID(fmt.Sprintf("node-%d", i)), Name: long + fmt.Sprint(i)}
		b, err := c.Append(nil, f, to, testAck{})
		require.NoError(t, err)
		env, err := c.Decode(b)
		require.NoError(t, err)
		require.Equal(t, f, env.From)
		require.LessOrEqual(t, len(c.names), maxInterned)
	}
	// The bytes decoded from never show through an interned name.
	b, err := c.Append(nil, actors.Addr{Node: "fresh-node", Name: "fresh"}, to, testAck{})
	require.NoError(t, err)
	env, err = c.Decode(b)
	require.NoError(t, err)
	for i := range b {
		b[i] = 'x'
	}
	require.Equal(t, actors.Addr{Node: "fresh-node", Name: "fresh"}, env.From)
}

func TestDecodeAddressHostileLength(t *testing.T) {
	c := NewCodec()
	b, err := c.Append(nil, actors.Addr{}, to, testAck{})
	require.NoError(t, err)
	// from.node is the empty string 0xa0 at offset 4 (after 0x97 0xcd 0xff 0xf1):
	// make it a str32 of 4 GiB.
	require.Equal(t, byte(0xa0), b[4])
	hostile := append(append(append([]byte(nil), b[:4]...), 0xdb, 0xff, 0xff, 0xff, 0xff), b[5:]...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = c.Decode(hostile)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10))
}

// A decoder over a stream (no Len) cannot check declared lengths up front:
// the helpers then allocate as the data arrives.
func TestWireHelpersOnStreams(t *testing.T) {
	stream := func(b []byte) *msgpack.Decoder {
		return msgpack.NewDecoder(iotest.OneByteReader(bytes.NewReader(b)))
	}
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	big := bytes.Repeat([]byte("0123456789"), 20_000) // crosses streamChunk
	require.NoError(t, errors.Join(e.EncodeBytes(big), e.EncodeNil(), e.EncodeBytes([]byte{}),
		e.EncodeArrayLen(3), e.EncodeBytes([]byte("a")), e.EncodeNil(), e.EncodeString("c")))
	d := stream(buf.Bytes())
	require.Equal(t, -1, remaining(d))
	got, err := DecodeBytes(d)
	require.NoError(t, err)
	require.Equal(t, big, got)
	got, err = DecodeBytes(d)
	require.NoError(t, err)
	require.Nil(t, got)
	got, err = DecodeBytes(d)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
	s, err := DecodeSlice(d, func(b *[]byte, d *msgpack.Decoder) (err error) { *b, err = DecodeBytes(d); return err })
	require.NoError(t, err)
	require.Equal(t, [][]byte{[]byte("a"), nil, []byte("c")}, s)

	for _, hostile := range [][]byte{
		{0xc6, 0xff, 0xff, 0xff, 0xff, 'x'},  // bin32 of 4 GiB
		{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}, // array32 of 4 G elements
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err1 := DecodeBytes(stream(hostile))
		_, err2 := DecodeSlice(stream(hostile), func(b *[]byte, d *msgpack.Decoder) (err error) { *b, err = DecodeBytes(d); return err })
		runtime.ReadMemStats(&after)
		require.Error(t, err1)
		require.Error(t, err2)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
	}
}

func TestDecodeStructHeader(t *testing.T) {
	for _, tc := range []struct {
		in      []byte
		ok      bool
		wantErr string
	}{
		{[]byte{0xc0}, false, ""},
		{[]byte{0x90}, false, ""},
		{[]byte{0x92}, true, ""},
		{[]byte{0xdc, 0x00, 0x02}, true, ""},
		{[]byte{0x91}, false, "array of 1 fields, want 2"},
		{[]byte{0x93}, false, "array of 3 fields, want 2"},
		{[]byte{0x82}, false, "map-encoded"},
		{[]byte{0xde, 0x00, 0x02}, false, "map-encoded"},
		{[]byte{0xa1, 'x'}, false, "invalid code"},
		{[]byte{}, false, "EOF"},
	} {
		ok, err := DecodeStructHeader(msgpack.NewDecoder(bytes.NewReader(tc.in)), "T", 2)
		require.Equal(t, tc.ok, ok, "%x", tc.in)
		if tc.wantErr == "" {
			require.NoError(t, err, "%x", tc.in)
		} else {
			require.ErrorContains(t, err, tc.wantErr, "%x", tc.in)
		}
	}
}

func TestDecodeGrownStructHeader(t *testing.T) {
	for _, tc := range []struct {
		in      []byte
		n       int
		wantErr string
	}{
		{[]byte{0xc0}, 0, ""},
		{[]byte{0x90}, 0, ""},
		{[]byte{0x93}, 3, ""},
		{[]byte{0x94}, 4, ""},
		{[]byte{0xdc, 0x00, 0x03}, 3, ""},
		{[]byte{0x92}, 0, "array of 2 fields, want 3 to 4"},
		{[]byte{0x95}, 0, "array of 5 fields, want 3 to 4"},
		{[]byte{0x83}, 0, "map-encoded"},
		{[]byte{}, 0, "EOF"},
	} {
		n, err := DecodeGrownStructHeader(msgpack.NewDecoder(bytes.NewReader(tc.in)), "T", 3, 4)
		require.Equal(t, tc.n, n, "%x", tc.in)
		if tc.wantErr == "" {
			require.NoError(t, err, "%x", tc.in)
		} else {
			require.ErrorContains(t, err, tc.wantErr, "%x", tc.in)
		}
	}
}

// Codec.Decode reads address bytes and checks for trailing bytes on its
// bytes.Reader directly, which is right only while msgpack reads through a
// bytes.Reader without buffering it. Guard that across msgpack upgrades.
func TestDecoderReadsThroughBytesReader(t *testing.T) {
	c := NewCodec()
	c.rd.Reset([]byte{0x01, 0x02})
	c.dec.Reset(&c.rd)
	require.Same(t, &c.rd, c.dec.Buffered())
	_, err := c.dec.DecodeUint64()
	require.NoError(t, err)
	require.Equal(t, 1, c.rd.Len())
}
