package ring

import (
	"crypto/md5"
	"encoding/binary"
	"hash/crc32"
	"math/bits"
)

// The implementations below follow Dynomite's src/hashkit (itself from
// twemproxy and libmemcached) as compiled on x86-64 with gcc: little-endian
// word reads and signed char. testdata/dynomite_hash_vectors.txt pins every
// one of them to output of the C sources.

func murmur2(key []byte) uint32 {
	const m = 0x5bd1e995
	n := uint32(len(key))
	h := (0xdeadbeef * n) ^ n
	for len(key) >= 4 {
		k := binary.LittleEndian.Uint32(key)
		k *= m
		k ^= k >> 24
		k *= m
		h *= m
		h ^= k
		key = key[4:]
	}
	switch len(key) {
	case 3:
		h ^= uint32(key[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(key[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(key[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

func oneAtATime(key []byte) uint32 {
	var v uint32
	for _, b := range key {
		// Dynomite reads through a `const char *`: x86 char is signed.
		v += uint32(int32(int8(b)))
		v += v << 10
		v ^= v >> 6
	}
	v += v << 3
	v ^= v >> 11
	v += v << 15
	return v
}

func md5Token(key []byte) uint32 {
	sum := md5.Sum(key)
	return binary.LittleEndian.Uint32(sum[:4])
}

// crc16Table is the CRC-16/XMODEM (polynomial 0x1021) table, the same values
// as twemproxy's crc16tab.
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crc16(key []byte) uint32 {
	// The running value is a uint32 in the C code and is never masked, so
	// bits shifted past 16 stay in the result; only the table index is 8 bits.
	var crc uint32
	for _, b := range key {
		crc = crc<<8 ^ uint32(crc16Table[byte(crc>>8)^b])
	}
	return crc
}

func crc32Memcached(key []byte) uint32 {
	return crc32.ChecksumIEEE(key) >> 16 & 0x7fff
}

func crc32a(key []byte) uint32 {
	return crc32.ChecksumIEEE(key)
}

const (
	fnv64Offset = 0xcbf29ce484222325
	fnv64Prime  = 0x100000001b3
	fnv32Offset = 2166136261
	fnv32Prime  = 16777619
)

func fnv1x64(key []byte) uint32 {
	h := uint64(fnv64Offset)
	for _, b := range key {
		h *= fnv64Prime
		h ^= uint64(b)
	}
	return uint32(h)
}

func fnv1ax64(key []byte) uint32 {
	// Dynomite keeps the state in 32 bits and truncates both 64-bit constants.
	h := uint32(fnv64Offset & 0xffffffff)
	for _, b := range key {
		h ^= uint32(b)
		h *= fnv64Prime & 0xffffffff
	}
	return h
}

func fnv1x32(key []byte) uint32 {
	h := uint32(fnv32Offset)
	for _, b := range key {
		h *= fnv32Prime
		h ^= uint32(b)
	}
	return h
}

func fnv1ax32(key []byte) uint32 {
	h := uint32(fnv32Offset)
	for _, b := range key {
		h ^= uint32(b)
		h *= fnv32Prime
	}
	return h
}

func hsieh(key []byte) uint32 {
	if len(key) == 0 {
		return 0
	}
	var h uint32
	for len(key) >= 4 {
		h += uint32(binary.LittleEndian.Uint16(key))
		tmp := uint32(binary.LittleEndian.Uint16(key[2:]))<<11 ^ h
		h = h<<16 ^ tmp
		h += h >> 11
		key = key[4:]
	}
	switch len(key) {
	case 3:
		h += uint32(binary.LittleEndian.Uint16(key))
		h ^= h << 16
		// Dynomite's dev branch reads this byte unsigned; releases before
		// its 2019 hashkit cleanup sign-extended it (keys of length 4n+3
		// ending in a byte >= 0x80 hash differently there).
		h ^= uint32(key[2]) << 18
		h += h >> 11
	case 2:
		h += uint32(binary.LittleEndian.Uint16(key))
		h ^= h << 11
		h += h >> 17
	case 1:
		h += uint32(key[0])
		h ^= h << 10
		h += h >> 1
	}
	h ^= h << 3
	h += h >> 5
	h ^= h << 4
	h += h >> 17
	h ^= h << 25
	h += h >> 6
	return h
}

// jenkins is lookup3's hashlittle with initval 13, reading the key byte by
// byte; on little-endian machines its word-at-a-time paths give the same
// result, which the C vectors confirm for every alignment.
func jenkins(key []byte) uint32 {
	a := 0xdeadbeef + uint32(len(key)) + 13
	b, c := a, a
	if len(key) == 0 {
		return c
	}
	for len(key) > 12 {
		a += binary.LittleEndian.Uint32(key)
		b += binary.LittleEndian.Uint32(key[4:])
		c += binary.LittleEndian.Uint32(key[8:])
		a, b, c = jenkinsMix(a, b, c)
		key = key[12:]
	}
	// The last 1..12 bytes, zero-padded, are added as three little-endian words.
	var tail [12]byte
	copy(tail[:], key)
	a += binary.LittleEndian.Uint32(tail[0:])
	b += binary.LittleEndian.Uint32(tail[4:])
	c += binary.LittleEndian.Uint32(tail[8:])
	return jenkinsFinal(a, b, c)
}

func jenkinsMix(a, b, c uint32) (uint32, uint32, uint32) {
	a -= c
	a ^= bits.RotateLeft32(c, 4)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 6)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 8)
	b += a
	a -= c
	a ^= bits.RotateLeft32(c, 16)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 19)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 4)
	b += a
	return a, b, c
}

func jenkinsFinal(a, b, c uint32) uint32 {
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}

func murmur3x86x32(key []byte, seed uint32) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := seed
	n := uint32(len(key))
	for len(key) >= 4 {
		k := binary.LittleEndian.Uint32(key)
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
		key = key[4:]
	}
	var k uint32
	switch len(key) {
	case 3:
		k ^= uint32(key[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(key[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(key[0])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
	}
	h ^= n
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
