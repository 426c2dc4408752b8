package msg

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dynonode/dynonode/actors"
	"github.com/vmihailenco/msgpack/v5"
)

// Envelope is one inter-node message: who sent it, to whom, a correlation id
// and the payload. On the wire it is a msgpack array
// [code, from.node, from.name, to.node, to.name, corr_id, payload].
type Envelope struct {
	Code   Code
	From   actors.Addr
	To     actors.Addr
	CorrID uint64
	Msg    any
}

// Correlated is implemented by messages that carry a request/response
// correlation id; the envelope copies it so links can match replies without
// decoding payloads.
type Correlated interface{ CorrelationID() uint64 }

// Bounceable is implemented by requests whose sender is waiting for an
// answer. When a runtime knows a message cannot be delivered (its peer link
// is down), it hands the sender Bounce(reason) instead, so the sender fails
// fast rather than waiting for its timeout.
type Bounceable interface{ Bounce(reason string) any }

const envelopeFields = 7

// ErrUnknownCode is wrapped by Decode when the code is not registered.
var ErrUnknownCode = errors.New("unknown message code")

// Codec encodes and decodes envelopes, reusing its buffers. It is not safe
// for concurrent use: give each connection (or the simulator) its own.
type Codec struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
	rd  bytes.Reader
	dec *msgpack.Decoder
}

// NewCodec returns a Codec using the compact wire settings: array-encoded
// structs and compact integers.
func NewCodec() *Codec {
	c := &Codec{}
	c.enc = msgpack.NewEncoder(&c.buf)
	c.enc.UseArrayEncodedStructs(true)
	c.enc.UseCompactInts(true)
	c.dec = msgpack.NewDecoder(&c.rd)
	return c
}

// Append encodes an envelope for m and appends it to dst. The code comes from
// the registry; an unregistered type is an error (the message cannot leave
// the node).
func (c *Codec) Append(dst []byte, from, to actors.Addr, m any) ([]byte, error) {
	code, ok := CodeOf(m)
	if !ok {
		return dst, fmt.Errorf("msg: encode %T for %s: type not registered", m, to)
	}
	var corr uint64
	if cm, ok := m.(Correlated); ok {
		corr = cm.CorrelationID()
	}
	c.buf.Reset()
	e := c.enc
	err := errors.Join(
		e.EncodeArrayLen(envelopeFields),
		e.EncodeUint(uint64(code)),
		e.EncodeString(string(from.Node)), e.EncodeString(from.Name),
		e.EncodeString(string(to.Node)), e.EncodeString(to.Name),
		e.EncodeUint(corr),
		e.Encode(m),
	)
	if err != nil {
		return dst, fmt.Errorf("msg: encode %T (code %d): %w", m, code, err)
	}
	return append(dst, c.buf.Bytes()...), nil
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
	if n != envelopeFields {
		return env, fmt.Errorf("msg: decode envelope: %d fields, want %d", n, envelopeFields)
	}
	code, err := d.DecodeUint16()
	if err != nil {
		return env, fmt.Errorf("msg: decode envelope code: %w", err)
	}
	env.Code = Code(code)
	var fromNode, toNode string
	for _, s := range []*string{&fromNode, &env.From.Name, &toNode, &env.To.Name} {
		if *s, err = d.DecodeString(); err != nil {
			return env, fmt.Errorf("msg: decode envelope address (code %d): %w", code, err)
		}
	}
	env.From.Node, env.To.Node = actors.NodeID(fromNode), actors.NodeID(toNode)
	if env.CorrID, err = d.DecodeUint64(); err != nil {
		return env, fmt.Errorf("msg: decode envelope corr_id (code %d): %w", code, err)
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
