package store

import (
	"strings"

	"github.com/dynonode/dynonode/actors/resp"
)

// Encodings: the engine holds every value its own way, but OBJECT ENCODING
// answers what redis-server 7.0 would hold the same value as after the
// same commands, with the same thresholds (Redis's defaults, or
// Options.Encodings): a string is "int", "embstr" or "raw"; a list
// "quicklist"; a set "intset" until a member is not an integer or it
// holds more than set-max-intset-entries, then "hashtable"; a hash
// "listpack" until a field or value given to HSET, HSETNX, HINCRBY or
// HINCRBYFLOAT is longer than hash-max-listpack-value or it holds more
// than hash-max-listpack-entries fields, then "hashtable"; a sorted set
// "listpack" until a new member is longer than zset-max-listpack-value or
// it holds more than zset-max-listpack-entries, then "skiplist". As in
// Redis, a conversion is never undone by removals, but a value rebuilt
// whole (a STORE, SPOP's rebuild, a RESTORE, read repair) starts from
// its content. The flags live in the value (fRaw, fNotInt) and in the
// collections (dict.ht, zset.skiplist); TestEncodingsLikeRedis compares.

// Encodings are the thresholds of Redis's compact encodings (its CONFIG
// parameters of the same names); a zero field takes Redis 7.0's default.
type Encodings struct {
	HashMaxListpackEntries int // hash-max-listpack-entries, default 512
	HashMaxListpackValue   int // hash-max-listpack-value, default 64
	SetMaxIntsetEntries    int // set-max-intset-entries, default 512
	ZSetMaxListpackEntries int // zset-max-listpack-entries, default 128
	ZSetMaxListpackValue   int // zset-max-listpack-value, default 64
}

func (c Encodings) withDefaults() Encodings {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.HashMaxListpackEntries, 512)
	def(&c.HashMaxListpackValue, 64)
	def(&c.SetMaxIntsetEntries, 512)
	def(&c.ZSetMaxListpackEntries, 128)
	def(&c.ZSetMaxListpackValue, 64)
	return c
}

// isLongString reports whether b reads as Redis's string2ll reads an
// integer: optional '-', no leading zero, no sign on zero, at most 20
// bytes, within int64.
func isLongString(b []byte) bool {
	if len(b) == 0 || len(b) > 20 {
		return false
	}
	if len(b) == 1 && b[0] == '0' {
		return true
	}
	d := b
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	_, ok := resp.ParseInt(b)
	return ok
}

// stringEncoding is what Redis 7.0 encodes a string value as.
func stringEncoding(v *value) string {
	s := v.str()
	switch {
	case v.flags&fRaw != 0:
		return "raw"
	case v.flags&fNotInt == 0 && isLongString(s):
		return "int"
	case len(s) <= 44:
		return "embstr"
	}
	return "raw"
}

// encodingOf is OBJECT ENCODING's answer for v.
func encodingOf(v *value) string {
	switch v.kind {
	case kString:
		return stringEncoding(v)
	case kList:
		return "quicklist" // Redis 7.0 has no listpack lists
	case kSet:
		if v.set().ht {
			return "hashtable"
		}
		return "intset"
	case kHash:
		if v.hash().ht {
			return "hashtable"
		}
		return "listpack"
	case kZSet:
		if v.zset().skiplist {
			return "skiplist"
		}
		return "listpack"
	}
	return "unknown"
}

// markRaw records that Redis would now hold v's string raw: it changed it
// in place (APPEND, SETRANGE, SETBIT, BITFIELD, PFADD...) or built it
// outside its integer/embstr path (BITOP, a new HLL).
func markRaw(v *value) { v.flags = v.flags&^fNotInt | fRaw }

// markPlain records that v's string was set whole from a client's
// argument or an integer result: Redis tries the int and embstr encodings.
func markPlain(v *value) { v.flags &^= fRaw | fNotInt | fUnshared }

// setAdded updates a set's encoding after members were added: nonInt
// tells whether any added member was not an integer.
func (e *Engine) setAdded(s *set, nonInt bool) {
	if nonInt || s.len() > e.enc.SetMaxIntsetEntries {
		s.ht = true
	}
}

// newSetFor is an empty set, an intset when first (the first member to
// come) is an integer, as Redis's setTypeCreate.
func newSetFor(first []byte) *set {
	s := newDict[struct{}]()
	s.ht = !isLongString(first)
	return s
}

// setFromContent sets a set's encoding from what it holds, as Redis has
// it after building the set member by member from an intset.
func (e *Engine) setFromContent(s *set) { s.ht = e.setNeedsHT(s) }

// setNeedsHT reports whether a set built member by member from an intset
// ends a hash table: a member is not an integer or there are too many.
func (e *Engine) setNeedsHT(s *set) bool {
	ht := s.len() > e.enc.SetMaxIntsetEntries
	if !ht {
		s.each(func(m string, _ struct{}) bool {
			ht = !isLongString([]byte(m))
			return !ht
		})
	}
	return ht
}

// hashArgs converts a hash when an argument given for it (a field or a
// value) is longer than hash-max-listpack-value (hashTypeTryConversion).
func (e *Engine) hashArgs(h *dict[[]byte], args ...[]byte) {
	for _, a := range args {
		if len(a) > e.enc.HashMaxListpackValue {
			h.ht = true
			return
		}
	}
}

