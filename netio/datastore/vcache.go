package datastore

import (
	"hash/maphash"
	"sync"

	"github.com/dynonode/dynonode/actors/hlc"
)

// The version cache: writes compared where their order can be wrong only.
//
// A versioned SET run by scriptSet costs Redis about four plain SETs (the
// script's call, and its HGET, SET and HSET), while MULTI SET HSET EXEC,
// which stamps the version without comparing it, costs about two
// (BenchmarkRedisVersionAlternatives measures both). The comparison can be
// skipped when the adapter knows that the write is newer than what Redis
// holds for its key. It knows that for the keys its own writes stamped:
// with one connection (requests run in the order the adapter sends them)
// and no other writer of the Redis (dynonode's versions assume none), the
// version the adapter last stamped on a key is at least the one the key
// holds. The cache keeps that version, per key:
//
//   - a plain SET (or SET PXAT) newer than the key's cached version runs
//     as MULTI SET HSET EXEC, and the cache takes its version; if it
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
// MULTI needs no HDEL. A new connection (a Redis restarted, perhaps from a
// snapshot) empties the cache. At most vcacheMax keys are kept (about 100
// bytes each beyond the key's name); when it is full an arbitrary key is
// forgotten, which costs only a comparison.
//
// Keys are kept by a 64-bit hash of their name (a lookup of the name itself
// cost 0.5 us in a cache of 100,000 keys). Two keys that share a hash share
// an entry: it holds the newer of their versions, at least what either
// key holds, and a write of either forgets it, so the rules above hold.
type verCache struct {
	mu    sync.Mutex
	seed  maphash.Seed
	m     map[uint64]vcEntry
	max   int
	epoch uint64 // the pool's connects when the cache was last emptied
	seq   uint64
}

// vcEntry is a key's cached version, or (seq != 0) the script request
// whose answer may teach it.
type vcEntry struct {
	v   hlc.Version
	seq uint64
}

// vcacheMax bounds the keys cached.
var vcacheMax = 1 << 17

// plantNoForget is a planted bug for the tests: the cache forgets nothing
// when other commands write its keys.
var plantNoForget bool

func newVerCache(max int) *verCache {
	return &verCache{m: make(map[uint64]vcEntry), max: max, seed: maphash.MakeSeed()}
}

// sync empties the cache if the pool connected again since the last call
// (what it learned before its first connection is of that connection).
func (vc *verCache) sync(epoch uint64) {
	if vc.epoch != epoch {
		if vc.epoch != 0 {
			vc.mu.Lock()
			clear(vc.m)
			vc.mu.Unlock()
		}
		vc.epoch = epoch
	}
}

// newer reports whether v is newer than key's cached version; if so, the
// cache takes v (the write is sent without a comparison).
func (vc *verCache) newer(key []byte, v hlc.Version) bool {
	h := maphash.Bytes(vc.seed, key)
	vc.mu.Lock()
	defer vc.mu.Unlock()
	e, ok := vc.m[h]
	if !ok || e.seq != 0 || !e.v.Less(v) {
		return false
	}
	vc.m[h] = vcEntry{v: v}
	return true
}

// pending records that a script request for key is sent: its answer may
// teach key's version (learn), unless another request for key is sent
// first. It returns the key's hash and the request's sequence number.
func (vc *verCache) pending(key []byte) (hash, seq uint64) {
	h := maphash.Bytes(vc.seed, key)
	vc.mu.Lock()
	defer vc.mu.Unlock()
	vc.seq++
	if _, ok := vc.m[h]; !ok && len(vc.m) >= vc.max {
		for k := range vc.m {
			delete(vc.m, k)
			break
		}
	}
	vc.m[h] = vcEntry{seq: vc.seq}
	return h, vc.seq
}

// learn records that script request seq for the key of hash h applied its
// write: the key holds v.
func (vc *verCache) learn(h, seq uint64, v hlc.Version) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if e, ok := vc.m[h]; ok && e.seq == seq {
		vc.m[h] = vcEntry{v: v}
	}
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
		"zcard", "zscore", "zrange", "zrank", "dyno.dump":
		return
	}
	if plantNoForget {
		return
	}
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if len(vc.m) == 0 {
		return
	}
	switch name {
	case "flushall", "flushdb", "swapdb", "debug", "eval", "evalsha", "eval_ro", "evalsha_ro",
		"fcall", "fcall_ro", "function", "script", "exec", "multi":
		clear(vc.m)
		return
	}
	for _, a := range args[1:] {
		delete(vc.m, maphash.Bytes(vc.seed, a))
	}
}
