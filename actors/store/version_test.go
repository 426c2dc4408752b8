package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/dynonode/dynonode/actors/hlc"
)

func ver(wall int64, node string) hlc.Version {
	return hlc.Version{TS: hlc.Timestamp{Wall: wall}, Node: node}
}

// vexec runs one command under v and returns the reply and the version.
func vexec(e *Engine, now time.Time, v hlc.Version, args ...string) (string, hlc.Version) {
	out, got := e.ExecVersion(now, strArgs(args...), v, nil)
	return string(out), got
}

// state is everything a key holds: its dump (value, type, TTL) and version.
func state(e *Engine, now time.Time, key string) string {
	out, v := e.ExecVersion(now, strArgs("dyno.dump", key), hlc.Version{}, nil)
	return fmt.Sprintf("%q@%s", out, v)
}

// A whole-value write for the LWW property: one command, and the version
// it is sent under.
type lwwWrite struct {
	args []string
	v    hlc.Version
}

// genWholeWrites draws writes to key "k" with distinct versions: SET (with
// or without an absolute expiry), PSETEX, MSET of one key, DEL, UNLINK,
// DYNO.DEL and DYNO.RESTORE of a value of any type.
func genWholeWrites(t *rapid.T, now time.Time) []lwwWrite {
	n := rapid.IntRange(1, 8).Draw(t, "writes")
	seen := map[hlc.Version]bool{}
	var ws []lwwWrite
	for i := range n {
		v := hlc.Version{TS: hlc.Timestamp{Wall: rapid.Int64Range(1, 5).Draw(t, "wall"), Logical: rapid.Uint32Range(0, 2).Draw(t, "logical")},
			Node: rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "node")}
		if seen[v] {
			continue
		}
		seen[v] = true
		val := "v" + strconv.Itoa(i)
		var args []string
		switch rapid.IntRange(0, 8).Draw(t, "cmd") {
		case 0:
			args = []string{"SET", "k", val}
		case 1:
			args = []string{"SET", "k", val, "PXAT", strconv.FormatInt(now.UnixMilli()+int64(rapid.IntRange(1, 10_000).Draw(t, "pxat")), 10)}
		case 2:
			args = []string{"PSETEX", "k", strconv.Itoa(rapid.IntRange(1, 10_000).Draw(t, "px")), val}
		case 3:
			args = []string{"MSET", "k", val}
		case 4:
			args = []string{"DEL", "k"}
		case 5:
			args = []string{"UNLINK", "k"}
		case 6:
			args = []string{"DYNO.DEL", "k"}
		default:
			args = []string{"DYNO.RESTORE", "k", string(genDump(t, now))}
		}
		ws = append(ws, lwwWrite{args, v})
	}
	return ws
}

// genDump draws a value of any type, with or without a TTL, and returns
// its DYNO.DUMP payload.
func genDump(t *rapid.T, now time.Time) []byte {
	src := NewEngine(Options{})
	ex := func(args ...string) { src.Exec(now, strArgs(args...), nil) }
	elems := rapid.SliceOfN(rapid.SampledFrom([]string{"x", "y", "z", "1", "", "héllo"}), 1, 5).Draw(t, "elems")
	switch rapid.IntRange(0, 4).Draw(t, "type") {
	case 0:
		ex("SET", "s", elems[0])
	case 1:
		ex(append([]string{"RPUSH", "s"}, elems...)...)
	case 2:
		for i, m := range elems {
			ex("HSET", "s", m, strconv.Itoa(i))
		}
	case 3:
		ex(append([]string{"SADD", "s"}, elems...)...)
	default:
		for i, m := range elems {
			ex("ZADD", "s", strconv.FormatFloat(float64(i)/3, 'g', -1, 64), m)
		}
	}
	if rapid.Bool().Draw(t, "ttl") {
		ex("PEXPIRE", "s", strconv.Itoa(rapid.IntRange(1, 100_000).Draw(t, "ms")))
	}
	p, ok := src.dumpKey(now, "s")
	if !ok {
		t.Fatal("nothing to dump")
	}
	return p
}

