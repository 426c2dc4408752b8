package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/dynonode/dynonode/actors/resp"
)

// lzfPipeline sends cmds to a real redis-server in batches and returns
// their replies in order, raw.
func lzfPipeline(r *redisConn, cmds [][][]byte) [][]byte {
	r.t.Helper()
	replies := make([][]byte, 0, len(cmds))
	const batch = 256
	for start := 0; start < len(cmds); start += batch {
		end := min(start+batch, len(cmds))
		var out []byte
		for _, c := range cmds[start:end] {
			out = resp.AppendCommand(out, c)
		}
		require.NoError(r.t, r.conn.SetDeadline(time.Now().Add(20*time.Second)))
		_, err := r.conn.Write(out)
		require.NoError(r.t, err)
		pos := 0
		for len(replies) < end {
			n, err := resp.ReplyLen(r.buf[pos:])
			if err == nil {
				replies = append(replies, bytes.Clone(r.buf[pos:pos+n]))
				pos += n
				continue
			}
			require.True(r.t, errors.Is(err, resp.ErrIncomplete), "redis reply: %v", err)
			r.buf = append(r.buf[:0], r.buf[pos:]...)
			pos = 0
			chunk := make([]byte, 256<<10)
			m, err := r.conn.Read(chunk)
			require.NoError(r.t, err)
			r.buf = append(r.buf, chunk[:m]...)
		}
		r.buf = append(r.buf[:0], r.buf[pos:]...)
	}
	return replies
}

// lzfBulk returns the payload of a RESP bulk string reply.
func lzfBulk(t testing.TB, reply []byte) []byte {
	t.Helper()
	i := bytes.Index(reply, []byte("\r\n"))
	require.True(t, i > 0 && reply[0] == '$', "not a bulk reply: %q", reply)
	n, err := strconv.Atoi(string(reply[1:i]))
	require.NoError(t, err, "bulk reply %q", reply)
	require.Equal(t, i+2+n+2, len(reply), "bulk reply length")
	return reply[i+2 : i+2+n]
}

// readRDBLen reads a length as rdbLoadLen does, returning what follows.
func readRDBLen(t testing.TB, b []byte) (uint64, []byte) {
	t.Helper()
	require.NotEmpty(t, b)
	switch {
	case b[0]>>6 == 0:
		return uint64(b[0]), b[1:]
	case b[0]>>6 == 1:
		require.GreaterOrEqual(t, len(b), 2)
		return uint64(b[0]&0x3f)<<8 | uint64(b[1]), b[2:]
	case b[0] == 0x80:
		require.GreaterOrEqual(t, len(b), 5)
		return uint64(binary.BigEndian.Uint32(b[1:])), b[5:]
	case b[0] == 0x81:
		require.GreaterOrEqual(t, len(b), 9)
		return binary.BigEndian.Uint64(b[1:]), b[9:]
	}
	t.Fatalf("not an RDB length: %x", b[0])
	return 0, nil
}

// lzfDumpFooter appends the RDB version (10, Redis 7.0) and the CRC-64 of
// everything before, as DUMP ends its payloads.
func lzfDumpFooter(p []byte) []byte {
	p = append(p, 10, 0)
	return binary.LittleEndian.AppendUint64(p, crc64Jones(0, p))
}

// lzfStringDump is the DUMP payload Redis 7.0 gives a string value that is
// not integer encoded (rdbSaveRawString, default rdbcompression yes):
// longer than 20 bytes and compressing into len-4 bytes it is 0xC3, the
// compressed and original lengths and the LZF bytes; otherwise length and
// bytes verbatim.
func lzfStringDump(v []byte) (payload []byte, compressed bool) {
	p := []byte{0} // RDB_TYPE_STRING
	if len(v) > 20 {
		if c := lzfCompress(testLZF, v, len(v)-4); c != nil {
			p = append(p, 0xC3)
			p = appendRDBLen(p, uint64(len(c)))
			p = appendRDBLen(p, uint64(len(v)))
			p = append(p, c...)
			return lzfDumpFooter(p), true
		}
	}
	p = appendRDBLen(p, uint64(len(v)))
	p = append(p, v...)
	return lzfDumpFooter(p), false
}

