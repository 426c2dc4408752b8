package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/actors/resp"
)

// rdbFixtures are command sequences that leave one key, "k", of every
// type in every encoding Redis 7.0 has for it, at the edges that change
// what DUMP writes (integer strings, LZF, several quicklist nodes, intset
// widths, listpack integer widths and string lengths, skiplists).
func rdbFixtures() [][][]string {
	rng := rand.New(rand.NewPCG(5, 6))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefgh"[rng.IntN(8)]
		}
		return string(b)
	}
	ints := []string{"0", "1", "-1", "127", "128", "-4096", "4095", "4096", "-32768", "32767", "32768", "-8388608", "8388607",
		"8388608", "-2147483648", "2147483647", "2147483648", "9223372036854775807", "-9223372036854775808", "007", "-0", "1.5"}
	var fx [][][]string
	for _, s := range append(append([]string{}, ints...), "", "x", word(20), word(21), word(63), word(64), word(4095), word(4096), strings.Repeat("ab", 300), "\x00\xff binary") {
		fx = append(fx, [][]string{{"SET", "k", s}})
	}
	fx = append(fx, [][]string{{"SET", "k", "1"}, {"APPEND", "k", "2"}}, [][]string{{"INCRBYFLOAT", "k", "2.5"}}, [][]string{{"SETBIT", "k", "100", "1"}})
	// Lists: one node, several (8 KiB each), big elements.
	for _, n := range []int{1, 10, 1000, 3000} {
		cmd := []string{"RPUSH", "k"}
		for i := range n {
			cmd = append(cmd, ints[i%len(ints)], word(1+i%70))
		}
		fx = append(fx, [][]string{cmd})
	}
	fx = append(fx, [][]string{{"RPUSH", "k", word(10000), "a", word(70000)}})
	// Sets: intsets of each width, hash tables.
	fx = append(fx, [][]string{{"SADD", "k", "1", "2", "-3"}}, [][]string{{"SADD", "k", "1", "40000"}}, [][]string{{"SADD", "k", "1", "3000000000"}},
		[][]string{{"SADD", "k", "a", "b", "1"}})
	big := []string{"SADD", "k"}
	for i := range 600 {
		big = append(big, strconv.Itoa(i*7))
	}
	fx = append(fx, [][]string{big})
	// Hashes: listpack (integers and strings of each length), hash table.
	hs := []string{"HSET", "k"}
	for i, v := range ints {
		hs = append(hs, "f"+strconv.Itoa(i), v)
	}
	fx = append(fx, [][]string{hs}, [][]string{{"HSET", "k", "a", word(63), "b", word(64)}}, [][]string{{"HSET", "k", "a", word(65)}})
	// Sorted sets: listpack (integral and fractional scores, inf), skiplist.
	fx = append(fx, [][]string{{"ZADD", "k", "1", "a", "-2.5", "b", "inf", "c", "-inf", "d", "1e20", "e", "0.1", "f", "4503599627370496", "g", "-0", "h"}},
		[][]string{{"ZADD", "k", "1", word(65), "2", "b"}},
		// Found by review: whole scores up to 2^62 are listpack integers.
		[][]string{{"ZADD", "k", "1e17", "a", "-1e18", "b", "4611686018427387904", "c", "-4611686018427387904", "d", "4611686018427388928", "e", "123456789012345678", "f"}})
	zs := []string{"ZADD", "k"}
	for i := range 200 {
		zs = append(zs, strconv.Itoa(i%17), word(5)+strconv.Itoa(i))
	}
	fx = append(fx, [][]string{zs})
	return fx
}

func elemStrings(v resp.Value) []string {
	var out []string
	for _, el := range v.Elems {
		out = append(out, string(el.Str))
	}
	return out
}

// unorderedEncoding reports whether Redis writes the key's elements in
// its hash table's order, which no other server reproduces: those
// payloads are compared by what they restore to.
func unorderedEncoding(enc string) bool { return enc == "$9\r\nhashtable\r\n" }

