package store

import (
	"encoding/binary"
)

// LZF and CRC-64 as redis-server 7.0 uses them in DUMP payloads and RDB
// files, written so that the bytes come out exactly as Redis's.
//
// Redis bundles liblzf 3.6 (src/lzf_c.c, src/lzf_d.c, src/lzfP.h) built
// with HLOG 16, VERY_FAST 1, ULTRA_FAST 0, INIT_HTAB 0 and CHECK_INPUT 1.
// rdbSaveRawString tries LZF only for strings longer than 20 bytes (and
// not integer encoded), giving lzf_compress an output buffer of len-4
// bytes; a result of 0 means "store the string verbatim".
//
// Compressed stream format:
//
//	000LLLLL <L+1 bytes>         literal run of L+1 bytes (1..32)
//	LLLooooo oooooooo            back reference of L+2 bytes (L 1..6)
//	111ooooo LLLLLLLL oooooooo   back reference of L+9 bytes
//
// where the offset o+1 (1..8192) counts back from the output position.

const (
	lzfHashLog  = 16
	lzfHashSize = 1 << lzfHashLog
	lzfMaxLit   = 1 << 5
	lzfMaxOff   = 1 << 13
	lzfMaxRef   = (1 << 8) + (1 << 3)

	// lzfMaxRatio bounds decompressed/compressed size: the best an
	// instruction does is 3 bytes of input for a 264-byte back reference.
	lzfMaxRatio = lzfMaxRef / 3

	// A hash slot holds an input position (low lzfPosBits bits) and the
	// generation of the lzfCompress call that stored it (the rest), so a
	// pooled table needs no clearing between calls.
	lzfPosBits = 40
	lzfPosMask = 1<<lzfPosBits - 1
	lzfGenMax  = 1<<(64-lzfPosBits) - 1
)

// lzfTable is the compressor's hash table: the 3-byte sequence hashed to a
// slot gives the last input position seen with that hash.
type lzfTable struct {
	gen  uint64
	slot [lzfHashSize]uint64
}

// lzfIdx is liblzf's IDX for VERY_FAST with HLOG 16, on its 32-bit hval.
func lzfIdx(h uint32) uint32 {
	return ((h >> (3*8 - lzfHashLog)) - h*5) & (lzfHashSize - 1)
}

// lzfCompress returns in compressed exactly as Redis's lzf_compress(in,
// len(in), out, outLimit) writes it, or nil where that returns 0: empty
// input, outLimit < 1, or a result that its (conservative) bounds checks
// find would not fit in outLimit bytes. With outLimit = len(in)-4 it is the
// payload of an RDB LZF string.
//
// lzf_compress never clears its stack-allocated hash table (INIT_HTAB 0);
// leftovers could only add a back reference to an earlier position of this
// same input that the input itself did not hash, and this implementation
// is the clean-table behaviour. Inputs of 2^40 bytes or more give nil. t
// is the caller's table (the engine keeps one: no pool, actors/ holds no
// sync), reused across calls without clearing.
func lzfCompress(t *lzfTable, in []byte, outLimit int) []byte {
	n := len(in)
	if n == 0 || outLimit <= 0 || n > lzfPosMask {
		return nil
	}
	if t.gen == lzfGenMax {
		clear(t.slot[:])
		t.gen = 0
	}
	t.gen++
	gen := t.gen << lzfPosBits

	// out's length is the C code's op; every capacity check below is the
	// one lzf_compress makes, so out never grows past outLimit+1 (the
	// last byte being at most a reserved, never-written run header).
	out := make([]byte, 0, min(outLimit+1, n+n/lzfMaxLit+8))
	lit := 0
	out = append(out, 0) // start run

	var hval uint32
	if n >= 2 {
		hval = uint32(in[0])<<8 | uint32(in[1])
	}
	ip := 0
	for ip < n-2 {
		hval = hval<<8 | uint32(in[ip+2])
		h := &t.slot[lzfIdx(hval)]
		prev := *h
		*h = gen | uint64(ip)

		ref := -1
		if prev&^lzfPosMask == gen {
			ref = int(prev & lzfPosMask)
		}
		// ref > 0: liblzf never refers back to the first input byte.
		if ref > 0 && ref < ip && ip-ref-1 < lzfMaxOff &&
			in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			off := ip - ref - 1
			length := 2
			maxlen := min(n-ip-length, lzfMaxRef)

			opAfterUndo := len(out)
			if lit == 0 {
				opAfterUndo--
			}
			if opAfterUndo+3+1 >= outLimit {
				return nil
			}
			out[len(out)-lit-1] = byte(lit - 1) // stop run
			if lit == 0 {
				out = out[:len(out)-1] // undo run if length is zero
			}

			// The match length, compared as liblzf does: 16 bytes
			// unconditionally when maxlen > 16, then up to maxlen.
			stopped := false
			if maxlen > 16 {
				for range 16 {
					length++
					if in[ref+length] != in[ip+length] {
						stopped = true
						break
					}
				}
			}
			if !stopped {
				for {
					length++
					if length >= maxlen || in[ref+length] != in[ip+length] {
						break
					}
				}
			}

			length -= 2 // bytes matched - 2
			ip++
			if length < 7 {
				out = append(out, byte(off>>8+length<<5))
			} else {
				out = append(out, byte(off>>8+7<<5), byte(length-7))
			}
			out = append(out, byte(off))
			lit = 0
			out = append(out, 0) // start run

			ip += length + 1
			if ip >= n-2 {
				break
			}

			// VERY_FAST: hash the last two positions of the match.
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			t.slot[lzfIdx(hval)] = gen | uint64(ip)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			t.slot[lzfIdx(hval)] = gen | uint64(ip)
			ip++
		} else {
			// one more literal byte
			if len(out) >= outLimit {
				return nil
			}
			lit++
			out = append(out, in[ip])
			ip++
			if lit == lzfMaxLit {
				out[len(out)-lit-1] = byte(lit - 1) // stop run
				lit = 0
				out = append(out, 0) // start run
			}
		}
	}

	if len(out)+3 > outLimit { // at most 3 bytes can be missing here
		return nil
	}
	for ip < n {
		lit++
		out = append(out, in[ip])
		ip++
		if lit == lzfMaxLit {
			out[len(out)-lit-1] = byte(lit - 1)
			lit = 0
			out = append(out, 0)
		}
	}
	out[len(out)-lit-1] = byte(lit - 1) // end run
	if lit == 0 {
		out = out[:len(out)-1] // undo run if length is zero
	}
	return out
}