var lzfWords = strings.Fields("the quick brown fox jumps over a lazy dog and " +
	"redis keeps every value in memory while lzf finds repeats of three or more bytes")

// lzfKinds is the number of value kinds lzfValue knows.
const lzfKinds = 9

// lzfValue returns n bytes of one kind: random, zeros, one byte, text of
// repeated words, a periodic pattern, a 4-letter alphabet, random runs
// mixed with copies of earlier parts, sparse binary, or text with numbers.
func lzfValue(rng *rand.Rand, kind, n int) []byte {
	v := make([]byte, 0, n+64)
	switch kind {
	case 0:
		for len(v) < n {
			v = append(v, byte(rng.UintN(256)))
		}
	case 1:
		v = v[:n]
	case 2:
		b := byte(rng.UintN(256))
		for len(v) < n {
			v = append(v, b)
		}
	case 3:
		for len(v) < n {
			v = append(v, lzfWords[rng.IntN(len(lzfWords))]...)
			v = append(v, ' ')
		}
	case 4:
		period := make([]byte, 1+rng.IntN(50))
		for i := range period {
			period[i] = byte(rng.UintN(256))
		}
		for len(v) < n {
			v = append(v, period...)
		}
	case 5:
		for len(v) < n {
			v = append(v, 'a'+byte(rng.UintN(4)))
		}
	case 6:
		for len(v) < n {
			if len(v) > 8 && rng.IntN(2) == 0 {
				from := rng.IntN(len(v) - 3)
				to := min(len(v), from+3+rng.IntN(300))
				v = append(v, v[from:to]...)
			} else {
				for range 1 + rng.IntN(40) {
					v = append(v, byte(rng.UintN(256)))
				}
			}
		}
	case 7:
		v = v[:n]
		for range n/50 + 1 {
			if n > 0 {
				v[rng.IntN(n)] = byte(rng.UintN(256))
			}
		}
	case 8:
		for len(v) < n {
			v = append(v, lzfWords[rng.IntN(len(lzfWords))]...)
			v = strconv.AppendInt(append(v, '='), rng.Int64N(100000), 10)
			v = append(v, ';')
		}
	}
	return v[:n]
}

// lzfNearLimit returns values whose LZF form, with room to spare, is
// within a few bytes of len-4: the sizes where Redis barely compresses or
// just gives up (its bounds checks are conservative, so some whose
// result would fit in len-4 bytes are still refused).
func lzfNearLimit(rng *rand.Rand, want int) [][]byte {
	var out [][]byte
	for tries := 0; len(out) < want && tries < 200*want; tries++ {
		n := 21 + rng.IntN(400)
		v := lzfValue(rng, 0, n)
		// One copy of an earlier stretch gives a gain of about its
		// length less the 3-byte reference and literal headers.
		m := 3 + rng.IntN(12)
		if n < 2*m+2 {
			continue
		}
		from := rng.IntN(n/2 - m)
		to := n/2 + rng.IntN(n-n/2-m)
		copy(v[to:to+m], v[from:from+m])
		if c := lzfCompress(testLZF, v, 2*n+16); c != nil && len(c) >= n-8 && len(c) <= n-1 {
			out = append(out, v)
		}
	}
	return out
}

// lzfIsInt reports whether Redis could store v integer encoded, so that
// DUMP writes it as an integer (a superset of Redis's string2ll).
func lzfIsInt(v []byte) bool {
	if len(v) > 20 {
		return false
	}
	_, err := strconv.ParseInt(string(v), 10, 64)
	return err == nil
}

