package mcproto

import (
	"strings"
	"testing"
)

// BenchmarkParsePipeline parses 16 pipelined sets with 64-byte values and 16
// gets from one buffer; ns/cmd is the per-request cost.
func BenchmarkParsePipeline(b *testing.B) {
	buf := pipeline(16)
	p := NewParser(Limits{})
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		reqs, n, err := p.Parse(buf)
		if err != nil || n != len(buf) || len(reqs) != 32 {
			b.Fatalf("parse: %d reqs, n=%d, err=%v", len(reqs), n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/cmd")
}

// BenchmarkEncodeReplies encodes the replies to that pipeline: 16 STORED
// and 16 single-hit get responses.
func BenchmarkEncodeReplies(b *testing.B) {
	key, val := []byte("key:0001"), []byte(strings.Repeat("v", 64))
	dst := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		d := dst[:0]
		for range 16 {
			d = AppendLine(d, Stored)
		}
		for range 16 {
			d = AppendValue(d, key, 0, val)
			d = AppendLine(d, End)
		}
		dst = d
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/reply")
}

// BenchmarkResponseLen frames a 16-hit multi-get response from memcached.
func BenchmarkResponseLen(b *testing.B) {
	var buf []byte
	for range 16 {
		buf = AppendValue(buf, []byte("key:0001"), 0, []byte(strings.Repeat("v", 64)))
	}
	buf = AppendLine(buf, End)
	b.ReportAllocs()
	for b.Loop() {
		if n, err := ResponseLen(KindGet, buf); err != nil || n != len(buf) {
			b.Fatal(err)
		}
	}
}