// lzfDecompress decodes an LZF stream that must expand to exactly outLen
// bytes, as Redis's rdbLoadLzfStringObject requires (lzf_decompress(in,
// len(in), out, outLen) == outLen). It reports false for anything else:
// empty input, a literal run or back reference cut short by the end of
// the input, a reference before the start of the output, output that
// would pass outLen, or a stream that ends short of it. It never reads or
// writes out of bounds, and it does not allocate for an outLen that no
// stream of len(in) bytes can reach.
//
// Redis itself also accepts any stream when outLen is 0 (lzf_decompress
// fails with 0, which equals the length asked for); this function does not.
func lzfDecompress(in []byte, outLen int) ([]byte, bool) {
	if len(in) == 0 || outLen < 0 {
		return nil, false
	}
	if len(in) < (outLen+lzfMaxRatio-1)/lzfMaxRatio {
		return nil, false
	}
	out := make([]byte, outLen)
	ip, op := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 { // literal run
			run := ctrl + 1
			if run > outLen-op || run > len(in)-ip {
				return nil, false
			}
			copy(out[op:], in[ip:ip+run])
			op += run
			ip += run
			continue
		}
		// back reference
		length := ctrl >> 5
		ref := op - (ctrl&0x1f)<<8 - 1
		if ip >= len(in) {
			return nil, false
		}
		if length == 7 {
			length += int(in[ip])
			ip++
			if ip >= len(in) {
				return nil, false
			}
		}
		ref -= int(in[ip])
		ip++
		length += 2
		if length > outLen-op || ref < 0 {
			return nil, false
		}
		if op-ref >= length {
			copy(out[op:op+length], out[ref:ref+length])
			op += length
		} else { // overlapping: the copy repeats what it has just written
			for range length {
				out[op] = out[ref]
				op++
				ref++
			}
		}
	}
	if op != outLen {
		return nil, false
	}
	return out, true
}

// crc64JonesPoly is the reflected form of the Jones polynomial
// 0xad93d23594c935a9 that Redis's crc64.c uses.
const crc64JonesPoly = 0x95ac9329ac4bc9b5

// crc64JonesTab is a slicing-by-8 table: [0] is the classic byte table
// (Redis's crc64_tab), [k] advances a byte k further.
var crc64JonesTab = func() *[8][256]uint64 {
	var t [8][256]uint64
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ crc64JonesPoly
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 8; k++ {
			c = t[0][c&0xff] ^ c>>8
			t[k][i] = c
		}
	}
	return &t
}()

// crc64Jones is Redis's crc64(crc, p, len(p)): CRC-64/Jones, reflected in
// and out, with neither an initial nor a final inversion; DUMP payloads end
// with crc64Jones(0, everything before), little endian.
func crc64Jones(crc uint64, p []byte) uint64 {
	t := crc64JonesTab
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^
			t[4][crc>>24&0xff] ^ t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^
			t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}
