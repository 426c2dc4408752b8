package store

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
	lua "github.com/yuin/gopher-lua"
)

// Scripts: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD|EXISTS|FLUSH|
// KILL, on a Lua 5.1 VM (github.com/yuin/gopher-lua) with Redis 7.0's
// sandbox and conversions:
//
//   - the libraries are base (without dofile, loadfile and print, which
//     reach files and the terminal), string, table and math; math.random
//     and math.randomseed draw from the engine's own seeded source, so a
//     simulated run replays exactly (Redis 7.0 too continues one sequence
//     per server across scripts, so no two servers agree on it: scripts
//     that must give the same result on every replica must not use it);
//   - the global table is read-only and reading a global that does not
//     exist is an error, with Redis's messages;
//   - redis.call and redis.pcall run engine commands (not EVAL, EVALSHA,
//     SCRIPT, nor a write from EVAL_RO: Redis's errors); replies and Lua
//     values convert as Redis 7.0 converts them over RESP2;
//     redis.error_reply, status_reply, sha1hex, log (ignored), setresp(2),
//     set_repl and replicate_commands (no effect) are there too;
//   - every script runs under an instruction budget (scriptBudget): one
//     that exceeds it stops with an error, and what it wrote stays
//     written, as after Redis's SCRIPT KILL of a script that has not
//     written. Redis instead lets a slow script run on, answering BUSY
//     to other clients until SCRIPT KILL or SHUTDOWN NOSAVE; an actor
//     cannot serve others meanwhile, and time inside an actor is not the
//     wall clock, so the bound is on VM instructions (one library call,
//     a string.find with a backtracking pattern, is not bounded by it);
//   - the globals, the libraries and their metatables are read-only
//     proxies, against rawset and setmetatable too, and tostring names
//     tables and functions by their order, so nothing a script leaves or
//     observes differs between replicas or runs.
//
// The engine's time stands still while a script runs, as Redis's does.
// A script is replicated as itself: every replica runs it (see
// docs/cluster.md, "Scripts"); with versions it is one write of several keys, its
// declared keys (version.go).

// scriptBudget is the Lua instructions one script may run: about a
// second of this machine's time (Redis's lua-time-limit is 5 s, after
// which it only starts accepting SCRIPT KILL).
const scriptBudget = 200_000_000

// scriptCallDepth bounds Lua's call stack (Redis's LUAI_MAXCCALLS is 200).
const scriptCallDepth = 200

// scriptRegistryMax bounds Lua's value stack, in values (16 bytes each).
const scriptRegistryMax = 1 << 22

// maxReplyDepth bounds the nesting of a script's reply (a table that
// contains itself would never end).
const maxReplyDepth = 1000

// scripting is the engine's Lua VM and its script cache.
type scripting struct {
	L      *lua.LState
	fns    map[string]*script // by SHA1 (lower-case hex)
	budget budget
	ro     bool   // the running script is EVAL_RO or EVALSHA_RO
	sha    string // the running script's SHA1
	line   int    // where the last redis.call error was raised
	// locked are the read-only tables (the globals, the libraries and
	// their metatables), which rawset and setmetatable refuse too.
	locked map[*lua.LTable]bool
	// globals holds the global names behind the read-only proxy scripts
	// see as their environment (KEYS and ARGV are set here).
	globals *lua.LTable
	// ids number the tables and functions tostring names in one script,
	// in the order it names them (an address would differ run to run).
	ids map[lua.LValue]int
}

// budget is the context gopher-lua consults before each instruction: its
// Done channel is nil (never ready) until the budget is spent, then
// closed.
type budget struct {
	left   int64
	closed chan struct{}
}

var errBudget = errors.New("dynonode: the script exceeded its instruction budget")

func (b *budget) Deadline() (time.Time, bool) { return time.Time{}, false }
func (b *budget) Err() error                  { return errBudget }
func (b *budget) Value(any) any               { return nil }
func (b *budget) Done() <-chan struct{} {
	b.left--
	if b.left < 0 {
		return b.closed
	}
	return nil
}

