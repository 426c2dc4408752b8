package store

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"

	"github.com/dynonode/dynonode/actors/resp"
)

// HyperLogLog: PFADD, PFCOUNT and PFMERGE on string values that hold
// Redis 7.0's HLL layout (hyperloglog.c), so that the bytes GET returns,
// the estimates and the points where a sketch turns dense are Redis's:
// a value moves between the engine and a redis-server as a plain string.
//
// The layout: a 16-byte header ("HYLL", the encoding byte, three unused
// bytes, the cached cardinality as a little-endian uint64 whose top bit
// set means "stale"), then the registers, 16384 of 6 bits each:
//
//   - dense: the registers packed from each byte's least significant bit
//     up (12288 bytes);
//   - sparse: a run-length code over the registers, in opcodes ZERO
//     (00xxxxxx: 1-64 zero registers), XZERO (01xxxxxx yyyyyyyy: 1-16384
//     zero registers) and VAL (1vvvvvxx: 1-4 registers of value 1-32).
//
// A sparse sketch turns dense when a register needs a value above 32 or
// its string would grow past hllSparseMaxBytes (Redis's
// hll-sparse-max-bytes, default 3000), never back.

const (
	hllP              = 14
	hllQ              = 64 - hllP
	hllRegisters      = 1 << hllP
	hllBits           = 6
	hllRegisterMax    = 1<<hllBits - 1
	hllHdrSize        = 16
	hllDenseSize      = hllHdrSize + (hllRegisters*hllBits+7)/8
	hllDense          = 0
	hllSparse         = 1
	hllSparseMaxBytes = 3000
	hllAlphaInf       = 0.721347520444481703680 // 0.5/ln(2)

	hllSparseValMax  = 32
	hllSparseValLen  = 4
	hllSparseZeroMax = 64

	errNotHLL     = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errHLLCorrupt = "INVALIDOBJ Corrupted HLL object detected"
)

// Opcode tests on a sparse byte.
func hllIsZero(b byte) bool  { return b&0xc0 == 0 }
func hllIsXZero(b byte) bool { return b&0xc0 == 0x40 }
func hllIsVal(b byte) bool   { return b&0x80 != 0 }
func hllValValue(b byte) int { return int(b>>2&0x1f) + 1 }
func hllValLen(b byte) int   { return int(b&3) + 1 }
func hllZeroLen(b byte) int  { return int(b&0x3f) + 1 }
func hllVal(value, n int) byte {
	return byte((value-1)<<2|(n-1)) | 0x80
}

