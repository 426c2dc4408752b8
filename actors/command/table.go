package command

import (
	"bytes"
	"slices"
	"sort"
	"strings"
)

// Class says how the coordinator handles a command.
type Class uint8

const (
	// Unknown commands are answered with Redis's own unknown-command error.
	Unknown Class = iota
	// SingleKey commands route to the owners of their first key.
	SingleKey
	// MultiKey commands (MGET, MSET, DEL, EXISTS, UNLINK, TOUCH) are split
	// per key, routed key by key and merged back in order.
	MultiKey
	// SameOwner commands name several keys that must all live on the same
	// nodes (RENAME, SMOVE, SUNIONSTORE...); otherwise they are refused.
	// The coordinator treats SingleKey the same way: SORT ... STORE and
	// EVAL name more than one key too.
	SameOwner
	// LocalStore commands have no key and go to this node's datastore only
	// (KEYS, SCAN, DBSIZE), as Dynomite routes them.
	LocalStore
	// Node commands are answered by the node itself (PING, ECHO, QUIT...).
	Node
	// Admin commands would change every key of the datastore (FLUSHALL,
	// FLUSHDB); they run on the local datastore only in admin mode.
	Admin
	// Unsupported commands cannot be served by a cluster proxy (SUBSCRIBE,
	// blocking pops...): the client gets an error, the connection stays
	// open.
	Unsupported
	// Transaction commands (MULTI, EXEC, DISCARD, WATCH, UNWATCH) drive
	// the connection's transaction (actors/coord/tx.go).
	Transaction
	// PubSub commands (SUBSCRIBE, PSUBSCRIBE, their UNSUBSCRIBEs, PUBLISH)
	// go to the nodes' brokers (actors/pubsub, actors/coord/pubsub.go).
	PubSub
	// Owner commands (OBJECT, MEMORY) describe how one key is held: one
	// owner of the key answers (actors/coord/owner.go).
	Owner
	// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
	// BZPOPMIN, BZPOPMAX, BZMPOP) wait for an element: the coordinator
	// tries their non-blocking form until one comes or the timeout passes
	// (actors/coord/blocking.go). Their keys must share replicas.
	Blocking
)

// Merge says how the replies of a split MultiKey command combine.
type Merge uint8

const (
	MergeNone  Merge = iota
	MergeArray       // MGET: one element per key, in key order
	MergeSum         // DEL, EXISTS, UNLINK, TOUCH: integers added
	MergeOK          // MSET: +OK when every part said OK
)

// Spec describes one command.
type Spec struct {
	Name  string // lower case
	Arity int    // Redis convention: n exact, -n at least n (name included)
	Class Class
	Write bool // changes data: replicated to every rack
	// Keys: first key index, last key index (negative counts from the end),
	// step between keys. First == 0: no keys.
	First, Last, Step int
	// NumKeysAt, when non-zero, is the index of an argument giving how many
	// keys follow it (EVAL, ZUNIONSTORE); keys then start right after it.
	NumKeysAt int
	Merge     Merge
	// Why explains an Unsupported command in its error reply.
	Why string
	// Unordered marks replies whose element order Redis leaves open (a
	// set's members, a hash's fields): replicas holding the same data may
	// answer in different orders, so quorums compare them as multisets.
	// Pairs: the elements are field/value pairs (HGETALL).
	Unordered, Pairs bool
	// Channels marks the commands whose keys are pub/sub channels
	// (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH): ACL key patterns do not apply.
	Channels bool
	// StoreFrom, when non-zero, is the first argument index at which a
	// STORE (or STOREDIST) option may name a destination key, which makes
	// that invocation a write (SORT, GEORADIUS, GEORADIUSBYMEMBER).
	StoreFrom int

	// subs are a container command's subcommands (CLIENT, OBJECT...):
	// their full names ("client|list") by their lower-case names; nil for
	// a command without subcommands.
	subs map[string]string
}

var table = map[string]*Spec{}