// TestLZFDumpMatchesRedis SETs strings of every length 0..2000 (several
// kinds each), values at the 20/21-byte boundary, values whose LZF form is
// within a few bytes of len-4, and some long ones on a real redis-server
// 7.0, DUMPs them and requires the payloads byte for byte: RDB string
// encoding from lzfCompress(testLZF, v, len(v)-4), RDB version and crc64Jones.
func TestLZFDumpMatchesRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	r := dialRedis(t)
	rng := rand.New(rand.NewPCG(7, 1))

	var values [][]byte
	for n := 0; n <= 2000; n++ {
		for _, k := range []int{n % lzfKinds, (n + 3) % lzfKinds, (n + 6) % lzfKinds} {
			values = append(values, lzfValue(rng, k, n))
		}
	}
	for n := 17; n <= 25; n++ {
		values = append(values, bytes.Repeat([]byte("a"), n), bytes.Repeat([]byte("ab"), n)[:n],
			bytes.Repeat([]byte("abc"), n)[:n], bytes.Repeat([]byte{0}, n), lzfValue(rng, 3, n))
	}
	nearLimit := lzfNearLimit(rng, 400)
	values = append(values, nearLimit...)
	for _, n := range []int{8191, 8192, 8193, 8200, 8300, 9000, 16384, 20000, 65536 + 7, 100000} {
		for _, k := range []int{0, 1, 3, 4, 6, 8} {
			values = append(values, lzfValue(rng, k, n))
		}
	}

	var cmds [][][]byte
	var keep [][]byte
	for i, v := range values {
		if lzfIsInt(v) {
			continue
		}
		keep = append(keep, v)
		cmds = append(cmds, [][]byte{[]byte("SET"), []byte("lzf:" + strconv.Itoa(i)), v})
	}
	values = keep
	for i, rep := range lzfPipeline(r, cmds) {
		require.Equal(t, "+OK\r\n", string(rep), "SET %d", i)
	}
	dumps := make([][][]byte, len(cmds))
	for i, c := range cmds {
		dumps[i] = [][]byte{[]byte("DUMP"), c[1]}
	}
	replies := lzfPipeline(r, dumps)

	var compressed, refusedButFits, mismatches int
	for i, v := range values {
		got := lzfBulk(t, replies[i])
		want, comp := lzfStringDump(v)
		if !bytes.Equal(want, got) {
			mismatches++
			if mismatches <= 5 {
				t.Errorf("DUMP of a %d-byte value %q...: Redis %x, want %x",
					len(v), v[:min(len(v), 40)], got[:min(len(got), 80)], want[:min(len(want), 80)])
			}
			continue
		}
		if comp {
			compressed++
			// What Redis wrote decompresses back to the value.
			rest := got[2 : len(got)-10]
			clen, rest := readRDBLen(t, rest)
			olen, rest := readRDBLen(t, rest)
			require.Equal(t, uint64(len(rest)), clen)
			require.Equal(t, uint64(len(v)), olen)
			back, ok := lzfDecompress(rest, len(v))
			require.True(t, ok)
			require.Equal(t, v, back)
		} else if len(v) > 20 {
			if c := lzfCompress(testLZF, v, 2*len(v)+16); c != nil && len(c) <= len(v)-4 {
				refusedButFits++
			}
		}
	}
	require.Zero(t, mismatches, "of %d values", len(values))
	t.Logf("%d values (%d near the len-4 limit): %d compressed by Redis, %d stored verbatim; "+
		"%d verbatim although their LZF form fits in len-4 bytes (conservative bounds checks)",
		len(values), len(nearLimit), compressed, len(values)-compressed, refusedButFits)
	require.Positive(t, refusedButFits, "no value hit the conservative-limit case")

	// The boundary itself: 20 bytes stay verbatim however repetitive,
	// 21 compress.
	for n, enc := range map[int]byte{20: 20, 21: 0xC3} {
		v := bytes.Repeat([]byte("a"), n)
		require.Equal(t, "+OK\r\n", string(r.do([][]byte{[]byte("SET"), []byte("edge"), v})))
		got := lzfBulk(t, r.do(strArgs("DUMP", "edge")))
		require.Equal(t, enc, got[1], "%d bytes", n)
		want, _ := lzfStringDump(v)
		require.Equal(t, want, got)
	}
}

