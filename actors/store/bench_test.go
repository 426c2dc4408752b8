package store

import (
	"fmt"
	"testing"
)

func benchEngine(b *testing.B) (*Engine, [][]byte) {
	e := NewEngine(Options{})
	keys := make([][]byte, 10_000)
	val := make([]byte, 64)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%05d", i))
		e.Exec(t0, [][]byte{[]byte("SET"), keys[i], val}, nil)
	}
	return e, keys
}

func BenchmarkSet64(b *testing.B) {
	e, keys := benchEngine(b)
	args := [][]byte{[]byte("SET"), nil, make([]byte, 64)}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		args[1] = keys[i%len(keys)]
		dst = e.Exec(t0, args, dst[:0])
	}
}

func BenchmarkGet64(b *testing.B) {
	e, keys := benchEngine(b)
	args := [][]byte{[]byte("GET"), nil}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		args[1] = keys[i%len(keys)]
		dst = e.Exec(t0, args, dst[:0])
	}
}