// at reads s[i], or 0 past its end: Redis reads a truncated XZERO's
// second byte from the string's terminating NUL.
func at(s []byte, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func hllXZeroLen(s []byte, p int) int { return (int(s[p]&0x3f)<<8 | int(at(s, p+1))) + 1 }

// appendZeros appends the opcode for n zero registers: ZERO up to 64,
// XZERO above.
func appendZeros(dst []byte, n int) []byte {
	if n > hllSparseZeroMax {
		n--
		return append(dst, byte(n>>8)|0x40, byte(n))
	}
	return append(dst, byte(n-1))
}

// newHLL is an empty sparse sketch: the header and one XZERO of 16384
// registers.
func newHLL() []byte {
	s := make([]byte, hllHdrSize+2)
	copy(s, "HYLL")
	s[4] = hllSparse
	appendZeros(s[hllHdrSize:hllHdrSize], hllRegisters)
	return s
}

// validHLL reports whether s reads as a sketch: the magic, a known
// encoding and, for a dense one, the exact length. A sparse one's opcodes
// are checked only as they are read (hllCorrupt).
func validHLL(s []byte) bool {
	if len(s) < hllHdrSize || string(s[:4]) != "HYLL" {
		return false
	}
	switch s[4] {
	case hllDense:
		return len(s) == hllDenseSize
	case hllSparse:
		return true
	}
	return false
}

func hllInvalidate(s []byte) { s[15] |= 0x80 }

// murmurHash64A is MurmurHash2's 64-bit variant, little-endian words, as
// Redis hashes HLL elements.
func murmurHash64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ uint64(len(key))*m
	for ; len(key) >= 8; key = key[8:] {
		k := binary.LittleEndian.Uint64(key)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	if len(key) > 0 {
		for i := len(key) - 1; i >= 0; i-- {
			h ^= uint64(key[i]) << (8 * uint(i))
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPattern returns the register an element lands in and the length of
// the 0...01 run that follows the register bits in its hash (1 to 51).
func hllPattern(el []byte) (reg int, n int) {
	h := murmurHash64A(el, 0xadc83b19)
	reg = int(h & (hllRegisters - 1))
	h = h>>hllP | 1<<hllQ
	return reg, bits.TrailingZeros64(h) + 1
}

// Dense registers: register i starts at bit 6i, least significant first.
// The last register's second byte lies past the registers (Redis's
// string NUL, which it never changes).
func denseGet(regs []byte, i int) int {
	b, fb := i*hllBits/8, uint(i*hllBits&7)
	v := int(regs[b]) >> fb
	if b+1 < len(regs) {
		v |= int(regs[b+1]) << (8 - fb)
	}
	return v & hllRegisterMax
}

func denseSet(regs []byte, i, val int) {
	b, fb := i*hllBits/8, uint(i*hllBits&7)
	regs[b] = regs[b]&^byte(hllRegisterMax<<fb) | byte(val<<fb)
	if b+1 < len(regs) {
		regs[b+1] = regs[b+1]&^byte(hllRegisterMax>>(8-fb)) | byte(val>>(8-fb))
	}
}

// denseRaise sets register i to n when it holds less; true if it did.
func denseRaise(regs []byte, i, n int) bool {
	if denseGet(regs, i) >= n {
		return false
	}
	denseSet(regs, i, n)
	return true
}

// sparseRuns walks a sparse sketch's opcodes in order, calling fn with
// each run's first register, length and value (0 for ZERO and XZERO). It
// returns how many registers the runs cover, and false when a VAL run
// would pass register 16384: Redis's sparse-to-dense conversion and merge
// stop there (checkVal), its histogram does not.
func sparseRuns(s []byte, checkVal bool, fn func(first, n, val int)) (int, bool) {
	i := 0
	for p := hllHdrSize; p < len(s); {
		n, val := 0, 0
		switch c := s[p]; {
		case hllIsZero(c):
			n = hllZeroLen(c)
			p++
		case hllIsXZero(c):
			n = hllXZeroLen(s, p)
			p += 2
		default:
			n, val = hllValLen(c), hllValValue(c)
			if checkVal && i+n > hllRegisters {
				return i, false
			}
			p++
		}
		fn(i, n, val)
		i += n
	}
	return i, true
}

// sparseToDense rewrites a sparse sketch as a dense one, keeping its
// header (the cached cardinality included); ok is false when the opcodes
// do not cover exactly 16384 registers.
func sparseToDense(s []byte) ([]byte, bool) {
	d := make([]byte, hllDenseSize)
	copy(d, s[:hllHdrSize])
	d[4] = hllDense
	regs := d[hllHdrSize:]
	covered, ok := sparseRuns(s, true, func(first, n, val int) {
		for j := first; val > 0 && j < first+n; j++ {
			denseSet(regs, j, val)
		}
	})
	if !ok || covered != hllRegisters {
		return nil, false
	}
	return d, true
}

// sparseRaise sets register i of a sparse sketch to n when it holds less,
// rewriting the opcode that covers it in place, or turns the sketch dense
// when n is too large for a VAL or the string would outgrow
// hllSparseMaxBytes. It returns the sketch (moved when it grew or turned
// dense) and 1 when a register changed, 0 when none did, -1 when the
// opcodes are corrupt.
func sparseRaise(s []byte, i, n int) ([]byte, int) {
	if n > hllSparseValMax {
		return promoteRaise(s, i, n)
	}
	// Find the opcode covering register i.
	first, span, prev, p := 0, 0, -1, hllHdrSize
	for p < len(s) {
		size := 1
		switch c := s[p]; {
		case hllIsZero(c):
			span = hllZeroLen(c)
		case hllIsVal(c):
			span = hllValLen(c)
		default:
			span, size = hllXZeroLen(s, p), 2
		}
		if i <= first+span-1 {
			break
		}
		prev = p
		p += size
		first += span
	}
	if span == 0 || p >= len(s) {
		return s, -1
	}
	c := s[p]
	isXZero := hllIsXZero(c)
	switch {
	case hllIsVal(c) && hllValValue(c) >= n:
		return s, 0
	case hllIsVal(c) && hllValLen(c) == 1, hllIsZero(c) && hllZeroLen(c) == 1:
		s[p] = hllVal(n, 1)
		return hllMergeVals(s, prev), 1
	}
	// Split the opcode into what lies before register i, i itself and
	// what lies after it (at most XZERO VAL XZERO: five bytes).
	last := first + span - 1
	var seqBuf [5]byte
	seq := seqBuf[:0]
	if hllIsVal(c) {
		cur := hllValValue(c)
		if i != first {
			seq = append(seq, hllVal(cur, i-first))
		}
		seq = append(seq, hllVal(n, 1))
		if i != last {
			seq = append(seq, hllVal(cur, last-i))
		}
	} else {
		if i != first {
			seq = appendZeros(seq, i-first)
		}
		seq = append(seq, hllVal(n, 1))
		if i != last {
			seq = appendZeros(seq, last-i)
		}
	}
	oldLen := 1
	if isXZero {
		oldLen = 2
	}
	delta := len(seq) - oldLen
	if delta > 0 && len(s)+delta > hllSparseMaxBytes {
		return promoteRaise(s, i, n)
	}
	newLen := len(s) + delta
	end := min(p+oldLen, len(s)) // an XZERO cut short by the string's end
	s = slices.Replace(s, p, end, seq...)
	s = s[:newLen] // Redis grows the string by delta whatever the cut
	return hllMergeVals(s, prev), 1
}

// promoteRaise turns s dense and raises register i to n there.
func promoteRaise(s []byte, i, n int) ([]byte, int) {
	d, ok := sparseToDense(s)
	if !ok {
		return s, -1
	}
	denseRaise(d[hllHdrSize:], i, n)
	return d, 1
}

// hllMergeVals merges adjacent VALs of one value whose lengths fit one
// VAL, looking at up to five opcodes from prev (or the first), as Redis
// does after each change; and marks the cached cardinality stale.
func hllMergeVals(s []byte, prev int) []byte {
	p := prev
	if p < 0 {
		p = hllHdrSize
	}
	for scan := 5; p < len(s) && scan > 0; scan-- {
		c := s[p]
		switch {
		case hllIsXZero(c):
			p += 2
			continue
		case hllIsZero(c):
			p++
			continue
		}
		if p+1 < len(s) && hllIsVal(s[p+1]) {
			v1, v2 := hllValValue(c), hllValValue(s[p+1])
			if n := hllValLen(c) + hllValLen(s[p+1]); v1 == v2 && n <= hllSparseValLen {
				s[p+1] = hllVal(v1, n)
				s = slices.Delete(s, p, p+1)
				continue // try the merged VAL with the one after it
			}
		}
		p++
	}
	hllInvalidate(s)
	return s
}

// hllRaise raises register i of sketch s to n (dense or sparse).
func hllRaise(s []byte, i, n int) ([]byte, int) {
	if s[4] == hllDense {
		if denseRaise(s[hllHdrSize:], i, n) {
			return s, 1
		}
		return s, 0
	}
	return sparseRaise(s, i, n)
}

// hllMax raises each of top's 16384 registers to the sketch's; false if
// a sparse sketch's opcodes are corrupt.
func hllMax(top []byte, s []byte) bool {
	if s[4] == hllDense {
		regs := s[hllHdrSize:]
		for i := range hllRegisters {
			if v := byte(denseGet(regs, i)); v > top[i] {
				top[i] = v
			}
		}
		return true
	}
	covered, ok := sparseRuns(s, true, func(first, n, val int) {
		for j := first; val > 0 && j < first+n; j++ {
			top[j] = max(top[j], byte(val))
		}
	})
	return ok && covered == hllRegisters
}

// hllHisto counts the sketch's registers by value; false if a sparse
// sketch's opcodes do not cover exactly 16384 registers.
func hllHisto(s []byte, h *[64]int) bool {
	if s[4] == hllDense {
		regs := s[hllHdrSize:]
		for i := range hllRegisters {
			h[denseGet(regs, i)]++
		}
		return true
	}
	covered, _ := sparseRuns(s, false, func(_, n, val int) { h[val] += n })
	return covered == hllRegisters
}

// hllEstimate is the cardinality of a register histogram by Ertl's
// improved estimator ("New cardinality estimation algorithms for
// HyperLogLog sketches", arXiv:1702.01284), as Redis computes it.
func hllEstimate(h *[64]int) uint64 {
	const m = float64(hllRegisters)
	z := m * hllTau((m-float64(h[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += m * hllSigma(float64(h[0])/m)
	e := math.Round(hllAlphaInf * m * m / z)
	if !(e < 1<<63) {
		// Redis rounds with llroundl, which gives LLONG_MIN for what does
		// not fit a long long (an infinite estimate included): PFCOUNT
		// then answers -9223372036854775808 and caches those bytes.
		return 1 << 63
	}
	return uint64(e)
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += x * y
		y += y
		if prev == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if prev == z {
			return z / 3
		}
	}
}

// hllValue looks key up for the HLL commands: the sketch (nil if the key
// is missing) or the error reply Redis gives for another type or a string
// that is not a sketch.
func (e *Engine) hllValue(key []byte) (*value, string) {
	v, wrong := e.lookupString(key)
	switch {
	case wrong:
		return nil, errWrongType
	case v != nil && !validHLL(v.str()):
		return nil, errNotHLL
	}
	return v, ""
}

// setSketch makes s the string v holds: in place when s still lives in
// v's buffer, else copied there with the key.
func setSketch(v *value, s []byte) {
	k := int(v.klen)
	if len(s) > 0 && cap(v.kv) > k && &v.kv[:k+1][k] == &s[0] && cap(v.kv)-k >= len(s) {
		v.kv = v.kv[:k+len(s)]
		return
	}
	v.kv = append(v.kv[:k], s...)
}

// PFADD key [element ...]: 1 when the sketch was created or a register
// changed, else 0.
func (e *Engine) cmdPFAdd(args [][]byte, dst []byte) []byte {
	v, bad := e.hllValue(args[1])
	if bad != "" {
		return appendErr(dst, bad)
	}
	updated := false
	if v == nil {
		v = e.addString(args[1], newHLL())
		updated = true
	}
	markRaw(v) // Redis unshares (or creates) it raw before adding
	s := v.str()
	for _, el := range args[2:] {
		reg, n := hllPattern(el)
		var r int
		s, r = hllRaise(s, reg, n)
		if r < 0 {
			setSketch(v, s) // the registers raised before stay raised, as in Redis
			return appendErr(dst, errHLLCorrupt)
		}
		updated = updated || r == 1
	}
	if updated {
		hllInvalidate(s)
	}
	setSketch(v, s)
	return appendBool(dst, updated)
}

// PFCOUNT key [key ...]: the estimated cardinality of the union of the
// sketches. One key's estimate is cached in its header, as Redis does (so
// PFCOUNT changes the bytes GET returns, and replicas may differ in those
// eight bytes); several keys' are computed from the registers' maxima.
func (e *Engine) cmdPFCount(args [][]byte, dst []byte) []byte {
	if len(args) > 2 {
		regs := make([]byte, hllRegisters)
		for _, k := range args[1:] {
			v, bad := e.hllValue(k)
			if bad != "" {
				return appendErr(dst, bad)
			}
			if v != nil && !hllMax(regs, v.str()) {
				return appendErr(dst, errHLLCorrupt)
			}
		}
		var h [64]int
		for _, r := range regs {
			h[r]++
		}
		return resp.AppendInt(dst, int64(hllEstimate(&h)))
	}
	v, bad := e.hllValue(args[1])
	switch {
	case bad != "":
		return appendErr(dst, bad)
	case v == nil:
		return resp.AppendInt(dst, 0)
	}
	markRaw(v) // Redis unshares it raw to write the cache, cached or not
	s := v.str()
	if s[15]&0x80 == 0 {
		return resp.AppendInt(dst, int64(binary.LittleEndian.Uint64(s[8:16])))
	}
	var h [64]int
	if !hllHisto(s, &h) {
		return appendErr(dst, errHLLCorrupt)
	}
	card := hllEstimate(&h)
	binary.LittleEndian.PutUint64(s[8:16], card)
	return resp.AppendInt(dst, int64(card))
}

// PFMERGE destkey [sourcekey ...]: destkey (itself one of the sources)
// becomes the union; dense when any source is, else sparse unless it
// outgrows hllSparseMaxBytes.
func (e *Engine) cmdPFMerge(args [][]byte, dst []byte) []byte {
	regs := make([]byte, hllRegisters)
	dense := false
	for _, k := range args[1:] {
		v, bad := e.hllValue(k)
		if bad != "" {
			return appendErr(dst, bad)
		}
		if v == nil {
			continue
		}
		s := v.str()
		dense = dense || s[4] == hllDense
		if !hllMax(regs, s) {
			return appendErr(dst, errHLLCorrupt)
		}
	}
	v := e.lookup(args[1])
	if v == nil {
		v = e.addString(args[1], newHLL())
	}
	markRaw(v)
	s := v.str()
	if dense && s[4] == hllSparse {
		d, ok := sparseToDense(s)
		if !ok {
			return appendErr(dst, errHLLCorrupt)
		}
		s = d
	}
	for i, n := range regs {
		if n > 0 {
			s, _ = hllRaise(s, i, int(n)) // Redis ignores a corrupt destination here
		}
	}
	hllInvalidate(s)
	setSketch(v, s)
	return appendOK(dst)
}
