package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
	"pgregory.net/rapid"
)

var (
	benchFrom = actors.Addr{Node: "dc1/rack1/node-a", Name: "coord-7"}
	benchTo   = actors.Addr{Node: "dc1/rack2/node-b", Name: "store"}
)

func benchExec(id uint64) Exec {
	return Exec{ID: id, Args: [][]byte{[]byte("SET"), []byte(fmt.Sprintf("key:%08d", id)), make([]byte, 64)}}
}

// benchMsgs are the hot inter-node messages: one SET, the reply to a GET of
// a 64-byte value, and what one pipelined client read produces.
func benchMsgs() []struct {
	name string
	m    any
} {
	get := append(append([]byte("$64\r\n"), make([]byte, 64)...), "\r\n"...)
	batch := Batch{}
	results := Results{}
	for i := range 16 {
		batch.Execs = append(batch.Execs, benchExec(1<<40+uint64(i)))
		results.Results = append(results.Results, Result{ID: 1<<40 + uint64(i), Reply: []byte("+OK\r\n")})
	}
	return []struct {
		name string
		m    any
	}{
		{"Exec", benchExec(1 << 40)},
		{"Result", Result{ID: 1 << 40, Reply: get}},
		{"Batch16", batch},
		{"Results16", results},
	}
}

