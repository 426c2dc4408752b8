package gossip

import (
	"fmt"

	"github.com/dynonode/dynonode/actors/msg"
	"github.com/vmihailenco/msgpack/v5"
)

// Digest and Member encode themselves: every node sends its whole table
// every gossip round, and msgpack's reflection made gossip about a sixth
// of a simulated cluster's CPU. The bytes are what reflection writes with
// msg.Codec's settings (array-encoded structs, compact integers), and
// decoding gives what reflection gives for the same bytes
// (TestDigestWireIdentical): a peer of an older build sees no difference.

const (
	digestFields = 1
	memberFields = 9
)

// EncodeMsgpack implements msgpack.CustomEncoder.
func (g Digest) EncodeMsgpack(e *msgpack.Encoder) error {
	if err := e.EncodeArrayLen(digestFields); err != nil {
		return err
	}
	if g.Members == nil {
		return e.EncodeNil()
	}
	if err := e.EncodeArrayLen(len(g.Members)); err != nil {
		return err
	}
	for i := range g.Members {
		if err := g.Members[i].encode(e); err != nil {
			return err
		}
	}
	return nil
}

func (m *Member) encode(e *msgpack.Encoder) error {
	if err := e.EncodeArrayLen(memberFields); err != nil {
		return err
	}
	for _, s := range [...]string{m.ID, m.DC, m.Rack} {
		if err := e.EncodeString(s); err != nil {
			return err
		}
	}
	if m.Tokens == nil {
		if err := e.EncodeNil(); err != nil {
			return err
		}
	} else {
		if err := e.EncodeArrayLen(len(m.Tokens)); err != nil {
			return err
		}
		for _, t := range m.Tokens {
			if err := e.EncodeUint(uint64(t)); err != nil {
				return err
			}
		}
	}
	for _, n := range [...]uint64{uint64(m.State), m.Generation, m.Heartbeat} {
		if err := e.EncodeUint(n); err != nil {
			return err
		}
	}
	if err := e.EncodeBool(m.Left); err != nil {
		return err
	}
	return e.EncodeUint(uint64(m.Versions))
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (g *Digest) DecodeMsgpack(d *msgpack.Decoder) error {
	*g = Digest{}
	ok, err := msg.DecodeStructHeader(d, "gossip.Digest", digestFields)
	if !ok || err != nil {
		return err
	}
	if g.Members, err = msg.DecodeSlice(d, decodeMember); err != nil {
		return fmt.Errorf("gossip.Digest.Members: %w", err)
	}
	return nil
}

// decodeMember decodes a Member as reflection does: an integer too large
// for its field is truncated (reflect.Value.SetUint), a nil or empty array
// is the zero Member.
func decodeMember(m *Member, d *msgpack.Decoder) error {
	ok, err := msg.DecodeStructHeader(d, "gossip.Member", memberFields)
	if !ok || err != nil {
		return err
	}
	for _, s := range [...]*string{&m.ID, &m.DC, &m.Rack} {
		if *s, err = d.DecodeString(); err != nil { // as reflection reads a string
			return fmt.Errorf("gossip.Member: %w", err)
		}
	}
	if m.Tokens, err = msg.DecodeSlice(d, decodeToken); err != nil {
		return fmt.Errorf("gossip.Member.Tokens: %w", err)
	}
	var n [3]uint64
	for i := range n {
		if n[i], err = d.DecodeUint64(); err != nil {
			return fmt.Errorf("gossip.Member: %w", err)
		}
	}
	m.State, m.Generation, m.Heartbeat = State(n[0]), n[1], n[2]
	if m.Left, err = d.DecodeBool(); err != nil {
		return fmt.Errorf("gossip.Member.Left: %w", err)
	}
	v, err := d.DecodeUint64()
	if err != nil {
		return fmt.Errorf("gossip.Member.Versions: %w", err)
	}
	m.Versions = uint8(v)
	return nil
}

func decodeToken(t *uint32, d *msgpack.Decoder) error {
	n, err := d.DecodeUint64()
	*t = uint32(n)
	return err
}
