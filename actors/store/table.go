package store

// command is one row of the dispatch table: the lower-case name Redis
// reports in errors, its arity (positive: exactly that many arguments
// counting the name; negative: at least that many) and its handler.
type command struct {
	name  string
	arity int
	run   func(e *Engine, args [][]byte, dst []byte) []byte
}

// commandTable is every command the engine implements, with Redis 7.0's
// arities. Exec checks the arity before calling the handler, as Redis's
// processCommand does.
var commandTable = []command{
	// keys and server
	{"del", -2, (*Engine).cmdDel},
	{"unlink", -2, (*Engine).cmdDel},
	{"exists", -2, (*Engine).cmdExists},
	{"touch", -2, (*Engine).cmdTouch},
	{"type", 2, (*Engine).cmdType},
	{"expire", -3, (*Engine).cmdExpire},
	{"pexpire", -3, (*Engine).cmdExpire},
	{"expireat", -3, (*Engine).cmdExpire},
	{"pexpireat", -3, (*Engine).cmdExpire},
	{"ttl", 2, (*Engine).cmdTTL},
	{"pttl", 2, (*Engine).cmdTTL},
	{"persist", 2, (*Engine).cmdPersist},
	{"rename", 3, (*Engine).cmdRename},
	{"renamenx", 3, (*Engine).cmdRename},
	{"dbsize", 1, (*Engine).cmdDBSize},
	{"keys", 2, (*Engine).cmdKeys},
	{"scan", -2, (*Engine).cmdScan},
	{"flushdb", -1, (*Engine).cmdFlush},
	{"flushall", -1, (*Engine).cmdFlush},
	{"ping", -1, (*Engine).cmdPing},
	{"echo", 2, (*Engine).cmdEcho},

	// strings
	{"get", 2, (*Engine).cmdGet},
	{"set", -3, (*Engine).cmdSet},
	{"setnx", 3, (*Engine).cmdSetNX},
	{"setex", 4, (*Engine).cmdSetEX},
	{"psetex", 4, (*Engine).cmdSetEX},
	{"getset", 3, (*Engine).cmdGetSet},
	{"getdel", 2, (*Engine).cmdGetDel},
	{"getex", -2, (*Engine).cmdGetEx},
	{"mget", -2, (*Engine).cmdMGet},
	{"mset", -3, (*Engine).cmdMSet},
	{"msetnx", -3, (*Engine).cmdMSet},
	{"incr", 2, (*Engine).cmdIncr},
	{"decr", 2, (*Engine).cmdIncr},
	{"incrby", 3, (*Engine).cmdIncr},
	{"decrby", 3, (*Engine).cmdIncr},
	{"incrbyfloat", 3, (*Engine).cmdIncrByFloat},
	{"append", 3, (*Engine).cmdAppend},
	{"strlen", 2, (*Engine).cmdStrlen},
	{"getrange", 4, (*Engine).cmdGetRange},
	{"setrange", 4, (*Engine).cmdSetRange},

	// hashes
	{"hset", -4, (*Engine).cmdHSet},
	{"hmset", -4, (*Engine).cmdHSet},
	{"hsetnx", 4, (*Engine).cmdHSetNX},
	{"hget", 3, (*Engine).cmdHGet},
	{"hmget", -3, (*Engine).cmdHMGet},
	{"hdel", -3, (*Engine).cmdHDel},
	{"hexists", 3, (*Engine).cmdHExists},
	{"hlen", 2, (*Engine).cmdHLen},
	{"hstrlen", 3, (*Engine).cmdHStrlen},
	{"hgetall", 2, (*Engine).cmdHGetAll},
	{"hkeys", 2, (*Engine).cmdHGetAll},
	{"hvals", 2, (*Engine).cmdHGetAll},
	{"hincrby", 4, (*Engine).cmdHIncrBy},
	{"hincrbyfloat", 4, (*Engine).cmdHIncrByFloat},
	{"hrandfield", -2, (*Engine).cmdHRandField},
	{"hscan", -3, (*Engine).cmdHScan},

	// lists
	{"lpush", -3, (*Engine).cmdPush},
	{"rpush", -3, (*Engine).cmdPush},
	{"lpushx", -3, (*Engine).cmdPush},
	{"rpushx", -3, (*Engine).cmdPush},
	{"lpop", -2, (*Engine).cmdPop},
	{"rpop", -2, (*Engine).cmdPop},
	{"llen", 2, (*Engine).cmdLLen},
	{"lindex", 3, (*Engine).cmdLIndex},
	{"linsert", 5, (*Engine).cmdLInsert},
	{"lrange", 4, (*Engine).cmdLRange},
	{"lrem", 4, (*Engine).cmdLRem},
	{"lset", 4, (*Engine).cmdLSet},
	{"ltrim", 4, (*Engine).cmdLTrim},
	{"rpoplpush", 3, (*Engine).cmdLMove},
	{"lmove", 5, (*Engine).cmdLMove},
	{"lpos", -3, (*Engine).cmdLPos},

	// sets
	{"sadd", -3, (*Engine).cmdSAdd},
	{"srem", -3, (*Engine).cmdSRem},
	{"scard", 2, (*Engine).cmdSCard},
	{"sismember", 3, (*Engine).cmdSIsMember},
	{"smismember", -3, (*Engine).cmdSMIsMember},
	{"smembers", 2, (*Engine).cmdSMembers},
	{"smove", 4, (*Engine).cmdSMove},
	{"sinter", -2, (*Engine).cmdSetOp},
	{"sunion", -2, (*Engine).cmdSetOp},
	{"sdiff", -2, (*Engine).cmdSetOp},
	{"sinterstore", -3, (*Engine).cmdSetOp},
	{"sunionstore", -3, (*Engine).cmdSetOp},
	{"sdiffstore", -3, (*Engine).cmdSetOp},
	{"sintercard", -3, (*Engine).cmdSInterCard},
	{"spop", -2, (*Engine).cmdSPop},
	{"srandmember", -2, (*Engine).cmdSRandMember},
	{"sscan", -3, (*Engine).cmdSScan},

	// sorted sets
	{"zadd", -4, (*Engine).cmdZAdd},
	{"zincrby", 4, (*Engine).cmdZIncrBy},
	{"zrem", -3, (*Engine).cmdZRem},
	{"zcard", 2, (*Engine).cmdZCard},
	{"zcount", 4, (*Engine).cmdZCount},
	{"zlexcount", 4, (*Engine).cmdZLexCount},
	{"zscore", 3, (*Engine).cmdZScore},
	{"zmscore", -3, (*Engine).cmdZMScore},
	{"zrank", 3, (*Engine).cmdZRank},
	{"zrevrank", 3, (*Engine).cmdZRank},
	{"zrange", -4, (*Engine).cmdZRange},
	{"zrevrange", -4, (*Engine).cmdZRange},
	{"zrangebyscore", -4, (*Engine).cmdZRange},
	{"zrevrangebyscore", -4, (*Engine).cmdZRange},
	{"zrangebylex", -4, (*Engine).cmdZRange},
	{"zrevrangebylex", -4, (*Engine).cmdZRange},
	{"zremrangebyrank", 4, (*Engine).cmdZRemRange},
	{"zremrangebyscore", 4, (*Engine).cmdZRemRange},
	{"zremrangebylex", 4, (*Engine).cmdZRemRange},
	{"zpopmin", -2, (*Engine).cmdZPop},
	{"zpopmax", -2, (*Engine).cmdZPop},
	{"zunionstore", -4, (*Engine).cmdZStore},
	{"zinterstore", -4, (*Engine).cmdZStore},
	{"zscan", -3, (*Engine).cmdZScan},
}

// commandIndex maps names to table rows. It is built in init because the
// handlers themselves look commands up (cmdName), which a package-level
// initializer would turn into an initialization cycle.
var commandIndex map[string]*command

func init() {
	commandIndex = make(map[string]*command, len(commandTable))
	for i := range commandTable {
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