func BenchmarkEnvelopeEncode(b *testing.B) {
	for _, bm := range benchMsgs() {
		b.Run(bm.name, func(b *testing.B) {
			c := msg.NewCodec()
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = c.Append(buf[:0], benchFrom, benchTo, bm.m); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkEnvelopeDecode(b *testing.B) {
	for _, bm := range benchMsgs() {
		b.Run(bm.name, func(b *testing.B) {
			c := msg.NewCodec()
			buf, err := c.Append(nil, benchFrom, benchTo, bm.m)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, err := c.Decode(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The hand-written codecs in msgs.go must produce exactly the bytes msgpack's
// reflection produces with the Codec's settings, and decode any bytes to
// what reflection decodes them to. The mirror types below have the same
// fields but no methods, so msgpack encodes them by reflection. Exec and
// Result convert to theirs directly, so adding a field to one and not the
// other does not compile; TestMirrorsMatch checks the rest.

type execPlain struct {
	ID      uint64
	Args    [][]byte
	Quiet   bool
	Version versionPlain
	Ack     bool
}

// versionPlain is an hlc.Version flattened, as the codec encodes it.
type versionPlain struct {
	Wall    int64
	Logical uint32
	Node    string
}

type resultPlain struct {
	ID      uint64
	Reply   []byte
	Failure string
	Kind    FailureKind
	Version versionPlain
}

// execVerOld is an Exec as nodes built after Exec.Version and before
// Exec.Ack encode it.
type execVerOld struct {
	ID      uint64
	Args    [][]byte
	Quiet   bool
	Version versionPlain
}

// execOld is an Exec as nodes built before Exec.Version encode it.
type execOld struct {
	ID    uint64
	Args  [][]byte
	Quiet bool
}

// resultKindOld is a Result as nodes built after Kind and before Version
// encode it.
type resultKindOld struct {
	ID      uint64
	Reply   []byte
	Failure string
	Kind    FailureKind
}

func vPlain(v hlc.Version) versionPlain {
	return versionPlain{Wall: v.TS.Wall, Logical: v.TS.Logical, Node: v.Node}
}

func execPlainOf(e Exec) execPlain {
	return execPlain{ID: e.ID, Args: e.Args, Quiet: e.Quiet, Version: vPlain(e.Version), Ack: e.Ack}
}

func resultPlainOf(r Result) resultPlain {
	return resultPlain{ID: r.ID, Reply: r.Reply, Failure: r.Failure, Kind: r.Kind, Version: vPlain(r.Version)}
}

// resultOld is a Result as nodes built before Result.Kind encode it.
type resultOld struct {
	ID      uint64
	Reply   []byte
	Failure string
}

type batchPlain struct{ Execs []execMirror }

// execMirror is an Exec's mirror in the form it is sent: execVerOld (four
// fields) without Ack, execPlain (five) with it. It encodes and decodes
// the mirror it holds by reflection; decoding picks the mirror by the
// array's length (five fields with Ack false decode to the four-field
// mirror, the value they mean).
type execMirror struct{ v any }

func (e execMirror) EncodeMsgpack(enc *msgpack.Encoder) error { return enc.Encode(e.v) }

func (e *execMirror) DecodeMsgpack(d *msgpack.Decoder) error {
	if c, err := d.PeekCode(); err == nil && c == 0xc0 { // nil: the zero Exec, as reflection decodes it
		e.v = execVerOld{}
		return d.DecodeNil()
	} else if err == nil && c == 0x94 {
		var v execVerOld
		err := d.Decode(&v)
		e.v = v
		return err
	}
	var v execPlain
	if err := d.Decode(&v); err != nil {
		return err
	}
	e.v = v
	if !v.Ack {
		e.v = execVerOld{ID: v.ID, Args: v.Args, Quiet: v.Quiet, Version: v.Version}
	}
	return nil
}

// zeroMirrors makes the execMirrors msgpack decoded from nil (it sets the
// value without calling DecodeMsgpack) the zero Exec's mirror.
func zeroMirrors(m any) any {
	switch m := m.(type) {
	case execMirror:
		if m.v == nil {
			return execMirror{execVerOld{}}
		}
	case batchPlain:
		for i := range m.Execs {
			m.Execs[i] = zeroMirrors(m.Execs[i]).(execMirror)
		}
	}
	return m
}

func execMirrorOf(e Exec) execMirror {
	if e.Ack {
		return execMirror{execPlainOf(e)}
	}
	return execMirror{execVerOld{ID: e.ID, Args: e.Args, Quiet: e.Quiet, Version: vPlain(e.Version)}}
}

type resultsPlain struct{ Results []resultPlain }

type acksPlain struct{ IDs []uint64 }

func TestMirrorsMatch(t *testing.T) {
	for _, p := range []struct {
		real, plain any
		fields      int
	}{
		{Exec{}, execPlain{}, execFields},
		{Result{}, resultPlain{}, resultFields},
		{Batch{}, batchPlain{}, batchFields},
		{Results{}, resultsPlain{}, resultsFields},
		{Acks{}, acksPlain{}, acksFields},
	} {
		rt, pt := reflect.TypeOf(p.real), reflect.TypeOf(p.plain)
		require.Equal(t, rt.NumField(), pt.NumField(), "%v", rt)
		require.Equal(t, rt.NumField(), p.fields, "%v: the codec's field count", rt)
		for i := range rt.NumField() {
			require.Equal(t, rt.Field(i).Name, pt.Field(i).Name, "%v field %d", rt, i)
			require.Empty(t, rt.Field(i).Tag, "%v: a msgpack tag would change the reflection encoding", rt)
		}
	}
}

func plainOf(m any) any {
	switch m := m.(type) {
	case Exec:
		return execMirrorOf(m)
	case Result:
		return resultPlainOf(m)
	case Batch:
		if m.Execs == nil {
			return batchPlain{}
		}
		p := batchPlain{Execs: make([]execMirror, len(m.Execs))}
		for i, e := range m.Execs {
			p.Execs[i] = execMirrorOf(e)
		}
		return p
	case Results:
		if m.Results == nil {
			return resultsPlain{}
		}
		p := resultsPlain{Results: make([]resultPlain, len(m.Results))}
		for i, r := range m.Results {
			p.Results[i] = resultPlainOf(r)
		}
		return p
	case Acks:
		return acksPlain(m)
	}
	panic(fmt.Sprintf("plainOf(%T)", m))
}

// newTargets returns a pointer to a zero mirror of m's type, and a pointer to
// a zero m, to decode into.
func newTargets(m any) (plain, real any) {
	switch m.(type) {
	case Exec:
		return new(execMirror), new(Exec)
	case Result:
		return new(resultPlain), new(Result)
	case Batch:
		return new(batchPlain), new(Batch)
	case Results:
		return new(resultsPlain), new(Results)
	case Acks:
		return new(acksPlain), new(Acks)
	}
	panic(fmt.Sprintf("newTargets(%T)", m))
}

// codecLike returns an encoder configured like msg.Codec's.
func codecLike(buf *bytes.Buffer) *msgpack.Encoder {
	e := msgpack.NewEncoder(buf)
	e.UseArrayEncodedStructs(true)
	e.UseCompactInts(true)
	return e
}

func reflectEncode(t require.TestingT, m any) []byte {
	var buf bytes.Buffer
	require.NoError(t, codecLike(&buf).Encode(plainOf(m)))
	return buf.Bytes()
}

// oldEnvelope is msg.Codec.Append as it was before the hand-written codecs,
// with the payload encoded by reflection.
func oldEnvelope(t require.TestingT, from, to actors.Addr, m any) []byte {
	code, ok := msg.CodeOf(m)
	require.True(t, ok)
	var buf bytes.Buffer
	e := codecLike(&buf)
	require.NoError(t, errors.Join(
		e.EncodeArrayLen(7),
		e.EncodeUint(uint64(code)),
		e.EncodeString(string(from.Node)), e.EncodeString(from.Name),
		e.EncodeString(string(to.Node)), e.EncodeString(to.Name),
		e.EncodeUint(corr(m)),
		e.Encode(plainOf(m)),
	))
	return buf.Bytes()
}

func corr(m any) uint64 {
	if c, ok := m.(msg.Correlated); ok {
		return c.CorrelationID()
	}
	return 0
}

// checkIdentical encodes m both ways and decodes the bytes both ways.
func checkIdentical(t require.TestingT, m any) {
	want := reflectEncode(t, m)

	// Payload alone: through msgpack's own dispatch, with the Codec's
	// settings and without any (the hand-written form does not depend on
	// them).
	var buf bytes.Buffer
	require.NoError(t, codecLike(&buf).Encode(m))
	require.Equal(t, want, buf.Bytes(), "%T with codec settings", m)
	got, err := msgpack.Marshal(m)
	require.NoError(t, err)
	require.Equal(t, want, got, "%T with default settings", m)

	// Whole envelope, against the old Codec's output.
	old := oldEnvelope(t, benchFrom, benchTo, m)
	c := msg.NewCodec()
	env, err := c.Append(nil, benchFrom, benchTo, m)
	require.NoError(t, err)
	require.Equal(t, old, env, "%T envelope", m)
	// In place, after existing bytes, with room to spare.
	dst := append(make([]byte, 0, len(env)+64), "prefix"...)
	inPlace, err := c.Append(dst, benchFrom, benchTo, m)
	require.NoError(t, err)
	require.Equal(t, append([]byte("prefix"), old...), inPlace)

	// Decoding: reflection into the mirror, the hand-written codec into the
	// real type, through msgpack's dispatch and through the Codec. nil and
	// empty slices survive the trip, so the result is m itself.
	plain, real := newTargets(m)
	require.NoError(t, msgpack.Unmarshal(want, plain))
	require.NoError(t, msgpack.Unmarshal(want, real))
	require.Equal(t, plainOf(m), reflect.ValueOf(plain).Elem().Interface())
	require.Equal(t, m, reflect.ValueOf(real).Elem().Interface())
	e, err := c.Decode(env)
	require.NoError(t, err)
	require.Equal(t, m, e.Msg)
	require.Equal(t, corr(m), e.CorrID)
}

// Boundaries of msgpack's integer, string, bin and array encodings.
var (
	edgeIDs   = []uint64{0, 1, 127, 128, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1<<63 - 1, 1 << 63, math.MaxUint64}
	edgeSizes = []int{0, 1, 31, 32, 255, 256, 65535, 65536, 70000}
)

func sized(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestMsgsWireIdentical(t *testing.T) {
	var cases []any
	for _, id := range edgeIDs {
		cases = append(cases, Exec{ID: id}, Result{ID: id}, Exec{ID: id, Args: [][]byte{}}, Exec{ID: id, Ack: true},
			Acks{IDs: []uint64{id}}, Acks{IDs: []uint64{id, id / 2, 0, id}})
		v := hlc.Version{TS: hlc.Timestamp{Wall: int64(id), Logical: uint32(id)}, Node: "n"}
		cases = append(cases, Exec{ID: id, Version: v}, Result{ID: id, Version: v})
	}
	for _, w := range []int64{math.MinInt64, -1, 0, 1, 127, 128, 1 << 40, math.MaxInt64} {
		for _, l := range []uint32{0, 1, 255, 65536, math.MaxUint32} {
			v := hlc.Version{TS: hlc.Timestamp{Wall: w, Logical: l}, Node: "dc1-r1-n1"}
			cases = append(cases, Exec{Version: v}, Result{Version: v})
		}
	}
	for _, n := range edgeSizes {
		cases = append(cases,
			Exec{Args: [][]byte{sized(n)}},
			Exec{Args: make([][]byte, n)}, // n nil args
			Result{Reply: sized(n)},
			Result{Failure: string(sized(n))},
		)
		if n <= 256 {
			cases = append(cases, Batch{Execs: make([]Exec, n)}, Results{Results: make([]Result, n)})
		}
	}
	cases = append(cases,
		Exec{Args: [][]byte{nil, {}, []byte("x"), nil}},
		Result{Reply: []byte{}, Failure: ""},
		Result{Reply: nil, Failure: "Peer: link down", Kind: KindPeer},
		Result{Failure: "héllo \x00 wörld", Kind: KindDatastore},
		Result{ID: 7, Failure: "x", Kind: KindTimeout},
		Result{ID: 7, Failure: "x", Kind: 255},
		Batch{}, Batch{Execs: []Exec{}}, Results{}, Results{Results: []Result{}}, Acks{}, Acks{IDs: []uint64{}},
		Batch{Execs: []Exec{{}, {ID: 1, Args: [][]byte{}}, {ID: 2, Args: [][]byte{nil}}}},
		Results{Results: []Result{{}, {Reply: []byte{}}, {Failure: "x"}, {Failure: "y", Kind: KindTimeout}}},
	)
	for _, bm := range benchMsgs() {
		cases = append(cases, bm.m)
	}
	for _, m := range cases {
		checkIdentical(t, m)
	}
}

func genBytes() *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		switch rapid.IntRange(0, 3).Draw(t, "bytes kind") {
		case 0:
			return nil
		case 1:
			return []byte{}
		case 2:
			return rapid.SliceOfN(rapid.Byte(), 1, 300).Draw(t, "bytes")
		}
		return sized(rapid.SampledFrom(edgeSizes).Draw(t, "size"))
	})
}

func genID() *rapid.Generator[uint64] {
	return rapid.OneOf(rapid.Uint64(), rapid.SampledFrom(edgeIDs))
}

func genSlice[T any](elem *rapid.Generator[T], max int) *rapid.Generator[[]T] {
	return rapid.Custom(func(t *rapid.T) []T {
		switch rapid.IntRange(0, 2).Draw(t, "slice kind") {
		case 0:
			return nil
		case 1:
			return []T{}
		}
		return rapid.SliceOfN(elem, 1, max).Draw(t, "elems")
	})
}

func genVersion() *rapid.Generator[hlc.Version] {
	return rapid.Custom(func(t *rapid.T) hlc.Version {
		if rapid.Bool().Draw(t, "unversioned") {
			return hlc.Version{}
		}
		return hlc.Version{TS: hlc.Timestamp{Wall: rapid.Int64().Draw(t, "wall"), Logical: rapid.Uint32().Draw(t, "logical")},
			Node: rapid.String().Draw(t, "node")}
	})
}

func genExec() *rapid.Generator[Exec] {
	return rapid.Custom(func(t *rapid.T) Exec {
		return Exec{ID: genID().Draw(t, "id"), Args: genSlice(genBytes(), 20).Draw(t, "args"),
			Quiet: rapid.Bool().Draw(t, "quiet"), Version: genVersion().Draw(t, "version"), Ack: rapid.Bool().Draw(t, "ack")}
	})
}

func genResult() *rapid.Generator[Result] {
	return rapid.Custom(func(t *rapid.T) Result {
		return Result{ID: genID().Draw(t, "id"), Reply: genBytes().Draw(t, "reply"), Failure: rapid.String().Draw(t, "failure"),
			Kind: FailureKind(rapid.Uint8().Draw(t, "kind")), Version: genVersion().Draw(t, "version")}
	})
}

func TestMsgsWireIdenticalRapid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var m any
		switch rapid.IntRange(0, 4).Draw(t, "type") {
		case 0:
			m = genExec().Draw(t, "exec")
		case 1:
			m = genResult().Draw(t, "result")
		case 2:
			m = Batch{Execs: genSlice(genExec(), 20).Draw(t, "execs")}
		case 3:
			m = Results{Results: genSlice(genResult(), 20).Draw(t, "results")}
		case 4:
			m = Acks{IDs: genSlice(genID(), 50).Draw(t, "ids")}
		}
		checkIdentical(t, m)
	})
}

// TestResultOldFrameDecodes: a Result from a node built before
// Result.Kind (three fields, as reflection encoded the old struct) still
// decodes, alone, in Results and inside an envelope, with KindNone; a
// Result of today encodes the kind as a fourth field.
func TestResultOldFrameDecodes(t *testing.T) {
	old := resultOld{ID: 1 << 40, Reply: []byte("+OK\r\n"), Failure: "Peer: Peer Node is not connected"}
	var buf bytes.Buffer
	require.NoError(t, codecLike(&buf).Encode(old))
	require.Equal(t, byte(0x93), buf.Bytes()[0], "an old Result is an array of three")
	want := Result{ID: old.ID, Reply: old.Reply, Failure: old.Failure}
	var got Result
	require.NoError(t, msgpack.Unmarshal(buf.Bytes(), &got))
	require.Equal(t, want, got)

	// In Results, old and new side by side (a node answers for several
	// stores only of its own build, but the decoder need not care).
	buf.Reset()
	e := codecLike(&buf)
	require.NoError(t, errors.Join(e.EncodeArrayLen(1), e.EncodeArrayLen(2), e.Encode(old), e.Encode(Result{ID: 2, Failure: "x", Kind: KindTimeout})))
	var rs Results
	require.NoError(t, msgpack.Unmarshal(buf.Bytes(), &rs))
	require.Equal(t, Results{Results: []Result{want, {ID: 2, Failure: "x", Kind: KindTimeout}}}, rs)

	// A whole envelope as an old node sends it.
	buf.Reset()
	e = codecLike(&buf)
	code, ok := msg.CodeOf(Result{})
	require.True(t, ok)
	require.NoError(t, errors.Join(
		e.EncodeArrayLen(7), e.EncodeUint(uint64(code)),
		e.EncodeString(string(benchFrom.Node)), e.EncodeString(benchFrom.Name),
		e.EncodeString(string(benchTo.Node)), e.EncodeString(benchTo.Name),
		e.EncodeUint(old.ID), e.Encode(old)))
	env, err := msg.NewCodec().Decode(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, want, env.Msg)

	// Today's form: the same three fields, then the kind and the version.
	b, err := msgpack.Marshal(Result{ID: 1, Failure: "x", Kind: KindPeer})
	require.NoError(t, err)
	require.Equal(t, []byte{0x95, 0x01, 0xc0, 0xa1, 'x', byte(KindPeer), 0x93, 0x00, 0x00, 0xa0}, b)
}

// TestVersionlessFramesDecode: an Exec and a Result from a node built
// before versions (three and four fields) decode, alone, in a Batch or
// Results, with no version; today's carry it as [wall, logical, node].
func TestVersionlessFramesDecode(t *testing.T) {
	var buf bytes.Buffer
	e := codecLike(&buf)
	oldExec := execOld{ID: 9, Args: [][]byte{[]byte("GET"), []byte("k")}, Quiet: true}
	require.NoError(t, e.Encode(oldExec))
	require.Equal(t, byte(0x93), buf.Bytes()[0])
	var ex Exec
	require.NoError(t, msgpack.Unmarshal(buf.Bytes(), &ex))
	require.Equal(t, Exec{ID: 9, Args: oldExec.Args, Quiet: true}, ex)

	buf.Reset()
	require.NoError(t, errors.Join(e.EncodeArrayLen(1), e.EncodeArrayLen(2), e.Encode(oldExec),
		e.Encode(Exec{ID: 10, Version: hlc.Version{TS: hlc.Timestamp{Wall: 5, Logical: 6}, Node: "a"}})))
	var bt Batch
	require.NoError(t, msgpack.Unmarshal(buf.Bytes(), &bt))
	require.Equal(t, Batch{Execs: []Exec{{ID: 9, Args: oldExec.Args, Quiet: true},
		{ID: 10, Version: hlc.Version{TS: hlc.Timestamp{Wall: 5, Logical: 6}, Node: "a"}}}}, bt)

	buf.Reset()
	oldRes := resultKindOld{ID: 3, Reply: []byte("$-1\r\n"), Kind: KindNone}
	require.NoError(t, e.Encode(oldRes))
	require.Equal(t, byte(0x94), buf.Bytes()[0])
	var r Result
	require.NoError(t, msgpack.Unmarshal(buf.Bytes(), &r))
	require.Equal(t, Result{ID: 3, Reply: oldRes.Reply}, r)

	// An Exec from a node built before Ack: four fields, no Ack.
	buf.Reset()
	verOld := execVerOld{ID: 11, Args: [][]byte{[]byte("SET"), []byte("k"), []byte("v")}, Version: versionPlain{Wall: 5, Logical: 1, Node: "b"}}
	require.NoError(t, e.Encode(verOld))
	require.Equal(t, byte(0x94), buf.Bytes()[0])
	require.NoError(t, msgpack.Unmarshal(buf.Bytes(), &ex))
	require.Equal(t, Exec{ID: 11, Args: verOld.Args, Version: hlc.Version{TS: hlc.Timestamp{Wall: 5, Logical: 1}, Node: "b"}}, ex)

	b, err := msgpack.Marshal(Exec{ID: 1, Version: hlc.Version{TS: hlc.Timestamp{Wall: 300, Logical: 2}, Node: "n"}, Ack: true})
	require.NoError(t, err)
	require.Equal(t, []byte{0x95, 0x01, 0xc0, 0xc2, 0x93, 0xcd, 0x01, 0x2c, 0x02, 0xa1, 'n', 0xc3}, b)
	// Without Ack, four fields: what nodes built before Ack decode.
	b, err = msgpack.Marshal(Exec{ID: 1, Version: hlc.Version{TS: hlc.Timestamp{Wall: 300, Logical: 2}, Node: "n"}})
	require.NoError(t, err)
	require.Equal(t, []byte{0x94, 0x01, 0xc0, 0xc2, 0x93, 0xcd, 0x01, 0x2c, 0x02, 0xa1, 'n'}, b)
	var before execVerOld
	require.NoError(t, msgpack.Unmarshal(b, &before), "a node built before Ack decodes it")
}

// The transport reuses its read buffer: nothing decoded may point into it.
func TestMsgsDecodeDoesNotAlias(t *testing.T) {
	for _, m := range []any{
		Exec{ID: 1, Args: [][]byte{[]byte("SET"), []byte("k"), sized(300)}},
		Result{ID: 2, Reply: sized(70), Failure: "boom"},
		Batch{Execs: []Exec{{ID: 3, Args: [][]byte{[]byte("GET"), []byte("k")}}}},
		Results{Results: []Result{{ID: 4, Reply: []byte("+OK\r\n")}}},
		Acks{IDs: []uint64{5, 1 << 40}},
	} {
		c := msg.NewCodec()
		b, err := c.Append(nil, benchFrom, benchTo, m)
		require.NoError(t, err)
		env, err := c.Decode(b)
		require.NoError(t, err)
		for i := range b {
			b[i] = 0xEE
		}
		require.Equal(t, m, env.Msg, "%T changed with the input buffer", m)
		require.Equal(t, benchFrom, env.From)
		require.Equal(t, benchTo, env.To)
	}
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestMsgsDecodeHostile(t *testing.T) {
	const (
		array32 = 0xdd
		bin32   = 0xc6
		str32   = 0xdb
	)
	huge := []byte{0xff, 0xff, 0xff, 0xff}
	cases := map[string]struct {
		m       any
		payload []byte
	}{
		"exec short":          {Exec{}, []byte{0x91, 0x01}},
		"exec long":           {Exec{}, []byte{0x96, 0x01, 0xc0, 0xc2, 0xc0, 0xc2, 0xc0}},
		"exec ack not bool":   {Exec{}, []byte{0x95, 0x01, 0xc0, 0xc2, 0x93, 0x01, 0x01, 0xa0, 0x01}},
		"acks id not int":     {Acks{}, []byte{0x91, 0x91, 0xa1, 'x'}},
		"acks huge":           {Acks{}, append([]byte{0x91, array32}, huge...)},
		"acks long":           {Acks{}, []byte{0x92, 0xc0, 0xc0}},
		"exec version short":  {Exec{}, []byte{0x94, 0x01, 0xc0, 0xc2, 0x92, 0x01, 0x01}},
		"exec node not str":   {Exec{}, []byte{0x94, 0x01, 0xc0, 0xc2, 0x93, 0x01, 0x01, 0x01}},
		"result wall not int": {Result{}, []byte{0x95, 0x01, 0xc0, 0xa0, 0x00, 0x93, 0xa0, 0x01, 0xa0}},
		"exec as map":         {Exec{}, []byte{0x81, 0xa2, 'I', 'D', 0x01}},
		"exec huge args":      {Exec{}, append([]byte{0x93, 0x01, array32}, huge...)},
		"exec huge arg":       {Exec{}, append([]byte{0x93, 0x01, 0x91, bin32}, append(huge, 'x')...)},
		"exec arg not bytes":  {Exec{}, []byte{0x93, 0x01, 0x91, 0x05, 0xc2}},
		"exec id not int":     {Exec{}, []byte{0x93, 0xa1, 'x', 0xc0, 0xc2}},
		"exec quiet not bool": {Exec{}, []byte{0x93, 0x01, 0xc0, 0xa1, 'x'}},
		"exec without quiet":  {Exec{}, []byte{0x92, 0x01, 0xc0}},
		"result short":        {Result{}, []byte{0x92, 0x01, 0xc0}},
		"result long":         {Result{}, []byte{0x96, 0x01, 0xc0, 0xa0, 0x01, 0xc0, 0x01}},
		"result kind not int": {Result{}, []byte{0x94, 0x01, 0xc0, 0xa0, 0xa1, 'x'}},
		"result huge reply":   {Result{}, append([]byte{0x93, 0x01, bin32}, huge...)},
		"result huge failure": {Result{}, append([]byte{0x93, 0x01, 0xc0, str32}, huge...)},
		"batch huge":          {Batch{}, append([]byte{0x91, array32}, huge...)},
		"batch bad exec":      {Batch{}, []byte{0x91, 0x91, 0x96, 0x01, 0xc0, 0xc2, 0xc0, 0xc2, 0xc0}},
		"batch exec huge":     {Batch{}, append([]byte{0x91, 0x91, 0x93, 0x01, array32}, huge...)},
		"results huge":        {Results{}, append([]byte{0x91, array32}, huge...)},
		"results long":        {Results{}, []byte{0x92, 0xc0, 0xc0}},
		"not an array":        {Results{}, []byte{0xa3, 'a', 'b', 'c'}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, real := newTargets(tc.m)
			var err error
			n := allocated(func() { err = msgpack.Unmarshal(tc.payload, real) })
			require.Error(t, err)
			require.Less(t, n, uint64(64<<10), "allocated %d bytes for a %d byte input", n, len(tc.payload))

			// In an envelope too.
			c := msg.NewCodec()
			env, encErr := c.Append(nil, benchFrom, benchTo, tc.m)
			require.NoError(t, encErr)
			zero := reflectEncode(t, tc.m)
			hostile := append(env[:len(env)-len(zero):len(env)-len(zero)], tc.payload...)
			n = allocated(func() { _, err = c.Decode(hostile) })
			require.Error(t, err)
			require.Less(t, n, uint64(64<<10), "allocated %d bytes for a %d byte envelope", n, len(hostile))
		})
	}
	// Every truncation of a valid envelope fails cleanly.
	c := msg.NewCodec()
	for _, bm := range benchMsgs() {
		b, err := c.Append(nil, benchFrom, benchTo, bm.m)
		require.NoError(t, err)
		for i := range b {
			_, err := c.Decode(b[:i])
			require.Error(t, err, "%s truncated at %d of %d", bm.name, i, len(b))
		}
	}
}

// oldResultForm reports whether b, which the codec decoded into real
// leaving left bytes and reflection refused, is a Result of the three
// fields older nodes send (or Results of some): reflection decodes it into
// the old mirror to the same value, or, for Results mixing both forms,
// refuses only for a field count.
func oldResultForm(t *testing.T, m any, b []byte, real any, left int) bool {
	switch m.(type) {
	case Exec, Result, Batch:
	default:
		return oldResultsForm(t, m, b, real, left)
	}
	// An Exec or Result of an older form: reflection decodes it into that
	// form's mirror; the codec must have decoded the same fields.
	var olds []any
	switch m.(type) {
	case Exec:
		olds = []any{new(execOld), new(execVerOld)}
	case Result:
		olds = []any{new(resultOld), new(resultKindOld)}
	case Batch:
		olds = []any{new(struct{ Execs []execOld })}
	}
	for _, old := range olds {
		r := bytes.NewReader(b)
		if err := msgpack.NewDecoder(r).Decode(old); err != nil {
			continue
		}
		if r.Len() != left {
			t.Fatalf("%T: consumed %d bytes of %x, reflection of the old form %d", m, len(b)-left, b, len(b)-r.Len())
		}
		var want any
		switch o := old.(type) {
		case *execOld:
			want = Exec{ID: o.ID, Args: o.Args, Quiet: o.Quiet}
		case *execVerOld:
			want = Exec{ID: o.ID, Args: o.Args, Quiet: o.Quiet, Version: hlc.Version{TS: hlc.Timestamp{Wall: o.Version.Wall, Logical: o.Version.Logical}, Node: o.Version.Node}}
		case *resultOld:
			want = Result{ID: o.ID, Reply: o.Reply, Failure: o.Failure}
		case *resultKindOld:
			want = Result{ID: o.ID, Reply: o.Reply, Failure: o.Failure, Kind: o.Kind}
		case *struct{ Execs []execOld }:
			bt := Batch{}
			if o.Execs != nil {
				bt.Execs = []Exec{}
			}
			for _, x := range o.Execs {
				bt.Execs = append(bt.Execs, Exec{ID: x.ID, Args: x.Args, Quiet: x.Quiet})
			}
			want = bt
		}
		if got := reflect.ValueOf(real).Elem().Interface(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%T: decoded old form %x to %#v, reflection to %#v", m, b, got, want)
		}
		return true
	}
	// A Batch mixing forms: reflection refuses only for a field count.
	if _, isBatch := m.(Batch); isBatch {
		var err error
		for _, old := range []any{new(struct{ Execs []execOld }), new(batchPlain)} {
			if err = msgpack.NewDecoder(bytes.NewReader(b)).Decode(old); err != nil && !strings.Contains(err.Error(), "number of fields") {
				return false
			}
		}
		return err != nil
	}
	return false
}

func oldResultsForm(t *testing.T, m any, b []byte, real any, left int) bool {
	var old any
	switch m.(type) {
	case Results:
		old = new(struct{ Results []resultOld })
	default:
		return false
	}
	r := bytes.NewReader(b)
	if err := msgpack.NewDecoder(r).Decode(old); err != nil {
		_, isResults := m.(Results)
		return isResults && strings.Contains(err.Error(), "number of fields")
	}
	if r.Len() != left {
		t.Fatalf("%T: consumed %d bytes of %x, reflection of the old form %d", m, len(b)-left, b, len(b)-r.Len())
	}
	var want any
	switch o := old.(type) {
	case *resultOld:
		want = Result{ID: o.ID, Reply: o.Reply, Failure: o.Failure}
	case *struct{ Results []resultOld }:
		rs := Results{}
		if o.Results != nil {
			rs.Results = []Result{}
		}
		for _, x := range o.Results {
			rs.Results = append(rs.Results, Result{ID: x.ID, Reply: x.Reply, Failure: x.Failure})
		}
		want = rs
	}
	if got := reflect.ValueOf(real).Elem().Interface(); !reflect.DeepEqual(got, want) {
		t.Fatalf("%T: decoded old form %x to %#v, reflection to %#v", m, b, got, want)
	}
	return true
}

// FuzzMsgsDecode decodes arbitrary bytes as each message type both ways.
// Whatever the hand-written codec accepts, reflection accepts too, with the
// same value and the same bytes consumed, and both encode it identically;
// but for the codec alone accepting the old form of a Result (see
// oldResultForm). Reflection alone accepts map-encoded structs, which no
// peer sends.
func FuzzMsgsDecode(f *testing.F) {
	for _, bm := range benchMsgs() {
		f.Add(reflectEncode(f, bm.m))
	}
	for _, m := range []any{Exec{Args: [][]byte{nil, {}}}, Result{Failure: "x"}, Batch{Execs: []Exec{{}}}, Results{Results: []Result{}}, Acks{IDs: []uint64{1, 1 << 40}}} {
		f.Add(reflectEncode(f, m))
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x93, 0x01, 0xc0, 0xa1, 'x'})                                      // an old Result
	f.Add([]byte{0x91, 0x92, 0x93, 0x01, 0xc0, 0xa0, 0x94, 0x02, 0xc0, 0xa0, 0x03}) // Results, old and new
	c := msg.NewCodec()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range []any{Exec{}, Result{}, Batch{}, Results{}, Acks{}} {
			plain, real := newTargets(m)
			pr, rr := bytes.NewReader(b), bytes.NewReader(b)
			perr := msgpack.NewDecoder(pr).Decode(plain)
			rerr := msgpack.NewDecoder(rr).Decode(real)
			if rerr != nil {
				if perr == nil && !strings.Contains(rerr.Error(), "map-encoded") {
					t.Fatalf("%T: reflection decodes %x, the codec fails: %v", m, b, rerr)
				}
				continue
			}
			if perr != nil {
				// The codec alone accepts a Result of the old three fields.
				if oldResultForm(t, m, b, real, rr.Len()) {
					continue
				}
				t.Fatalf("%T: the codec decodes %x, reflection fails: %v", m, b, perr)
			}
			got := reflect.ValueOf(real).Elem().Interface()
			if want := zeroMirrors(reflect.ValueOf(plain).Elem().Interface()); !reflect.DeepEqual(plainOf(got), want) {
				t.Fatalf("%T: decoded %x to %#v, reflection to %#v", m, b, got, want)
			}
			if pr.Len() != rr.Len() {
				t.Fatalf("%T: consumed %d bytes of %x, reflection %d", m, len(b)-rr.Len(), b, len(b)-pr.Len())
			}
			var buf bytes.Buffer
			if err := codecLike(&buf).Encode(got); err != nil {
				t.Fatal(err)
			}
			if want := reflectEncode(t, got); !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("%T: re-encoded %#v to %x, reflection to %x", m, got, buf.Bytes(), want)
			}
			// And as an envelope payload.
			env, err := c.Append(nil, benchFrom, benchTo, got)
			if err != nil {
				t.Fatal(err)
			}
			if e, err := c.Decode(env); err != nil || !reflect.DeepEqual(e.Msg, got) {
				t.Fatalf("%T: envelope round trip: %v, %#v != %#v", m, err, e.Msg, got)
			}
		}
	})
}
