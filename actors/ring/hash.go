//lint:file-ignore ST1003 the hash constants keep Dynomite's names (fnv1a_64 is FNV1a_64), which its config and docs use

package ring

import (
	"fmt"
	"strings"
)

// Hash names one of Dynomite's key hash functions (the `hash:` setting).
// The zero value is Murmur, Dynomite's default.
type Hash uint8

// The hash functions, named as in Dynomite's configuration. Murmur comes
// first so that the zero value is the default.
const (
	// Murmur is MurmurHash2-32 with seed 0xdeadbeef*len, Dynomite's default.
	Murmur Hash = iota
	// OneAtATime is Jenkins' one-at-a-time hash. Dynomite reads the key as
	// (signed) char on x86, so bytes >= 0x80 are sign-extended; we do too.
	OneAtATime
	// MD5 is the first 4 bytes of the MD5 digest, little-endian.
	MD5
	// CRC16 is CRC-16/XMODEM, but the running value is not truncated to 16
	// bits (twemproxy heritage), so long keys produce up to 32 bits.
	CRC16
	// CRC32 is libmemcached's variant: bits 16..30 of the IEEE CRC-32.
	CRC32
	// CRC32a is the plain IEEE CRC-32.
	CRC32a
	// FNV1_64 is 64-bit FNV-1 truncated to its low 32 bits.
	FNV1_64
	// FNV1a_64 is, despite its name, FNV-1a computed in 32 bits with the
	// 64-bit offset basis and prime truncated to 32 bits.
	FNV1a_64
	// FNV1_32 is 32-bit FNV-1.
	FNV1_32
	// FNV1a_32 is 32-bit FNV-1a.
	FNV1a_32
	// Hsieh is Paul Hsieh's SuperFastHash with initial value 0. The empty
	// key hashes to 0 (Dynomite leaves the token unset there).
	Hsieh
	// Jenkins is Bob Jenkins' lookup3 hashlittle with initval 13. The empty
	// key hashes to lookup3's value 0xdeadbefc (Dynomite leaves the token
	// unset there).
	Jenkins
	// Murmur3 is MurmurHash3 x86_32 with seed 0. Dynomite's murmur3 is a
	// stub that computes nothing (every key gets the same unusable token);
	// this is a dynonode improvement and has no Dynomite equivalent.
	Murmur3

	numHashes = iota
)

// DefaultHash is the hash used when the configuration names none.
const DefaultHash = Murmur

// hashNames maps each Hash to its configuration name.
var hashNames = [numHashes]string{
	Murmur:     "murmur",
	OneAtATime: "one_at_a_time",
	MD5:        "md5",
	CRC16:      "crc16",
	CRC32:      "crc32",
	CRC32a:     "crc32a",
	FNV1_64:    "fnv1_64",
	FNV1a_64:   "fnv1a_64",
	FNV1_32:    "fnv1_32",
	FNV1a_32:   "fnv1a_32",
	Hsieh:      "hsieh",
	Jenkins:    "jenkins",
	Murmur3:    "murmur3",
}

// dynomiteOrder lists the hashes in the order of Dynomite's HASH_CODEC, so
// error messages read like Dynomite's documentation.
var dynomiteOrder = [numHashes]Hash{
	OneAtATime, MD5, CRC16, CRC32, CRC32a, FNV1_64, FNV1a_64,
	FNV1_32, FNV1a_32, Hsieh, Murmur, Jenkins, Murmur3,
}

// Hashes returns every hash function in Dynomite's order.
func Hashes() []Hash {
	out := dynomiteOrder
	return out[:]
}

// ParseHash returns the Hash with the given configuration name. Names are
// case-sensitive, as in Dynomite.
func ParseHash(name string) (Hash, error) {
	for _, h := range dynomiteOrder {
		if hashNames[h] == name {
			return h, nil
		}
	}
	valid := make([]string, 0, numHashes)
	for _, h := range dynomiteOrder {
		valid = append(valid, hashNames[h])
	}
	return 0, fmt.Errorf("ring: hash %q (valid: %s): %w", name, strings.Join(valid, ", "), ErrUnknownHash)
}

// Valid reports whether h is one of the defined hash functions.
func (h Hash) Valid() bool { return h < numHashes }

// String returns the configuration name of h.
func (h Hash) String() string {
	if !h.Valid() {
		return fmt.Sprintf("Hash(%d)", uint8(h))
	}
	return hashNames[h]
}

// Sum hashes key to a 32-bit token exactly as Dynomite's hash_<name> does on
// x86-64, except where Dynomite computes nothing: Murmur3 always, and Hsieh
// and Jenkins on the empty key (see their constants). It does not allocate.
// An invalid Hash sums to 0; ParseHash and New never produce or accept one.
func (h Hash) Sum(key []byte) uint32 {
	switch h {
	case Murmur:
		return murmur2(key)
	case OneAtATime:
		return oneAtATime(key)
	case MD5:
		return md5Token(key)
	case CRC16:
		return crc16(key)
	case CRC32:
		return crc32Memcached(key)
	case CRC32a:
		return crc32a(key)
	case FNV1_64:
		return fnv1x64(key)
	case FNV1a_64:
		return fnv1ax64(key)
	case FNV1_32:
		return fnv1x32(key)
	case FNV1a_32:
		return fnv1ax32(key)
	case Hsieh:
		return hsieh(key)
	case Jenkins:
		return jenkins(key)
	case Murmur3:
		return murmur3x86x32(key, 0)
	}
	return 0
}