// dumpKey is DYNO.DUMP's payload for key.
func (e *Engine) dumpKey(now time.Time, key string) ([]byte, bool) {
	e.now = now.UnixMilli()
	v := e.lookup([]byte(key))
	if v == nil {
		return nil, false
	}
	return e.dump(nil, v), true
}

// deliveries draws an arrival order of ws: every write at least once, some
// several times, in any order.
func deliveries(t *rapid.T, ws []lwwWrite) []lwwWrite {
	var out []lwwWrite
	for _, w := range ws {
		for range rapid.IntRange(1, 3).Draw(t, "copies") {
			out = append(out, w)
		}
	}
	perm := rapid.Permutation(out).Draw(t, "order")
	return perm
}

// checkLWW applies arrival to one engine and only the newest write to
// another, through apply, and reports how they differ ("" if not).
func checkLWW(ws, arrival []lwwWrite, now time.Time, apply func(e *Engine, w lwwWrite)) string {
	newest := slices.MaxFunc(ws, func(a, b lwwWrite) int { return a.v.Compare(b.v) })
	got, want := NewEngine(Options{}), NewEngine(Options{})
	for _, w := range arrival {
		apply(got, w)
	}
	apply(want, newest)
	for _, probe := range [][]string{{"GET", "k"}, {"TYPE", "k"}, {"PTTL", "k"}, {"EXISTS", "k"}, {"DBSIZE"}} {
		g, w := string(got.Exec(now, strArgs(probe...), nil)), string(want.Exec(now, strArgs(probe...), nil))
		if g != w {
			return fmt.Sprintf("%v: %q after all, %q after the newest only", probe, g, w)
		}
	}
	if g, w := state(got, now, "k"), state(want, now, "k"); g != w {
		return fmt.Sprintf("state %s after all, %s after the newest only", g, w)
	}
	return ""
}

func applyVersioned(now time.Time) func(e *Engine, w lwwWrite) {
	return func(e *Engine, w lwwWrite) { e.ExecVersion(now, strArgs(w.args...), w.v, nil) }
}

// applyIgnoringVersions is the planted bug: a store that ignores versions.
func applyIgnoringVersions(now time.Time) func(e *Engine, w lwwWrite) {
	return func(e *Engine, w lwwWrite) { e.Exec(now, strArgs(w.args...), nil) }
}

// TestLWWConverges: whole-value writes and deletes of one key, delivered
// in any order, any number of times, leave the key exactly as the newest
// alone does (value, type, TTL, version, tombstone): replicas converge
// whatever the arrival order.
func TestLWWConverges(t *testing.T) {
	now := t0
	rapid.Check(t, func(t *rapid.T) {
		ws := genWholeWrites(t, now)
		if msg := checkLWW(ws, deliveries(t, ws), now, applyVersioned(now)); msg != "" {
			t.Fatal(msg)
		}
	})
}

// TestLWWCheckerCatchesIgnoredVersions: the same checker, run against a
// store that ignores versions, fails (on a fixed case and on random ones),
// so TestLWWConverges would catch a store that lost its versions.
func TestLWWCheckerCatchesIgnoredVersions(t *testing.T) {
	now := t0
	ws := []lwwWrite{{[]string{"SET", "k", "new"}, ver(2, "a")}, {[]string{"SET", "k", "old"}, ver(1, "a")}}
	require.NotEmpty(t, checkLWW(ws, ws, now, applyIgnoringVersions(now)), "an older SET arriving last must be caught")
	require.Empty(t, checkLWW(ws, ws, now, applyVersioned(now)))
	ws = []lwwWrite{{[]string{"DEL", "k"}, ver(2, "a")}, {[]string{"SET", "k", "old"}, ver(1, "b")}}
	require.NotEmpty(t, checkLWW(ws, ws, now, applyIgnoringVersions(now)), "a resurrection must be caught")

	caught := 0
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var ws []lwwWrite
		for i := range 4 {
			cmd := []string{"SET", "k", "v" + strconv.Itoa(i)}
			if r.IntN(3) == 0 {
				cmd = []string{"DEL", "k"}
			}
			ws = append(ws, lwwWrite{cmd, ver(int64(i+1), "a")})
		}
		arrival := slices.Clone(ws)
		r.Shuffle(len(arrival), func(i, j int) { arrival[i], arrival[j] = arrival[j], arrival[i] })
		require.Empty(t, checkLWW(ws, arrival, now, applyVersioned(now)))
		if checkLWW(ws, arrival, now, applyIgnoringVersions(now)) != "" {
			caught++
		}
	}
	require.Greater(t, caught, 50, "the checker catches reordered writes to a store without versions")
}

