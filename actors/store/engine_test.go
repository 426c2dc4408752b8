package store

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.UnixMilli(1_700_000_000_000)

// step is one command and the exact RESP reply Redis 7.0 gives it.
type step struct {
	cmd  string // space-separated; "\x00" and other bytes written with Go escapes
	want string
}

// runSteps runs steps in order on a fresh engine at time t0.
func runSteps(t *testing.T, steps []step) {
	t.Helper()
	e := NewEngine(Options{})
	for _, s := range steps {
		got := e.Exec(t0, strArgs(strings.Fields(s.cmd)...), nil)
		require.Equal(t, s.want, string(got), "command %q", s.cmd)
	}
}

func TestKeysAndStrings(t *testing.T) {
	runSteps(t, []step{
		{"GET a", "$-1\r\n"},
		{"SET a 1", "+OK\r\n"},
		{"get a", "$1\r\n1\r\n"},
		{"TYPE a", "+string\r\n"},
		{"TYPE nope", "+none\r\n"},
		{"EXISTS a a nope", ":2\r\n"},
		{"INCR a", ":2\r\n"},
		{"INCRBY a x", "-ERR value is not an integer or out of range\r\n"},
		{"DECRBY a -9223372036854775808", "-ERR decrement would overflow\r\n"},
		{"SET big 9223372036854775807", "+OK\r\n"},
		{"INCR big", "-ERR increment or decrement would overflow\r\n"},
		{"INCRBYFLOAT f 0.1", "$3\r\n0.1\r\n"},
		{"INCRBYFLOAT f 0.2", "$3\r\n0.3\r\n"}, // long double arithmetic, as Redis
		{"INCRBYFLOAT f 1e20", "$21\r\n100000000000000000000\r\n"},
		{"INCRBYFLOAT f inf", "-ERR increment would produce NaN or Infinity\r\n"},
		{"APPEND s abc", ":3\r\n"},
		{"SETRANGE s 5 xy", ":7\r\n"},
		{"GET s", "$7\r\nabc\x00\x00xy\r\n"},
		{"GETRANGE s -3 -1", "$3\r\n\x00xy\r\n"},
		{"GETRANGE s -1 -3", "$0\r\n\r\n"},
		{"SETRANGE s -1 x", "-ERR offset is out of range\r\n"},
		{"SET a 1 NX", "$-1\r\n"},
		{"SET a 5 XX GET", "$1\r\n2\r\n"},
		{"SET a 1 NX XX", "-ERR syntax error\r\n"},
		{"SET a 1 EX 0", "-ERR invalid expire time in 'set' command\r\n"},
		{"SETEX a -1 v", "-ERR invalid expire time in 'setex' command\r\n"},
		{"SETNX a 1", ":0\r\n"},
		{"MSET a 1 b", "-ERR wrong number of arguments for 'mset' command\r\n"},
		{"MSETNX a 1 c 2", ":0\r\n"},
		{"MGET a c s", "*3\r\n$1\r\n5\r\n$-1\r\n$7\r\nabc\x00\x00xy\r\n"},
		{"RENAME nope x", "-ERR no such key\r\n"},
		{"RENAMENX a s", ":0\r\n"},
		{"RENAME a z", "+OK\r\n"},
		{"DEL a z z", ":1\r\n"},
		{"KEYS *", "*3\r\n$3\r\nbig\r\n$1\r\nf\r\n$1\r\ns\r\n"},
		{"DBSIZE", ":3\r\n"},
		{"GETDEL s", "$7\r\nabc\x00\x00xy\r\n"},
		{"PING", "+PONG\r\n"},
		{"PING a b", "-ERR wrong number of arguments for 'ping' command\r\n"},
		{"FLUSHDB bad", "-ERR syntax error\r\n"},
		{"FLUSHALL ASYNC", "+OK\r\n"},
		{"DBSIZE", ":0\r\n"},
	})
}

