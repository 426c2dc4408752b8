package store

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// evalOn runs one command on e and returns its reply.
func evalOn(e *Engine, args ...string) string {
	return string(e.Exec(time.Unix(1e9, 0), strArgs(args...), nil))
}

// TestScriptSandbox: a script can neither change the globals, the
// libraries or their metatables, nor replace redis.call, by assignment,
// rawset, setmetatable or setfenv; each attempt is refused with Redis's
// words and the next script runs as on a fresh VM (a replica restarted
// with one would otherwise answer differently).
func TestScriptSandbox(t *testing.T) {
	e := NewEngine(Options{})
	for _, attack := range []string{
		"x = 1", "rawset(_G, 'x', 1)", "setmetatable(_G, nil)", "getmetatable(_G).__index = nil",
		"redis.call = function() return 'pwned' end", "rawset(redis, 'call', 1)", "redis.x = 1",
		"string.rep = nil", "rawset(string, 'upper', 1)", "table.insert = nil", "math.floor = nil",
		"getmetatable('').__index = {upper = function() return 'pwned' end}", "setfenv(0, {})",
		"_G.tostring = nil", "KEYS = {}",
	} {
		got := evalOn(e, "EVAL", attack, "0")
		assert.True(t, strings.HasPrefix(got, "-ERR user_script:1: "), "%s: %q", attack, got)
	}
	assert.Equal(t, "+PONG\r\n", evalOn(e, "EVAL", "return redis.call('PING')", "0"))
	assert.Equal(t, "$2\r\nAB\r\n", evalOn(e, "EVAL", "return string.upper(ARGV[1]) .. ('b'):upper()", "0", "a"))
	assert.Equal(t, ":3\r\n", evalOn(e, "EVAL", "return math.floor(3.7)", "0"))
	got := evalOn(e, "EVAL", "return x", "0")
	assert.Contains(t, got, "Script attempted to access nonexistent global variable 'x'")
	for _, gone := range []string{"os", "io", "dofile", "loadfile", "print", "setfenv", "getfenv", "require", "_GOPHER_LUA_VERSION"} {
		got := evalOn(e, "EVAL", "return "+gone, "0")
		assert.Contains(t, got, "nonexistent global variable '"+gone+"'", gone)
	}
}

// TestScriptBounds: what could take the node down is refused instead: a
// reply that contains itself, a string.rep past the value limit, a loop
// past the instruction budget; and the VM serves the next script.
func TestScriptBounds(t *testing.T) {
	e := NewEngine(Options{MaxValueBytes: 1 << 20})
	got := evalOn(e, "EVAL", "local t = {} t[1] = t return t", "0")
	assert.True(t, strings.HasSuffix(got, "-ERR reached lua stack limit\r\n"), "%.80q", got)
	got = evalOn(e, "EVAL", "return string.rep('x', 2^40)", "0")
	assert.Contains(t, got, "string.rep: the result would exceed 1048576 bytes")
	assert.Equal(t, ":1048576\r\n", evalOn(e, "EVAL", "return #string.rep('x', 2^20)", "0"))
	got = evalOn(e, "EVAL", "while true do end", "0")
	assert.True(t, strings.HasPrefix(got, "-ERR dynonode: the script exceeded its instruction budget"), got)
	assert.Equal(t, ":20000\r\n", evalOn(e, "EVAL", "local t = {} for i = 1, 20000 do t[i] = 'a' end return #table.concat(t)", "0"))
	assert.Equal(t, ":2\r\n", evalOn(e, "EVAL", "return 2", "0"))
}

// TestScriptDeterministic: what a script can observe is the same on
// every run: tostring names tables and functions by their order in the
// script, not their address; errors with a non-string value name it.
func TestScriptDeterministic(t *testing.T) {
	body := "return tostring({}) .. ' ' .. tostring(function() end) .. ' ' .. tostring({})"
	a, b := NewEngine(Options{}), NewEngine(Options{})
	want := "$35\r\ntable: 0x1 function: 0x2 table: 0x3\r\n"
	require.Equal(t, want, evalOn(a, "EVAL", body, "0"))
	require.Equal(t, want, evalOn(b, "EVAL", body, "0"))
	require.Equal(t, want, evalOn(a, "EVAL", body, "0"), "numbered per script")
	assert.True(t, strings.HasPrefix(evalOn(a, "EVAL", "error(true)", "0"), "-ERR true script: "))
	assert.True(t, strings.HasPrefix(evalOn(a, "EVAL", "error(function() end)", "0"), "-ERR function script: "))
}

// TestScriptShebang: Redis 7.0's "#!lua" first line: flags=no-writes
// makes EVAL read-only; an unknown engine, option or flag is refused
// (replies as redis-server 7.0.15's).
func TestScriptShebang(t *testing.T) {
	e := NewEngine(Options{})
	assert.Equal(t, ":5\r\n", evalOn(e, "EVAL", "#!lua\nreturn 5", "0"))
	got := evalOn(e, "EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('SET', 'a', 'b')", "0")
	assert.True(t, strings.HasPrefix(got, "-ERR Write commands are not allowed from read-only scripts."), got)
	assert.True(t, strings.HasSuffix(got, "on @user_script:2.\r\n"), "line numbers count the shebang: %q", got)
	assert.Equal(t, "-ERR Unexpected engine in script shebang: #!python\r\n", evalOn(e, "EVAL", "#!python\nreturn 5", "0"))
	assert.Equal(t, "-ERR Unknown lua shebang option: foo=bar\r\n", evalOn(e, "EVAL", "#!lua foo=bar\nreturn 5", "0"))
	assert.Equal(t, "-ERR Unexpected flag in script shebang: bogus\r\n", evalOn(e, "EVAL", "#!lua flags=bogus\nreturn 5", "0"))
}

// TestDynoExecMalformed: a transaction request from a peer that does not
// parse (bad key count, command count, argument count, trailing
// arguments) runs nothing and is answered with an error; a well-formed
// one runs its commands in order.
func TestDynoExecMalformed(t *testing.T) {
	e := NewEngine(Options{})
	for _, bad := range [][]string{
		{"DYNO.EXEC", "x", "1", "2", "SET", "a", "1"}, {"DYNO.EXEC", "-1", "1", "1", "PING"},
		{"DYNO.EXEC", "9", "a"}, {"DYNO.EXEC", "0", "2", "1", "PING"}, {"DYNO.EXEC", "0", "1", "0"},
		{"DYNO.EXEC", "0", "1", "5", "SET", "a"}, {"DYNO.EXEC", "0", "1", "1", "PING", "extra"},
		{"DYNO.EXEC", "0", "x"},
	} {
		assert.Equal(t, "-ERR dynonode: malformed DYNO.EXEC\r\n", evalOn(e, bad...), "%q", bad)
	}
	assert.Equal(t, ":0\r\n", evalOn(e, "DBSIZE"), "nothing ran")
	assert.Equal(t, "*3\r\n+OK\r\n:2\r\n-ERR unknown command 'DYNO.DUMP', with args beginning with: 'a' \r\n",
		evalOn(e, "DYNO.EXEC", "1", "a", "3", "3", "SET", "a", "1", "2", "INCR", "a", "2", "DYNO.DUMP", "a"))
}