func add(class Class, write bool, arity, first, last, step int, names ...string) {
	for _, n := range names {
		table[n] = &Spec{Name: n, Arity: arity, Class: class, Write: write, First: first, Last: last, Step: step}
	}
}

func unsupported(why string, names ...string) {
	for _, n := range names {
		table[n] = &Spec{Name: n, Arity: -1, Class: Unsupported, Why: why}
	}
}

func init() {
	const r, w = false, true
	// Strings.
	add(SingleKey, r, 2, 1, 1, 1, "get", "strlen", "ttl", "pttl", "type", "dump", "expiretime", "pexpiretime",
		"hgetall", "hkeys", "hvals", "hlen", "llen", "scard", "smembers", "zcard")
	add(SingleKey, w, 2, 1, 1, 1, "incr", "decr", "getdel", "persist")
	add(SingleKey, r, 3, 1, 1, 1, "getbit", "hget", "hexists", "hstrlen", "lindex", "sismember", "zscore", "zrank", "zrevrank")
	add(SingleKey, r, 4, 1, 1, 1, "getrange", "substr", "lrange", "zcount", "zlexcount")
	add(SingleKey, w, 3, 1, 1, 1, "setnx", "getset", "append", "incrby", "decrby", "incrbyfloat")
	add(SingleKey, w, 4, 1, 1, 1, "setex", "psetex", "setrange", "setbit", "hsetnx", "hincrby", "hincrbyfloat",
		"lrem", "lset", "ltrim", "zincrby", "zremrangebyrank", "zremrangebyscore", "zremrangebylex")
	add(SingleKey, w, 5, 1, 1, 1, "linsert")
	add(SingleKey, w, -3, 1, 1, 1, "set", "expire", "pexpire", "expireat", "pexpireat", "hdel", "lpush", "rpush",
		"lpushx", "rpushx", "sadd", "srem", "zrem")
	add(SingleKey, w, -2, 1, 1, 1, "getex", "lpop", "rpop", "spop", "zpopmin", "zpopmax", "pfadd")
	add(SingleKey, w, -4, 1, 1, 1, "hset", "hmset", "zadd", "restore")
	add(SingleKey, r, -2, 1, 1, 1, "bitcount", "srandmember", "hrandfield", "geohash", "geopos")
	add(SingleKey, r, -3, 1, 1, 1, "bitpos", "hmget", "smismember", "zmscore", "lpos", "hscan", "sscan", "zscan")
	add(SingleKey, r, -4, 1, 1, 1, "zrange", "zrevrange", "zrangebyscore", "zrevrangebyscore", "zrangebylex",
		"zrevrangebylex", "geodist")
	add(SingleKey, w, -5, 1, 1, 1, "geoadd")
	// SORT ... STORE dst and GEORADIUS[BYMEMBER] ... STORE|STOREDIST dst
	// write: see StoreFrom, IsWrite and KeyIndexes.
	add(SingleKey, r, -2, 1, 1, 1, "sort", "sort_ro")
	add(SingleKey, r, -6, 1, 1, 1, "georadius")
	add(SingleKey, r, -5, 1, 1, 1, "georadiusbymember")
	table["sort"].StoreFrom = 2              // SORT key [BY p] [LIMIT o c] [GET p]... [STORE dst]
	table["georadius"].StoreFrom = 6         // key longitude latitude radius unit, then options
	table["georadiusbymember"].StoreFrom = 5 // key member radius unit, then options
	add(SingleKey, r, -7, 1, 1, 1, "geosearch")
	add(SingleKey, r, -6, 1, 1, 1, "georadius_ro")
	add(SingleKey, r, -5, 1, 1, 1, "georadiusbymember_ro")
	add(SameOwner, w, -8, 1, 2, 1, "geosearchstore") // GEOSEARCHSTORE dst src ...

	// Multi-key commands split per key.
	// TOUCH only moves access times: Redis flags it readonly and does not
	// propagate it to replicas.
	add(MultiKey, r, -2, 1, -1, 1, "mget", "exists", "touch")
	add(MultiKey, w, -2, 1, -1, 1, "del", "unlink")
	add(MultiKey, w, -3, 1, -1, 2, "mset")
	table["mget"].Merge = MergeArray
	table["mset"].Merge = MergeOK
	for _, n := range []string{"exists", "del", "unlink", "touch"} {
		table[n].Merge = MergeSum
	}

	// Several keys that must share their owners.
	add(SameOwner, w, 3, 1, 2, 1, "rename", "renamenx", "rpoplpush")
	add(SameOwner, w, -3, 1, 2, 1, "copy")
	add(SameOwner, w, 5, 1, 2, 1, "lmove")
	add(SameOwner, w, 4, 1, 2, 1, "smove")
	add(SameOwner, r, -2, 1, -1, 1, "sunion", "sinter", "sdiff", "pfcount")
	add(SameOwner, r, -3, 1, 2, 1, "lcs")
	add(SameOwner, w, -4, 2, -1, 1, "bitop") // BITOP op dest src...
	add(SingleKey, w, -2, 1, 1, 1, "bitfield")
	add(SingleKey, r, -2, 1, 1, 1, "bitfield_ro")
	add(SameOwner, w, -3, 1, -1, 1, "sunionstore", "sinterstore", "sdiffstore")
	add(SameOwner, w, -2, 1, -1, 1, "pfmerge") // PFMERGE dst alone is valid
	add(SameOwner, w, -3, 1, -1, 2, "msetnx")
	add(SameOwner, w, -4, 1, 1, 1, "zunionstore", "zinterstore", "zdiffstore")
	add(SameOwner, w, -4, 0, 0, 0, "lmpop", "zmpop")
	add(SameOwner, w, -3, 0, 0, 0, "eval", "evalsha")
	add(SameOwner, r, -3, 0, 0, 0, "eval_ro", "evalsha_ro")
	for _, n := range []string{"zunionstore", "zinterstore", "zdiffstore"} {
		table[n].NumKeysAt = 2 // destination at 1, numkeys at 2, keys follow
	}
	for _, n := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro"} {
		table[n].NumKeysAt = 2
	}
	table["lmpop"].NumKeysAt, table["zmpop"].NumKeysAt = 1, 1 // numkeys at 1, keys follow
	// SCRIPT LOAD and FLUSH go to every node's datastore, the other
	// subcommands to the local one (Redis.script).
	add(LocalStore, r, -2, 0, 0, 0, "script")

	add(LocalStore, r, 2, 0, 0, 0, "keys")
	add(LocalStore, r, -2, 0, 0, 0, "scan")
	add(LocalStore, r, 1, 0, 0, 0, "dbsize", "randomkey")
	add(Admin, w, -1, 0, 0, 0, "flushall", "flushdb")
	add(Node, r, -1, 0, 0, 0, "ping", "quit", "command", "info", "hello")
	add(Node, r, -2, 0, 0, 0, "auth", "acl", "client")
	add(Node, r, 1, 0, 0, 0, "time", "reset")
	add(Node, r, 2, 0, 0, 0, "echo", "select")

	add(Transaction, r, 1, 0, 0, 0, "multi", "exec", "discard", "unwatch")
	add(Transaction, r, -2, 1, -1, 1, "watch")
	add(PubSub, r, -2, 0, 0, 0, "subscribe", "psubscribe")
	add(PubSub, r, -1, 0, 0, 0, "unsubscribe", "punsubscribe")
	add(PubSub, r, 3, 0, 0, 0, "publish")
	add(PubSub, r, -2, 0, 0, 0, "pubsub")
	// Sharded pub/sub: Redis declares the channels as keys (for Redis
	// Cluster's slots); they are channels, never checked as keys.
	add(PubSub, r, -2, 1, -1, 1, "ssubscribe")
	add(PubSub, r, -1, 1, -1, 1, "sunsubscribe")
	add(PubSub, r, 3, 1, 1, 1, "spublish")
	for _, n := range []string{"ssubscribe", "sunsubscribe", "spublish"} {
		table[n].Channels = true
	}
	add(Blocking, w, -3, 1, -2, 1, "blpop", "brpop", "bzpopmin", "bzpopmax")
	add(Blocking, w, 6, 1, 2, 1, "blmove")
	add(Blocking, w, 4, 1, 2, 1, "brpoplpush")
	add(Blocking, w, -5, 0, 0, 0, "blmpop", "bzmpop")
	table["blmpop"].NumKeysAt, table["bzmpop"].NumKeysAt = 2, 2 // timeout at 1, numkeys at 2
	unsupported("WAIT counts a Redis server's replicas, which a cluster node does not have", "wait", "waitaof")
	unsupported("it would change or expose the datastore behind the cluster", "config", "slaveof", "replicaof",
		"shutdown", "debug", "save", "bgsave", "bgrewriteaof", "monitor", "sync", "psync", "migrate", "move",
		"swapdb", "module", "failover", "cluster", "readonly", "readwrite", "lastsave",
		"latency", "slowlog")
	unsupported("Redis functions are not served yet; scripts are (EVAL, EVALSHA, SCRIPT LOAD)", "function", "fcall", "fcall_ro")
	add(Owner, r, -2, 0, 0, 0, "object", "memory")
	unsupported("a cluster has no single answer for it", "role", "lolwut", "sintercard", "zunion", "zinter", "zdiff",
		"zrangestore")

	for _, n := range []string{"smembers", "hkeys", "hvals", "sunion", "sinter", "sdiff", "keys"} {
		table[n].Unordered = true
	}
	table["hgetall"].Unordered, table["hgetall"].Pairs = true, true

	for full := range subcommandArity {
		name, sub, _ := strings.Cut(full, "|")
		if s := table[name]; s != nil {
			if s.subs == nil {
				s.subs = map[string]string{}
			}
			s.subs[sub] = full
		}
	}
}