// scripts returns the engine's VM, made on first use.
func (e *Engine) scripts() *scripting {
	if e.lua != nil {
		return e.lua
	}
	s := &scripting{fns: map[string]*script{}}
	s.budget.closed = make(chan struct{})
	close(s.budget.closed)
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: scriptCallDepth,
		RegistrySize: 1024 * 16, RegistryMaxSize: scriptRegistryMax, RegistryGrowStep: 1024 * 16})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, name := range []string{"dofile", "loadfile", "print", "_printregs", "module", "require", "newproxy",
		"collectgarbage", "setfenv", "getfenv", "_GOPHER_LUA_VERSION"} {
		g.RawSetString(name, lua.LNil)
	}
	readonly := func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	}
	baseRawset, baseSetmeta := g.RawGetString("rawset").(*lua.LFunction), g.RawGetString("setmetatable").(*lua.LFunction)
	guard := func(fn *lua.LFunction) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			if t, ok := L.Get(1).(*lua.LTable); ok && s.locked[t] {
				return readonly(L)
			}
			top := L.GetTop()
			L.Push(fn)
			for i := 1; i <= top; i++ {
				L.Push(L.Get(i))
			}
			L.Call(top, lua.MultRet)
			return L.GetTop() - top
		})
	}
	g.RawSetString("rawset", guard(baseRawset))
	g.RawSetString("setmetatable", guard(baseSetmeta))
	g.RawSetString("tostring", L.NewFunction(s.tostring))
	strs := g.RawGetString("string").(*lua.LTable)
	strs.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		str, n := L.CheckString(1), L.CheckInt64(2)
		if n > 0 && int64(len(str))*n > e.maxValue {
			L.RaiseError("string.rep: the result would exceed %d bytes", e.maxValue)
		}
		L.Push(lua.LString(strings.Repeat(str, int(max(n, 0)))))
		return 1
	}))
	math := g.RawGetString("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(e.luaRandom))
	math.RawSetString("randomseed", L.NewFunction(func(*lua.LState) int { return 0 }))
	r := L.NewTable()
	r.RawSetString("call", L.NewFunction(func(L *lua.LState) int { return e.luaCall(L, true) }))
	r.RawSetString("pcall", L.NewFunction(func(L *lua.LState) int { return e.luaCall(L, false) }))
	r.RawSetString("error_reply", L.NewFunction(func(L *lua.LState) int {
		// Redis 7.0's luaPushErrorBuff: the first word is the error code,
		// or the code is ERR when there is one word.
		msg := strings.TrimPrefix(L.CheckString(1), "-")
		if !strings.Contains(msg, " ") {
			msg = "ERR " + msg
		}
		t := L.NewTable()
		t.RawSetString("err", lua.LString(strings.TrimRight(msg, "\r\n")))
		L.Push(t)
		return 1
	}))
	r.RawSetString("status_reply", L.NewFunction(func(L *lua.LState) int {
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(L.CheckString(1)))
		L.Push(t)
		return 1
	}))
	r.RawSetString("sha1hex", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(sha1Hex(L.CheckString(1))))
		return 1
	}))
	none := L.NewFunction(func(*lua.LState) int { return 0 })
	r.RawSetString("log", none)
	r.RawSetString("set_repl", none)
	r.RawSetString("replicate_commands", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LTrue); return 1 }))
	r.RawSetString("setresp", L.NewFunction(func(L *lua.LState) int {
		if L.CheckInt(1) != 2 {
			L.RaiseError("dynonode: scripts speak RESP2 only")
		}
		return 0
	}))
	for i, name := range []string{"LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING"} {
		r.RawSetString(name, lua.LNumber(i))
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"REPL_NONE", 0}, {"REPL_AOF", 1}, {"REPL_SLAVE", 2}, {"REPL_REPLICA", 2}, {"REPL_ALL", 3}} {
		r.RawSetString(c.name, lua.LNumber(c.n))
	}
	g.RawSetString("redis", r)
	// Read-only: the globals and every library are empty proxies whose
	// __index reads the real table and whose __newindex refuses, and
	// __metatable hides their metatables from getmetatable and makes
	// setmetatable refuse them; rawset refuses them too (guard). So a
	// script cannot leave anything behind for the next, which a replica
	// restarted with a fresh VM would not see, nor replace redis.call.
	s.locked = map[*lua.LTable]bool{}
	proxy := func(index lua.LValue) *lua.LTable {
		t, meta := L.NewTable(), L.NewTable()
		meta.RawSetString("__index", index)
		meta.RawSetString("__newindex", L.NewFunction(readonly))
		meta.RawSetString("__metatable", lua.LFalse)
		L.SetMetatable(t, meta)
		s.locked[t], s.locked[meta] = true, true
		return t
	}
	for _, name := range []string{"redis", "string", "table", "math"} {
		g.RawSetString(name, proxy(g.RawGetString(name)))
	}
	if sm, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		sm.RawSetString("__metatable", lua.LFalse)
		s.locked[sm] = true
	}
	s.globals = g
	env := proxy(L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(2)
		v := g.RawGetString(name)
		if v == lua.LNil {
			L.RaiseError("Script attempted to access nonexistent global variable '%s'", name)
		}
		L.Push(v)
		return 1
	}))
	g.RawSetString("_G", env)
	L.G.Global, L.Env = env, env
	L.SetContext(&s.budget)
	s.L = L
	e.lua = s
	return s
}

