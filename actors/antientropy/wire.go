package antientropy

import (
	"fmt"

	"github.com/dynonode/dynonode/actors/msg"
	"github.com/vmihailenco/msgpack/v5"
)

// Sync encodes itself: it carries every leaf digest of the segments two
// replicas share (thousands of integers), and msgpack's reflection on
// it was the largest part of anti-entropy's cost in a simulated cluster.
// The bytes are what reflection writes with msg.Codec's settings
// (array-encoded structs, compact integers), and decoding gives what
// reflection gives for the same bytes (TestSyncWireIdentical).

const syncFields = 7

// EncodeMsgpack implements msgpack.CustomEncoder.
func (s Sync) EncodeMsgpack(e *msgpack.Encoder) error {
	if err := e.EncodeArrayLen(syncFields); err != nil {
		return err
	}
	if err := e.EncodeUint(s.Session); err != nil {
		return err
	}
	if err := e.EncodeString(s.From); err != nil {
		return err
	}
	if err := e.EncodeUint(s.Layout); err != nil {
		return err
	}
	if err := e.EncodeInt(s.Horizon); err != nil {
		return err
	}
	if err := e.EncodeUint(uint64(s.Bits)); err != nil {
		return err
	}
	if err := encodeUints(e, s.Segs); err != nil {
		return err
	}
	if s.Leaves == nil {
		return e.EncodeNil()
	}
	if err := e.EncodeArrayLen(len(s.Leaves)); err != nil {
		return err
	}
	for _, l := range s.Leaves {
		if err := encodeUints(e, l); err != nil {
			return err
		}
	}
	return nil
}

func encodeUints[T uint32 | uint64](e *msgpack.Encoder, xs []T) error {
	if xs == nil {
		return e.EncodeNil()
	}
	if err := e.EncodeArrayLen(len(xs)); err != nil {
		return err
	}
	for _, x := range xs {
		if err := e.EncodeUint(uint64(x)); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack implements msgpack.CustomDecoder. As reflection does, an
// integer too large for its field is truncated.
func (s *Sync) DecodeMsgpack(d *msgpack.Decoder) error {
	*s = Sync{}
	ok, err := msg.DecodeStructHeader(d, "antientropy.Sync", syncFields)
	if !ok || err != nil {
		return err
	}
	if s.Session, err = d.DecodeUint64(); err != nil {
		return fmt.Errorf("antientropy.Sync.Session: %w", err)
	}
	if s.From, err = d.DecodeString(); err != nil { // as reflection reads a string
		return fmt.Errorf("antientropy.Sync.From: %w", err)
	}
	if s.Layout, err = d.DecodeUint64(); err != nil {
		return fmt.Errorf("antientropy.Sync.Layout: %w", err)
	}
	if s.Horizon, err = d.DecodeInt64(); err != nil {
		return fmt.Errorf("antientropy.Sync.Horizon: %w", err)
	}
	bits, err := d.DecodeUint64()
	if err != nil {
		return fmt.Errorf("antientropy.Sync.Bits: %w", err)
	}
	s.Bits = uint8(bits)
	if s.Segs, err = msg.DecodeSlice(d, decodeUint[uint32]); err != nil {
		return fmt.Errorf("antientropy.Sync.Segs: %w", err)
	}
	if s.Leaves, err = msg.DecodeSlice(d, decodeLeaf); err != nil {
		return fmt.Errorf("antientropy.Sync.Leaves: %w", err)
	}
	return nil
}

func decodeUint[T uint32 | uint64](x *T, d *msgpack.Decoder) error {
	n, err := d.DecodeUint64()
	*x = T(n)
	return err
}

func decodeLeaf(l *[]uint64, d *msgpack.Decoder) (err error) {
	*l, err = msg.DecodeSlice(d, decodeUint[uint64])
	return err
}
