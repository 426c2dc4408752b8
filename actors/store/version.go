package store

import (
	"container/heap"

	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
)

// Versions: each key holds the version of the newest write applied to it
// (value.vwall, vlogical, vnode), and a key deleted under a version leaves
// a tombstone, kept apart in Engine.tombs so that no client command ever
// sees one. What a versioned command does depends on its family (lwwKind,
// docs/cluster.md "Versions" has the table):
//
//   - whole-value writes apply only when newer than the key's version (a
//     tombstone's counts); a stale one changes nothing and answers what it
//     would have answered had it been applied to the key as it is (and at
//     once overwritten by the newer write);
//   - deletes are whole-value writes that leave a tombstone at their
//     version;
//   - read-modify-write commands apply and leave the key at the newer of
//     its version and theirs; on a key whose tombstone is newer they
//     change nothing (answering as on a missing key), so a deleted key
//     does not come back;
//   - multi-key writes apply and leave each key they write at the newer
//     version, as read-modify-writes, without the tombstone check; DEL,
//     UNLINK and MSET of several keys run as one command per key.
//
// An unversioned command (zero version) runs exactly as without versions
// and leaves versions as they are.

// lwwKind is the family of a command under versions.
type lwwKind uint8

const (
	lwwNone   lwwKind = iota // no key: PING, KEYS, SCAN, FLUSHDB...
	lwwRead                  // reads its key, args[1]
	lwwWhole                 // replaces its key's value (or its expiry) whole
	lwwDelete                // deletes its key
	lwwRMW                   // modifies its key in place
	lwwMulti                 // reads or writes several keys
)

// lwwClass is the family of each command by name.
func lwwClass(name string) lwwKind {
	switch name {
	case "ping", "echo", "dbsize", "randomkey", "keys", "scan", "flushdb", "flushall", "dyno.keys", "dyno.versions", "dyno.mark",
		"eval_ro", "evalsha_ro", "script", "object", "config":
		return lwwNone
	case "set", "setnx", "setex", "psetex", "getset", "getex", "mset",
		"expire", "pexpire", "expireat", "pexpireat", "persist", "dyno.restore", "restore":
		return lwwWhole
	case "del", "unlink", "getdel", "dyno.del":
		return lwwDelete
	case "incr", "decr", "incrby", "decrby", "incrbyfloat", "append", "setrange", "setbit", "bitfield",
		"hset", "hmset", "hsetnx", "hdel", "hincrby", "hincrbyfloat",
		"lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "linsert", "lrem", "lset", "ltrim",
		"sadd", "srem", "spop", "pfadd",
		"zadd", "zincrby", "zrem", "geoadd", "zremrangebyrank", "zremrangebyscore", "zremrangebylex", "zpopmin", "zpopmax":
		return lwwRMW
	case "rename", "renamenx", "smove", "rpoplpush", "lmove", "copy",
		"sinter", "sunion", "sdiff", "sinterstore", "sunionstore", "sdiffstore", "sintercard", "lcs", "bitop",
		"zunionstore", "zinterstore", "msetnx", "pfmerge", "eval", "evalsha", "dyno.exec", "lmpop", "zmpop",
		"blpop", "brpop", "bzpopmin", "bzpopmax", "blmpop", "bzmpop", "blmove", "brpoplpush",
		"sort", "sort_ro", // BY and GET read other keys; STORE writes one
		"georadius", "georadiusbymember", "geosearchstore": // STORE, STOREDIST write another key
		return lwwMulti
	}
	return lwwRead
}

// variadic commands take one key or several; with several they are
// multi-key commands.
func singleKey(c *command, args [][]byte) bool {
	switch c.lww {
	case lwwNone, lwwMulti:
		return false
	}
	switch c.name {
	case "del", "unlink", "exists", "touch", "mget", "pfcount":
		return len(args) == 2
	case "mset":
		return len(args) == 3
	}
	return true
}