// tostring is Lua's tostring, except that a table, function or other
// reference is named by its number in the running script, not its
// address.
func (s *scripting) tostring(L *lua.LState) int {
	v := L.CheckAny(1)
	if m := L.GetMetaField(v, "__tostring"); m != lua.LNil {
		L.Push(m)
		L.Push(v)
		L.Call(1, 1)
		return 1
	}
	switch v := v.(type) {
	case lua.LString, lua.LNumber, lua.LBool, *lua.LNilType:
		L.Push(lua.LString(luaString(v)))
	default:
		id, ok := s.ids[v]
		if !ok {
			id = len(s.ids) + 1
			s.ids[v] = id
		}
		L.Push(lua.LString(v.Type().String() + ": 0x" + strconv.FormatInt(int64(id), 16)))
	}
	return 1
}

// luaString is a string, number, boolean or nil as Lua prints it.
func luaString(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return luaNumberString(float64(v))
	case lua.LBool:
		if v {
			return "true"
		}
		return "false"
	case *lua.LNilType:
		return "nil"
	}
	return v.Type().String()
}

// luaRandom is math.random on the engine's source, with Lua 5.1's
// arguments: none, a float in [0,1); m, an integer in [1,m]; m and n,
// one in [m,n].
func (e *Engine) luaRandom(L *lua.LState) int {
	r := e.rand.Float64()
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := L.CheckInt(1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(int(r*float64(u)) + 1))
	default:
		l, u := L.CheckInt(1), L.CheckInt(2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(int(r*float64(u-l+1)) + l))
	}
	return 1
}