// TestStaleWholeWrites: a whole-value write older than the key changes
// nothing and answers as if applied to the key as it is.
func TestStaleWholeWrites(t *testing.T) {
	e := NewEngine(Options{})
	now := t0
	v5, v3 := ver(5, "a"), ver(3, "b")
	out, got := vexec(e, now, v5, "SET", "k", "new", "PX", "100000")
	require.Equal(t, "+OK\r\n", out)
	require.Equal(t, v5, got)
	before := state(e, now, "k")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SET", "k", "old"}, "+OK\r\n"},
		{[]string{"SET", "k", "old", "NX"}, "$-1\r\n"},
		{[]string{"SET", "k", "old", "XX", "GET"}, "$3\r\nnew\r\n"},
		{[]string{"SETNX", "k", "old"}, ":0\r\n"},
		{[]string{"SETEX", "k", "10", "old"}, "+OK\r\n"},
		{[]string{"GETSET", "k", "old"}, "$3\r\nnew\r\n"},
		{[]string{"GETDEL", "k"}, "$3\r\nnew\r\n"},
		{[]string{"GETEX", "k", "PERSIST"}, "$3\r\nnew\r\n"},
		{[]string{"MSET", "k", "old"}, "+OK\r\n"},
		{[]string{"MSET", "k", "old", "k2", "x"}, "+OK\r\n"},
		{[]string{"DEL", "k"}, ":1\r\n"},
		{[]string{"UNLINK", "k", "nokey"}, ":1\r\n"},
		{[]string{"EXPIRE", "k", "1"}, ":1\r\n"},
		{[]string{"PEXPIREAT", "k", "1"}, ":1\r\n"},
		{[]string{"EXPIRE", "k", "1", "NX"}, ":0\r\n"},
		{[]string{"PERSIST", "k"}, ":1\r\n"},
		{[]string{"DYNO.DEL", "k"}, "+OK\r\n"},
		{[]string{"DYNO.RESTORE", "k", string(e.dump(nil, e.keys.get([]byte("k"))))}, "+OK\r\n"},
	} {
		out, got := vexec(e, now, v3, tc.args...)
		assert.Equal(t, tc.want, out, "%v", tc.args)
		if multi := tc.args[0] == "MSET" && len(tc.args) > 3 || tc.args[0] == "UNLINK" && len(tc.args) > 2; multi {
			assert.True(t, got.IsZero(), "%v: a multi-key command reports no version", tc.args)
		} else {
			assert.Equal(t, v5, got, "%v", tc.args)
		}
		require.Equal(t, before, state(e, now, "k"), "%v changed the key", tc.args)
		// The same command duplicated at the key's own version is stale too.
		if tc.args[0] != "MSET" || len(tc.args) == 3 {
			vexec(e, now, v5, tc.args...)
			require.Equal(t, before, state(e, now, "k"), "%v at the key's version changed it", tc.args)
		}
	}
	// k2 of the split MSET was new: it applied.
	out, got = vexec(e, now, hlc.Version{}, "GET", "k2")
	require.Equal(t, "$1\r\nx\r\n", out)
	require.Equal(t, v3, got)
	// Errors stay errors.
	out, _ = vexec(e, now, v3, "SET", "k", "old", "EX", "0")
	require.Equal(t, "-ERR invalid expire time in 'set' command\r\n", out)
}

