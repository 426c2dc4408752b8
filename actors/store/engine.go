package store

import (
	"container/heap"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors/hlc"
)

// Options configures an Engine. The zero value means every default.
type Options struct {
	// MaxValueBytes bounds the length of a string value built by APPEND
	// and SETRANGE, in bytes. Default 512 MiB, Redis's proto-max-bulk-len.
	MaxValueBytes int64
	// Rand drives the commands Redis answers at random (SPOP,
	// SRANDMEMBER, HRANDFIELD). Default: a source seeded with Seed, so a
	// run replays exactly. The engine owns it after NewEngine.
	Rand *rand.Rand
	// Seed seeds the default Rand. Default 0.
	Seed uint64
	// HashSeed keys the keyspace's hash function. A node serving
	// clients should pass a secret random value, so that nobody who does
	// not know it can choose keys that collide (Redis keys its SipHash at
	// random for the same reason). Default: derived from Seed, so a
	// simulated run replays exactly (no reply depends on it either way).
	HashSeed uint64
	// TombstoneTTL is how long a key deleted under a version keeps its
	// tombstone (the delete's version, no value), so that an older write
	// arriving late cannot bring the key back. Default
	// DefaultTombstoneTTL.
	TombstoneTTL time.Duration
	// VersionsWhenAsked makes commands without a version answer none, as
	// the Redis adapter's do (they run as plain commands there; read
	// repair's DYNO.DUMP answers its version all the same): the
	// simulator's stand-in for redis-server sets it. Default: an
	// unversioned read answers its key's version, which costs nothing.
	VersionsWhenAsked bool
	// Encodings are the thresholds OBJECT ENCODING reports Redis's
	// compact encodings by (encoding.go); zero fields take Redis's
	// defaults.
	Encodings Encodings
}

// DefaultTombstoneTTL is the default Options.TombstoneTTL: 24 hours, like
// Cassandra's gc_grace_seconds.
const DefaultTombstoneTTL = 24 * time.Hour

// DefaultMaxValueBytes is Redis's default proto-max-bulk-len.
const DefaultMaxValueBytes = 512 << 20

// kind is the type of a stored value, as TYPE names it.
type kind uint8

const (
	kString kind = iota + 1
	kList
	kHash
	kSet
	kZSet
)

func (k kind) String() string {
	switch k {
	case kString:
		return "string"
	case kList:
		return "list"
	case kHash:
		return "hash"
	case kSet:
		return "set"
	case kZSet:
		return "zset"
	}
	return "none"
}

// value is one key's value and its expiry: for a string its bytes follow
// the key in kv, for the other kinds coll holds the collection.
type value struct {
	// kv is the key it is stored at (owned, see keyspace.insert), then,
	// for a string, the string's bytes: one slice for both saves a slice
	// header per key, and a string that outgrows kv's room moves with its
	// key in one append.
	kv []byte
	// coll is the collection a list, hash, set or sorted set holds (see
	// the accessors below): one interface instead of four pointers makes
	// every value 16 bytes smaller.
	coll any

	deadline int64  // Unix milliseconds, node time; the key is gone once now > deadline
	pos      uint32 // its place in the keyspace's insertion order
	klen     uint32 // the key's length in kv
	kind     kind   // 0 (none) for a tombstone
	flags    vflags // fTTL, and how Redis would encode a string (encoding.go)
	// The version of the newest write applied (zero: none), see
	// Engine.version: the node id is an index into the engine's table of
	// node ids, so the version costs the value 8 bytes (the wall clock);
	// vnode and vlogical fill what was padding.
	vnode    uint16
	vlogical uint32
	vwall    int64
}

// vflags are a value's flag bits.
type vflags uint8

const (
	fTTL      vflags = 1 << iota // deadline is set
	fRaw                         // a string Redis would hold raw (changed in place: APPEND, SETBIT...)
	fNotInt                      // a string Redis would not hold as an integer (INCRBYFLOAT's result)
	fUnshared                    // an integer string Redis holds in its own object, not a shared one (COPY's)
)

func (v *value) hasTTL() bool { return v.flags&fTTL != 0 }