func sha1Hex(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// notInScripts are the engine commands a script may not call (Redis
// flags them noscript).
var notInScripts = map[string]bool{"eval": true, "evalsha": true, "eval_ro": true, "evalsha_ro": true, "script": true, "config": true,
	"blpop": true, "brpop": true, "bzpopmin": true, "bzpopmax": true, "blmove": true, "brpoplpush": true} // BLMPOP and BZMPOP are allowed (Redis 7.0's flags)

// luaCall is redis.call (raise) and redis.pcall: it runs one engine
// command and converts its reply; an error reply is raised as {err=...}
// by redis.call and returned so by redis.pcall.
func (e *Engine) luaCall(L *lua.LState, raise bool) int {
	s := e.lua
	n := L.GetTop()
	fail := func(msg string) int {
		t := L.NewTable()
		t.RawSetString("err", lua.LString(msg))
		if raise {
			s.line = luaLine(L)
			L.Error(t, 1)
			return 0
		}
		L.Push(t)
		return 1
	}
	if n == 0 {
		return fail("ERR Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(v)
		case lua.LNumber:
			args[i-1] = []byte(callArgNumber(float64(v)))
		default:
			return fail("ERR Lua redis lib command arguments must be strings or integers")
		}
	}
	c := lookupCommand(args[0])
	if c == nil || strings.HasPrefix(c.name, "dyno.") { // internal: unknown to clients
		return fail("ERR Unknown Redis command called from script")
	}
	arity := c.arity
	if subs := subcommandArity[c.name]; subs != nil && n > 1 {
		// A container command is looked up with its subcommand, as
		// Redis's lookupCommand does: an unknown one is an unknown
		// command, a known one has its own arity.
		a, ok := subs[strings.ToLower(string(args[1]))]
		if !ok {
			return fail("ERR Unknown Redis command called from script")
		}
		arity = a
	}
	if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
		return fail("ERR Wrong number of args calling Redis command from script")
	}
	if notInScripts[c.name] && !(c.name == "config" && n > 1 && strings.EqualFold(string(args[1]), "help")) { // after the arity, as Redis's scriptCall (CONFIG HELP is allowed)
		return fail("ERR This Redis command is not allowed from script")
	}
	if s.ro && writes(c) {
		return fail("ERR Write commands are not allowed from read-only scripts.")
	}
	e.inScript = true
	reply := c.run(e, args, nil)
	e.inScript = false
	if len(reply) > 0 && reply[0] == '-' {
		return fail(string(reply[1 : len(reply)-2]))
	}
	v, _ := luaFromReply(L, reply)
	L.Push(v)
	return 1
}

// writes reports whether an engine command may change the keyspace.
func writes(c *command) bool {
	switch c.lww {
	case lwwWhole, lwwDelete, lwwRMW:
		return true
	case lwwMulti:
		switch c.name {
		case "sinter", "sunion", "sdiff", "sintercard", "lcs", "sort_ro":
			return false
		}
		return true // SORT too: Redis flags it a write (STORE)
	}
	// PFCOUNT caches its estimate in the sketch: Redis flags it
	// may-replicate, which read-only scripts refuse as a write.
	return c.name == "flushdb" || c.name == "flushall" || c.name == "pfcount"
}

// luaLine is the line of the Lua code that called the running Go
// function (0 if unknown).
func luaLine(L *lua.LState) int {
	w := L.Where(1) // "user_script:LINE:"
	if i := strings.LastIndexByte(strings.TrimSuffix(w, ":"), ':'); i >= 0 {
		if n, err := strconv.Atoi(strings.TrimSuffix(w[i+1:], ":")); err == nil {
			return n
		}
	}
	return 0
}