// TestRMWKeepsNewestVersion: read-modify-writes apply whatever their
// version and leave the key at the newer one; one older than a tombstone
// does not bring the key back.
func TestRMWKeepsNewestVersion(t *testing.T) {
	e := NewEngine(Options{})
	now := t0
	out, got := vexec(e, now, ver(5, "a"), "INCR", "n")
	require.Equal(t, ":1\r\n", out)
	require.Equal(t, ver(5, "a"), got)
	out, got = vexec(e, now, ver(3, "b"), "INCRBY", "n", "10")
	require.Equal(t, ":11\r\n", out)
	require.Equal(t, ver(5, "a"), got, "an older increment applies, the version stays")
	out, got = vexec(e, now, ver(7, "b"), "DECR", "n")
	require.Equal(t, ":10\r\n", out)
	require.Equal(t, ver(7, "b"), got)
	// A duplicate applies again: read-modify-writes are not idempotent.
	out, got = vexec(e, now, ver(7, "b"), "DECR", "n")
	require.Equal(t, ":9\r\n", out)
	require.Equal(t, ver(7, "b"), got)

	for _, tc := range [][]string{
		{"APPEND", "s", "x"}, {"SETRANGE", "s", "2", "y"}, {"HSET", "h", "f", "v"}, {"HSETNX", "h", "f", "v"},
		{"LPUSH", "l", "a", "b"}, {"RPUSH", "l", "c"}, {"SADD", "st", "m"}, {"ZADD", "z", "1", "m"},
		{"ZINCRBY", "z", "2", "m"}, {"HINCRBY", "h", "c", "1"}, {"INCRBYFLOAT", "f", "1.5"},
	} {
		tc[1] += "-" + tc[0] // a key of its own
		_, v1 := vexec(e, now, ver(10, "a"), tc...)
		require.Equal(t, ver(10, "a"), v1, "%v", tc)
		_, v2 := vexec(e, now, ver(9, "z"), tc...)
		require.Equal(t, ver(10, "a"), v2, "%v: older leaves the newer", tc)
		_, v3 := vexec(e, now, ver(11, "a"), tc...)
		require.Equal(t, ver(11, "a"), v3, "%v: newer moves it on", tc)
	}

	// A pop that empties a list deletes it, leaving a tombstone at the
	// newer version.
	vexec(e, now, ver(20, "a"), "RPUSH", "q", "only")
	out, got = vexec(e, now, ver(15, "b"), "LPOP", "q")
	require.Equal(t, "$4\r\nonly\r\n", out)
	require.Equal(t, ver(20, "a"), got)
	require.Equal(t, 1, e.Tombstones())
	out, _ = vexec(e, now, ver(19, "a"), "SET", "q", "late")
	require.Equal(t, "+OK\r\n", out)
	require.Equal(t, "$-1\r\n", string(e.Exec(now, strArgs("GET", "q"), nil)), "an older SET does not bring the key back")

	// Deleted at 30: an increment made at 25 does not resurrect it, one
	// made at 31 creates it afresh.
	out, got = vexec(e, now, ver(30, "a"), "DEL", "n")
	require.Equal(t, ":1\r\n", out)
	require.Equal(t, ver(30, "a"), got)
	out, got = vexec(e, now, ver(25, "a"), "INCR", "n")
	require.Equal(t, ":1\r\n", out, "answers as on a missing key")
	require.Equal(t, ver(30, "a"), got)
	require.Equal(t, "$-1\r\n", string(e.Exec(now, strArgs("GET", "n"), nil)))
	out, got = vexec(e, now, ver(31, "a"), "INCR", "n")
	require.Equal(t, ":1\r\n", out)
	require.Equal(t, ver(31, "a"), got)
	require.Equal(t, "$1\r\n1\r\n", string(e.Exec(now, strArgs("GET", "n"), nil)))

	// Multi-key writes apply and stamp what they write with the newer
	// version, and report none.
	vexec(e, now, ver(40, "a"), "SET", "src", "x")
	out, got = vexec(e, now, ver(35, "b"), "RENAME", "src", "dst")
	require.Equal(t, "+OK\r\n", out)
	require.True(t, got.IsZero())
	_, got = vexec(e, now, hlc.Version{}, "GET", "dst")
	require.True(t, got.IsZero(), "a value a multi-key command wrote reports no version (rmwFlag)")
	out, _ = vexec(e, now, ver(34, "b"), "SET", "dst", "older")
	require.Equal(t, "+OK\r\n", out)
	require.Equal(t, "$1\r\nx\r\n", string(e.Exec(now, strArgs("GET", "dst"), nil)), "it keeps its version: an older SET is refused")
	_, got = vexec(e, now, hlc.Version{}, "GET", "src")
	require.Equal(t, ver(40, "a"), got, "the renamed-away key keeps a tombstone at its version")
}

