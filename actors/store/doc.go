// Package store owns the datastore side of a node: the store-adapter
// contract (Exec in, Result out, keyed by a requester-chosen ID) that every
// adapter honours, and the embedded in-memory engine that answers like Redis
// 7, byte for byte, and is the datastore the simulator runs.
//
// Adapters that talk to a real Redis or Memcached do I/O and live in netio/;
// nothing here may touch sockets, goroutines or the wall clock: the engine
// reads time only from the Context (or from its caller), so expiry is
// deterministic in the simulator.
//
// # The engine
//
// Engine executes one command per Exec call at a given node time and
// appends exactly one RESP2 reply, error strings included, as Redis 7.0
// words them. NewEmbedded wraps it in an actor that answers Exec with
// Result and runs an active-expire tick every 100ms of node time. One
// table (table.go) lists every command with Redis's arity; unknown
// commands and wrong arities get Redis's replies before any handler runs.
//
// Supported: keys (DEL UNLINK EXISTS TYPE EXPIRE PEXPIRE EXPIREAT
// PEXPIREAT with NX/XX/GT/LT, TTL PTTL PERSIST RENAME RENAMENX TOUCH
// DBSIZE KEYS SCAN FLUSHDB FLUSHALL PING ECHO), strings (GET SET with all
// options, GETSET SETNX SETEX PSETEX MGET MSET MSETNX INCR DECR INCRBY
// DECRBY INCRBYFLOAT APPEND STRLEN GETRANGE SETRANGE GETDEL GETEX), hashes
// (HSET HSETNX HGET HMGET HMSET HDEL HEXISTS HLEN HGETALL HKEYS HVALS
// HINCRBY HINCRBYFLOAT HSTRLEN HRANDFIELD HSCAN), lists (LPUSH RPUSH
// LPUSHX RPUSHX LPOP RPOP LLEN LINDEX LINSERT LRANGE LREM LSET LTRIM
// RPOPLPUSH LMOVE LPOS), sets (SADD SREM SCARD SISMEMBER SMISMEMBER
// SMEMBERS SMOVE SINTER SUNION SDIFF and their STORE forms, SINTERCARD
// SPOP SRANDMEMBER SSCAN) and sorted sets (ZADD with NX/XX/GT/LT/CH/INCR,
// ZREM ZCARD ZCOUNT ZINCRBY ZSCORE ZMSCORE ZRANK ZREVRANK ZRANGE with
// BYSCORE/BYLEX/REV/LIMIT/WITHSCORES, ZREVRANGE Z[REV]RANGEBYSCORE
// Z[REV]RANGEBYLEX ZLEXCOUNT ZREMRANGEBYRANK/SCORE/LEX ZPOPMIN ZPOPMAX
// ZUNIONSTORE ZINTERSTORE ZSCAN) and GEO (GEOADD GEOPOS GEODIST GEOHASH
// GEORADIUS GEORADIUSBYMEMBER and their _RO forms, GEOSEARCH
// GEOSEARCHSTORE: geo.go).
//
// Fidelity details worth knowing: INCRBYFLOAT and HINCRBYFLOAT compute in
// x87 long double precision (a 64-bit-mantissa big.Float) and format with
// %.17Lf as Redis does, so 0.1+0.2 is "0.3"; scores are formatted with
// %.17g (0.1 is "0.10000000000000001" in Redis 7.0); numbers are parsed
// with the strictness of string2ll and strtod/strtold (hex floats, inf,
// underflow); KEYS and MATCH use a byte-for-byte port of stringmatchlen.
// GEO searches walk Redis's geohash boxes in its order and sort with
// glibc's merge sort and Redis's partial quicksort, so equal distances
// come out in Redis's order; their sin, cos and asin are correctly
// rounded (geomath.go), which glibc's are for all but about 0.15% of
// inputs, so a distance may differ from Redis's in its last bit.
//
// The engine is checked against a real redis-server by a differential
// test (diff_test.go) that runs random command sequences on both, with and
// without versions.
//
// # Versions
//
// ExecVersion runs a command under a write's version (Exec.Version): each
// key keeps the version of the newest write applied, whole-value writes
// apply only when newer, read-modify-writes leave the newer version, and
// versioned deletes leave tombstones that no client command sees, purged
// after Options.TombstoneTTL. version.go has the rules, docs/cluster.md
// ("Versions") the table per command. DYNO.DUMP, DYNO.RESTORE and DYNO.DEL
// (dyno.go) move whole values for read repair.
//
// # Deliberate differences from Redis
//
//   - One database: SELECT, MOVE, SWAPDB and FLUSHALL's other databases do
//     not exist. FLUSHDB and FLUSHALL both empty the keyspace.
//   - Unordered replies (KEYS, SCAN, SMEMBERS, SINTER/SUNION/SDIFF, HGETALL
//     HKEYS HVALS) come in insertion order, never Go's map order, so a
//     simulator run replays exactly. For small hashes that is Redis's own
//     order; for sets it is not (Redis's intset sorts integers).
//   - SCAN cursors are positions in insertion order, not reverse-binary
//     hash-table cursors: a key present for a whole scan is returned
//     exactly once (Redis may return it twice). HSCAN and SSCAN return
//     collections of up to 128 elements whole, as Redis does for its
//     compact encodings; larger ones COUNT at a time. ZSCAN's cursor over
//     a large sorted set is a rank, so a scan of a set modified meanwhile
//     may skip or repeat members.
//   - Active expiry pops a min-heap of deadlines (at most budget entries
//     per call) instead of sampling random keys: the keys that expired
//     first go first, and the work is deterministic.
//   - SPOP, SRANDMEMBER and HRANDFIELD draw from the engine's own seeded
//     source (Options.Rand or Options.Seed): same distribution rules as
//     Redis (negative counts repeat, positive counts are distinct), not the
//     same picks.
//   - A score of -0 is stored as 0 (Redis's listpack does the same for
//     small sets; its skiplist would keep -0 for sets over 128 members).
//     ZADD INCR and ZINCRBY still reply "-0" when that is the sum, as Redis.
//   - Lex ranges over members with different scores follow Redis's
//     listpack walk (small sets); Redis's skiplist walk differs for large
//     mixed-score sets, where Redis documents the result as unspecified.
//   - Sorted sets are a sorted slice plus a map: O(log n) rank and range
//     lookups, O(n) memmove on insert and delete. Lists are a ring buffer
//     (O(1) at both ends; LINSERT, LREM, LTRIM rebuild).
//   - No keyspace notifications, no OBJECT/DEBUG, no streams: they
//     answer "unknown command".
//     Blocking pops (BLPOP and friends) are the coordinator's
//     (actors/coord/blocking.go), over LMPOP, ZMPOP and LMOVE here, with
//     the store's watches (watch.go) to wake it; the engine never blocks.
package store