// luaNumberString formats a number as Lua 5.1's tostring does ("%.14g").
func luaNumberString(f float64) string {
	if f == float64(int64(f)) && f < 1e15 && f > -1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// callArgNumber formats a number passed to redis.call as Redis 7.0 does
// ("%.17g": 2^53 and microsecond timestamps keep every digit).
func callArgNumber(f float64) string { return strconv.FormatFloat(f, 'g', 17, 64) }

// luaFromReply converts one RESP2 reply at the start of b into a Lua
// value as Redis does: integer -> number, bulk -> string, null bulk or
// null array -> false, array -> table, status -> {ok=...}, error ->
// {err=...}. It returns the bytes consumed.
func luaFromReply(L *lua.LState, b []byte) (lua.LValue, int) {
	line := func() (string, int) {
		i := strings.Index(string(b), "\r\n")
		return string(b[1:i]), i + 2
	}
	switch b[0] {
	case '+', '-':
		s, n := line()
		t := L.NewTable()
		field := "ok"
		if b[0] == '-' {
			field = "err"
		}
		t.RawSetString(field, lua.LString(s))
		return t, n
	case ':':
		s, n := line()
		x, _ := strconv.ParseInt(s, 10, 64)
		return lua.LNumber(x), n
	case '$':
		s, n := line()
		size, _ := strconv.Atoi(s)
		if size < 0 {
			return lua.LFalse, n
		}
		return lua.LString(b[n : n+size]), n + size + 2
	case '*':
		s, n := line()
		count, _ := strconv.Atoi(s)
		if count < 0 {
			return lua.LFalse, n
		}
		t := L.CreateTable(count, 0)
		for i := 0; i < count; i++ {
			v, m := luaFromReply(L, b[n:])
			t.RawSetInt(i+1, v)
			n += m
		}
		return t, n
	}
	return lua.LNil, len(b)
}

// appendLuaReply appends Lua value v as Redis 7.0 converts a script's
// result over RESP2: string -> bulk, number -> integer (truncated),
// true -> 1, false and nil -> null bulk, a table with err -> error, with
// ok -> status, else an array of its elements 1, 2, ... up to the first
// nil.
func appendLuaReply(dst []byte, v lua.LValue, depth int) []byte {
	if depth > maxReplyDepth {
		return resp.AppendError(dst, "ERR reached lua stack limit")
	}
	switch v := v.(type) {
	case lua.LString:
		return resp.AppendBulk(dst, []byte(v))
	case lua.LNumber:
		return resp.AppendInt(dst, int64(v))
	case lua.LBool:
		if v {
			return resp.AppendInt(dst, 1)
		}
		return resp.AppendNullBulk(dst)
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			return resp.AppendError(dst, string(e))
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			return resp.AppendSimpleString(dst, string(s))
		}
		n := 0
		for v.RawGetInt(n+1) != lua.LNil {
			n++
		}
		dst = resp.AppendArrayHeader(dst, n)
		for i := 1; i <= n; i++ {
			dst = appendLuaReply(dst, v.RawGetInt(i), depth+1)
		}
		return dst
	}
	return resp.AppendNullBulk(dst)
}

// cmdEval runs EVAL, EVALSHA, EVAL_RO and EVALSHA_RO.
func (e *Engine) cmdEval(args [][]byte, dst []byte) []byte {
	name := cmdName(args)
	byBody := name == "eval" || name == "eval_ro"
	var sha string
	if !byBody {
		if sha = strings.ToLower(string(args[1])); len(sha) != 40 {
			return appendErr(dst, "NOSCRIPT No matching script. Please use EVAL.")
		}
	}
	numkeys, ok := resp.ParseInt(args[2])
	switch {
	case !ok:
		return appendErr(dst, "ERR value is not an integer or out of range")
	case numkeys > int64(len(args)-3):
		return appendErr(dst, "ERR Number of keys can't be greater than number of args")
	case numkeys < 0:
		return appendErr(dst, "ERR Number of keys can't be negative")
	}
	s := e.scripts()
	var sc *script
	if byBody {
		var err string
		if sha, sc, err = s.load(string(args[1])); err != "" {
			return appendErr(dst, err)
		}
	} else if sc = s.fns[sha]; sc == nil {
		return appendErr(dst, "NOSCRIPT No matching script. Please use EVAL.")
	}
	fn := sc.fn
	L := s.L
	keys, argv := L.CreateTable(int(numkeys), 0), L.CreateTable(len(args)-3-int(numkeys), 0)
	for i, a := range args[3:] {
		if i < int(numkeys) {
			keys.RawSetInt(i+1, lua.LString(a))
		} else {
			argv.RawSetInt(i+1-int(numkeys), lua.LString(a))
		}
	}
	s.globals.RawSetString("KEYS", keys)
	s.globals.RawSetString("ARGV", argv)
	s.ro, s.sha, s.line = name == "eval_ro" || name == "evalsha_ro" || sc.noWrites, sha, 0
	s.ids = map[lua.LValue]int{}
	s.budget.left = scriptBudget
	L.Push(fn)
	err := L.PCall(0, 1, nil)
	s.globals.RawSetString("KEYS", lua.LNil)
	s.globals.RawSetString("ARGV", lua.LNil)
	if err != nil {
		L.SetTop(0)
		return appendErr(dst, s.errorText(err))
	}
	v := L.Get(-1)
	L.SetTop(0)
	return appendLuaReply(dst, v, 0)
}