// TestTombstonesInvisible: a key deleted under a version answers every
// command exactly as a key that was never written.
func TestTombstonesInvisible(t *testing.T) {
	now := t0
	withTomb, never := NewEngine(Options{}), NewEngine(Options{})
	for _, e := range []*Engine{withTomb, never} {
		e.ExecVersion(now, strArgs("SET", "a", "1"), ver(1, "n"), nil)
		e.ExecVersion(now, strArgs("SET", "zz", "2"), ver(1, "n"), nil)
	}
	withTomb.ExecVersion(now, strArgs("HSET", "b", "f", "v"), ver(2, "n"), nil)
	withTomb.ExecVersion(now, strArgs("DEL", "b"), ver(3, "n"), nil)
	withTomb.ExecVersion(now, strArgs("DEL", "c"), ver(3, "n"), nil) // never existed: a tombstone still
	require.Equal(t, 2, withTomb.Tombstones())
	for _, cmd := range [][]string{
		{"GET", "b"}, {"EXISTS", "b"}, {"EXISTS", "a", "b", "c"}, {"KEYS", "*"}, {"KEYS", "b"}, {"SCAN", "0"},
		{"SCAN", "0", "MATCH", "*", "COUNT", "1"}, {"SCAN", "0", "TYPE", "hash"}, {"DBSIZE"},
		{"TTL", "b"}, {"PTTL", "c"}, {"TYPE", "b"}, {"STRLEN", "b"}, {"HGETALL", "b"}, {"HLEN", "b"}, {"LLEN", "b"},
		{"SMEMBERS", "c"}, {"ZCARD", "b"}, {"MGET", "a", "b", "c"}, {"TOUCH", "b", "c"}, {"RENAME", "b", "x"},
		{"PERSIST", "b"}, {"EXPIRE", "b", "10"}, {"GETDEL", "c"}, {"DYNO.DUMP", "b"}, {"SUNION", "b", "c"},
	} {
		got := string(withTomb.Exec(now, strArgs(cmd...), nil))
		want := string(never.Exec(now, strArgs(cmd...), nil))
		require.Equal(t, want, got, "%v", cmd)
	}
	for range 50 { // RANDOMKEY draws at random, never a tombstone
		got := string(withTomb.Exec(now, strArgs("RANDOMKEY"), nil))
		require.Contains(t, []string{"$1\r\na\r\n", "$2\r\nzz\r\n"}, got)
	}
	// Readers learn the tombstone's version with the nil.
	out, got := vexec(withTomb, now, hlc.Version{}, "GET", "b")
	require.Equal(t, "$-1\r\n", out)
	require.Equal(t, ver(3, "n"), got)
	// A newer write replaces the tombstone.
	vexec(withTomb, now, ver(4, "n"), "SET", "b", "back")
	require.Equal(t, 1, withTomb.Tombstones())
	require.Equal(t, "$4\r\nback\r\n", string(withTomb.Exec(now, strArgs("GET", "b"), nil)))
}