// contentOf renders what a key holds, order-free for sets and hashes.
func contentOf(t *testing.T, do func(...string) string, key string) string {
	t.Helper()
	typ := do("TYPE", key)
	var items []string
	switch typ {
	case "+string\r\n":
		return typ + do("GET", key)
	case "+list\r\n":
		return typ + do("LRANGE", key, "0", "-1")
	case "+set\r\n":
		items = elemStrings(parse(t, []byte(do("SMEMBERS", key))))
	case "+hash\r\n":
		items = elemStrings(parse(t, []byte(do("HGETALL", key))))
		var pairs []string
		for i := 0; i+1 < len(items); i += 2 {
			pairs = append(pairs, items[i]+"\x00"+items[i+1])
		}
		items = pairs
	case "+zset\r\n":
		return typ + do("ZRANGE", key, "0", "-1", "WITHSCORES")
	}
	sort.Strings(items)
	return typ + strings.Join(items, "\x01")
}

// TestDumpRestoreLikeRedis: for every fixture, the engine's DUMP is the
// payload redis-server 7.0 gives for the same commands, byte for byte
// (hash-table encodings excepted: Redis writes them in its table's
// order), each side RESTOREs the other's payload to the same content, and
// what each restored has the same encoding and DUMPs to the same bytes.
func TestDumpRestoreLikeRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	r := dialRedis(t)
	e := NewEngine(Options{})
	rdo := func(c ...string) string { return string(r.do(strArgs(c...))) }
	edo := func(c ...string) string { return string(e.Exec(time.Now(), strArgs(c...), nil)) }
	for i, fx := range rdbFixtures() {
		rdo("FLUSHALL")
		edo("FLUSHALL")
		for _, c := range fx {
			require.Equal(t, rdo(c...), edo(c...), "fixture %d: %.60q", i, c)
		}
		what := fmt.Sprintf("fixture %d (%.60q)", i, fx)
		enc := rdo("OBJECT", "ENCODING", "k")
		require.Equal(t, enc, edo("OBJECT", "ENCODING", "k"), what)
		want, got := rdo("DUMP", "k"), edo("DUMP", "k")
		if !unorderedEncoding(enc) {
			require.Equal(t, want, got, "DUMP of %s", what)
		}
		rp, ep := parse(t, []byte(want)).Str, parse(t, []byte(got)).Str
		// The engine's payload into Redis, Redis's into the engine.
		require.Equal(t, "+OK\r\n", rdo("RESTORE", "fromEngine", "0", string(ep)), what)
		require.Equal(t, "+OK\r\n", edo("RESTORE", "fromRedis", "0", string(rp)), what)
		content := contentOf(t, rdo, "k")
		require.Equal(t, content, contentOf(t, rdo, "fromEngine"), "Redis restoring the engine's %s", what)
		require.Equal(t, content, contentOf(t, edo, "fromRedis"), "the engine restoring Redis's %s", what)
		// A restored value takes the encoding its content gives (APPEND's
		// raw "12" comes back an int), alike on both sides.
		renc := rdo("OBJECT", "ENCODING", "fromEngine")
		require.Equal(t, renc, edo("OBJECT", "ENCODING", "fromRedis"), what)
		if !unorderedEncoding(renc) {
			require.Equal(t, rdo("DUMP", "fromEngine"), edo("DUMP", "fromRedis"), "DUMP of restored %s", what)
		}
	}
}