// errorText is the error reply of a script that raised err, as Redis
// 7.0 words it: "<message> script: <sha>, on @user_script:<line>.",
// where a raised {err=...} table's message is its err, and any other
// error's is "ERR " and the error as Lua prints it.
func (s *scripting) errorText(err error) string {
	var msg string
	line := s.line
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) {
		if t, ok := apiErr.Object.(*lua.LTable); ok {
			if m, ok := t.RawGetString("err").(lua.LString); ok {
				msg = string(m)
			} else {
				msg = "ERR " + lua.LVAsString(t)
			}
		} else {
			text := luaString(apiErr.Object) // a function or a table: its type
			if strings.Contains(text, errBudget.Error()) {
				return "ERR " + errBudget.Error() + " (" + strconv.Itoa(scriptBudget) + " instructions)"
			}
			msg = "ERR " + text
			// "user_script:LINE: message": the line the error was raised at.
			if rest, ok := strings.CutPrefix(text, "user_script:"); ok {
				if i := strings.IndexByte(rest, ':'); i > 0 {
					if n, err := strconv.Atoi(rest[:i]); err == nil {
						line = n
					}
				}
			}
		}
	} else {
		msg = "ERR " + err.Error()
	}
	if line == 0 {
		line = 1
	}
	return msg + " script: " + s.sha + ", on @user_script:" + strconv.Itoa(line) + "."
}

// script is a compiled script and what its shebang line declares.
type script struct {
	fn       *lua.LFunction
	noWrites bool // "#!lua flags=no-writes": runs as EVAL_RO does
}

// scriptFlags are the flags a "#!lua" line may give (Redis 7.0's); only
// no-writes changes what dynonode does.
var scriptFlags = map[string]bool{"no-writes": true, "allow-oom": true, "allow-stale": true, "no-cluster": true, "allow-cross-slot-keys": true}

// load compiles body (once: the cache keeps it by SHA1) and returns its
// SHA1 and script, or Redis's error. A first line "#!lua [flags=a,b]" is
// Redis 7.0's shebang: its flags are read and the line is left out of
// the code (blank, so that line numbers stay).
func (s *scripting) load(body string) (string, *script, string) {
	sha := sha1Hex(body)
	if sc := s.fns[sha]; sc != nil {
		return sha, sc, ""
	}
	sc := &script{}
	code := body
	if strings.HasPrefix(body, "#!") {
		line, rest, _ := strings.Cut(body, "\n")
		words := strings.Fields(line[2:])
		if len(words) == 0 || words[0] != "lua" {
			return "", nil, "ERR Unexpected engine in script shebang: " + strings.TrimRight(line, "\r")
		}
		for _, w := range words[1:] {
			flags, ok := strings.CutPrefix(w, "flags=")
			if !ok {
				return "", nil, "ERR Unknown lua shebang option: " + w
			}
			for _, f := range strings.Split(flags, ",") {
				if f == "" {
					continue
				}
				if !scriptFlags[f] {
					return "", nil, "ERR Unexpected flag in script shebang: " + f
				}
				sc.noWrites = sc.noWrites || f == "no-writes"
			}
		}
		code = "\n" + rest
	}
	fn, err := s.L.Load(strings.NewReader(code), "user_script")
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "user_script"); i > 0 {
			msg = msg[i:]
		}
		return "", nil, "ERR Error compiling script (new function): " + msg
	}
	sc.fn = fn
	s.fns[sha] = sc
	return sha, sc, ""
}

