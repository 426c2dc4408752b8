package datastore

import (
	"hash/maphash"
	"sync"

	"github.com/dynonode/dynonode/actors/hlc"
)

// The version cache: writes compared where their order can be wrong only.
//
// A versioned SET run by scriptSet costs redis-server about 2.6 plain SETs
// (the script's call, and its HGET, SET and HSET), while a stamp, which
// writes the version without comparing it, costs about 1.7 as MULTI SET
// HSET EXEC and 1.4 grouped (BenchmarkRedisVersionAlternatives). The comparison can be
// skipped when the adapter knows that the write is newer than what Redis
// holds for its key. It knows that for the keys its own writes stamped:
// with one connection (requests run in the order the adapter sends them)
// and no other writer of the Redis (dynonode's versions assume none), the
// version the adapter last stamped on a key is at least the one the key
// holds. The cache keeps that version, per key:
//
//   - a plain SET newer than the key's cached version is stamped
//     (MULTI MSET HSET EXEC with the stamps queued next to it: see
//     appendGroup), and the cache takes its version; if it
//     fails, Redis holds an older version than cached, never a newer one,
//     so later writes newer than the cache are still newer than Redis;
//   - one that is not newer, or whose key is not cached, runs the script,
//     which compares; when the script says it applied the write (its
//     version is the key's), the cache learns that version, unless
//     another request for the key was sent in between;
//   - any other request that may write a key forgets every key it names
//     (and the commands that may write keys they do not name, such as
//     FLUSHALL, EVAL or SWAPDB, forget them all): the scripts then
//     compare.
//
// The stamped keys never hold a tombstone (every stamp deletes it), so the
// MULTI needs no HDEL. A connection that ends or begins (a Redis restarted,
// perhaps from a snapshot, or another Redis at the address) empties the
// cache, and so does a request sent again after NOSCRIPT (it then runs
// after requests sent after it). Forgetting a key costs only a
// comparison.
//
// The cache is a table of vcacheMax slots (32 bytes each, 8 MiB) in sets
// of vcacheWays: a key lives in the set its name's 64-bit hash picks, and
// a slot holds that hash, a second independent one (two keys count as one
// only if both hashes agree: about 2^-128 for a pair) and the key's
// version (the node id as an index into a table of the ids seen). A
// lookup reads one set, 128 bytes (a Go map of 100,000 keys cost 0.5 us
// per lookup there, in cache misses; one slot per set kept only half of
// 100,000 keys). A key is forgotten when its set is full and another key
// takes its slot (the more keys are written, the fewer stay cached).
type verCache struct {
	mu    sync.Mutex
	seed  maphash.Seed
	seed2 maphash.Seed
	slots []vcSlot
	nodes []string          // node ids by index
	index map[string]uint16 // node id -> index
	epoch uint64            // the pool's connects when the cache was last emptied
	seq   uint64
	evict uint64 // turns the slot a full set gives up
	used  int    // slots in use: none, and touch has nothing to forget
}

// vcSlot is one key's cached version, or (pending) the script request
// whose answer may teach it (its number in wall).
type vcSlot struct {
	tag     uint64 // the key's hash; 0: empty
	check   uint64 // a second, independent hash of the key
	wall    int64
	logical uint32
	node    uint16
	pending bool
}

// vcacheMax is the number of slots (32 bytes each), vcacheWays the slots
// of a set.
var vcacheMax = 1 << 18

const vcacheWays = 4

// plantNoForget is a planted bug for the tests: the cache forgets nothing
// when other commands write its keys.
var plantNoForget bool