// FullName is the name Redis 7.0 gives the command args runs as, which
// CLIENT LIST shows as its last command: a container's subcommand is
// "container|subcommand" ("client|list"), "" when the container has no
// such subcommand (Redis then runs nothing); any other command is its
// name. It allocates nothing.
func FullName(s *Spec, args [][]byte) string {
	if s.subs == nil || len(args) < 2 {
		return s.Name // inlined: most commands have no subcommand
	}
	return s.subName(args[1])
}

// subName is the full name of a container's subcommand sub, or "".
func (s *Spec) subName(sub []byte) string {
	var buf [24]byte
	if len(sub) > len(buf) {
		return ""
	}
	lower := buf[:len(sub)]
	for i, c := range sub {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return s.subs[string(lower)]
}

// Lookup returns the spec of a command name (any case), or nil.
func Lookup(name []byte) *Spec {
	var buf [24]byte
	if len(name) > len(buf) {
		return table[strings.ToLower(string(name))]
	}
	lower := buf[:len(name)]
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return table[string(lower)] // no allocation: the compiler optimises map[string(b)]
}

// ArityOK reports whether n arguments (name included) fit the spec.
func (s *Spec) ArityOK(n int) bool {
	if s.Arity >= 0 {
		return n == s.Arity
	}
	return n >= -s.Arity
}

// KeyIndexes appends the indexes of the key arguments of args to dst. It
// returns false when the arguments do not make sense for the key spec (a
// numkeys that is not a number or runs past the end).
func (s *Spec) KeyIndexes(args [][]byte, dst []int) ([]int, bool) {
	if s.NumKeysAt > 0 {
		if s.NumKeysAt >= len(args) {
			return dst, false
		}
		n, ok := atoi(args[s.NumKeysAt])
		if !ok || n > len(args)-s.NumKeysAt-1 {
			return dst, false
		}
		if s.First > 0 {
			dst = append(dst, s.First)
		}
		for i := 0; i < n; i++ {
			dst = append(dst, s.NumKeysAt+1+i)
		}
		return dst, true
	}
	if s.First == 0 {
		return dst, true
	}
	last := s.Last
	if last < 0 {
		last = len(args) + last
	}
	if s.Step > 1 && (len(args)-s.First)%s.Step != 0 {
		return dst, false
	}
	for i := s.First; i <= last && i < len(args); i += s.Step {
		dst = append(dst, i)
	}
	if at := s.storeArg(args); at > 0 {
		dst = append(dst, at)
	}
	return dst, true
}

// IsWrite reports whether this invocation changes data. SORT ... STORE dst
// and GEORADIUS[BYMEMBER] ... STORE|STOREDIST dst
// is the one command whose write-ness depends on its arguments.
func (s *Spec) IsWrite(args [][]byte) bool {
	return s.Write || s.storeArg(args) > 0
}

// StoreIndex returns the index of the destination key a STORE (or, for
// the GEO commands, STOREDIST) option names in args, or 0.
func (s *Spec) StoreIndex(args [][]byte) int { return s.storeArg(args) }

// storeArg returns the index of the destination key a STORE (or, for the
// GEO commands, STOREDIST) option names, or 0.
func (s *Spec) storeArg(args [][]byte) int {
	if s.StoreFrom == 0 {
		return 0
	}
	at := 0
	if s.Name == "sort" {
		// As SORT itself parses its options (sortCommandGeneric): LIMIT
		// takes two arguments, BY, GET and STORE one, names compared as C
		// strings; the last STORE names the destination. (Redis's
		// sortGetKeys does not skip STORE's argument, so for SORT k STORE
		// by STORE d it reports by while SORT writes d; the key written is
		// the one that matters here.)
		for i := s.StoreFrom; i < len(args); i++ {
			left := len(args) - i - 1
			switch {
			case cEqualFold(args[i], "limit") && left >= 2:
				i += 2
			case cEqualFold(args[i], "store") && left >= 1:
				at = i + 1
				i++
			case (cEqualFold(args[i], "by") || cEqualFold(args[i], "get")) && left >= 1:
				i++
			}
		}
		return at
	}
	// Redis's georadiusGetKeys: the last STORE or STOREDIST wins, names
	// compared as C strings as georadiusGeneric compares them.
	for i := s.StoreFrom; i+1 < len(args); i++ {
		if cEqualFold(args[i], "store") || cEqualFold(args[i], "storedist") {
			at = i + 1
			i++
		}
	}
	return at
}

// cEqualFold reports whether b, read as a C string (up to a NUL), equals
// w ignoring case: Redis's strcasecmp on an argument.
func cEqualFold(b []byte, w string) bool {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	// ASCII only, as C's strcasecmp: Unicode folding would read 'ſtore'
	// as STORE, which Redis and the engine do not.
	if len(b) != len(w) {
		return false
	}
	for i := range b {
		c, d := b[i], w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Names lists every command in the table (for tests and docs).
func Names() []string {
	out := make([]string, 0, len(table))
	for n := range table {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// SubcommandArity returns Redis 7.0's arity of a subcommand named
// "name|sub" (positive: exactly that many arguments counting the command
// and subcommand; negative: at least), false for one Redis 7.0 does not
// know.
func SubcommandArity(name string) (int, bool) {
	a, ok := subcommandArity[name]
	return a, ok
}

// ACLCategories returns the ACL categories (without "@") of a command, or
// of a subcommand named "name|sub", as Redis 7.0 lists them; false when
// Redis 7.0 does not know it.
func ACLCategories(name string) ([]string, bool) {
	c, ok := aclCategories[name]
	return c, ok
}

// ACLNames lists every command and subcommand that has ACL categories,
// sorted.
func ACLNames() []string {
	names := make([]string, 0, len(aclCategories))
	for n := range aclCategories {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
