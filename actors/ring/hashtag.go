package ring

import (
	"bytes"
	"fmt"
)

// HashTag is Dynomite's hash_tag: two delimiter bytes such as "{}". When a
// key contains both, only the bytes between them are hashed, so related keys
// ("{user1000}.following", "{user1000}.followers") land on the same node.
// The zero value means no hash tag: the whole key is hashed.
type HashTag struct {
	open, close byte
	set         bool
}

// ParseHashTag returns the hash tag spelled by s, which must be exactly two
// bytes (Dynomite rejects any other length). An absent hash_tag setting is
// the zero HashTag, not an empty string.
func ParseHashTag(s string) (HashTag, error) {
	if len(s) != 2 {
		return HashTag{}, fmt.Errorf("ring: hash tag %q: must be exactly 2 characters, got %d bytes: %w", s, len(s), ErrInvalidHashTag)
	}
	return HashTag{open: s[0], close: s[1], set: true}, nil
}

// IsZero reports whether t is the zero HashTag (no tag configured).
func (t HashTag) IsZero() bool { return !t.set }

// String returns the two delimiters, or "" for the zero HashTag.
func (t HashTag) String() string {
	if !t.set {
		return ""
	}
	return string([]byte{t.open, t.close})
}

// Extract returns the part of key that is hashed: if key contains the open
// delimiter and, after its first occurrence, the close delimiter, the bytes
// between the two (possibly none); otherwise the whole key. The result is a
// subslice of key; Extract does not allocate.
func (t HashTag) Extract(key []byte) []byte {
	if !t.set {
		return key
	}
	i := bytes.IndexByte(key, t.open)
	if i < 0 {
		return key
	}
	rest := key[i+1:]
	j := bytes.IndexByte(rest, t.close)
	if j < 0 {
		return key
	}
	return rest[:j:j]
}
