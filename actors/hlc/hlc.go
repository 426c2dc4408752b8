// Package hlc is the hybrid logical clock of a node (Kulkarni et al.,
// "Logical Physical Clocks", 2014) and the versions made of it.
//
// A Timestamp is a wall-clock reading in nanoseconds plus a logical
// counter. A Clock never goes backwards, even when the wall clock steps
// back, and merging the timestamps that arrive with peer messages makes
// every event that causally follows another get a larger timestamp,
// across nodes. A Version is a Timestamp plus the id of the node that made
// it: versions are totally ordered, so every replica picks the same
// newest write.
//
// The package is pure: the caller passes the wall clock in.
package hlc

import (
	"strconv"
	"time"
)

// Timestamp is one reading of a hybrid logical clock. The zero Timestamp
// is older than every reading.
type Timestamp struct {
	// Wall is the largest wall-clock time seen, Unix nanoseconds.
	Wall int64
	// Logical orders events that share Wall.
	Logical uint32
}

// IsZero reports whether t is the zero Timestamp.
func (t Timestamp) IsZero() bool { return t == Timestamp{} }

// Compare returns -1, 0 or +1 as t is older than, equal to or newer than u.
func (t Timestamp) Compare(u Timestamp) int {
	switch {
	case t.Wall < u.Wall:
		return -1
	case t.Wall > u.Wall:
		return 1
	case t.Logical < u.Logical:
		return -1
	case t.Logical > u.Logical:
		return 1
	}
	return 0
}

// Less reports whether t is older than u.
func (t Timestamp) Less(u Timestamp) bool { return t.Compare(u) < 0 }

// Time is t's wall part as a time.
func (t Timestamp) Time() time.Time { return time.Unix(0, t.Wall).UTC() }

func (t Timestamp) String() string {
	return strconv.FormatInt(t.Wall, 10) + "." + strconv.FormatUint(uint64(t.Logical), 10)
}

// Clock is one node's hybrid logical clock. The zero Clock is ready.
type Clock struct {
	last Timestamp
}

// Now returns a timestamp newer than every one this clock returned or
// merged before, given the node's wall clock phys.
func (c *Clock) Now(phys time.Time) Timestamp {
	pt := phys.UnixNano()
	if pt > c.last.Wall {
		c.last = Timestamp{Wall: pt}
	} else {
		c.tick()
	}
	return c.last
}

// Update merges a timestamp that came with a message from a peer, so that
// whatever this node does next is newer than what the peer had done when
// it sent the message. It returns the clock's new reading.
func (c *Clock) Update(remote Timestamp, phys time.Time) Timestamp {
	pt := phys.UnixNano()
	switch {
	case pt > c.last.Wall && pt > remote.Wall:
		c.last = Timestamp{Wall: pt}
	case remote.Wall > c.last.Wall:
		c.last = Timestamp{Wall: remote.Wall, Logical: remote.Logical}
		c.tick()
	case remote.Wall == c.last.Wall:
		c.last.Logical = max(c.last.Logical, remote.Logical)
		c.tick()
	default:
		c.tick()
	}
	return c.last
}

// Last is the newest timestamp the clock returned or merged, without
// moving it: what a node stamps on a message it sends.
func (c *Clock) Last() Timestamp { return c.last }

// tick moves the logical part on; when it would wrap, the wall part moves
// on by a nanosecond instead (2^32 events within one nanosecond of wall
// time cannot happen in practice, but the order must hold if they do).
func (c *Clock) tick() {
	if c.last.Logical == ^uint32(0) {
		c.last = Timestamp{Wall: c.last.Wall + 1}
		return
	}
	c.last.Logical++
}

// Version names one write: the timestamp its coordinator gave it and the
// coordinator's node. The zero Version is older than every write (a key
// written before versions, or through a node without them).
type Version struct {
	TS   Timestamp
	Node string
}

// IsZero reports whether v is the zero Version.
func (v Version) IsZero() bool { return v.TS.IsZero() && v.Node == "" }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than
// w: by timestamp, then by node id, so two versions made by different
// nodes at the same instant are still ordered, the same way everywhere.
func (v Version) Compare(w Version) int {
	if c := v.TS.Compare(w.TS); c != 0 {
		return c
	}
	switch {
	case v.Node < w.Node:
		return -1
	case v.Node > w.Node:
		return 1
	}
	return 0
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// Newer returns the newer of v and w.
func Newer(v, w Version) Version {
	if v.Less(w) {
		return w
	}
	return v
}

func (v Version) String() string {
	if v.IsZero() {
		return "none"
	}
	return v.TS.String() + "@" + v.Node
}

// AppendText appends v's text form, the one the Redis adapter keeps in its
// version hash and anti-entropy's listings carry: 16 hex digits of wall
// time, 8 of logical time, then the node id; nothing for the zero Version.
// Texts of versions of one node id compare as the versions do.
func AppendText(b []byte, v Version) []byte {
	if v.IsZero() {
		return b
	}
	b = appendHex(b, uint64(v.TS.Wall), 16)
	b = appendHex(b, uint64(v.TS.Logical), 8)
	return append(b, v.Node...)
}

// ParseText reads AppendText's form; ok is false when b is not one. The
// empty text is the zero Version.
func ParseText(b []byte) (v Version, ok bool) {
	if len(b) == 0 {
		return Version{}, true
	}
	if len(b) < 24 {
		return Version{}, false
	}
	w, ok1 := parseHex(b[:16])
	l, ok2 := parseHex(b[16:24])
	if !ok1 || !ok2 {
		return Version{}, false
	}
	return Version{TS: Timestamp{Wall: int64(w), Logical: uint32(l)}, Node: string(b[24:])}, true
}

func appendHex(b []byte, x uint64, n int) []byte {
	const digits = "0123456789abcdef"
	for i := n - 1; i >= 0; i-- {
		b = append(b, digits[(x>>(4*uint(i)))&0xf])
	}
	return b
}

func parseHex(b []byte) (uint64, bool) {
	var x uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			x = x<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			x = x<<4 | uint64(c-'a'+10)
		case 'A' <= c && c <= 'F':
			x = x<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return x, true
}