// writtenKeys are the keys a multi-key command writes.
func writtenKeys(c *command, args [][]byte) [][]byte {
	switch c.name {
	case "rename", "renamenx", "smove", "rpoplpush", "lmove":
		return args[1:3]
	case "sinterstore", "sunionstore", "sdiffstore", "zunionstore", "zinterstore", "pfmerge":
		return args[1:2]
	case "copy", "bitop":
		return args[2:3]
	case "sort":
		if at := sortStoreArg(args); at > 0 {
			return args[at : at+1]
		}
	case "georadius", "georadiusbymember":
		if at := geoStoreArg(args); at > 0 {
			return args[at : at+1]
		}
	case "geosearchstore":
		return args[1:2]
	case "msetnx":
		var ks [][]byte
		for i := 1; i < len(args); i += 2 {
			ks = append(ks, args[i])
		}
		return ks
	case "dyno.exec":
		return DynoExecKeys(args)
	case "blpop", "brpop", "bzpopmin", "bzpopmax":
		return args[1 : len(args)-1]
	case "blmove", "brpoplpush":
		return args[1:3]
	case "blmpop", "bzmpop": // timeout, numkeys, keys
		if n, ok := resp.ParseInt(args[2]); ok && n >= 1 && n <= int64(len(args)-3) {
			return args[3 : 3+n]
		}
	case "lmpop", "zmpop":
		// Any of the keys may be popped: they all take the version.
		if n, ok := resp.ParseInt(args[1]); ok && n >= 1 && n <= int64(len(args)-2) {
			return args[2 : 2+n]
		}
	case "eval", "evalsha":
		// A script may write any key it declares (and, against Redis's
		// rules, others: those keep their versions).
		if n, ok := resp.ParseInt(args[2]); ok && n >= 0 && n <= int64(len(args)-3) {
			return args[3 : 3+n]
		}
	}
	return nil
}

// rmwFlag, in value.vnode, marks a value whose version a read-modify-write
// or a multi-key command set: it was modified in place, so its replicas
// may each hold increments or elements the others lack, and copying one
// over another (read repair) would lose some and, with writes still in
// flight, count others twice. Reads report no version for such a value,
// so coordinators neither pick it by version nor repair it.
const rmwFlag uint16 = 0x8000

// version is the version v holds.
func (e *Engine) version(v *value) hlc.Version {
	return hlc.Version{TS: hlc.Timestamp{Wall: v.vwall, Logical: v.vlogical}, Node: e.nodes[v.vnode&^rmwFlag]}
}

// inPlace reports whether v's version was set by a write that modified
// it in place (see rmwFlag).
func inPlace(v *value) bool { return v.vnode&rmwFlag != 0 }

// stampInPlace sets v's version as stamp does and marks it modified in
// place.
func (e *Engine) stampInPlace(v *value, ver hlc.Version) {
	if e.stamp(v, ver) {
		v.vnode |= rmwFlag
	}
}

// stamp sets v's version (clearing rmwFlag); ok is false when the
// engine's table of node ids is full (32767 ids), which no real cluster
// reaches.
func (e *Engine) stamp(v *value, ver hlc.Version) bool {
	i, ok := e.lastNode, e.nodes[e.lastNode] == ver.Node
	if !ok {
		i, ok = e.nodeIndex[ver.Node]
		e.lastNode = i
	}
	if !ok {
		if len(e.nodes) >= int(rmwFlag) {
			return false
		}
		i = uint16(len(e.nodes))
		e.nodes = append(e.nodes, ver.Node)
		e.nodeIndex[ver.Node] = i
		e.lastNode = i
	}
	v.vwall, v.vlogical, v.vnode = ver.TS.Wall, ver.TS.Logical, i
	return true
}

// tomb returns key's tombstone, or nil; one past its time is purged.
func (e *Engine) tomb(key []byte) *value {
	if e.tombs.len() == 0 {
		return nil
	}
	t := e.tombs.get(key)
	if t != nil && e.now > t.deadline {
		e.tombs.del(key)
		return nil
	}
	return t
}

// current returns key's live value (nil if none), its tombstone (nil if
// none or the key is live) and the version the key holds.
func (e *Engine) current(key []byte) (live, tomb *value, ver hlc.Version) {
	// A peek: an expired key is not live, but is left for the command to
	// reclaim, as Redis leaves it to the command (one refused before it
	// looks the key up, a ZADD with NX and XX, reclaims nothing: DBSIZE
	// still counts the key, as Redis's does).
	if live = e.keys.get(key); live != nil && !(live.hasTTL() && e.now > live.deadline) {
		return live, nil, e.version(live)
	}
	live = nil
	if tomb = e.tomb(key); tomb != nil {
		return nil, tomb, e.version(tomb)
	}
	return nil, nil, hlc.Version{}
}

