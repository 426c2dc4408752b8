package msg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/vmihailenco/msgpack/v5"
)

// Envelope is one inter-node message: who sent it, to whom, a correlation id,
// the sender's hybrid logical clock and the payload. On the wire it is a
// msgpack array [code, from.node, from.name, to.node, to.name, corr_id,
// hlc.wall, hlc.logical, payload]; a sender without a clock reading writes
// the older seven-field form [code, ..., corr_id, payload], which decodes
// with a zero HLC.
type Envelope struct {
	Code   Code
	From   actors.Addr
	To     actors.Addr
	CorrID uint64
	HLC    hlc.Timestamp
	Msg    any
}

// Correlated is implemented by messages that carry a request/response
// correlation id; the envelope copies it so links can match replies without
// decoding payloads.
type Correlated interface{ CorrelationID() uint64 }

// Bounceable is implemented by requests whose sender is waiting for an
// answer. When a runtime knows a message cannot be delivered (its peer link
// is down), it hands the sender Bounce(reason) instead, so the sender fails
// fast rather than waiting for its timeout. Bounce returns nil when nobody
// waits for an answer (a quiet store.Exec).
type Bounceable interface{ Bounce(reason string) any }

// envelopeFields is the envelope's length with a clock reading;
// envelopeFieldsNoHLC without.
const (
	envelopeFields      = 9
	envelopeFieldsNoHLC = 7
)

// ErrUnknownCode is wrapped by Decode when the code is not registered.
var ErrUnknownCode = errors.New("unknown message code")

// Interning bounds: a Codec keeps at most maxInterned distinct address
// parts, each at most maxInternLen bytes, so a hostile or confused peer
// cannot grow it without bound; real clusters have far fewer (node names,
// plus one coordinator per client connection on the sending node).
const (
	maxInterned  = 4096
	maxInternLen = 128
	// maxOwnBuffer bounds the encoding buffer a Codec keeps between calls:
	// one huge message must not pin its size for the connection's lifetime.
	maxOwnBuffer = 64 << 10
)

// Codec encodes and decodes envelopes, reusing its buffers. It is not safe
// for concurrent use: give each connection (or the simulator) its own.
type Codec struct {
	out appendWriter // the Encoder's output, valid during Append only
	own []byte       // Append's buffer when the caller's has no room
	enc *msgpack.Encoder
	rd  bytes.Reader
	dec *msgpack.Decoder

	// Every envelope carries four address strings, nearly always the same
	// few: names maps each one seen to a single copy, so decoding them costs
	// a map lookup on scratch bytes instead of four allocations.
	scratch []byte
	names   map[string]string
}

// appendWriter is the Encoder's output: Append points it at the slice to
// encode into, so that envelopes need not be copied out of a buffer.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *appendWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

// NewCodec returns a Codec using the compact wire settings: array-encoded
// structs and compact integers.
func NewCodec() *Codec {
	c := &Codec{names: make(map[string]string)}
	c.enc = msgpack.NewEncoder(&c.out)
	c.enc.UseArrayEncodedStructs(true)
	c.enc.UseCompactInts(true)
	c.dec = msgpack.NewDecoder(&c.rd)
	return c
}

// Append encodes an envelope for m without a clock reading and appends it
// to dst (see AppendStamped).
func (c *Codec) Append(dst []byte, from, to actors.Addr, m any) ([]byte, error) {
	return c.AppendStamped(dst, from, to, hlc.Timestamp{}, m)
}

// AppendStamped encodes an envelope for m, stamped with the sender's clock
// reading ts, and appends it to dst. The code comes from the registry; an
// unregistered type is an error (the message cannot leave the node).
func (c *Codec) AppendStamped(dst []byte, from, to actors.Addr, ts hlc.Timestamp, m any) ([]byte, error) {
	ent, ok := byType[reflect.TypeOf(m)]
	if !ok {
		return dst, fmt.Errorf("msg: encode %T for %s: type not registered", m, to)
	}
	code := ent.code
	var corr uint64
	if cm, ok := m.(Correlated); ok {
		corr = cm.CorrelationID()
	}
	// Encode in place when the caller's buffer has room (the transport's
	// burst buffer); otherwise into the Codec's own buffer and copy once, so
	// that a nil dst costs one allocation of the right size rather than a
	// series of growing ones.
	inPlace := cap(dst) > len(dst)
	if inPlace {
		c.out.b = dst
	} else {
		c.out.b = c.own[:0]
	}
	e := c.enc
	fields := envelopeFields
	if ts.IsZero() {
		fields = envelopeFieldsNoHLC
	}
	err := errors.Join(
		e.EncodeArrayLen(fields),
		e.EncodeUint(uint64(code)),
		e.EncodeString(string(from.Node)), e.EncodeString(from.Name),
		e.EncodeString(string(to.Node)), e.EncodeString(to.Name),
		e.EncodeUint(corr),
	)
	if err == nil && fields == envelopeFields {
		err = errors.Join(e.EncodeInt(ts.Wall), e.EncodeUint(uint64(ts.Logical)))
	}
	if err == nil {
		err = ent.encode(e, m)
	}
	out := c.out.b
	c.out.b = nil // never keep the caller's buffer past this call
	if !inPlace && cap(out) <= maxOwnBuffer {
		c.own = out
	}
	if err != nil {
		// Anything written lies beyond len(dst): the caller's bytes are intact.
		return dst, fmt.Errorf("msg: encode %T (code %d): %w", m, code, err)
	}
	if !inPlace {
		return append(dst, out...), nil
	}
	return out, nil
}

