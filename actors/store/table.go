package store

import (
	"sort"
	"strings"
)

// command is one row of the dispatch table: the lower-case name Redis
// reports in errors, its arity (positive: exactly that many arguments
// counting the name; negative: at least that many) and its handler.
type command struct {
	name  string
	arity int
	run   func(e *Engine, args [][]byte, dst []byte) []byte
	lww   lwwKind // set from lwwClass in init
}

// commandTable is every command the engine implements, with Redis 7.0's
// arities. Exec checks the arity before calling the handler, as Redis's
// processCommand does.
var commandTable = []command{
	// keys and server
	{"del", -2, (*Engine).cmdDel, 0},
	{"unlink", -2, (*Engine).cmdDel, 0},
	{"exists", -2, (*Engine).cmdExists, 0},
	{"touch", -2, (*Engine).cmdTouch, 0},
	{"type", 2, (*Engine).cmdType, 0},
	{"expire", -3, (*Engine).cmdExpire, 0},
	{"pexpire", -3, (*Engine).cmdExpire, 0},
	{"expireat", -3, (*Engine).cmdExpire, 0},
	{"pexpireat", -3, (*Engine).cmdExpire, 0},
	{"ttl", 2, (*Engine).cmdTTL, 0},
	{"pttl", 2, (*Engine).cmdTTL, 0},
	{"persist", 2, (*Engine).cmdPersist, 0},
	{"rename", 3, (*Engine).cmdRename, 0},
	{"copy", -3, (*Engine).cmdCopy, 0},
	{"sort", -2, (*Engine).cmdSort, 0},
	{"sort_ro", -2, (*Engine).cmdSort, 0},
	{"renamenx", 3, (*Engine).cmdRename, 0},
	{"dbsize", 1, (*Engine).cmdDBSize, 0},
	{"randomkey", 1, (*Engine).cmdRandomKey, 0},
	{"keys", 2, (*Engine).cmdKeys, 0},
	{"scan", -2, (*Engine).cmdScan, 0},
	{"flushdb", -1, (*Engine).cmdFlush, 0},
	{"flushall", -1, (*Engine).cmdFlush, 0},
	{"ping", -1, (*Engine).cmdPing, 0},
	{"echo", 2, (*Engine).cmdEcho, 0},
	{"object", -2, (*Engine).cmdObject, 0},
	{"dump", 2, (*Engine).cmdDump, 0},
	{"restore", -4, (*Engine).cmdRestore, 0},
	{"config", -2, (*Engine).cmdConfig, 0},

	// strings
	{"get", 2, (*Engine).cmdGet, 0},
	{"set", -3, (*Engine).cmdSet, 0},
	{"setnx", 3, (*Engine).cmdSetNX, 0},
	{"setex", 4, (*Engine).cmdSetEX, 0},
	{"psetex", 4, (*Engine).cmdSetEX, 0},
	{"getset", 3, (*Engine).cmdGetSet, 0},
	{"getdel", 2, (*Engine).cmdGetDel, 0},
	{"getex", -2, (*Engine).cmdGetEx, 0},
	{"mget", -2, (*Engine).cmdMGet, 0},
	{"mset", -3, (*Engine).cmdMSet, 0},
	{"msetnx", -3, (*Engine).cmdMSet, 0},
	{"incr", 2, (*Engine).cmdIncr, 0},
	{"decr", 2, (*Engine).cmdIncr, 0},
	{"incrby", 3, (*Engine).cmdIncr, 0},
	{"decrby", 3, (*Engine).cmdIncr, 0},
	{"incrbyfloat", 3, (*Engine).cmdIncrByFloat, 0},
	{"append", 3, (*Engine).cmdAppend, 0},
	{"strlen", 2, (*Engine).cmdStrlen, 0},
	{"getrange", 4, (*Engine).cmdGetRange, 0},
	{"setrange", 4, (*Engine).cmdSetRange, 0},

	// bitmaps (bitmaps.go)
	{"setbit", 4, (*Engine).cmdSetBit, 0},
	{"getbit", 3, (*Engine).cmdGetBit, 0},
	{"bitcount", -2, (*Engine).cmdBitCount, 0},
	{"bitpos", -3, (*Engine).cmdBitPos, 0},

	// HyperLogLog (hll.go)
	{"pfadd", -2, (*Engine).cmdPFAdd, 0},
	{"pfcount", -2, (*Engine).cmdPFCount, 0},
	{"pfmerge", -2, (*Engine).cmdPFMerge, 0},

	// hashes
	{"hset", -4, (*Engine).cmdHSet, 0},
	{"hmset", -4, (*Engine).cmdHSet, 0},
	{"hsetnx", 4, (*Engine).cmdHSetNX, 0},
	{"hget", 3, (*Engine).cmdHGet, 0},
	{"hmget", -3, (*Engine).cmdHMGet, 0},
	{"hdel", -3, (*Engine).cmdHDel, 0},
	{"hexists", 3, (*Engine).cmdHExists, 0},
	{"hlen", 2, (*Engine).cmdHLen, 0},
	{"hstrlen", 3, (*Engine).cmdHStrlen, 0},
	{"hgetall", 2, (*Engine).cmdHGetAll, 0},
	{"hkeys", 2, (*Engine).cmdHGetAll, 0},
	{"hvals", 2, (*Engine).cmdHGetAll, 0},
	{"hincrby", 4, (*Engine).cmdHIncrBy, 0},
	{"hincrbyfloat", 4, (*Engine).cmdHIncrByFloat, 0},
	{"hrandfield", -2, (*Engine).cmdHRandField, 0},
	{"hscan", -3, (*Engine).cmdHScan, 0},

	// lists
	{"lpush", -3, (*Engine).cmdPush, 0},
	{"rpush", -3, (*Engine).cmdPush, 0},
	{"lpushx", -3, (*Engine).cmdPush, 0},
	{"rpushx", -3, (*Engine).cmdPush, 0},
	{"lpop", -2, (*Engine).cmdPop, 0},
	{"rpop", -2, (*Engine).cmdPop, 0},
	{"llen", 2, (*Engine).cmdLLen, 0},
	{"lindex", 3, (*Engine).cmdLIndex, 0},
	{"linsert", 5, (*Engine).cmdLInsert, 0},
	{"lrange", 4, (*Engine).cmdLRange, 0},
	{"lrem", 4, (*Engine).cmdLRem, 0},
	{"lset", 4, (*Engine).cmdLSet, 0},
	{"ltrim", 4, (*Engine).cmdLTrim, 0},
	{"rpoplpush", 3, (*Engine).cmdLMove, 0},
	{"lmove", 5, (*Engine).cmdLMove, 0},
	{"lpos", -3, (*Engine).cmdLPos, 0},
	{"lmpop", -4, (*Engine).cmdLMPop, 0},
	{"lcs", -3, (*Engine).cmdLCS, 0},
	{"bitop", -4, (*Engine).cmdBitOp, 0},
	{"bitfield", -2, (*Engine).cmdBitField, 0},
	{"bitfield_ro", -2, (*Engine).cmdBitField, 0},
	{"blpop", -3, (*Engine).cmdBlocking, 0},
	{"brpop", -3, (*Engine).cmdBlocking, 0},
	{"blmpop", -5, (*Engine).cmdBlocking, 0},
	{"blmove", 6, (*Engine).cmdBlocking, 0},
	{"brpoplpush", 4, (*Engine).cmdBlocking, 0},

	// sets
	{"sadd", -3, (*Engine).cmdSAdd, 0},
	{"srem", -3, (*Engine).cmdSRem, 0},
	{"scard", 2, (*Engine).cmdSCard, 0},
	{"sismember", 3, (*Engine).cmdSIsMember, 0},
	{"smismember", -3, (*Engine).cmdSMIsMember, 0},
	{"smembers", 2, (*Engine).cmdSMembers, 0},
	{"smove", 4, (*Engine).cmdSMove, 0},
	{"sinter", -2, (*Engine).cmdSetOp, 0},
	{"sunion", -2, (*Engine).cmdSetOp, 0},
	{"sdiff", -2, (*Engine).cmdSetOp, 0},
	{"sinterstore", -3, (*Engine).cmdSetOp, 0},
	{"sunionstore", -3, (*Engine).cmdSetOp, 0},
	{"sdiffstore", -3, (*Engine).cmdSetOp, 0},
	{"sintercard", -3, (*Engine).cmdSInterCard, 0},
	{"spop", -2, (*Engine).cmdSPop, 0},
	{"srandmember", -2, (*Engine).cmdSRandMember, 0},
	{"sscan", -3, (*Engine).cmdSScan, 0},

	// sorted sets
	{"zadd", -4, (*Engine).cmdZAdd, 0},
	{"zincrby", 4, (*Engine).cmdZIncrBy, 0},
	{"zrem", -3, (*Engine).cmdZRem, 0},
	{"zcard", 2, (*Engine).cmdZCard, 0},
	{"zcount", 4, (*Engine).cmdZCount, 0},
	{"zlexcount", 4, (*Engine).cmdZLexCount, 0},
	{"zscore", 3, (*Engine).cmdZScore, 0},
	{"zmscore", -3, (*Engine).cmdZMScore, 0},
	{"zrank", 3, (*Engine).cmdZRank, 0},
	{"zrevrank", 3, (*Engine).cmdZRank, 0},
	{"zrange", -4, (*Engine).cmdZRange, 0},
	{"zrevrange", -4, (*Engine).cmdZRange, 0},
	{"zrangebyscore", -4, (*Engine).cmdZRange, 0},
	{"zrevrangebyscore", -4, (*Engine).cmdZRange, 0},
	{"zrangebylex", -4, (*Engine).cmdZRange, 0},
	{"zrevrangebylex", -4, (*Engine).cmdZRange, 0},
	{"zremrangebyrank", 4, (*Engine).cmdZRemRange, 0},
	{"zremrangebyscore", 4, (*Engine).cmdZRemRange, 0},
	{"zremrangebylex", 4, (*Engine).cmdZRemRange, 0},
	{"zpopmin", -2, (*Engine).cmdZPop, 0},
	{"zpopmax", -2, (*Engine).cmdZPop, 0},
	{"zmpop", -4, (*Engine).cmdZMPop, 0},
	{"bzpopmin", -3, (*Engine).cmdBlocking, 0},
	{"bzpopmax", -3, (*Engine).cmdBlocking, 0},
	{"bzmpop", -5, (*Engine).cmdBlocking, 0},
	{"zunionstore", -4, (*Engine).cmdZStore, 0},
	{"zinterstore", -4, (*Engine).cmdZStore, 0},
	{"zscan", -3, (*Engine).cmdZScan, 0},

	// GEO (geo.go): sorted sets of geohashes
	{"geoadd", -5, (*Engine).cmdGeoAdd, 0},
	{"geopos", -2, (*Engine).cmdGeoPos, 0},
	{"geohash", -2, (*Engine).cmdGeoHash, 0},
	{"geodist", -4, (*Engine).cmdGeoDist, 0},
	{"georadius", -6, (*Engine).cmdGeoRadius, 0},
	{"georadius_ro", -6, (*Engine).cmdGeoRadius, 0},
	{"georadiusbymember", -5, (*Engine).cmdGeoRadius, 0},
	{"georadiusbymember_ro", -5, (*Engine).cmdGeoRadius, 0},
	{"geosearch", -7, (*Engine).cmdGeoSearch, 0},
	{"geosearchstore", -8, (*Engine).cmdGeoSearch, 0},

	// internal, for read repair (dyno.go): the router never sends them
	{"dyno.dump", 2, (*Engine).cmdDynoDump, 0},
	{"dyno.restore", 3, (*Engine).cmdDynoRestore, 0},
	{"dyno.del", 2, (*Engine).cmdDynoDel, 0},
	// internal, for anti-entropy (dyno.go)
	{"dyno.keys", 3, (*Engine).cmdDynoKeys, 0},
	{"dyno.versions", -2, (*Engine).cmdDynoVersions, 0},
	{"dyno.mark", 2, (*Engine).cmdDynoMark, 0},

	// scripts (script.go)
	{"eval", -3, (*Engine).cmdEval, 0},
	{"evalsha", -3, (*Engine).cmdEval, 0},
	{"eval_ro", -3, (*Engine).cmdEval, 0},
	{"evalsha_ro", -3, (*Engine).cmdEval, 0},
	{"script", -2, (*Engine).cmdScript, 0},

	// transactions (actors/coord/tx.go)
	{"dyno.exec", -3, (*Engine).cmdDynoExec, 0},
	{"unwatch", 1, (*Engine).cmdUnwatch, 0},
}

// commandIndex maps names to table rows. It is built in init because the
// handlers themselves look commands up (cmdName), which a package-level
// initializer would turn into an initialization cycle.
var commandIndex map[string]*command

func init() {
	commandIndex = make(map[string]*command, len(commandTable))
	for i := range commandTable {
		commandTable[i].lww = lwwClass(commandTable[i].name)
		commandIndex[commandTable[i].name] = &commandTable[i]
	}
}

// lookupCommand finds a command by name in any case, without allocating.
func lookupCommand(name []byte) *command {
	var buf [24]byte
	if len(name) > len(buf) {
		return nil
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return commandIndex[string(buf[:len(name)])]
}

// cmdName is the lower-case name of the command in args[0]; handlers
// shared by several commands branch on it.
func cmdName(args [][]byte) string { return lookupCommand(args[0]).name }

// Commands lists the names of the commands the engine implements, sorted,
// without the internal DYNO.* ones (docs/commands.md is generated from
// it and the router's table: internal/cmddoc).
func Commands() []string {
	var out []string
	for _, c := range commandTable {
		if !strings.HasPrefix(c.name, "dyno.") {
			out = append(out, c.name)
		}
	}
	sort.Strings(out)
	return out
}
