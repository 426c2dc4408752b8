package msg

import (
	"bytes"
	"fmt"
	"io"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Helpers for hand-written msgpack codecs (msgpack.CustomEncoder and
// msgpack.CustomDecoder) of hot message types. Reflection costs more than
// the rest of an envelope, so the messages every request carries encode
// themselves; these helpers keep their decoding as defensive as msgpack's
// own against hostile input, and their results identical to what msgpack's
// reflection decoder would produce for the same bytes.

// streamChunk bounds what DecodeSlice and DecodeBytes allocate ahead of the
// data when the input's size is unknown (a stream rather than a buffer).
const streamChunk = 64 << 10

// remaining returns how many input bytes d has left, or -1 when its reader
// cannot say. The Codec and msgpack.Unmarshal decode from a bytes.Reader,
// which can: every length the input declares is then checked against it
// before anything is allocated.
func remaining(d *msgpack.Decoder) int {
	switch r := d.Buffered().(type) {
	case *bytes.Reader: // the common case, without an interface lookup
		return r.Len()
	case interface{ Len() int }:
		return r.Len()
	}
	return -1
}

// DecodeStructHeader reads the header of an array-encoded struct of fields
// fields (the only form our encoders produce). It reports false when the
// value is nil or an empty array: msgpack's reflection decoder then leaves
// the struct zero, and so must the caller. Any other length is an error, as
// it is for reflection: fields are only ever appended, but a peer and we
// must agree on how many there are (DecodeGrownStructHeader accepts the
// shorter forms of a struct that grew). Map-encoded structs, which
// reflection would also accept, are refused: no peer sends them.
func DecodeStructHeader(d *msgpack.Decoder, name string, fields int) (bool, error) {
	n, err := DecodeGrownStructHeader(d, name, fields, fields)
	return n > 0, err
}

// DecodeGrownStructHeader reads the header of an array-encoded struct that
// gained fields at its end: a peer built before the last ones were added
// sends only the first oldest. It returns how many fields the array holds,
// from oldest to fields, or 0 when the value is nil or an empty array (the
// struct stays zero). Fields the peer did not send keep their zero value.
// Unlike reflection, which wants every field, this accepts the shorter
// forms; any other length is an error.
func DecodeGrownStructHeader(d *msgpack.Decoder, name string, oldest, fields int) (int, error) {
	c, err := d.PeekCode()
	if err != nil {
		return 0, fmt.Errorf("msg: decode %s: %w", name, err)
	}
	if msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32 {
		return 0, fmt.Errorf("msg: decode %s: map-encoded struct (code %#x), want an array", name, c)
	}
	n, err := d.DecodeArrayLen()
	if err != nil {
		return 0, fmt.Errorf("msg: decode %s: %w", name, err)
	}
	if n <= 0 {
		return 0, nil
	}
	if n < oldest || n > fields {
		if oldest == fields {
			return 0, fmt.Errorf("msg: decode %s: array of %d fields, want %d", name, n, fields)
		}
		return 0, fmt.Errorf("msg: decode %s: array of %d fields, want %d to %d", name, n, oldest, fields)
	}
	return n, nil
}

// DecodeSlice decodes an array whose elements elem decodes: nil for msgpack
// nil, an empty non-nil slice for an empty array (as reflection does). Each
// element takes at least one byte, so a declared length larger than the
// input left is an error before anything is allocated.
func DecodeSlice[T any](d *msgpack.Decoder, elem func(*T, *msgpack.Decoder) error) ([]T, error) {
	n, err := d.DecodeArrayLen()
	if err != nil || n < 0 {
		return nil, err
	}
	capacity := n
	if left := remaining(d); left < 0 {
		capacity = min(n, streamChunk/8) // append grows it as elements arrive
	} else if n > left {
		return nil, fmt.Errorf("msg: array of %d elements with %d bytes left: %w", n, left, io.ErrUnexpectedEOF)
	}
	s := make([]T, 0, capacity)
	for i := 0; i < n; i++ {
		// Decoded in place: a local passed to elem would escape, costing
		// an allocation per element.
		var zero T
		s = append(s, zero)
		if err := elem(&s[i], d); err != nil {
			return nil, fmt.Errorf("element %d of %d: %w", i, n, err)
		}
	}
	return s, nil
}

// DecodeBytes decodes bin or str (nil gives nil, an empty one an empty
// non-nil slice, as reflection does) into a new slice of exactly its length.
// The result never aliases the input, whose buffer the transport reuses, and
// a declared length larger than the input left is an error before anything
// is allocated.
func DecodeBytes(d *msgpack.Decoder) ([]byte, error) {
	n, err := d.DecodeBytesLen()
	if err != nil || n < 0 {
		return nil, err
	}
	left := remaining(d)
	if left >= 0 {
		if n > left {
			return nil, fmt.Errorf("msg: %d byte string with %d bytes left: %w", n, left, io.ErrUnexpectedEOF)
		}
		b := make([]byte, n)
		if err := d.ReadFull(b); err != nil {
			return nil, err
		}
		return b, nil
	}
	// A stream: memory follows the data that actually arrives.
	b := make([]byte, 0, min(n, streamChunk))
	for len(b) < n {
		k := min(n-len(b), streamChunk)
		b = append(b, make([]byte, k)...)
		if err := d.ReadFull(b[len(b)-k:]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// DecodeString is Decoder.DecodeString (str or bin; nil is "") with
// DecodeBytes' checks: msgpack's own would reserve up to 1 MB for a length
// the input cannot back. It costs two allocations rather than one, which
// is fine for the rare strings hot messages carry (failure reasons).
func DecodeString(d *msgpack.Decoder) (string, error) {
	b, err := DecodeBytes(d)
	return string(b), err
}