// Decode parses one envelope from b, which must hold exactly one. The payload
// is decoded into its registered concrete type.
func (c *Codec) Decode(b []byte) (Envelope, error) {
	var env Envelope
	c.rd.Reset(b)
	c.dec.Reset(&c.rd)
	d := c.dec
	n, err := d.DecodeArrayLen()
	if err != nil {
		return env, fmt.Errorf("msg: decode envelope header: %w", err)
	}
	if n != envelopeFields && n != envelopeFieldsNoHLC {
		return env, fmt.Errorf("msg: decode envelope: %d fields, want %d (or %d)", n, envelopeFields, envelopeFieldsNoHLC)
	}
	code, err := d.DecodeUint16()
	if err != nil {
		return env, fmt.Errorf("msg: decode envelope code: %w", err)
	}
	env.Code = Code(code)
	var fromNode, toNode string
	for _, s := range [...]*string{&fromNode, &env.From.Name, &toNode, &env.To.Name} {
		if *s, err = c.decodeName(); err != nil {
			return env, fmt.Errorf("msg: decode envelope address (code %d): %w", code, err)
		}
	}
	env.From.Node, env.To.Node = actors.NodeID(fromNode), actors.NodeID(toNode)
	if env.CorrID, err = d.DecodeUint64(); err != nil {
		return env, fmt.Errorf("msg: decode envelope corr_id (code %d): %w", code, err)
	}
	if n == envelopeFields {
		if env.HLC.Wall, err = d.DecodeInt64(); err != nil {
			return env, fmt.Errorf("msg: decode envelope hlc (code %d): %w", code, err)
		}
		if env.HLC.Logical, err = d.DecodeUint32(); err != nil {
			return env, fmt.Errorf("msg: decode envelope hlc (code %d): %w", code, err)
		}
	}
	ent, ok := byCode[env.Code]
	if !ok {
		return env, fmt.Errorf("msg: decode envelope from %s: code %d: %w", env.From, code, ErrUnknownCode)
	}
	if env.Msg, err = ent.decode(d); err != nil {
		return env, fmt.Errorf("msg: decode %s payload from %s: %w", ent.name, env.From, err)
	}
	if rest := c.rd.Len(); rest != 0 {
		return env, fmt.Errorf("msg: decode %s from %s: %d trailing bytes", ent.name, env.From, rest)
	}
	return env, nil
}

// decodeName decodes one address string as Decoder.DecodeString would (str
// or bin; nil is ""), returning the interned copy when there is one.
//
// The bytes are read from c.rd directly: the Decoder does not buffer a
// bytes.Reader (it reads through it, so c.rd.Len() is what is left, which
// Decode's trailing-bytes check relies on too), and this skips the
// io.ReadFull layers of Decoder.ReadFull on the hottest path.
func (c *Codec) decodeName() (string, error) {
	n, err := c.dec.DecodeBytesLen()
	if err != nil || n <= 0 {
		return "", err
	}
	if left := c.rd.Len(); n > left {
		return "", fmt.Errorf("%d byte string with %d bytes left: %w", n, left, io.ErrUnexpectedEOF)
	}
	if n > maxInternLen {
		b := make([]byte, n)
		_, _ = c.rd.Read(b) // cannot fall short: n <= c.rd.Len()
		return string(b), nil
	}
	if cap(c.scratch) < maxInternLen {
		c.scratch = make([]byte, maxInternLen)
	}
	b := c.scratch[:n]
	_, _ = c.rd.Read(b) // cannot fall short: n <= c.rd.Len()
	// m[string(b)] does not allocate: the compiler sees the key is only read.
	if s, ok := c.names[string(b)]; ok {
		return s, nil
	}
	if len(c.names) >= maxInterned {
		clear(c.names)
	}
	s := string(b)
	c.names[s] = s
	return s, nil
}