func (v *value) list() *list          { l, _ := v.coll.(*list); return l }
func (v *value) hash() *dict[[]byte]  { h, _ := v.coll.(*dict[[]byte]); return h }
func (v *value) set() *dict[struct{}] { s, _ := v.coll.(*dict[struct{}]); return s }
func (v *value) zset() *zset          { z, _ := v.coll.(*zset); return z }

// key is the key the value is stored at.
func (v *value) key() []byte { return v.kv[:v.klen:v.klen] }

// str is a string value's bytes.
func (v *value) str() []byte { return v.kv[v.klen:] }

// Engine is the embedded datastore: a keyspace of typed values with expiry
// that executes Redis commands and answers in RESP2 exactly as Redis 7.0
// does. It reads no clock: every call carries the node's time. It is not
// safe for concurrent use; an actor owns it.
type Engine struct {
	lua      *scripting // the Lua VM of EVAL and SCRIPT, made on first use (script.go)
	event    string     // a coverage mark the last command reached (TakeEvent)
	maxValue int64
	enc      Encodings // with defaults
	lzf      *lzfTable // DUMP's compressor table, made at the first DUMP
	rand     *rand.Rand
	keys     *keyspace
	ttls     expiryHeap
	nTTL     int   // keys with an expiry
	now      int64 // the current command's time, Unix milliseconds
	hashSeed uint64

	// Versions (see version.go).
	tombTTL   int64     // ms
	tombs     *keyspace // tombstones: kind 0, deadline = when purged
	tombHeap  expiryHeap
	nodes     []string // node ids by index; nodes[0] is ""
	nodeIndex map[string]uint16
	lastNode  uint16 // the index stamp looked up last
	versioned bool   // a versioned command has run: Result versions are worth computing
	whenAsked bool   // Options.VersionsWhenAsked
	mark      string // DYNO.MARK's marker: set once, lost with the engine
	// stale makes the keyspace helpers (add, del, setString, setExpire,
	// persist) change nothing while a command computes its reply: a
	// write older than the key's version answers as if it had been
	// applied and then overwritten.
	stale bool
	wrote bool // a helper changed the keyspace since it was last cleared
	// inScript: the command runs from a script's redis.call (SORT then
	// orders a set it would leave unordered, as Redis does).
	inScript bool
}

// NewEngine returns an empty engine.
func NewEngine(opts Options) *Engine {
	e := &Engine{maxValue: opts.MaxValueBytes, rand: opts.Rand, hashSeed: opts.HashSeed, whenAsked: opts.VersionsWhenAsked, enc: opts.Encodings.withDefaults()}
	if e.hashSeed == 0 {
		e.hashSeed = opts.Seed*0x9e3779b97f4a7c15 + 0x6a09e667f3bcc909
	}
	e.keys = newKeyspace(e.hashSeed)
	e.tombs = newKeyspace(e.hashSeed ^ 0x5851f42d4c957f2d)
	e.tombTTL = opts.TombstoneTTL.Milliseconds()
	if opts.TombstoneTTL <= 0 {
		e.tombTTL = DefaultTombstoneTTL.Milliseconds()
	}
	e.nodes = []string{""}
	e.nodeIndex = map[string]uint16{"": 0}
	if e.maxValue <= 0 {
		e.maxValue = DefaultMaxValueBytes
	}
	if e.rand == nil {
		e.rand = rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	}
	return e
}

// Len is the number of keys held, counting expired keys not yet reclaimed
// (as DBSIZE does).
func (e *Engine) Len() int { return e.keys.len() }

// Exec runs one command (args[0] is its name, any case) at node time now
// and appends exactly one RESP2 reply to dst. Args may alias a network
// buffer: the engine copies whatever it keeps.
func (e *Engine) Exec(now time.Time, args [][]byte, dst []byte) []byte {
	dst, _ = e.ExecVersion(now, args, hlc.Version{}, dst)
	return dst
}

