package resp

import (
	"strings"
	"testing"
)

// BenchmarkParsePipeline parses 16 pipelined SETs with 64-byte values and 16
// GETs from one buffer; ns/cmd is the per-command cost.
func BenchmarkParsePipeline(b *testing.B) {
	buf := pipeline(16)
	p := NewParser(Limits{})
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		cmds, n, err := p.Parse(buf)
		if err != nil || n != len(buf) || len(cmds) != 32 {
			b.Fatalf("parse: %d cmds, n=%d, err=%v", len(cmds), n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/cmd")
}

// BenchmarkParseInline parses the same GETs sent inline, as redis-cli and
// telnet users do.
func BenchmarkParseInline(b *testing.B) {
	var buf []byte
	for range 16 {
		buf = append(buf, "GET key:0001\r\n"...)
	}
	p := NewParser(Limits{})
	b.ReportAllocs()
	for b.Loop() {
		if cmds, _, err := p.Parse(buf); err != nil || len(cmds) != 16 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*16), "ns/cmd")
}

// BenchmarkEncodeReplies encodes the replies to that pipeline: 16 +OK and
// 16 64-byte bulks, into one reused buffer.
func BenchmarkEncodeReplies(b *testing.B) {
	val := []byte(strings.Repeat("v", 64))
	dst := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		d := dst[:0]
		for range 16 {
			d = AppendSimpleString(d, "OK")
		}
		for range 16 {
			d = AppendBulk(d, val)
		}
		dst = d
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/reply")
}

// BenchmarkReplyLen finds the end of those 32 replies, as the store adapter
// does before forwarding them.
func BenchmarkReplyLen(b *testing.B) {
	val := []byte(strings.Repeat("v", 64))
	var buf []byte
	for range 16 {
		buf = AppendSimpleString(buf, "OK")
	}
	for range 16 {
		buf = AppendBulk(buf, val)
	}
	b.ReportAllocs()
	for b.Loop() {
		rest := buf
		for len(rest) > 0 {
			n, err := ReplyLen(rest)
			if err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/reply")
}