func newVerCache(max int) *verCache {
	max = max / vcacheWays * vcacheWays
	if max < vcacheWays {
		max = vcacheWays
	}
	return &verCache{slots: make([]vcSlot, max), index: map[string]uint16{}, seed: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
}

// hash is key's hash, never 0.
func (vc *verCache) hash(key []byte) vkey {
	return vkey{maphash.Bytes(vc.seed, key) | 1, maphash.Bytes(vc.seed2, key)}
}

// vkey is a key as the cache knows it: two independent 64-bit hashes of
// its name (two keys are one only if both agree: about 2^-128).
type vkey struct{ h, c uint64 }

// find returns the slot holding hash h, or nil. The caller holds mu.
func (vc *verCache) find(k vkey) *vcSlot {
	set := vc.set(k.h)
	for i := range set {
		if set[i].tag == k.h && set[i].check == k.c {
			return &set[i]
		}
	}
	return nil
}

// set is the set hash h lives in.
func (vc *verCache) set(h uint64) []vcSlot {
	n := uint64(len(vc.slots) / vcacheWays)
	i := (h >> 1) % n * vcacheWays
	return vc.slots[i : i+vcacheWays]
}

// take returns the slot for hash h: its own, an empty one, or one given up
// by another key. The caller holds mu.
func (vc *verCache) take(k vkey) *vcSlot {
	if s := vc.find(k); s != nil {
		return s
	}
	set := vc.set(k.h)
	for i := range set {
		if set[i].tag == 0 {
			return &set[i]
		}
	}
	vc.evict++
	return &set[vc.evict%vcacheWays]
}

// sync empties the cache if a session ended or began since the last call
// (epoch counts them), except for the first connection: what the cache
// learned before it is of that connection.
func (vc *verCache) sync(epoch uint64) {
	if vc.epoch != epoch {
		if vc.epoch != 0 || epoch != 1 {
			vc.forgetAll()
		}
		vc.epoch = epoch
	}
}

// version is s's version.
func (vc *verCache) version(s *vcSlot) hlc.Version {
	return hlc.Version{TS: hlc.Timestamp{Wall: s.wall, Logical: s.logical}, Node: vc.nodes[s.node]}
}

// put makes s hold key h at version v; false if v's node id has no index
// left (then s is emptied).
func (vc *verCache) put(s *vcSlot, k vkey, v hlc.Version) bool {
	i, ok := vc.index[v.Node]
	if !ok {
		if len(vc.nodes) > 1<<16-1 {
			*s = vcSlot{}
			vc.used--
			return false
		}
		i = uint16(len(vc.nodes))
		vc.nodes = append(vc.nodes, v.Node)
		vc.index[v.Node] = i
	}
	*s = vcSlot{tag: k.h, check: k.c, wall: v.TS.Wall, logical: v.TS.Logical, node: i}
	return true
}

// newer reports whether v is newer than key's cached version; if so, the
// cache takes v (the write is sent without a comparison).
func (vc *verCache) newer(key []byte, v hlc.Version) bool {
	k := vc.hash(key)
	vc.mu.Lock()
	defer vc.mu.Unlock()
	s := vc.find(k)
	if s == nil || s.pending || !vc.version(s).Less(v) {
		return false
	}
	return vc.put(s, k, v)
}

// pending records that a script request for key is sent: its answer may
// teach key's version (learn), unless another request for key is sent
// first. It returns the key's hash and the request's sequence number.
func (vc *verCache) pending(key []byte) (vkey, uint64) {
	k := vc.hash(key)
	vc.mu.Lock()
	defer vc.mu.Unlock()
	vc.seq++
	s := vc.take(k)
	if s.tag == 0 {
		vc.used++
	}
	*s = vcSlot{tag: k.h, check: k.c, wall: int64(vc.seq), pending: true}
	return k, vc.seq
}

// learn records that script request seq for the key of hash h applied its
// write: the key holds v.
func (vc *verCache) learn(k vkey, seq uint64, v hlc.Version) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if s := vc.find(k); s != nil && s.pending && s.wall == int64(seq) {
		vc.put(s, k, v)
	}
}

// forgetAll empties the cache.
func (vc *verCache) forgetAll() {
	vc.mu.Lock()
	clear(vc.slots)
	vc.used = 0
	vc.mu.Unlock()
}

// touch forgets what a request other than a SET may write: the keys it
// names, or every key for the commands that may write keys they do not
// name. Commands that only read forget nothing.
func (vc *verCache) touch(name string, args [][]byte) {
	switch name {
	case "get", "mget", "exists", "strlen", "getrange", "substr", "ttl", "pttl", "type",
		"ping", "echo", "dbsize", "randomkey", "keys", "scan", "info", "time",
		"hget", "hmget", "hgetall", "hlen", "hexists", "hkeys", "hvals",
		"llen", "lrange", "lindex", "scard", "smembers", "sismember",
		"zcard", "zscore", "zrange", "zrank", "dyno.dump", "dyno.keys", "dyno.versions",
		"dyno.mark": // writes only the marker, no versioned key
		return
	}
	if plantNoForget {
		return
	}
	vc.mu.Lock()
	empty := vc.used == 0
	vc.mu.Unlock()
	if empty {
		return // a node that versions nothing (one rack) pays nothing here
	}
	switch name {
	case "flushall", "flushdb", "swapdb", "debug", "eval", "evalsha", "eval_ro", "evalsha_ro",
		"fcall", "fcall_ro", "function", "script", "exec", "multi":
		vc.forgetAll()
		return
	}
	for _, a := range args[1:] {
		k := vc.hash(a)
		vc.mu.Lock()
		if s := vc.find(k); s != nil {
			*s = vcSlot{}
			vc.used--
		}
		vc.mu.Unlock()
	}
}
