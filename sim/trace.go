package sim

import (
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"reflect"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/zeebo/xxh3"
)

type recKind byte

const (
	recDeliver recKind = iota + 1
	recTimer
	recDrop
	recDead
	recFault
	recSpawnDup
)

// tracer folds every observable event of a run, in order, into one hash. Two
// runs with the same digest did the same things at the same virtual times.
// The hash is XXH3-128 over the records, streamed: FNV-128a, hashing a
// byte at a time with a 128-bit multiply, was 4.5% of a simulated 9-node
// cluster's run (105 ns per 70-byte record against 8).
type tracer struct {
	h   *xxh3.Hasher
	buf []byte
}

func newTracer() tracer { return tracer{h: xxh3.New()} }

func (w *World) record(k recKind, at time.Duration, from, to actors.Addr, what string) {
	t := &w.trace
	b := t.buf[:0]
	b = append(b, byte(k))
	b = binary.LittleEndian.AppendUint64(b, uint64(at))
	for _, s := range [...]string{string(from.Node), from.Name, string(to.Node), to.Name, what} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	t.buf = b
	t.h.Write(b)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// bytes folds a remote message's encoded form into the digest, so payload
// differences show even when types and times agree. The payload enters as
// its length and CRC-32C (hardware-accelerated): large replies would
// otherwise dominate the simulator's time.
func (t *tracer) bytes(b []byte) {
	var sum [12]byte
	binary.LittleEndian.PutUint64(sum[:8], uint64(len(b)))
	binary.LittleEndian.PutUint32(sum[8:], crc32.Checksum(b, castagnoli))
	t.h.Write(sum[:])
}

// Digest is the hex hash of the ordered trace so far.
func (w *World) Digest() string {
	sum := w.trace.h.Sum128().Bytes()
	return hex.EncodeToString(sum[:])
}

func typeName(m any) string {
	if m == nil {
		return "<nil>"
	}
	return reflect.TypeOf(m).String()
}