// ExecVersion runs one command as Exec does, under version ver (zero:
// unversioned, exactly Exec), and returns with the reply the version the
// command's key holds afterwards (see version.go for what versions do to
// each family of commands).
func (e *Engine) ExecVersion(now time.Time, args [][]byte, ver hlc.Version, dst []byte) ([]byte, hlc.Version) {
	e.now = now.UnixMilli()
	if len(args) == 0 {
		return appendErr(dst, "ERR empty command"), hlc.Version{}
	}
	c := lookupCommand(args[0])
	if c == nil {
		return appendUnknownCommand(dst, args), hlc.Version{}
	}
	if (c.arity > 0 && len(args) != c.arity) || (c.arity < 0 && len(args) < -c.arity) {
		return appendArityErr(dst, c.name), hlc.Version{}
	}
	if ver.IsZero() {
		dst = c.run(e, args, dst)
		if !e.versioned || (e.whenAsked && !strings.HasPrefix(c.name, "dyno.")) {
			return dst, hlc.Version{}
		}
		return dst, e.resultVersion(c, args)
	}
	return e.execVersioned(c, args, ver, dst)
}

// lookup returns the live value at key, reclaiming it first if it has
// expired (Redis's lazy expiry).
func (e *Engine) lookup(key []byte) *value {
	v := e.keys.get(key)
	if v == nil {
		return nil
	}
	if v.hasTTL() && e.now > v.deadline {
		e.del(key)
		return nil
	}
	return v
}

// add stores a new value at key, which must be absent.
func (e *Engine) add(key []byte, v *value) {
	if e.stale {
		return
	}
	e.wrote = true
	e.keys.add(key, v)
}

func (e *Engine) del(key []byte) bool {
	v := e.keys.get(key)
	if v == nil {
		return false
	}
	if e.stale {
		return true
	}
	e.wrote = true
	if v.hasTTL() {
		e.nTTL--
	}
	e.keys.del(key)
	return true
}

func (e *Engine) setExpire(v *value, deadline int64) {
	if e.stale {
		return
	}
	e.wrote = true
	if !v.hasTTL() {
		e.nTTL++
	}
	v.flags |= fTTL
	v.deadline = deadline
	heap.Push(&e.ttls, expiryItem{deadline: deadline, v: v})
	if len(e.ttls) > 64 && len(e.ttls) > 4*e.nTTL {
		e.rebuildTTLs()
	}
}

func (e *Engine) persist(v *value) bool {
	if !v.hasTTL() {
		return false
	}
	if e.stale {
		return true
	}
	e.wrote = true
	v.flags &^= fTTL
	e.nTTL--
	return true
}

// ActiveExpire reclaims expired keys at node time now, examining at most
// budget entries of the expiry index, and returns how many keys it
// deleted. Redis samples random keys with a TTL; the engine keeps its
// expiries in a min-heap instead, so each tick reclaims the keys that
// expired first and the work done is deterministic.
func (e *Engine) ActiveExpire(now time.Time, budget int) int {
	ms := now.UnixMilli()
	deleted := 0
	for ; budget > 0 && len(e.ttls) > 0; budget-- {
		top := e.ttls[0]
		if top.deadline >= ms {
			break
		}
		heap.Pop(&e.ttls)
		if cur := e.keys.get(top.v.key()); cur == top.v && cur.hasTTL() && cur.deadline == top.deadline {
			e.del(cur.key())
			deleted++
		}
	}
	e.purgeTombstones(ms, max(budget, ActiveExpireBudget/8)) // tombstones get a share even when keys take the budget
	return deleted
}

// rebuildTTLs drops heap entries made stale by PERSIST, overwrites,
// deletions and changed deadlines.
func (e *Engine) rebuildTTLs() {
	live := e.ttls[:0]
	for _, it := range e.ttls {
		if cur := e.keys.get(it.v.key()); cur == it.v && cur.hasTTL() && cur.deadline == it.deadline {
			live = append(live, it)
		}
	}
	clear(e.ttls[len(live):])
	e.ttls = live
	heap.Init(&e.ttls)
}

func (e *Engine) flush() {
	if e.stale {
		return
	}
	e.wrote = true
	e.keys = newKeyspace(e.hashSeed)
	e.ttls = nil
	e.nTTL = 0
	e.tombs = newKeyspace(e.hashSeed ^ 0x5851f42d4c957f2d)
	e.tombHeap = nil
}

type expiryItem struct {
	deadline int64
	v        *value // the value the deadline was set on (it knows its key); stale if the key now holds another
}

type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].deadline < h[j].deadline }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = expiryItem{}
	*h = old[:len(old)-1]
	return it
}