// TestTombstonesPurged: a tombstone blocks older writes for TombstoneTTL,
// then the active expiry cycle purges it, a bounded number per tick.
func TestTombstonesPurged(t *testing.T) {
	e := NewEngine(Options{TombstoneTTL: time.Second})
	now := t0
	vexec(e, now, ver(5, "a"), "DEL", "k")
	require.Equal(t, 1, e.Tombstones())
	e.ActiveExpire(now.Add(999*time.Millisecond), ActiveExpireBudget)
	require.Equal(t, 1, e.Tombstones())
	out, got := vexec(e, now.Add(999*time.Millisecond), ver(4, "a"), "SET", "k", "old")
	require.Equal(t, "+OK\r\n", out)
	require.Equal(t, ver(5, "a"), got)
	require.Equal(t, 0, e.Len())
	e.ActiveExpire(now.Add(1001*time.Millisecond), ActiveExpireBudget)
	require.Equal(t, 0, e.Tombstones())
	_, got = vexec(e, now.Add(1001*time.Millisecond), ver(4, "a"), "SET", "k", "old")
	require.Equal(t, ver(4, "a"), got, "after the TTL the delete is forgotten")

	// Bounded work per tick.
	for i := range 1000 {
		vexec(e, now, ver(9, "a"), "DEL", "t"+strconv.Itoa(i))
	}
	require.Equal(t, 1000, e.Tombstones())
	later := now.Add(2 * time.Second)
	e.ActiveExpire(later, ActiveExpireBudget)
	require.Equal(t, 1000-ActiveExpireBudget, e.Tombstones())
	for range 10 {
		e.ActiveExpire(later, ActiveExpireBudget)
	}
	require.Equal(t, 0, e.Tombstones())
	// Keys written again drop their tombstones and, in time, the purge
	// index's entries for them.
	for i := range 1000 {
		vexec(e, later, ver(9, "a"), "DEL", "w"+strconv.Itoa(i))
	}
	for i := range 1000 {
		vexec(e, later, ver(10, "a"), "SET", "w"+strconv.Itoa(i), "x")
	}
	require.Equal(t, 0, e.Tombstones())
	require.LessOrEqual(t, len(e.tombHeap), 64)
	for i := range 1000 {
		vexec(e, later, hlc.Version{}, "DEL", "w"+strconv.Itoa(i))
	}
	// A tombstone rewritten by a newer delete lives on from then.
	vexec(e, later, ver(10, "a"), "DEL", "r")
	vexec(e, later.Add(900*time.Millisecond), ver(11, "a"), "DEL", "r")
	e.ActiveExpire(later.Add(1500*time.Millisecond), ActiveExpireBudget)
	require.Equal(t, 1, e.Tombstones())
	e.ActiveExpire(later.Add(1901*time.Millisecond), ActiveExpireBudget)
	require.Equal(t, 0, e.Tombstones())
}

// TestUnversionedUntouched: without versions the engine reports none and
// keeps none.
func TestUnversionedUntouched(t *testing.T) {
	e := NewEngine(Options{})
	out, got := vexec(e, t0, hlc.Version{}, "SET", "k", "v")
	require.Equal(t, "+OK\r\n", out)
	require.True(t, got.IsZero())
	vexec(e, t0, hlc.Version{}, "DEL", "k")
	require.Equal(t, 0, e.Tombstones())
	require.Len(t, e.nodes, 1)
}