func TestUnknownCommandAndArity(t *testing.T) {
	runSteps(t, []step{
		{"foo a b", "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"},
		{"FOO", "-ERR unknown command 'FOO', with args beginning with: \r\n"},
		{"GET", "-ERR wrong number of arguments for 'get' command\r\n"},
		{"get a b", "-ERR wrong number of arguments for 'get' command\r\n"},
		{"ZADD z", "-ERR wrong number of arguments for 'zadd' command\r\n"},
	})
	long := strings.Repeat("x", 200)
	got := NewEngine(Options{}).Exec(t0, strArgs("nope", long, "y"), nil)
	require.Equal(t, "-ERR unknown command 'nope', with args beginning with: '"+long[:128]+"' \r\n", string(got))
}

func TestHashes(t *testing.T) {
	runSteps(t, []step{
		{"HSET h f1 a f2 b", ":2\r\n"},
		{"HSET h f1 c", ":0\r\n"},
		{"HSET h f1", "-ERR wrong number of arguments for 'hset' command\r\n"},
		{"HGETALL h", "*4\r\n$2\r\nf1\r\n$1\r\nc\r\n$2\r\nf2\r\n$1\r\nb\r\n"},
		{"HMGET h f2 nope", "*2\r\n$1\r\nb\r\n$-1\r\n"},
		{"HINCRBY h f1 1", "-ERR hash value is not an integer\r\n"},
		{"HINCRBY h n 5", ":5\r\n"},
		{"HINCRBYFLOAT h n 0.5", "$3\r\n5.5\r\n"},
		{"HINCRBYFLOAT h n inf", "-ERR value is NaN or Infinity\r\n"},
		{"HSTRLEN h n", ":3\r\n"},
		{"HDEL h f1 f2 n", ":3\r\n"},
		{"EXISTS h", ":0\r\n"},
		{"SET s x", "+OK\r\n"},
		{"HGET s f", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"HRANDFIELD h -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
	})
}

func TestLists(t *testing.T) {
	runSteps(t, []step{
		{"RPUSH l a b a c a", ":5\r\n"},
		{"LPOS l a RANK -1", ":4\r\n"},
		{"LPOS l a COUNT 0", "*3\r\n:0\r\n:2\r\n:4\r\n"},
		{"LPOS l a COUNT -1", "-ERR COUNT can't be negative\r\n"},
		// Found by the differential test: RANK MinInt64 is accepted, and
		// its negation wraps, so the first match from the tail counts.
		{"LPOS l a RANK -9223372036854775808", ":4\r\n"},
		// Found by the differential test: LREM's -MinInt64 wraps, so it
		// removes every match.
		{"LREM l -9223372036854775808 a", ":3\r\n"},
		{"LRANGE l 0 -1", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{"LSET l 5 x", "-ERR index out of range\r\n"},
		{"LSET nope 0 x", "-ERR no such key\r\n"},
		{"LINSERT l middle b x", "-ERR syntax error\r\n"},
		{"LINSERT l AFTER b x", ":3\r\n"},
		{"LMOVE l l LEFT RIGHT", "$1\r\nb\r\n"},
		{"LRANGE l 0 -1", "*3\r\n$1\r\nx\r\n$1\r\nc\r\n$1\r\nb\r\n"},
		// Found by the differential test: a count that is not an integer
		// gets the "must be positive" error.
		{"LPOP l x", "-ERR value is out of range, must be positive\r\n"},
		{"LPOP l 0", "*0\r\n"},
		{"LPOP nope 1", "*-1\r\n"},
		{"RPOP l 5", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nx\r\n"},
		{"EXISTS l", ":0\r\n"},
	})
}

func TestSets(t *testing.T) {
	runSteps(t, []step{
		{"SADD s a b c", ":3\r\n"},
		{"SADD t b c d", ":3\r\n"},
		{"SINTER s t", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{"SDIFF s t", "*1\r\n$1\r\na\r\n"},
		{"SINTERCARD 2 s t LIMIT 1", ":1\r\n"},
		{"SINTERCARD 0 s", "-ERR numkeys should be greater than 0\r\n"},
		{"SINTERCARD 3 s t", "-ERR Number of keys can't be greater than number of args\r\n"},
		{"SUNIONSTORE u s t", ":4\r\n"},
		{"SINTERSTORE u s nope", ":0\r\n"},
		{"EXISTS u", ":0\r\n"},
		{"SMOVE s t a", ":1\r\n"},
		{"SMISMEMBER t a z", "*2\r\n:1\r\n:0\r\n"},
		// Found by the differential test: SPOP's count error.
		{"SPOP s -1x", "-ERR value is out of range, must be positive\r\n"},
		// Found by the differential test: the cursor is checked before
		// the key.
		{"SSCAN nope x", "-ERR invalid cursor\r\n"},
		{"SSCAN nope 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
	})
}

func TestSortedSets(t *testing.T) {
	runSteps(t, []step{
		{"ZADD z 1 a 2 b 0.1 c", ":3\r\n"},
		{"ZSCORE z c", "$19\r\n0.10000000000000001\r\n"},
		{"ZADD z 1e20 d inf e", ":2\r\n"},
		{"ZRANGE z 0 -1 WITHSCORES", "*10\r\n$1\r\nc\r\n$19\r\n0.10000000000000001\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nd\r\n$5\r\n1e+20\r\n$1\r\ne\r\n$3\r\ninf\r\n"},
		{"ZADD z NX XX 1 a", "-ERR XX and NX options at the same time are not compatible\r\n"},
		{"ZADD z GT LT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"},
		{"ZADD z INCR 1 a 2 b", "-ERR INCR option supports a single increment-element pair\r\n"},
		{"ZADD z x a", "-ERR value is not a valid float\r\n"},
		{"ZINCRBY z -inf e", "-ERR resulting score is not a number (NaN)\r\n"},
		{"ZADD z GT CH 0 a 3 b", ":1\r\n"},
		{"ZRANGEBYSCORE z (1 +inf LIMIT 1 1", "*1\r\n$1\r\nd\r\n"},
		{"ZRANGEBYSCORE z x 1", "-ERR min or max is not a float\r\n"},
		{"ZRANGE z 0 1 LIMIT 0 1", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"},
		{"ZREVRANGE z 0 1", "*2\r\n$1\r\ne\r\n$1\r\nd\r\n"},
		{"ZRANK z b", ":2\r\n"},
		{"ZREVRANK z b", ":2\r\n"},
		{"ZCOUNT z -inf (2", ":2\r\n"},
		{"ZPOPMIN z 2", "*4\r\n$1\r\nc\r\n$19\r\n0.10000000000000001\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{"ZPOPMAX z", "*2\r\n$1\r\ne\r\n$3\r\ninf\r\n"},
		{"ZADD l 0 a 0 b 0 c", ":3\r\n"},
		{"ZRANGEBYLEX l [b +", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{"ZREVRANGEBYLEX l + (a LIMIT 0 1", "*1\r\n$1\r\nc\r\n"},
		{"ZLEXCOUNT l x +", "-ERR min or max not valid string range item\r\n"},
		{"ZUNIONSTORE out 2 z l WEIGHTS 2 1", ":4\r\n"},
		{"ZINTERSTORE out 0 z", "-ERR at least 1 input key is needed for 'zinterstore' command\r\n"},
		{"ZINCRBY z -0 n", "$2\r\n-0\r\n"},
		{"ZSCORE z n", "$1\r\n0\r\n"},
	})
}

// TestLongDoubleHex checks strtold-compatible parsing of hex floats.
func TestLongDoubleHex(t *testing.T) {
	runSteps(t, []step{
		{"INCRBYFLOAT f 0x10", "$2\r\n16\r\n"},
		{"INCRBYFLOAT f 1p3", "-ERR value is not a valid float\r\n"},
		{"ZADD z 0x1p-1 a", ":1\r\n"},
		{"ZSCORE z a", "$3\r\n0.5\r\n"},
	})
	// Found by the differential test: a NUL inside the stored value makes
	// it not a float (string2ld checks the whole length).
	e := NewEngine(Options{})
	e.Exec(t0, strArgs("SETRANGE", "k", "1", "1"), nil)
	require.Equal(t, "-ERR value is not a valid float\r\n", string(e.Exec(t0, strArgs("INCRBYFLOAT", "k", "1"), nil)))
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", false}, {"a*", "a", true}, {"a*", "abc", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"[a-c]x", "bx", true}, {"[c-a]x", "bx", true}, {"[^a]x", "ax", false}, {"\\*", "*", true},
		{"[", "x", false}, {"[a", "a", true}, {"a[\\]]b", "a]b", true}, {"*b*c", "abxc", true},
	}
	for _, c := range cases {
		require.Equal(t, c.want, matchGlob([]byte(c.pat), []byte(c.s)), "%q ~ %q", c.pat, c.s)
	}
}

func TestMaxValueBytes(t *testing.T) {
	e := NewEngine(Options{MaxValueBytes: 4})
	const tooBig = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
	require.Equal(t, ":3\r\n", do(e, t0, "APPEND", "k", "abc"))
	require.Equal(t, tooBig, do(e, t0, "APPEND", "k", "xy"))
	require.Equal(t, ":4\r\n", do(e, t0, "SETRANGE", "k", "3", "x"))
	require.Equal(t, tooBig, do(e, t0, "SETRANGE", "k", "3", "xy"))
	require.Equal(t, tooBig, do(e, t0, "SETRANGE", "n", "5", "x"))
}

// A new string key costs two allocations (the key, and the value with its
// bytes inline) up to 128 bytes of value, and overwriting it in place none;
// values that outgrow their inline bytes move and stay correct.
func TestStringValuesInline(t *testing.T) {
	e := NewEngine(Options{})
	keys := make([][]byte, 20_000)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%08d", i)
	}
	val := bytes.Repeat([]byte("v"), 64)
	i := 0
	args := [][]byte{[]byte("SET"), nil, val}
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(len(keys)-1, func() {
		args[1] = keys[i]
		dst = e.Exec(t0, args, dst[:0])
		i++
	})
	// 1 per key (value, key and bytes together), plus the tables' and the
	// order array's growth spread over them.
	assert.Less(t, allocs, 1.5, "allocations per new key")
	assert.EqualValues(t, 72, reflect.TypeFor[value]().Size(), "the value header the inline sizes are chosen for")
	args[1] = keys[7]
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		dst = e.Exec(t0, args, dst[:0])
	}), "allocations per overwrite")
	for _, n := range []int{0, 1, 16, 17, 64, 65, 128, 129, 150, 5000} {
		k := fmt.Sprint("grow", n)
		if n == 150 {
			k = strings.Repeat("k", 150) // a key too long to go inline with its value
		}
		v := bytes.Repeat([]byte("a"), n)
		assert.Equal(t, "+OK\r\n", string(e.Exec(t0, strArgs("set", k, string(v)), nil)))
		assert.Equal(t, fmt.Sprintf(":%d\r\n", 2*n+3), string(e.Exec(t0, strArgs("append", k, string(v)+"xyz"), nil)))
		assert.Equal(t, resp.AppendBulkString(nil, string(v)+string(v)+"xyz"), e.Exec(t0, strArgs("get", k), nil))
		assert.Equal(t, "+OK\r\n", string(e.Exec(t0, strArgs("set", k, "z"), nil)))
		assert.Equal(t, "$1\r\nz\r\n", string(e.Exec(t0, strArgs("get", k), nil)))
	}
}

// RENAME leaves the old value's heap item behind; it must neither delete
// the key now at the old name nor the renamed key early, and writes to the
// renamed value's bytes (which live in the old value's inline array, after
// its key) must not change the old item's key.
func TestRenameLeavesNoLiveExpiryBehind(t *testing.T) {
	e := NewEngine(Options{})
	ex := func(now time.Time, args ...string) string { return string(e.Exec(now, strArgs(args...), nil)) }
	ex(t0, "set", "a", "xy", "px", "100")
	require.Equal(t, "+OK\r\n", ex(t0, "rename", "a", "b"))
	ex(t0, "setrange", "b", "0", "ZZZZZZZZZZ") // fits the old inline array? (cap 14)
	ex(t0, "append", "b", "q")
	ex(t0, "set", "a", "live") // no TTL
	for range 200 {            // force rebuildTTLs with stale items around
		ex(t0, "set", "t", "v", "px", "1000000")
	}
	later := t0.Add(200 * time.Millisecond)
	e.ActiveExpire(later, 1000)
	require.Equal(t, "$4\r\nlive\r\n", ex(later, "get", "a"))
	require.Equal(t, "$-1\r\n", ex(later, "get", "b"))
	require.Equal(t, ":1\r\n", ex(later, "exists", "t"))
	require.Equal(t, 2, e.Len())
}

// TestKeyAndBytesInOneSlice covers the paths where a value's key and a
// string's bytes share value.kv: a hash overwritten by a string, the empty
// key, a key too long to go inline, a value growing past its room, RENAME
// (the value gets the new key, the bytes follow), INCR on a missing key.
func TestKeyAndBytesInOneSlice(t *testing.T) {
	e := NewEngine(Options{})
	ex := func(args ...string) string { return string(e.Exec(t0, strArgs(args...), nil)) }
	long := strings.Repeat("k", 150)
	require.Equal(t, ":1\r\n", ex("hset", "h", "f", "v"))
	require.Equal(t, "+OK\r\n", ex("set", "h", "now a string"))
	require.Equal(t, "$12\r\nnow a string\r\n", ex("get", "h"))
	require.Equal(t, "+OK\r\n", ex("set", "", "empty key"))
	require.Equal(t, "$9\r\nempty key\r\n", ex("get", ""))
	require.Equal(t, "+OK\r\n", ex("set", long, "v"))
	require.Equal(t, ":201\r\n", ex("append", long, strings.Repeat("w", 200)))
	require.Equal(t, "+OK\r\n", ex("rename", long, "short"))
	require.Equal(t, resp.AppendBulkString(nil, "v"+strings.Repeat("w", 200)), e.Exec(t0, strArgs("get", "short"), nil))
	require.Equal(t, ":1\r\n", ex("incr", "n"))
	require.Equal(t, ":2\r\n", ex("incr", "n"))
	require.Equal(t, ":301\r\n", ex("setrange", "n", "300", "x"))
	require.Equal(t, ":301\r\n", ex("strlen", "n"))
	require.Equal(t, "$1\r\nx\r\n", ex("getrange", "n", "300", "300"))
	require.Equal(t, "$1\r\n2\r\n", ex("getrange", "n", "0", "0"))
	require.Equal(t, "*4\r\n$1\r\nh\r\n$0\r\n\r\n$5\r\nshort\r\n$1\r\nn\r\n", ex("keys", "*"))
}

// TestMPopHugeNumkeys: a numkeys near 2^63 is Redis's syntax error, never
// an index past the arguments (it crashed the engine, and in a
// transaction emptied it).
func TestMPopHugeNumkeys(t *testing.T) {
	e := NewEngine(Options{})
	for _, cmd := range [][]string{
		{"LMPOP", "9223372036854775807", "k", "LEFT"}, {"ZMPOP", "9223372036854775806", "k", "MIN"},
		{"BLMPOP", "0", "9223372036854775807", "k", "LEFT"}, {"BZMPOP", "0", "9223372036854775807", "k", "MAX"},
	} {
		var args [][]byte
		for _, a := range cmd {
			args = append(args, []byte(a))
		}
		require.Equal(t, "-ERR syntax error\r\n", string(e.Exec(time.Now(), args, nil)), "%q", cmd)
	}
}