// TestRestoreErrorsLikeRedis: RESTORE's options and refusals in Redis
// 7.0's order, TTLs relative and absolute, and payloads damaged every way
// (a wrong checksum or version, truncated, a byte changed and the
// checksum made right again) answered as Redis answers them.
func TestRestoreErrorsLikeRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	r := dialRedis(t)
	e := NewEngine(Options{})
	both := func(c ...string) string {
		t.Helper()
		a := strArgs(c...)
		want, got := string(r.do(a)), string(e.Exec(time.Now(), a, nil))
		require.Equal(t, want, got, "%.80q", c)
		return want
	}
	both("SET", "s", "hello")
	p := string(parse(t, []byte(both("DUMP", "s"))).Str)
	past := strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)
	future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	for _, c := range [][]string{
		{"RESTORE", "s", "0", p}, {"RESTORE", "s", "0", p, "REPLACE"}, {"RESTORE", "t", "x", p}, {"RESTORE", "t", "-1", p},
		{"RESTORE", "t", "0", p, "bogus"}, {"RESTORE", "t", "0", p, "IDLETIME"}, {"RESTORE", "t", "0", p, "IDLETIME", "-1"},
		{"RESTORE", "t", "0", p, "IDLETIME", "x"}, {"RESTORE", "t", "0", p, "FREQ", "256"}, {"RESTORE", "t", "0", p, "FREQ", "5", "IDLETIME", "5"},
		{"RESTORE", "t", "0", p, "IDLETIME", "10", "REPLACE"}, {"TTL", "t"}, {"RESTORE", "u", "100000", p}, {"TTL", "u"},
		{"RESTORE", "v", past, p, "ABSTTL"}, {"EXISTS", "v"}, {"RESTORE", "u", past, p, "ABSTTL", "REPLACE"}, {"EXISTS", "u"},
		{"RESTORE", "w", future, p, "ABSTTL"}, {"TTL", "w"}, {"RESTORE", "x", "0", "short"}, {"RESTORE", "x", "0", ""},
		{"RESTORE", "x", "0", p[:len(p)-1]}, {"RESTORE", "x", "0", p + "x"}, {"RESTORE"}, {"RESTORE", "x", "0"}, {"DUMP", "nokey"},
	} {
		both(c...)
	}
	// A version above 10, and bytes changed under a right checksum.
	bump := []byte(p)
	bump[len(bump)-10] = 11
	both("RESTORE", "x", "0", string(bump))
	rng := rand.New(rand.NewPCG(1, 2))
	both("RPUSH", "l", "a", "bb", "123", "-7")
	both("HSET", "h", "f", "v", "n", "12")
	both("ZADD", "z", "1.5", "m", "2", "n")
	both("SADD", "i", "1", "2", "3")
	for _, k := range []string{"s", "l", "h", "z", "i"} {
		good := []byte(parse(t, []byte(both("DUMP", k))).Str)
		body := good[:len(good)-10]
		for range 40 {
			b := append([]byte(nil), body...)
			switch rng.IntN(3) {
			case 0:
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			case 1:
				b = b[:rng.IntN(len(b))]
			default:
				at := rng.IntN(len(b))
				b = append(b[:at], append([]byte{byte(rng.IntN(256))}, b[at:]...)...)
			}
			b = append(b, good[len(good)-10:len(good)-8]...)
			crc := crc64Jones(0, b)
			for range 8 {
				b = append(b, byte(crc))
				crc >>= 8
			}
			want := string(r.do(strArgs("RESTORE", "x", "0", string(b), "REPLACE")))
			got := string(e.Exec(time.Now(), strArgs("RESTORE", "x", "0", string(b), "REPLACE"), nil))
			if want == "+OK\r\n" && got == "+OK\r\n" {
				require.Equal(t, contentOf(t, func(c ...string) string { return string(r.do(strArgs(c...))) }, "x"),
					contentOf(t, func(c ...string) string { return string(e.Exec(time.Now(), strArgs(c...), nil)) }, "x"), "%q", b)
				continue
			}
			// Redis trusts some payloads it cannot check without
			// sanitize-dump-payload; the engine refuses what does not
			// parse whole. Where Redis refuses, so must the engine.
			if want != "+OK\r\n" {
				require.Equal(t, want, got, "%q", b)
			}
		}
	}
}

