package sim

import (
	"encoding/binary"
	"encoding/hex"
	"hash"
	"hash/fnv"
	"reflect"
	"time"

	"github.com/dynonode/dynonode/actors"
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
type tracer struct {
	h   hash.Hash
	buf []byte
}

func newTracer() tracer { return tracer{h: fnv.New128a()} }

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

// bytes folds a remote message's encoded form into the digest, so payload
// differences show even when types and times agree.
func (t *tracer) bytes(b []byte) { t.h.Write(b) }

// Digest is the hex hash of the ordered trace so far.
func (w *World) Digest() string { return hex.EncodeToString(w.trace.h.Sum(nil)) }

func typeName(m any) string {
	if m == nil {
		return "<nil>"
	}
	return reflect.TypeOf(m).String()
}