// TestLZFRestoreLikeRedis hands a real redis-server RESTORE payloads
// around valid, mutated and random LZF streams and requires that it
// accepts exactly those lzfDecompress accepts, with the same value.
func TestLZFRestoreLikeRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	r := dialRedis(t)
	rng := rand.New(rand.NewPCG(11, 3))

	type tc struct {
		stream []byte
		outLen int
	}
	var cases []tc
	for range 300 {
		v := lzfValue(rng, rng.IntN(lzfKinds), 1+rng.IntN(600))
		c := lzfCompress(testLZF, v, 2*len(v)+16)
		require.NotNil(t, c)
		n := len(v)
		mut := bytes.Clone(c)
		mut[rng.IntN(len(mut))] ^= byte(1 + rng.IntN(255))
		cases = append(cases,
			tc{c, n}, tc{c, n - 1}, tc{c, n + 1}, tc{c, n + 1 + rng.IntN(300)},
			tc{c[:len(c)-1], n}, tc{c[:max(1, len(c)-1-rng.IntN(4))], n},
			tc{append(bytes.Clone(c), byte(rng.UintN(256))), n},
			tc{mut, n})
	}
	for range 400 {
		s := make([]byte, 1+rng.IntN(24))
		for i := range s {
			s[i] = byte(rng.UintN(256))
		}
		if rng.IntN(2) == 0 {
			s[0] = byte(rng.UintN(32)) // start with a literal run
		}
		cases = append(cases, tc{s, 1 + rng.IntN(60)})
	}
	cases = append(cases,
		tc{[]byte{0x20, 0x00}, 2},                   // reference before the output
		tc{[]byte{0x00, 'a', 0x20}, 3},              // reference cut short
		tc{[]byte{0x00, 'a', 0xe0, 0x01}, 10},       // long reference cut short
		tc{[]byte{0x00, 'a', 0xe0, 0x00, 0x00}, 10}, // 'a' + 9 more
		tc{[]byte{0x01, 'a', 'b', 0x20, 0x01}, 5},   // "ab" + "aba"
		tc{[]byte{0x1f, 'x'}, 32},                   // literal run cut short
	)

	var cmds [][][]byte
	for i, c := range cases {
		p := []byte{0, 0xC3}
		p = appendRDBLen(p, uint64(len(c.stream)))
		p = appendRDBLen(p, uint64(c.outLen))
		p = lzfDumpFooter(append(p, c.stream...))
		key := []byte("restore:" + strconv.Itoa(i))
		cmds = append(cmds, [][]byte{[]byte("RESTORE"), key, []byte("0"), p},
			[][]byte{[]byte("GET"), key})
	}
	replies := lzfPipeline(r, cmds)
	accepted := 0
	for i, c := range cases {
		restore, get := string(replies[2*i]), replies[2*i+1]
		want, ok := lzfDecompress(c.stream, c.outLen)
		if ok {
			accepted++
			require.Equal(t, "+OK\r\n", restore, "case %d: %x for %d bytes", i, c.stream, c.outLen)
			require.Equal(t, want, lzfBulk(t, get), "case %d", i)
		} else {
			require.Equal(t, "-ERR Bad data format\r\n", restore, "case %d: %x for %d bytes", i, c.stream, c.outLen)
		}
	}
	require.Positive(t, accepted)
	require.Less(t, accepted, len(cases))
	t.Logf("Redis and lzfDecompress agree on %d streams: %d accepted", len(cases), accepted)

	// Redis's one leniency: an LZF string of length 0 loads whatever the
	// stream, since lzf_decompress fails with 0, the length asked for.
	// lzfDecompress refuses it; a RESTORE built on it has to special-case.
	p := []byte{0, 0xC3, 3, 0, 0x02, 'x', 'y'}
	rep := lzfPipeline(r, [][][]byte{
		{[]byte("RESTORE"), []byte("zero"), []byte("0"), lzfDumpFooter(p)},
		{[]byte("STRLEN"), []byte("zero")},
	})
	require.Equal(t, "+OK\r\n", string(rep[0]))
	require.Equal(t, ":0\r\n", string(rep[1]))
	_, ok := lzfDecompress([]byte{0x02, 'x', 'y'}, 0)
	require.False(t, ok)
}

