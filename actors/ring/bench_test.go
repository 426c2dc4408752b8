package ring

import "testing"

func BenchmarkSumMurmur16(b *testing.B) {
	key := []byte("user:0000001234x") // 16 bytes
	b.ReportAllocs()
	b.SetBytes(int64(len(key)))
	var sink uint32
	for b.Loop() {
		sink += Murmur.Sum(key)
	}
	_ = sink
}

func BenchmarkSumAll16(b *testing.B) {
	key := []byte("user:0000001234x")
	for _, h := range Hashes() {
		b.Run(h.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(key)))
			for b.Loop() {
				h.Sum(key)
			}
		})
	}
}

func BenchmarkReplicas(b *testing.B) {
	r := benchRing(b) // 2 DCs x 3 racks x 3 nodes
	key := []byte("user:0000001234x")
	dst := make([]Replica, 0, r.NumRacks())
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Replicas(key, dst[:0])
	}
	if len(dst) != 6 {
		b.Fatalf("got %d replicas, want 6", len(dst))
	}
}

func BenchmarkOwnerInRack(b *testing.B) {
	r := benchRing(b)
	b.ReportAllocs()
	var tok uint32
	for b.Loop() {
		tok += 0x9e3779b9
		r.OwnerInRack("dc2", "rack3", tok)
	}
}