// FuzzRestorePayload feeds RESTORE arbitrary object bytes under a right
// footer: never a panic; a payload the engine accepts restores a value
// whose own DUMP restores to the same thing, dumps to the same bytes
// again, and holds no more elements than the payload had bytes.
func FuzzRestorePayload(f *testing.F) {
	seed := NewEngine(Options{})
	for i, fx := range rdbFixtures() {
		for _, c := range fx {
			seed.Exec(time.Now(), strArgs(append([]string{c[0], "f" + strconv.Itoa(i)}, c[2:]...)...), nil)
		}
		if v := seed.lookup([]byte("f" + strconv.Itoa(i))); v != nil {
			p := seed.rdbPayload(v)
			f.Add(p[:len(p)-10])
		}
	}
	f.Add([]byte{rdbTypeListZiplist, 13, 13, 0, 0, 0, 11, 0, 0, 0, 1, 0, 0, 1, 0xFF})
	f.Fuzz(func(t *testing.T, body []byte) {
		p := binary.LittleEndian.AppendUint16(append([]byte(nil), body...), rdbVersion)
		p = binary.LittleEndian.AppendUint64(p, crc64Jones(0, p))
		e := NewEngine(Options{})
		now := time.Now()
		if string(e.Exec(now, [][]byte{[]byte("RESTORE"), []byte("a"), []byte("0"), p}, nil)) != "+OK\r\n" {
			return
		}
		if n := collLen(e.lookup([]byte("a"))); n > len(body) {
			t.Fatalf("%d elements from %d bytes", n, len(body))
		}
		d1 := parse(t, e.Exec(now, strArgs("DUMP", "a"), nil)).Str
		if got := string(e.Exec(now, [][]byte{[]byte("RESTORE"), []byte("b"), []byte("0"), d1}, nil)); got != "+OK\r\n" {
			t.Fatalf("the engine refuses its own DUMP: %q", got)
		}
		d2 := parse(t, e.Exec(now, strArgs("DUMP", "b"), nil)).Str
		if string(d1) != string(d2) {
			t.Fatalf("DUMP, RESTORE, DUMP changed the payload")
		}
		do := func(c ...string) string { return string(e.Exec(now, strArgs(c...), nil)) }
		if contentOf(t, do, "a") != contentOf(t, do, "b") {
			t.Fatalf("restored values differ")
		}
	})
}

// TestRestoreKeepsCompactPayloadsLikeRedis: a listpack hash or sorted set
// whose elements are longer than this server's *-max-listpack-value (it
// was dumped where the limit was higher) stays a listpack on RESTORE, as
// Redis checks only a compact payload's count (found by review).
func TestRestoreKeepsCompactPayloadsLikeRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	r := dialRedis(t)
	e := NewEngine(Options{})
	long := strings.Repeat("v", 100)
	rdo := func(c ...string) string { return string(r.do(strArgs(c...))) }
	edo := func(c ...string) string { return string(e.Exec(time.Now(), strArgs(c...), nil)) }
	rdo("CONFIG", "SET", "hash-max-listpack-value", "1000", "zset-max-listpack-value", "1000")
	rdo("HSET", "h", "a", long)
	rdo("ZADD", "z", "1", long)
	hp, zp := string(parse(t, []byte(rdo("DUMP", "h"))).Str), string(parse(t, []byte(rdo("DUMP", "z"))).Str)
	rdo("CONFIG", "SET", "hash-max-listpack-value", "64", "zset-max-listpack-value", "64")
	for _, c := range [][]string{{"RESTORE", "h2", "0", hp}, {"RESTORE", "z2", "0", zp}, {"OBJECT", "ENCODING", "h2"}, {"OBJECT", "ENCODING", "z2"}, {"DUMP", "h2"}, {"DUMP", "z2"}} {
		require.Equal(t, rdo(c...), edo(c...), "%.40q", c)
	}
}

// BenchmarkRestoreZSet restores a 100,000-member sorted set from the
// payload Redis writes for it (greatest score first): one sort, not an
// insertion per member (found by review: 18 s before, quadratic).
func BenchmarkRestoreZSet(b *testing.B) {
	e := NewEngine(Options{})
	args := []string{"ZADD", "z"}
	for i := range 100000 {
		args = append(args, strconv.Itoa(i), "member:"+strconv.Itoa(i))
	}
	e.Exec(time.Now(), strArgs(args...), nil)
	p := parse(b, e.Exec(time.Now(), strArgs("DUMP", "z"), nil)).Str
	b.ResetTimer()
	for range b.N {
		if got := string(e.Exec(time.Now(), [][]byte{[]byte("RESTORE"), []byte("z2"), []byte("0"), p, []byte("REPLACE")}, nil)); got != "+OK\r\n" {
			b.Fatal(got)
		}
	}
}