// TestLZFRoundTrip: whatever lzfCompress returns fits its limit,
// decompresses to the input and does not depend on the limit (a tighter
// one gives the same bytes or nil); with ample room it always compresses.
func TestLZFRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var x []byte
		switch rapid.IntRange(0, 3).Draw(rt, "gen") {
		case 0:
			x = rapid.SliceOfN(rapid.Byte(), 0, 3000).Draw(rt, "bytes")
		case 1:
			x = rapid.SliceOfN(rapid.ByteRange('a', 'c'), 0, 3000).Draw(rt, "abc")
		case 2:
			seed := rapid.Uint64().Draw(rt, "seed")
			kind := rapid.IntRange(0, lzfKinds-1).Draw(rt, "kind")
			n := rapid.IntRange(0, 20000).Draw(rt, "n")
			x = lzfValue(rand.New(rand.NewPCG(seed, 0)), kind, n)
		case 3:
			part := rapid.SliceOfN(rapid.Byte(), 1, 300).Draw(rt, "part")
			for range rapid.IntRange(1, 60).Draw(rt, "times") {
				x = append(x, part...)
			}
		}
		ample := len(x) + len(x)/16 + 16
		full := lzfCompress(testLZF, x, ample)
		if len(x) == 0 {
			if full != nil {
				rt.Fatalf("compressed empty input")
			}
			return
		}
		if full == nil {
			rt.Fatalf("%d bytes did not compress into %d", len(x), ample)
		}
		back, ok := lzfDecompress(full, len(x))
		if !ok || !bytes.Equal(back, x) {
			rt.Fatalf("round trip failed for %d bytes", len(x))
		}
		if _, ok := lzfDecompress(full, len(x)+1); ok {
			rt.Fatalf("decompressed to a longer length")
		}
		limit := rapid.IntRange(1, ample).Draw(rt, "limit")
		if c := lzfCompress(testLZF, x, limit); c != nil && (len(c) > limit || !bytes.Equal(c, full)) {
			rt.Fatalf("limit %d: %d bytes, differing from the unlimited result", limit, len(c))
		}
		if c := lzfCompress(testLZF, x, len(full)+3); c == nil && len(x) >= 3 {
			// The checks never need more than 4 bytes of slack.
			if c4 := lzfCompress(testLZF, x, len(full)+4); c4 == nil {
				rt.Fatalf("needs more than 4 bytes of slack")
			}
		}
	})
}

// TestLZFKnownStreams pins lzfCompress to LZF streams taken from DUMP
// payloads of redis-server 7.0.15, and to the edges of its limit checks.
func TestLZFKnownStreams(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []byte
	}{
		// "aa", then 19 bytes from offset 1: no reference to position 0,
		// and a match longer than maxlen (17) from the unconditional
		// 16-byte comparison.
		{strings.Repeat("a", 21), []byte{0x01, 'a', 'a', 0xe0, 0x0a, 0x00}},
		{strings.Repeat("abc", 8), []byte{0x03, 'a', 'b', 'c', 'a', 0xe0, 0x0a, 0x02, 0x00, 'c'}},
		{"hello world, hello world, hello world!", append(append([]byte{0x0d},
			"hello world, h"...), 0xe0, 0x0d, 0x0c, 0x01, 'd', '!')},
	} {
		got := lzfCompress(testLZF, []byte(c.in), len(c.in)-4)
		require.Equal(t, c.want, got, "%q", c.in)
		back, ok := lzfDecompress(got, len(c.in))
		require.True(t, ok)
		require.Equal(t, c.in, string(back))
	}
	// Before the last two bytes lzf_compress wants room for 3 more.
	require.Nil(t, lzfCompress(testLZF, []byte("a"), 3))
	require.Equal(t, []byte{0x00, 'a'}, lzfCompress(testLZF, []byte("a"), 4))
	require.Nil(t, lzfCompress(testLZF, []byte("abc"), 4))
	require.Equal(t, []byte{0x02, 'a', 'b', 'c'}, lzfCompress(testLZF, []byte("abc"), 5))
	require.Nil(t, lzfCompress(testLZF, nil, 10))
	require.Nil(t, lzfCompress(testLZF, []byte("abc"), 0))
	// A 6-byte result that needs a 10-byte buffer: a back reference wants
	// 4 bytes to spare, and the end 3 more after the run header it
	// reserves.
	require.Nil(t, lzfCompress(testLZF, []byte(strings.Repeat("a", 21)), 9))
	require.Len(t, lzfCompress(testLZF, []byte(strings.Repeat("a", 21)), 10), 6)
	_, ok := lzfDecompress(nil, 0)
	require.False(t, ok)
}

