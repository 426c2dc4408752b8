package hints

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/dynonode/dynonode/actors/hlc"
)

// A hint log is the records of one target, appended in order. Each record
// is framed and checksummed:
//
//	magic   1 byte  0xD9
//	length  4 bytes big-endian: the payload's
//	crc     4 bytes big-endian: CRC-32C (Castagnoli) of the payload
//	payload
//
// and the payload is
//
//	kind     1 byte: kindHint or kindDelivered
//	seq      8 bytes: the hint's number (kindDelivered: every hint up to
//	         and including it was delivered)
//	created  8 bytes: Unix ns when the hint was stored (kindHint only,
//	         as are the fields below)
//	version  8 bytes wall, 4 logical, 2 node id length, the node id
//	args     4 bytes count, then per arg 4 bytes length and the bytes
//
// A log is read up to its first record that is incomplete or does not
// check (a write torn by a crash, a flipped byte): what follows is
// never trusted, and the reader says how many bytes were good so the log
// can be cut there.
const (
	magic       = 0xD9
	headerLen   = 9
	kindHint    = 1
	kindDeliver = 2
	// MaxRecord bounds a record's payload: a length beyond it is damage.
	MaxRecord = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record is one entry of a hint log.
type Record struct {
	// Delivered marks a record that says every hint up to Seq was
	// delivered; the other fields are then empty.
	Delivered bool
	Seq       uint64
	Created   int64 // Unix ns
	Version   hlc.Version
	Args      [][]byte
}

// AppendRecord appends r, framed, to dst.
func AppendRecord(dst []byte, r Record) []byte {
	start := len(dst)
	dst = append(dst, magic, 0, 0, 0, 0, 0, 0, 0, 0)
	body := len(dst)
	if r.Delivered {
		dst = append(dst, kindDeliver)
		dst = binary.BigEndian.AppendUint64(dst, r.Seq)
	} else {
		dst = append(dst, kindHint)
		dst = binary.BigEndian.AppendUint64(dst, r.Seq)
		dst = binary.BigEndian.AppendUint64(dst, uint64(r.Created))
		dst = binary.BigEndian.AppendUint64(dst, uint64(r.Version.TS.Wall))
		dst = binary.BigEndian.AppendUint32(dst, r.Version.TS.Logical)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(r.Version.Node)))
		dst = append(dst, r.Version.Node...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(r.Args)))
		for _, a := range r.Args {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(a)))
			dst = append(dst, a...)
		}
	}
	payload := dst[body:]
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(payload)))
	binary.BigEndian.PutUint32(dst[start+5:], crc32.Checksum(payload, castagnoli))
	return dst
}

// RecordSize is the framed size of a hint of args with a version of node
// id node: what it costs the log and the target's bound.
func RecordSize(args [][]byte, node string) int {
	n := headerLen + 1 + 8 + 8 + 8 + 4 + 2 + len(node) + 4
	for _, a := range args {
		n += 4 + len(a)
	}
	return n
}

// ErrDamaged says a log holds bytes past its last good record that are not
// a good record: a torn write or corruption.
var ErrDamaged = errors.New("hint log damaged")

// ReadRecords decodes the records at the start of log. good is the length
// of the prefix made of whole, checked records; err is nil when that is
// all of log, else it wraps ErrDamaged and says what is wrong at good.
// Records alias nothing in log.
func ReadRecords(log []byte) (recs []Record, good int, err error) {
	for good < len(log) {
		r, n, err := readRecord(log[good:])
		if err != nil {
			return recs, good, fmt.Errorf("%w at byte %d of %d: %w", ErrDamaged, good, len(log), err)
		}
		recs = append(recs, r)
		good += n
	}
	return recs, good, nil
}

func readRecord(b []byte) (Record, int, error) {
	if len(b) < headerLen {
		return Record{}, 0, fmt.Errorf("%d bytes, short of a record header", len(b))
	}
	if b[0] != magic {
		return Record{}, 0, fmt.Errorf("bad magic %#x", b[0])
	}
	n := binary.BigEndian.Uint32(b[1:])
	if n > MaxRecord || int64(n) > int64(len(b)-headerLen) {
		return Record{}, 0, fmt.Errorf("record of %d bytes, %d left", n, len(b)-headerLen)
	}
	payload := b[headerLen : headerLen+int(n)]
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(b[5:]) {
		return Record{}, 0, errors.New("checksum mismatch")
	}
	r, err := decodePayload(payload)
	if err != nil {
		return Record{}, 0, err
	}
	return r, headerLen + int(n), nil
}

// payloadReader reads the fields of a checked payload, failing on a short
// one (a record written by a newer or broken writer).
type payloadReader struct {
	b   []byte
	err error
}

func (p *payloadReader) take(n int) []byte {
	if p.err != nil {
		return nil
	}
	if n < 0 || n > len(p.b) {
		p.err = fmt.Errorf("payload field of %d bytes, %d left", n, len(p.b))
		return nil
	}
	out := p.b[:n:n]
	p.b = p.b[n:]
	return out
}

func (p *payloadReader) u16() uint16 {
	if b := p.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (p *payloadReader) u32() uint32 {
	if b := p.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (p *payloadReader) u64() uint64 {
	if b := p.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func decodePayload(b []byte) (Record, error) {
	p := &payloadReader{b: b}
	kind := p.take(1)
	if p.err != nil {
		return Record{}, p.err
	}
	var r Record
	r.Seq = p.u64()
	switch kind[0] {
	case kindDeliver:
		r.Delivered = true
	case kindHint:
		r.Created = int64(p.u64())
		r.Version.TS.Wall = int64(p.u64())
		r.Version.TS.Logical = p.u32()
		r.Version.Node = string(p.take(int(p.u16())))
		n := p.u32()
		if p.err == nil && uint64(n) > uint64(len(p.b))/4 {
			p.err = fmt.Errorf("%d args in %d bytes", n, len(p.b))
		}
		if p.err == nil {
			r.Args = make([][]byte, n)
			for i := range r.Args {
				r.Args[i] = append([]byte{}, p.take(int(p.u32()))...)
			}
		}
	default:
		return Record{}, fmt.Errorf("unknown record kind %d", kind[0])
	}
	if p.err != nil {
		return Record{}, p.err
	}
	if len(p.b) != 0 {
		return Record{}, fmt.Errorf("%d bytes after the record's fields", len(p.b))
	}
	return r, nil
}
