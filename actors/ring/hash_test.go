package ring

import (
	"bufio"
	_ "embed"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

// dynomiteVectors is embedded rather than opened so that tests under actors/
// stay free of package os too.
//
//go:embed testdata/dynomite_hash_vectors.txt
var dynomiteVectors string

// TestSumMatchesDynomite checks every hash against vectors produced by
// Dynomite's C sources (see the header of the testdata file for how).
func TestSumMatchesDynomite(t *testing.T) {
	perHash := map[Hash]int{}
	sc := bufio.NewScanner(strings.NewReader(dynomiteVectors))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 3 {
			t.Fatalf("line %d: want 3 fields, got %q", line, text)
		}
		h, err := ParseHash(fields[0])
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		var key []byte
		if fields[1] != "-" {
			if key, err = hex.DecodeString(fields[1]); err != nil {
				t.Fatalf("line %d: key: %v", line, err)
			}
		}
		var want uint32
		switch {
		case fields[2] == "unset" && h == Hsieh:
			want = 0 // twemproxy's hash_hsieh returns 0 for the empty key
		case fields[2] == "unset" && h == Jenkins:
			want = 0xdeadbefc // lookup3's result for the empty key
		case fields[2] == "unset":
			t.Fatalf("line %d: unexpected unset token for %v", line, h)
		default:
			v, err := strconv.ParseUint(fields[2], 16, 32)
			if err != nil {
				t.Fatalf("line %d: token: %v", line, err)
			}
			want = uint32(v)
		}
		if got := h.Sum(key); got != want {
			t.Errorf("line %d: %v.Sum(%x) = %08x, Dynomite %08x", line, h, key, got, want)
		}
		perHash[h]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, h := range Hashes() {
		if perHash[h] < 50 {
			t.Errorf("%v: only %d vectors checked", h, perHash[h])
		}
	}
}

// TestMurmur3PublishedVectors pins murmur3 to the reference MurmurHash3_x86_32
// vectors published with SMHasher, including non-zero seeds, so the
// implementation is checked independently of the C harness.
func TestMurmur3PublishedVectors(t *testing.T) {
	cases := []struct {
		key  string
		seed uint32
		want uint32
	}{
		{"", 0, 0},
		{"", 1, 0x514e28b7},
		{"", 0xffffffff, 0x81f16f39},
		{"test", 0, 0xba6bd213},
		{"Hello, world!", 0x9747b28c, 0x24884cba},
		{"The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2fa826cd},
	}
	for _, c := range cases {
		if got := murmur3x86x32([]byte(c.key), c.seed); got != c.want {
			t.Errorf("murmur3(%q, %#x) = %#08x, want %#08x", c.key, c.seed, got, c.want)
		}
	}
}

func TestParseHash(t *testing.T) {
	for _, h := range Hashes() {
		got, err := ParseHash(h.String())
		if err != nil || got != h {
			t.Errorf("ParseHash(%q) = %v, %v; want %v", h.String(), got, err, h)
		}
	}
	if len(Hashes()) != 13 {
		t.Errorf("Hashes() has %d entries, Dynomite has 13", len(Hashes()))
	}
	var zero Hash
	if zero != DefaultHash || DefaultHash.String() != "murmur" {
		t.Errorf("zero Hash is %v, want murmur", zero)
	}
	for _, bad := range []string{"", "Murmur", "murmur2", "ketama", " md5"} {
		_, err := ParseHash(bad)
		if err == nil {
			t.Errorf("ParseHash(%q) succeeded", bad)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, strconv.Quote(bad)) || !strings.Contains(msg, "one_at_a_time") || !strings.Contains(msg, "murmur3") {
			t.Errorf("ParseHash(%q) error %q should name the input and list valid names", bad, msg)
		}
	}
	if Hash(200).Valid() || Hash(200).Sum([]byte("k")) != 0 || Hash(200).String() != "Hash(200)" {
		t.Error("an invalid Hash must be reported invalid, sum to 0 and print its number")
	}
}

func TestSumDoesNotAllocate(t *testing.T) {
	key := []byte("user:1000:profile")
	for _, h := range Hashes() {
		if n := testing.AllocsPerRun(100, func() { h.Sum(key) }); n != 0 {
			t.Errorf("%v.Sum allocates %v times", h, n)
		}
	}
}