// cmdScript runs SCRIPT LOAD, EXISTS, FLUSH and KILL.
func (e *Engine) cmdScript(args [][]byte, dst []byte) []byte {
	sub := strings.ToLower(string(args[1]))
	arity := func(ok bool) bool {
		if !ok {
			dst = appendErr(dst, "ERR wrong number of arguments for 'script|"+sub+"' command")
		}
		return ok
	}
	switch sub {
	case "load":
		if !arity(len(args) == 3) {
			return dst
		}
		sha, _, err := e.scripts().load(string(args[2]))
		if err != "" {
			return appendErr(dst, err)
		}
		return resp.AppendBulk(dst, []byte(sha))
	case "exists":
		if !arity(len(args) >= 3) {
			return dst
		}
		dst = resp.AppendArrayHeader(dst, len(args)-2)
		for _, a := range args[2:] {
			_, ok := e.scripts().fns[strings.ToLower(string(a))]
			dst = appendBool(dst, ok)
		}
		return dst
	case "flush":
		if !arity(len(args) <= 3) {
			return dst
		}
		if len(args) == 3 && !is(args[2], "sync") && !is(args[2], "async") {
			return appendErr(dst, "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		}
		if e.lua != nil {
			e.lua.L.Close()
			e.lua = nil
		}
		return appendOK(dst)
	case "kill":
		if !arity(len(args) == 2) {
			return dst
		}
		return appendErr(dst, "NOTBUSY No scripts in execution right now.")
	}
	return appendErr(dst, "ERR unknown subcommand '"+string(args[1])+"'. Try SCRIPT HELP.")
}

// cmdDynoExec runs a transaction (actors/coord/tx.go): DYNO.EXEC K
// key... N then N commands, each its argument count and arguments. The
// commands run one after the other in this one call, so nothing else
// runs between them (the engine is one actor), and the reply is EXEC's:
// an array of their replies, errors included. The K keys are those the
// transaction's writes name: under a version they move as a script's
// declared keys do (version.go).
func (e *Engine) cmdDynoExec(args [][]byte, dst []byte) []byte {
	cmds, ok := ParseDynoExec(args)
	if !ok {
		return appendErr(dst, "ERR dynonode: malformed DYNO.EXEC")
	}
	dst = resp.AppendArrayHeader(dst, len(cmds))
	for _, cmd := range cmds {
		c := lookupCommand(cmd[0])
		switch {
		case c == nil || strings.HasPrefix(c.name, "dyno."):
			dst = appendUnknownCommand(dst, cmd)
		case (c.arity > 0 && len(cmd) != c.arity) || (c.arity < 0 && len(cmd) < -c.arity):
			dst = appendArityErr(dst, c.name)
		default:
			dst = c.run(e, cmd, dst)
		}
	}
	return dst
}

// DynoExecKeys are the keys a DYNO.EXEC says its writes name.
func DynoExecKeys(args [][]byte) [][]byte {
	if len(args) < 2 {
		return nil
	}
	k, ok := resp.ParseInt(args[1])
	if !ok || k < 0 || k > int64(len(args)-2) {
		return nil
	}
	return args[2 : 2+k]
}

// ParseDynoExec splits a DYNO.EXEC into its commands.
func ParseDynoExec(args [][]byte) ([][][]byte, bool) {
	if len(args) < 3 {
		return nil, false
	}
	if k, ok := resp.ParseInt(args[1]); !ok || k < 0 || k > int64(len(args)-2) {
		return nil, false
	}
	rest := args[2+len(DynoExecKeys(args)):]
	if len(rest) == 0 {
		return nil, false
	}
	n, ok := resp.ParseInt(rest[0])
	if !ok || n < 0 || n > int64(len(rest)) {
		return nil, false
	}
	rest = rest[1:]
	cmds := make([][][]byte, 0, n)
	for range n {
		if len(rest) == 0 {
			return nil, false
		}
		argc, ok := resp.ParseInt(rest[0])
		if !ok || argc < 1 || argc > int64(len(rest)-1) {
			return nil, false
		}
		cmds = append(cmds, rest[1:1+argc])
		rest = rest[1+argc:]
	}
	return cmds, len(rest) == 0
}

// cmdUnwatch is UNWATCH: nothing is ever watched (WATCH is refused by the
// coordinator), so +OK, as Redis answers it inside a transaction too.
func (e *Engine) cmdUnwatch(_ [][]byte, dst []byte) []byte { return appendOK(dst) }

// subcommandArity holds the arities of the subcommands of the engine's
// container commands (Redis 7.0's), for scripts' command lookup.
var subcommandArity = map[string]map[string]int{
	"object": {"encoding": 3, "refcount": 3, "freq": 3, "idletime": 3, "help": 2},
	"config": {"get": -3, "set": -4, "help": 2, "resetstat": 2, "rewrite": 2},
}