// bury leaves a tombstone of version ver at key, which is not live.
func (e *Engine) bury(key []byte, ver hlc.Version) bool {
	t := e.tomb(key)
	if t == nil {
		t = newStringValue(key, 0)
		t.kind = 0
		if !e.stamp(t, ver) {
			return false
		}
		e.tombs.add(key, t)
	} else if !e.stamp(t, ver) {
		return false
	}
	t.flags |= fTTL
	t.deadline = e.now + e.tombTTL
	heap.Push(&e.tombHeap, expiryItem{deadline: t.deadline, v: t})
	if len(e.tombHeap) > 64 && len(e.tombHeap) > 4*e.tombs.len() {
		e.rebuildTombHeap()
	}
	return true
}

// unbury drops key's tombstone, if any: the key is live again.
func (e *Engine) unbury(key []byte) {
	if e.tombs.len() > 0 && e.tombs.del(key) && len(e.tombHeap) > 64 && len(e.tombHeap) > 4*e.tombs.len() {
		e.rebuildTombHeap() // keys written again after mass deletes: give back the heap's stale entries
	}
}

// Tombstones reports how many tombstones the engine holds, counting those
// past their time not yet purged.
func (e *Engine) Tombstones() int { return e.tombs.len() }

// purgeTombstones drops up to budget tombstones past their time.
func (e *Engine) purgeTombstones(ms int64, budget int) {
	for ; budget > 0 && len(e.tombHeap) > 0; budget-- {
		top := e.tombHeap[0]
		if top.deadline >= ms {
			return
		}
		heap.Pop(&e.tombHeap)
		if cur := e.tombs.get(top.v.key()); cur == top.v && cur.deadline == top.deadline {
			e.tombs.del(cur.key())
		}
	}
}

func (e *Engine) rebuildTombHeap() {
	live := e.tombHeap[:0]
	for _, it := range e.tombHeap {
		if cur := e.tombs.get(it.v.key()); cur == it.v && cur.deadline == it.deadline {
			live = append(live, it)
		}
	}
	clear(e.tombHeap[len(live):])
	e.tombHeap = live
	heap.Init(&e.tombHeap)
}

// resultVersion is the version an unversioned command's key holds after it
// ran: zero for multi-key commands.
func (e *Engine) resultVersion(c *command, args [][]byte) hlc.Version {
	if !singleKey(c, args) {
		return hlc.Version{}
	}
	live, _, ver := e.current(args[1])
	if live != nil && inPlace(live) {
		return hlc.Version{} // see rmwFlag
	}
	return ver
}

func failed(dst []byte, from int) bool { return len(dst) > from && dst[from] == '-' }

// execVersioned runs command c under a non-zero version.
func (e *Engine) execVersioned(c *command, args [][]byte, ver hlc.Version, dst []byte) ([]byte, hlc.Version) {
	e.versioned = true
	if len(e.nodes) >= int(rmwFlag) && e.nodes[e.lastNode] != ver.Node && e.nodeIndex[ver.Node] == 0 {
		return appendErr(dst, "ERR too many node ids"), hlc.Version{}
	}
	switch {
	case c.lww == lwwNone:
		return c.run(e, args, dst), hlc.Version{}
	case (c.name == "del" || c.name == "unlink") && len(args) > 2:
		n := int64(0)
		var scratch []byte
		for _, k := range args[1:] {
			scratch, _ = e.execVersioned(c, [][]byte{args[0], k}, ver, scratch[:0])
			if string(scratch) == ":1\r\n" {
				n++
			}
		}
		return resp.AppendInt(dst, n), hlc.Version{}
	case c.name == "mset" && len(args) > 3:
		if len(args)%2 == 0 {
			return appendArityErr(dst, c.name), hlc.Version{}
		}
	pairs:
		for i := 1; i < len(args); i += 2 {
			for j := i + 2; j < len(args); j += 2 {
				if string(args[j]) == string(args[i]) {
					continue pairs // the last value given for a key wins, as in Redis
				}
			}
			e.execVersioned(c, [][]byte{args[0], args[i], args[i+1]}, ver, nil)
		}
		return appendOK(dst), hlc.Version{}
	case c.lww == lwwMulti:
		return e.execMulti(c, args, ver, dst), hlc.Version{}
	case c.lww == lwwRead || !singleKey(c, args):
		dst = c.run(e, args, dst)
		return dst, e.resultVersion(c, args)
	}
	key := args[1]
	live, _, old := e.current(key)
	if c.lww == lwwRMW && live != nil && old == ver {
		return e.dryRun(c, args, live, dst), old
	}
	// Stale: a whole-value write or delete not newer than the key, or a
	// read-modify-write not newer than the key's tombstone. (A
	// read-modify-write of a live key older than it applies: writes of the
	// same key made concurrently each modify the value in place.)
	if !old.Less(ver) && (c.lww != lwwRMW || live == nil && !old.IsZero()) {
		// Stale: answer as if applied to the key as it is, change nothing.
		switch {
		case live == nil:
			e.event = markTombstoneBlocks // a late write after a delete
		case c.name == "dyno.restore":
			e.event = markRepairOlder // a repair that raced a newer write
		}
		e.stale = true
		dst = c.run(e, args, dst)
		e.stale = false
		return dst, old
	}
	e.wrote = false
	from := len(dst)
	dst = c.run(e, args, dst)
	if failed(dst, from) {
		_, _, now := e.current(key)
		return dst, now
	}
	v := e.keys.get(key)
	switch c.lww {
	case lwwDelete:
		if v == nil {
			e.bury(key, ver)
			return dst, ver
		}
	case lwwWhole:
		switch {
		case v != nil && e.wrote:
			e.stamp(v, ver)
			e.unbury(key)
			return dst, ver
		case v == nil && live != nil:
			e.bury(key, ver) // an expiry in the past deleted it
			return dst, ver
		}
	case lwwRMW:
		to := hlc.Newer(old, ver)
		switch {
		case v != nil:
			e.stampInPlace(v, to)
			e.unbury(key)
			return dst, to
		case live != nil: // emptied: Redis deleted it
			e.bury(key, to)
			return dst, to
		}
	}
	_, _, now := e.current(key)
	return dst, now
}