// crc64JonesBitwise is the CRC-64/Jones definition, a bit at a time.
func crc64JonesBitwise(crc uint64, p []byte) uint64 {
	for _, b := range p {
		crc ^= uint64(b)
		for range 8 {
			if crc&1 == 1 {
				crc = crc>>1 ^ crc64JonesPoly
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// TestCRC64Jones: Redis's test vector, entries of Redis's crc64_tab, and
// agreement with the bitwise definition on any split of any input.
func TestCRC64Jones(t *testing.T) {
	require.Equal(t, uint64(0xe9c6d914c4b8d9ca), crc64Jones(0, []byte("123456789")))
	require.Equal(t, uint64(0), crc64Jones(0, nil))
	tab := crc64JonesTab[0]
	require.Equal(t, uint64(0x7ad870c830358979), tab[1])
	require.Equal(t, uint64(0x95ac9329ac4bc9b5), tab[128])
	require.Equal(t, uint64(0x29b7d047efec8728), tab[255])
	rapid.Check(t, func(rt *rapid.T) {
		p := rapid.SliceOfN(rapid.Byte(), 0, 200).Draw(rt, "p")
		crc := rapid.Uint64().Draw(rt, "crc")
		cut := rapid.IntRange(0, len(p)).Draw(rt, "cut")
		want := crc64JonesBitwise(crc, p)
		if got := crc64Jones(crc, p); got != want {
			rt.Fatalf("crc64Jones %x, bitwise %x", got, want)
		}
		if got := crc64Jones(crc64Jones(crc, p[:cut]), p[cut:]); got != want {
			rt.Fatalf("in two parts %x, at once %x", got, want)
		}
	})
}

// FuzzLZFDecompress: lzfDecompress never panics and, when it accepts,
// returns exactly the length asked for, which compresses and decompresses
// back to itself.
func FuzzLZFDecompress(f *testing.F) {
	f.Add([]byte{0x00, 'a'}, uint32(1))
	f.Add([]byte{0x01, 'a', 'a', 0xe0, 0x09, 0x00, 0x01, 'a', 'a'}, uint32(21))
	f.Add([]byte{0x03, 'a', 'b', 'c', 'a', 0xa0, 0x02, 0x01, 'b', 'c'}, uint32(12))
	f.Add([]byte{0x20, 0x00}, uint32(2))
	f.Add([]byte{0x00, 'x', 0xe0, 0xff, 0x00}, uint32(265))
	f.Add([]byte{}, uint32(0))
	f.Fuzz(func(t *testing.T, in []byte, n uint32) {
		outLen := int(n % (1 << 20))
		out, ok := lzfDecompress(in, outLen)
		if !ok {
			if out != nil {
				t.Fatalf("refused but returned %d bytes", len(out))
			}
			return
		}
		if len(out) != outLen {
			t.Fatalf("asked for %d bytes, got %d", outLen, len(out))
		}
		c := lzfCompress(testLZF, out, len(out)+len(out)/16+16)
		back, ok := lzfDecompress(c, len(out))
		if !ok || !bytes.Equal(back, out) {
			t.Fatalf("recompressed %d bytes do not round trip", len(out))
		}
	})
}

// testLZF is the tests' compressor table.
var testLZF = new(lzfTable)