// TestDumpRestoreRoundTrip: DYNO.RESTORE of a DYNO.DUMP rebuilds the same
// value (type, contents in order, TTL), whatever it is; payloads that are
// not dumps are refused without panics.
func TestDumpRestoreRoundTrip(t *testing.T) {
	now := t0
	rapid.Check(t, func(t *rapid.T) {
		p := genDump(t, now)
		e := NewEngine(Options{})
		later := now.Add(time.Duration(rapid.IntRange(0, 50).Draw(t, "delay")) * time.Millisecond)
		out, got := vexec(e, later, ver(1, "a"), "DYNO.RESTORE", "k", string(p))
		if out != "+OK\r\n" || got != ver(1, "a") {
			t.Fatalf("restore: %q %s", out, got)
		}
		again, ok := e.dumpKey(later, "k")
		if !ok {
			t.Fatal("restored key missing")
		}
		// The same, but for the TTL, which counts from the restore.
		v1, ttl1, _ := undump([]byte("k"), p)
		v2, ttl2, _ := undump([]byte("k"), again)
		if (ttl1 < 0) != (ttl2 < 0) || ttl1 != ttl2 {
			t.Fatalf("ttl %d, restored %d", ttl1, ttl2)
		}
		if string(e.dump(nil, v1)) != string(e.dump(nil, v2)) {
			t.Fatalf("dump %q, restored %q", p, again)
		}
		bad := rapid.SliceOf(rapid.Byte()).Draw(t, "garbage")
		if out, _ := vexec(e, later, ver(2, "a"), "DYNO.RESTORE", "g", string(bad)); out != "+OK\r\n" && out != "-"+errBadPayload+"\r\n" {
			t.Fatalf("garbage: %q", out)
		}
	})
	// Every type, checked through its own read command.
	e := NewEngine(Options{})
	for _, cmd := range [][]string{{"RPUSH", "l", "a", "b", "a"}, {"HSET", "h", "f1", "1", "f2", "2"}, {"SADD", "s", "x", "y"},
		{"ZADD", "z", "1.5", "m", "-2", "n"}, {"SET", "str", "héllo"}, {"PEXPIRE", "z", "5000"}} {
		e.Exec(now, strArgs(cmd...), nil)
	}
	r := NewEngine(Options{})
	for _, k := range []string{"l", "h", "s", "z", "str"} {
		dump, dv := e.ExecVersion(now, strArgs("DYNO.DUMP", k), hlc.Version{}, nil)
		require.True(t, dv.IsZero())
		p, _ := e.dumpKey(now, k)
		require.Equal(t, string(respBulk(p)), string(dump))
		out, _ := vexec(r, now.Add(time.Second), ver(1, "a"), "DYNO.RESTORE", k, string(p))
		require.Equal(t, "+OK\r\n", out)
	}
	for _, read := range [][]string{{"LRANGE", "l", "0", "-1"}, {"HGETALL", "h"}, {"SMEMBERS", "s"},
		{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, {"GET", "str"}, {"TYPE", "z"}} {
		require.Equal(t, string(e.Exec(now, strArgs(read...), nil)), string(r.Exec(now.Add(time.Second), strArgs(read...), nil)), "%v", read)
	}
	require.Equal(t, ":5000\r\n", string(r.Exec(now.Add(time.Second), strArgs("PTTL", "z"), nil)), "the remaining TTL counts from the restore")
	out, _ := vexec(r, now, ver(1, "a"), "DYNO.DUMP", "nokey")
	require.Equal(t, "$-1\r\n", out)
}

func respBulk(b []byte) []byte {
	return append(fmt.Appendf(nil, "$%d\r\n", len(b)), append(b, "\r\n"...)...)
}

// TestDuplicateRMWChangesNothing: a read-modify-write delivered twice
// under one version (a duplicated or replayed message) is applied once;
// the duplicate answers as on the key as it is. The Redis adapter's
// scripts do the same.
func TestDuplicateRMWChangesNothing(t *testing.T) {
	e := NewEngine(Options{})
	now := time.Unix(1_700_000_000, 0)
	v := hlc.Version{TS: hlc.Timestamp{Wall: now.UnixNano()}, Node: "n1"}
	for _, tc := range []struct{ first, again, check, want string }{
		{"incr n", "incr n", "get n", "$1\r\n1\r\n"},
		{"append s ab", "append s ab", "get s", "$2\r\nab\r\n"},
		{"rpush l a", "rpush l a", "llen l", ":1\r\n"},
		{"sadd x a b", "sadd x a b", "scard x", ":2\r\n"},
	} {
		v.TS.Logical++
		e.ExecVersion(now, argv(tc.first), v, nil)
		e.ExecVersion(now, argv(tc.again), v, nil)
		require.Equal(t, tc.want, string(e.Exec(now, argv(tc.check), nil)), tc.first)
	}
}

func argv(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

// TestInPlaceValuesReportNoVersion: a value a read-modify-write modified
// in place reports no version to reads (so coordinators neither pick it
// by version nor repair it: copying one replica's counter over another's
// would lose increments or, with increments in flight, count them twice),
// yet keeps its version against older whole-value writes; a SET makes it
// report its version again.
func TestInPlaceValuesReportNoVersion(t *testing.T) {
	e := NewEngine(Options{})
	now := t0
	vexec(e, now, ver(5, "a"), "INCR", "n")
	_, got := vexec(e, now, hlc.Version{}, "GET", "n")
	require.True(t, got.IsZero(), "GET of a counter")
	_, got = vexec(e, now, hlc.Version{}, "DYNO.DUMP", "n")
	require.True(t, got.IsZero(), "DYNO.DUMP of a counter: nothing for read repair to copy")
	vexec(e, now, ver(4, "a"), "SET", "n", "9")
	require.Equal(t, "$1\r\n1\r\n", string(e.Exec(now, strArgs("GET", "n"), nil)), "an older SET is refused")
	vexec(e, now, ver(6, "a"), "SET", "n", "9")
	_, got = vexec(e, now, hlc.Version{}, "GET", "n")
	require.Equal(t, ver(6, "a"), got, "a whole value reports its version")
}