// dryRun answers a duplicate of the read-modify-write the key last took
// (the same version, delivered twice) as on the key as it is, and changes
// nothing: it runs on the value, then puts back a copy taken before, with
// its TTL and version. Duplicates are rare (a replayed or duplicated
// message), so the copy costs nothing on the ordinary path.
func (e *Engine) dryRun(c *command, args [][]byte, live *value, dst []byte) []byte {
	key := args[1]
	ver := e.version(live)
	saved := e.dump(nil, live)
	enc := takeEncoding(live)
	dst = c.run(e, args, dst)
	marked := inPlace(live)
	v, ttl, _ := undump(key, saved)
	enc.apply(v)
	if e.lookup(key) != nil {
		e.del(key)
	}
	e.add(key, v)
	if ttl >= 0 {
		e.setExpire(v, e.now+ttl)
	}
	if marked {
		e.stampInPlace(v, ver)
	} else {
		e.stamp(v, ver)
	}
	return dst
}

// execMulti runs a multi-key command under a version: it applies, and
// each key it writes is left at the newer of its version and ver (a key it
// emptied, with a tombstone).
func (e *Engine) execMulti(c *command, args [][]byte, ver hlc.Version, dst []byte) []byte {
	ks := writtenKeys(c, args)
	type before struct {
		live bool
		ver  hlc.Version
	}
	olds := make([]before, len(ks))
	for i, k := range ks {
		live, _, old := e.current(k)
		olds[i] = before{live != nil, old}
	}
	from := len(dst)
	dst = c.run(e, args, dst)
	if failed(dst, from) && c.name != "eval" && c.name != "evalsha" {
		// A script that ends in an error may have written before it (a
		// script is not a transaction), so its keys move all the same, as
		// on Redis, where the step that moves them cannot see the
		// script's reply (netio/datastore planEval). A transaction's
		// reply is an array even when commands fail; an error is a
		// malformed one, which ran nothing.
		return dst
	}
	for i, k := range ks {
		to := hlc.Newer(olds[i].ver, ver)
		if v := e.keys.get(k); v != nil {
			e.stampInPlace(v, to)
			e.unbury(k)
		} else if olds[i].live {
			e.bury(k, to)
		}
	}
	return dst
}

// TakeEvent returns the coverage mark (actors.Mark) the last command
// reached, if any, and forgets it: the store actor, which has the
// Context, marks it.
func (e *Engine) TakeEvent() string {
	ev := e.event
	e.event = ""
	return ev
}

// Coverage marks (actors.Mark, through TakeEvent; sim's TestMain requires
// a test run to reach them).
const (
	markTombstoneBlocks = "store/tombstone-blocks-write"
	markRepairOlder     = "store/repair-older-than-held"
)
