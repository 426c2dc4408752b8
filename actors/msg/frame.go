package msg

import (
	"encoding/binary"
	"fmt"
)

// FrameHeader is the size of a frame's length prefix.
const FrameHeader = 4

// DefaultMaxFrame bounds one envelope on the wire. It is checked before any
// allocation or decoding, so a hostile length cannot make us reserve memory.
const DefaultMaxFrame = 64 << 20

// AppendFrame appends a length-prefixed frame holding envelope to dst.
func AppendFrame(dst, envelope []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(envelope)))
	return append(dst, envelope...)
}

// FrameLen reads the length prefix at the start of hdr (at least FrameHeader
// bytes) and checks it against max.
func FrameLen(hdr []byte, max int) (int, error) {
	if len(hdr) < FrameHeader {
		return 0, fmt.Errorf("msg: frame header: have %d bytes, need %d", len(hdr), FrameHeader)
	}
	n := binary.BigEndian.Uint32(hdr)
	if n == 0 {
		return 0, fmt.Errorf("msg: frame of length 0")
	}
	if uint64(n) > uint64(max) {
		return 0, fmt.Errorf("msg: frame of %d bytes exceeds the %d byte limit", n, max)
	}
	return int(n), nil
}