// hashAdded converts a hash that holds more than hash-max-listpack-entries.
func (e *Engine) hashAdded(h *dict[[]byte]) {
	if h.len() > e.enc.HashMaxListpackEntries {
		h.ht = true
	}
}

// hashFromContent sets a hash's encoding from what it holds (Redis's
// RDB load).
func (e *Engine) hashFromContent(h *dict[[]byte]) {
	h.ht = h.len() > e.enc.HashMaxListpackEntries
	if !h.ht {
		h.each(func(f string, val []byte) bool {
			h.ht = len(f) > e.enc.HashMaxListpackValue || len(val) > e.enc.HashMaxListpackValue
			return !h.ht
		})
	}
}

// zsetAdded converts a sorted set when member was just added and is too
// long or made it too large.
func (e *Engine) zsetAdded(z *zset, member string) {
	if len(member) > e.enc.ZSetMaxListpackValue || z.len() > e.enc.ZSetMaxListpackEntries {
		z.skiplist = true
	}
}

// zsetFromContent sets a sorted set's encoding from what it holds, as
// Redis converts a stored result (zsetConvertToListpackIfNeeded).
func (e *Engine) zsetFromContent(z *zset) {
	z.skiplist = z.len() > e.enc.ZSetMaxListpackEntries
	for i := 0; !z.skiplist && i < len(z.items); i++ {
		z.skiplist = len(z.items[i].member) > e.enc.ZSetMaxListpackValue
	}
}

// encodingFromContent sets v's encoding from its content: what Redis has
// after loading the value from a dump (RESTORE, and the engine's own
// read repair and anti-entropy copies).
func (e *Engine) encodingFromContent(v *value) {
	switch v.kind {
	case kString:
		markPlain(v)
	case kSet:
		e.setFromContent(v.set())
	case kHash:
		e.hashFromContent(v.hash())
	case kZSet:
		e.zsetFromContent(v.zset())
	}
}

// encodingOfValue is a value's encoding state, to give to a copy of it.
type encodingOfValue struct {
	flags vflags
	big   bool // dict.ht or zset.skiplist
}

func takeEncoding(v *value) encodingOfValue {
	enc := encodingOfValue{flags: v.flags &^ fTTL}
	switch v.kind {
	case kSet:
		enc.big = v.set().ht
	case kHash:
		enc.big = v.hash().ht
	case kZSet:
		enc.big = v.zset().skiplist
	}
	return enc
}

// apply gives v (a copy of the value enc was taken from) its encoding.
func (enc encodingOfValue) apply(v *value) {
	v.flags = v.flags&fTTL | enc.flags
	switch v.kind {
	case kSet:
		v.set().ht = enc.big
	case kHash:
		v.hash().ht = enc.big
	case kZSet:
		v.zset().skiplist = enc.big
	}
}

const errLFU = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."

// OBJECT ENCODING|REFCOUNT|FREQ|IDLETIME key, OBJECT HELP.
func (e *Engine) cmdObject(args [][]byte, dst []byte) []byte {
	sub := strings.ToLower(string(args[1]))
	if sub == "help" {
		if len(args) != 2 {
			return appendArityErr(dst, "object|help")
		}
		lines := []string{
			"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"ENCODING <key>",
			"    Return the kind of internal representation used in order to store the value",
			"    associated with a <key>.",
			"FREQ <key>",
			"    Return the access frequency index of the <key>. The returned integer is",
			"    proportional to the logarithm of the recent access frequency of the key.",
			"IDLETIME <key>",
			"    Return the idle time of the <key>, that is the approximated number of",
			"    seconds elapsed since the last access to the key.",
			"REFCOUNT <key>",
			"    Return the number of references of the value associated with the specified",
			"    <key>.",
			"HELP",
			"    Prints this help.",
		}
		dst = resp.AppendArrayHeader(dst, len(lines))
		for _, l := range lines {
			dst = resp.AppendSimpleString(dst, l)
		}
		return dst
	}
	switch sub {
	case "encoding", "refcount", "freq", "idletime":
	default:
		return appendErr(dst, "ERR unknown subcommand '"+string(args[1][:min(len(args[1]), 128)])+"'. Try OBJECT HELP.")
	}
	if len(args) != 3 {
		return appendArityErr(dst, "object|"+sub)
	}
	v := e.lookup(args[2])
	if v == nil {
		return resp.AppendNullBulk(dst)
	}
	switch sub {
	case "encoding":
		return resp.AppendBulkString(dst, encodingOf(v))
	case "refcount":
		// Redis shares the integers 0 to 9999 (OBJ_SHARED_INTEGERS)
		// among every key holding one.
		if v.kind == kString && v.flags&fUnshared == 0 && stringEncoding(v) == "int" {
			if n, _ := resp.ParseInt(v.str()); n >= 0 && n < 10000 {
				return resp.AppendInt(dst, 2147483647)
			}
		}
		return resp.AppendInt(dst, 1)
	case "freq":
		return appendErr(dst, errLFU) // the engine evicts nothing: no LFU policy
	}
	return appendErr(dst, "ERR the embedded store does not track access times: OBJECT IDLETIME is served by a node in front of redis-server")
}
