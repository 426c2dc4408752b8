package datastore

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// ver is a version at wall time w (ns) made by node n.
func ver(w int64, n string) hlc.Version {
	return hlc.Version{TS: hlc.Timestamp{Wall: w}, Node: n}
}

// reader is the version a test's reads carry: reads ignore it.
var reader = ver(1, "r")

// vdo sends one Exec under version v and returns its Result.
func (h *harness) vdo(v hlc.Version, args ...string) store.Result {
	h.t.Helper()
	h.nextID++
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	h.node.Send(h.me, h.ds, store.Exec{ID: h.nextID, Args: b, Version: v})
	r := h.next()
	require.Equal(h.t, h.nextID, r.ID, "Result for another request")
	require.Empty(h.t, r.Failure, "%q failed", strings.Join(args, " "))
	return r
}

func newVersioned(t testing.TB, opts Options) (*harness, *testproc.RESPClient) {
	r := testproc.Redis(t)
	opts.Addr, opts.Protocol, opts.Versions = r.Addr, Redis, true
	return newHarness(t, opts), testproc.DialRESP(t, r.Addr)
}

// lwwProblems runs last-writer-wins scenarios per family against the
// adapter and returns what went wrong (empty: nothing). It is a function,
// not assertions, so that TestRedisLWWCheckCatchesPlantedBug can show it
// fails on a broken script.
func lwwProblems(h *harness) []string {
	var bad []string
	expect := func(what string, r store.Result, reply string, v hlc.Version) {
		if string(r.Reply) != reply || r.Version != v {
			bad = append(bad, fmt.Sprintf("%s: got %q %v, want %q %v", what, r.Reply, r.Version, reply, v))
		}
	}
	a10, a5, a20, b20 := ver(10, "a"), ver(5, "a"), ver(20, "a"), ver(20, "b")
	// whole-value writes
	expect("SET", h.vdo(a10, "SET", "s", "ten"), "+OK\r\n", a10)
	expect("stale SET", h.vdo(a5, "SET", "s", "five"), "+OK\r\n", a10)
	expect("read after stale SET", h.vdo(reader, "GET", "s"), bulk("ten"), a10)
	expect("stale GETSET", h.vdo(a5, "GETSET", "s", "five"), bulk("ten"), a10)
	expect("stale SET NX", h.vdo(a5, "SET", "s", "five", "NX"), "$-1\r\n", a10)
	expect("newer SET", h.vdo(a20, "SET", "s", "twenty"), "+OK\r\n", a20)
	expect("same time, larger node", h.vdo(b20, "SET", "s", "b"), "+OK\r\n", b20)
	expect("same time, smaller node", h.vdo(a20, "SET", "s", "a"), "+OK\r\n", b20)
	expect("read", h.vdo(reader, "GET", "s"), bulk("b"), b20)
	expect("stale EXPIRE", h.vdo(a10, "EXPIRE", "s", "100"), ":1\r\n", b20)
	expect("no TTL after stale EXPIRE", h.vdo(reader, "TTL", "s"), ":-1\r\n", b20)
	expect("newer MSET", h.vdo(ver(30, "a"), "MSET", "s", "m", "s2", "m2"), "+OK\r\n", hlc.Version{})
	expect("read MSET", h.vdo(reader, "GET", "s2"), bulk("m2"), ver(30, "a"))
	// read-modify-writes
	expect("INCR", h.vdo(a10, "INCR", "n"), ":1\r\n", a10)
	expect("older INCR applies, keeps the newer", h.vdo(a5, "INCR", "n"), ":2\r\n", a10)
	expect("duplicate INCR answers, changes nothing", h.vdo(a10, "INCR", "n"), ":3\r\n", a10)
	// A value modified in place reports no version to reads (rmwFlag).
	expect("after duplicate", h.vdo(reader, "GET", "n"), bulk("2"), hlc.Version{})
	expect("newer INCR bumps", h.vdo(a20, "INCR", "n"), ":3\r\n", a20)
	expect("RPUSH", h.vdo(a10, "RPUSH", "l", "x"), ":1\r\n", a10)
	expect("RPOP empties", h.vdo(a20, "RPOP", "l"), bulk("x"), a20)
	expect("emptied list's tombstone blocks older LPUSH", h.vdo(a10, "LPUSH", "l", "y"), ":1\r\n", a20)
	expect("nothing came back", h.vdo(reader, "LLEN", "l"), ":0\r\n", a20)
	// deletes and tombstones
	expect("DEL", h.vdo(ver(40, "a"), "DEL", "s"), ":1\r\n", ver(40, "a"))
	expect("tombstone blocks older SET", h.vdo(ver(35, "a"), "SET", "s", "back"), "+OK\r\n", ver(40, "a"))
	expect("deleted key stays deleted", h.vdo(reader, "GET", "s"), "$-1\r\n", ver(40, "a"))
	expect("tombstone blocks older INCR", h.vdo(ver(35, "a"), "INCR", "s"), ":1\r\n", ver(40, "a"))
	expect("still deleted", h.vdo(reader, "EXISTS", "s"), ":0\r\n", ver(40, "a"))
	expect("newer SET brings it back", h.vdo(ver(50, "a"), "SET", "s", "new"), "+OK\r\n", ver(50, "a"))
	expect("DEL of several", h.vdo(ver(60, "a"), "DEL", "s", "s2", "none"), ":2\r\n", hlc.Version{})
	expect("older MSET part blocked", h.vdo(ver(55, "a"), "MSET", "none", "x"), "+OK\r\n", ver(60, "a"))
	expect("tombstone of a key that never was", h.vdo(reader, "GET", "none"), "$-1\r\n", ver(60, "a"))
	return bad
}

// Last writer wins on a real redis-server, per family of commands.
func TestRedisLWW(t *testing.T) {
	h, direct := newVersioned(t, Options{})
	require.Empty(t, lwwProblems(h))
	// Redis itself holds the values under their names, and the versions
	// in the companions.
	require.Equal(t, bulk("3"), direct.Do("GET", "n"))
	// A counter's version is marked 'r': written in place (no read repair).
	require.Equal(t, bulk("r"+encodeVersion(ver(20, "a"))), direct.Do("HGET", VersionHash, "n"))
	require.True(t, strings.HasSuffix(direct.Do("HGET", TombstoneHash, "s"), encodeVersion(ver(60, "a"))+"\r\n"))
	h.requireBalanced()
}

// The LWW check fails when a script skips its comparison: apply's (every
// whole-value write but the plain SET) or set's (the plain SET).
func TestRedisLWWCheckCatchesPlantedBug(t *testing.T) {
	for _, c := range []struct {
		s       *script
		compare string
	}{
		{scriptApply, "if old ~= '' and not less(old, ver) then"},
		{scriptSet, "if stale(o) and redis.call('exists', k) == 1 then"},
	} {
		t.Run(c.s.name, func(t *testing.T) {
			good := *c.s
			src := strings.Replace(good.body, c.compare, "if false then", 1)
			require.NotEqual(t, good.body, src, "the planted bug must change the script")
			bad := &script{name: good.name, body: src}
			bad.sha = newScriptSHA(src)
			*c.s = *bad
			t.Cleanup(func() { *c.s = good })
			h, _ := newVersioned(t, Options{})
			problems := lwwProblems(h)
			require.NotEmpty(t, problems)
			t.Logf("with the planted bug: %d problems, e.g. %s", len(problems), problems[0])
		})
	}
}

// Versioned reads answer Redis's own bytes, with the version.
func TestRedisVersionedReadsByteIdentical(t *testing.T) {
	h, direct := newVersioned(t, Options{})
	v := ver(10, "a")
	h.vdo(v, "RPUSH", "l", "a", "b", "c")
	h.vdo(v, "HSET", "h", "f1", "1", "f2", "2")
	h.vdo(v, "ZADD", "z", "1.5", "m1", "2", "m2")
	h.vdo(v, "SET", "s", "value")
	h.vdo(v, "PEXPIRE", "s", "100000")
	h.vdo(v, "SADD", "set", "x")
	for _, args := range [][]string{
		{"GET", "s"}, {"GET", "missing"}, {"GET", "l"}, {"LRANGE", "l", "0", "-1"}, {"HGETALL", "h"},
		{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, {"ZSCORE", "z", "m1"}, {"TYPE", "l"}, {"STRLEN", "s"},
		{"HMGET", "h", "f1", "nope"}, {"SMEMBERS", "set"}, {"EXISTS", "s"}, {"GET"}, {"GET", "s", "extra"},
		{"LINDEX", "l", "notanumber"}, {"TYPE", "missing"},
	} {
		want := direct.Do(args...)
		r := h.vdo(reader, args...)
		require.Equal(t, want, string(r.Reply), "%v", args)
		switch {
		case len(args) < 2 || args[1] == "missing" || args[0] == "GET" && len(args) != 2:
			require.Zero(t, r.Version, "%v", args)
		case args[1] != "s":
			// Collections were written in place: no version for reads,
			// so no read repair copies them (rmwFlag in actors/store).
			require.Zero(t, r.Version, "%v", args)
		default:
			require.Equal(t, v, r.Version, "%v", args)
		}
	}
	// A RMW reply Lua would change: a null array, an integer past 2^53.
	require.Equal(t, "*-1\r\n", string(h.vdo(v, "LPOP", "nolist", "2").Reply))
	require.Equal(t, "*-1\r\n", string(h.vdo(v, "LMPOP", "1", "nolist", "LEFT").Reply))
	require.Equal(t, "*-1\r\n", string(h.vdo(v, "ZMPOP", "2", "nolist", "nozset", "MIN").Reply))
	h.vdo(v, "SET", "big", "9007199254740992")
	require.Equal(t, ":9007199254740993\r\n", string(h.vdo(ver(11, "a"), "INCR", "big").Reply))
	require.Equal(t, ":9007199254740995\r\n", string(h.vdo(ver(12, "a"), "INCRBY", "big", "2").Reply))
	require.Equal(t, "-ERR wrong number of arguments for 'incr' command\r\n", string(h.vdo(v, "INCR", "a", "b").Reply))
	require.Equal(t, direct.Do("INCR", "l"), string(h.vdo(v, "INCR", "l").Reply))
}

// Clients never see the companions.
func TestRedisCompanionsHidden(t *testing.T) {
	h, direct := newVersioned(t, Options{})
	h.vdo(ver(10, "a"), "SET", "live", "x")
	h.vdo(ver(10, "a"), "DEL", "gone")
	require.Equal(t, bulk(""), h.reply("DYNO.MARK", "n1/x"))
	require.Equal(t, ":1\r\n", direct.Do("EXISTS", VersionHash))
	require.Equal(t, ":1\r\n", direct.Do("EXISTS", TombstoneHash))
	require.Equal(t, ":1\r\n", direct.Do("EXISTS", MarkKey))
	require.Equal(t, ":4\r\n", direct.Do("DBSIZE"))
	require.Equal(t, "*1\r\n"+bulk("live"), h.reply("KEYS", "*"))
	require.Equal(t, ":1\r\n", h.reply("DBSIZE"))
	for range 50 {
		require.Equal(t, bulk("live"), h.reply("RANDOMKEY"))
	}
	for i := range 30 {
		h.vdo(ver(20, "a"), "SET", fmt.Sprint("k", i), "v")
	}
	var seen []string
	cursor := "0"
	for range 1000 {
		r := h.reply("SCAN", cursor, "COUNT", "3")
		require.True(t, strings.HasPrefix(r, "*2\r\n"), r)
		lines := strings.Split(r, "\r\n")
		cursor = lines[2]
		for i := 5; i < len(lines); i += 2 {
			seen = append(seen, lines[i])
		}
		if cursor == "0" {
			break
		}
	}
	sort.Strings(seen)
	require.Len(t, seen, 31)
	require.NotContains(t, seen, VersionHash)
	require.NotContains(t, seen, TombstoneHash)
	require.NotContains(t, seen, MarkKey)
	keys := h.reply("KEYS", "*")
	require.True(t, strings.HasPrefix(keys, "*31\r\n"), keys)
	require.NotContains(t, keys, "__dyno:")
	require.Equal(t, "*0\r\n", h.reply("KEYS", "__dyno:*"))
	require.Equal(t, "*2\r\n"+bulk("0")+"*0\r\n", h.reply("SCAN", "0", "MATCH", "__dyno:*", "COUNT", "1000"))
	require.Equal(t, ":31\r\n", h.reply("DBSIZE"))
	for _, c := range []struct {
		name string
		args []string
	}{
		{VersionHash, []string{"GET", VersionHash}},
		{TombstoneHash, []string{"HGETALL", TombstoneHash}},
		{VersionHash, []string{"DEL", "x", VersionHash}},
		{TombstoneHash, []string{"MSET", "a", "b", TombstoneHash, "c"}},
		{MarkKey, []string{"GET", MarkKey}},
		{MarkKey, []string{"SET", MarkKey, "n2/y"}},
		{MarkKey, []string{"DEL", MarkKey}},
		{MarkKey, []string{"EXISTS", "live", MarkKey}},
		{MarkKey, []string{"RENAME", "live", MarkKey}},
		{MarkKey, []string{"MSET", "a", "b", MarkKey, "c"}},
		{MarkKey, []string{"EXPIRE", MarkKey, "1"}},
	} {
		require.Equal(t, "-ERR key name "+c.name+" is reserved by dynonode for versions\r\n", h.reply(c.args...), "%v", c.args)
	}
	require.Equal(t, "+OK\r\n", h.reply("SET", "k", VersionHash), "a value may be anything")
	require.Equal(t, ":1\r\n", h.reply("EXISTS", "k"))
	require.Equal(t, bulk("n1/x"), direct.Do("GET", MarkKey), "the marker is untouched")
	require.Equal(t, bulk("n1/x"), h.reply("DYNO.MARK", "n2/y"))
}

// RANDOMKEY never picks the marker, also when it (with the other
// companions) is nearly the whole keyspace; DBSIZE does not count it.
func TestRedisMarkHiddenFromRandomKey(t *testing.T) {
	h, direct := newVersioned(t, Options{})
	require.Equal(t, bulk(""), h.reply("DYNO.MARK", "n1/x"))
	require.Equal(t, ":1\r\n", direct.Do("DBSIZE"))
	require.Equal(t, ":0\r\n", h.reply("DBSIZE"))
	require.Equal(t, "$-1\r\n", h.reply("RANDOMKEY"), "only the marker: no key")
	h.vdo(ver(10, "a"), "SET", "live", "x")
	h.vdo(ver(10, "a"), "DEL", "gone")
	require.Equal(t, ":4\r\n", direct.Do("DBSIZE"), "live and the three companions")
	require.Equal(t, ":1\r\n", h.reply("DBSIZE"))
	for range 100 {
		require.Equal(t, bulk("live"), h.reply("RANDOMKEY"))
	}
	require.Equal(t, "*1\r\n"+bulk("live"), h.reply("KEYS", "*"))
	h.requireBalanced()
}

// After SCRIPT FLUSH, versioned requests load the scripts again.
func TestRedisNoscriptRecovers(t *testing.T) {
	h, direct := newVersioned(t, Options{})
	require.Equal(t, "+PONG\r\n", h.reply("PING"))
	require.Equal(t, "*4\r\n:1\r\n:1\r\n:1\r\n:1\r\n", direct.Do("SCRIPT", "EXISTS", scriptApply.sha, scriptBump.sha, scriptAdmin.sha, scriptSet.sha),
		"the scripts are loaded as the connection opens")
	h.vdo(ver(10, "a"), "SET", "k", "a")
	require.Equal(t, "+OK\r\n", direct.Do("SCRIPT", "FLUSH"))
	require.Equal(t, "*1\r\n:0\r\n", direct.Do("SCRIPT", "EXISTS", scriptSet.sha))
	r := h.vdo(ver(5, "a"), "SET", "k", "stale")
	require.Equal(t, "+OK\r\n", string(r.Reply))
	require.Equal(t, ver(10, "a"), r.Version)
	r = h.vdo(ver(20, "a"), "SET", "k", "new")
	require.Equal(t, ver(20, "a"), r.Version)
	require.Equal(t, bulk("new"), direct.Do("GET", "k"))
	require.Equal(t, "*1\r\n:1\r\n", direct.Do("SCRIPT", "EXISTS", scriptSet.sha))
	h.requireBalanced()
}

// Tombstones are purged after TombstoneTTL; so are versions of keys that
// expired.
func TestRedisTombstonesPurged(t *testing.T) {
	purgeEvery = 20 * time.Millisecond
	t.Cleanup(func() { purgeEvery = time.Second })
	h, direct := newVersioned(t, Options{TombstoneTTL: 300 * time.Millisecond})
	h.vdo(ver(10, "a"), "DEL", "k")
	h.vdo(ver(10, "a"), "SET", "e", "v", "PX", "50")
	require.Equal(t, "+OK\r\n", string(h.vdo(ver(5, "a"), "SET", "k", "old").Reply))
	require.Equal(t, "$-1\r\n", direct.Do("GET", "k"), "the tombstone blocks the older write")
	require.Eventually(t, func() bool {
		return direct.Do("EXISTS", TombstoneHash) == ":0\r\n" && direct.Do("EXISTS", VersionHash) == ":0\r\n"
	}, wait, 10*time.Millisecond)
	r := h.vdo(ver(5, "a"), "SET", "k", "old")
	require.Equal(t, ver(5, "a"), r.Version, "after tombstone_ttl the key is forgotten")
}

// DYNO.DUMP and DYNO.RESTORE copy a whole value with its TTL and version
// between two redis-servers; DYNO.DEL leaves a tombstone.
func TestRedisDynoRepair(t *testing.T) {
	src, _ := newVersioned(t, Options{})
	dst, direct := newVersioned(t, Options{})
	v := ver(10, "a")
	src.vdo(v, "RPUSH", "l", "a", "b")
	v = ver(11, "a")
	src.vdo(v, "PEXPIRE", "l", "100000")
	d := src.vdo(hlc.Version{}, "DYNO.DUMP", "l")
	require.Equal(t, v, d.Version)
	payload := d.Reply[strings.Index(string(d.Reply), "\r\n")+2 : len(d.Reply)-2]
	send := func(h *harness, v hlc.Version, args ...[]byte) store.Result {
		h.nextID++
		h.node.Send(h.me, h.ds, store.Exec{ID: h.nextID, Args: args, Version: v})
		return h.next()
	}
	dst.vdo(ver(5, "a"), "SET", "l", "older")
	r := send(dst, v, []byte("DYNO.RESTORE"), []byte("l"), payload)
	require.Equal(t, "+OK\r\n", string(r.Reply))
	require.Equal(t, v, r.Version)
	require.Equal(t, "*2\r\n"+bulk("a")+bulk("b"), direct.Do("LRANGE", "l", "0", "-1"))
	var pttl int
	_, err := fmt.Sscanf(direct.Do("PTTL", "l"), ":%d", &pttl)
	require.NoError(t, err)
	require.True(t, pttl > 90000 && pttl <= 100000, "PTTL %d", pttl)
	r = send(dst, ver(7, "a"), []byte("DYNO.RESTORE"), []byte("l"), []byte("dynoR1\x00\x00\x00\x00\x00\x00\x00\x01garbage"))
	require.Equal(t, "+OK\r\n", string(r.Reply), "an older restore is answered +OK and ignored")
	require.Equal(t, "-ERR DYNO.RESTORE payload is not valid\r\n", string(send(dst, v, []byte("DYNO.RESTORE"), []byte("l"), []byte("x")).Reply))
	r = dst.vdo(ver(20, "a"), "DYNO.DEL", "l")
	require.Equal(t, "+OK\r\n", string(r.Reply))
	require.Equal(t, ver(20, "a"), r.Version)
	r = dst.vdo(hlc.Version{}, "DYNO.DUMP", "l")
	require.Equal(t, "$-1\r\n", string(r.Reply))
	require.Equal(t, ver(20, "a"), r.Version)
	r = send(dst, ver(15, "a"), []byte("DYNO.RESTORE"), []byte("l"), payload)
	require.Equal(t, "+OK\r\n", string(r.Reply))
	require.Equal(t, ":0\r\n", direct.Do("EXISTS", "l"), "no resurrection by an older repair")
}

// The same random versioned commands on the embedded engine and on Redis
// through the adapter give the same replies and leave the same versions.
func TestRedisVersionsMatchEmbedded(t *testing.T) {
	h, direct := newVersioned(t, Options{})
	pe := store.NewEngine(store.Options{})
	pe.Exec(time.Now(), [][]byte{[]byte("RPUSH"), []byte("x"), []byte("a"), []byte("1")}, nil)
	dumped := string(pe.Exec(time.Now(), [][]byte{[]byte("DUMP"), []byte("x")}, nil))
	payload := dumped[strings.Index(dumped, "\r\n")+2 : len(dumped)-2]
	keys := []string{"a", "b", "c"}
	gens := map[string]func(t *rapid.T, k string) []string{
		"SET":     func(t *rapid.T, k string) []string { return []string{"SET", k, val(t)} },
		"SETNX":   func(t *rapid.T, k string) []string { return []string{"SET", k, val(t), "NX"} },
		"SETXX":   func(t *rapid.T, k string) []string { return []string{"SET", k, val(t), "XX"} },
		"SETGET":  func(t *rapid.T, k string) []string { return []string{"SET", k, val(t), "GET"} },
		"GETSET":  func(t *rapid.T, k string) []string { return []string{"GETSET", k, val(t)} },
		"DEL":     func(t *rapid.T, k string) []string { return []string{"DEL", k} },
		"DEL2":    func(t *rapid.T, k string) []string { return []string{"DEL", k, "b"} },
		"GETDEL":  func(t *rapid.T, k string) []string { return []string{"GETDEL", k} },
		"MSET":    func(t *rapid.T, k string) []string { return []string{"MSET", k, val(t), "c", val(t)} },
		"INCR":    func(t *rapid.T, k string) []string { return []string{"INCR", k} },
		"APPEND":  func(t *rapid.T, k string) []string { return []string{"APPEND", k, val(t)} },
		"LPUSH":   func(t *rapid.T, k string) []string { return []string{"LPUSH", k, val(t)} },
		"RPOP":    func(t *rapid.T, k string) []string { return []string{"RPOP", k} },
		"HSET":    func(t *rapid.T, k string) []string { return []string{"HSET", k, "f", val(t)} },
		"HDEL":    func(t *rapid.T, k string) []string { return []string{"HDEL", k, "f"} },
		"SADD":    func(t *rapid.T, k string) []string { return []string{"SADD", k, val(t)} },
		"SREM":    func(t *rapid.T, k string) []string { return []string{"SREM", k, "1"} },
		"EXPIRE":  func(t *rapid.T, k string) []string { return []string{"EXPIRE", k, "1000"} },
		"PERSIST": func(t *rapid.T, k string) []string { return []string{"PERSIST", k} },
		"RENAME":  func(t *rapid.T, k string) []string { return []string{"RENAME", k, "c"} },
		"DYNODEL": func(t *rapid.T, k string) []string { return []string{"DYNO.DEL", k} },
		"EXPIRE0": func(t *rapid.T, k string) []string { return []string{"EXPIRE", k, "-1"} },
		"GETEXP":  func(t *rapid.T, k string) []string { return []string{"GETEX", k, "PERSIST"} },
		"GETEXEX": func(t *rapid.T, k string) []string { return []string{"GETEX", k, "EX", "500"} },
		"SETEX":   func(t *rapid.T, k string) []string { return []string{"SET", k, val(t), "EX", "700"} },
		"SETNXC":  func(t *rapid.T, k string) []string { return []string{"SETNX", k, val(t)} },
		"SETRNG":  func(t *rapid.T, k string) []string { return []string{"SETRANGE", k, "1", val(t)} },
		"ZADD":    func(t *rapid.T, k string) []string { return []string{"ZADD", k, "1", val(t)} },
		"ZINCRBY": func(t *rapid.T, k string) []string { return []string{"ZINCRBY", k, "2", "x"} },
		"ZREM":    func(t *rapid.T, k string) []string { return []string{"ZREM", k, "x"} },
		"SMOVE":   func(t *rapid.T, k string) []string { return []string{"SMOVE", k, "a", "1"} },
		"LPOPN":   func(t *rapid.T, k string) []string { return []string{"LPOP", k, "2"} },
		"UNLINK":  func(t *rapid.T, k string) []string { return []string{"UNLINK", k} },
		"GET":     func(t *rapid.T, k string) []string { return []string{"GET", k} },
		"ZRANGE":  func(t *rapid.T, k string) []string { return []string{"ZRANGE", k, "0", "-1", "WITHSCORES"} },
		"TYPE":    func(t *rapid.T, k string) []string { return []string{"TYPE", k} },
		"TTL":     func(t *rapid.T, k string) []string { return []string{"TTL", k} },
		"LRANGE":  func(t *rapid.T, k string) []string { return []string{"LRANGE", k, "0", "-1"} },
		"HGET":    func(t *rapid.T, k string) []string { return []string{"HGET", k, "f"} },
		"SCARD":   func(t *rapid.T, k string) []string { return []string{"SCARD", k} },
		"SETBIT":  func(t *rapid.T, k string) []string { return []string{"SETBIT", k, "3", val(t)} },
		"BITCNT":  func(t *rapid.T, k string) []string { return []string{"BITCOUNT", k} },
		"COPY":    func(t *rapid.T, k string) []string { return []string{"COPY", k, "c", "REPLACE"} },
		"LMPOP":   func(t *rapid.T, k string) []string { return []string{"LMPOP", "2", k, "b", "RIGHT", "COUNT", "2"} },
		"BITFLD": func(t *rapid.T, k string) []string {
			return []string{"BITFIELD", k, "INCRBY", "i8", "0", "5", "GET", "u4", "4"}
		},
		"BITOP": func(t *rapid.T, k string) []string { return []string{"BITOP", "OR", k, "a", "b"} },
		"ZMPOP": func(t *rapid.T, k string) []string { return []string{"ZMPOP", "2", "c", k, "MAX"} },
		// GEO: GEOADD modifies its key, the STORE forms write another.
		"GEOADD": func(t *rapid.T, k string) []string {
			return []string{"GEOADD", k, rapid.SampledFrom([]string{"13.361389", "13.4"}).Draw(t, "lon"), "38.115556", val(t)}
		},
		"GEORADIUS": func(t *rapid.T, k string) []string {
			return []string{"GEORADIUS", k, "13", "38", "100", "km", "ASC", "STORE", "c"}
		},
		"GEORADIUSRD": func(t *rapid.T, k string) []string {
			return []string{"GEORADIUS", k, "13", "38", "100", "km", "WITHDIST"}
		},
		"GEOSEARCH": func(t *rapid.T, k string) []string {
			return []string{"GEOSEARCH", k, "FROMLONLAT", "13", "38", "BYBOX", "100", "100", "km", "WITHCOORD"}
		},
		"GEOSTORE": func(t *rapid.T, k string) []string {
			return []string{"GEOSEARCHSTORE", "c", k, "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km", "STOREDIST"}
		},
		// Scripts: a versioned EVAL runs in a MULTI with the bump's
		// 'after' step on Redis (planEval), natively in the engine.
		"EVALSET": func(t *rapid.T, k string) []string {
			return []string{"EVAL", "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])", "1", k, val(t)}
		},
		"EVALDEL": func(t *rapid.T, k string) []string {
			return []string{"EVAL", "return redis.call('DEL', KEYS[1], KEYS[2])", "2", k, "c"}
		},
		"EVALINCR": func(t *rapid.T, k string) []string {
			return []string{"EVAL", "return redis.pcall('INCR', KEYS[1])", "1", k}
		},
		"EVALPUSH": func(t *rapid.T, k string) []string {
			return []string{"EVAL", "redis.call('RPUSH', KEYS[1], ARGV[1]) return redis.call('LPOP', KEYS[2])", "2", k, "b", val(t)}
		},
		// Transactions (actors/coord/tx.go): MULTI ... EXEC on Redis
		// with the bump's step, one turn of the engine.
		"TX": func(t *rapid.T, k string) []string {
			return []string{"DYNO.EXEC", "2", k, "c", "3", "3", "SET", k, val(t), "2", "INCR", "c", "2", "GET", k}
		},
		"TXDEL": func(t *rapid.T, k string) []string {
			return []string{"DYNO.EXEC", "2", k, "b", "2", "2", "DEL", k, "3", "LPUSH", "b", "x"}
		},
		"TXREAD": func(t *rapid.T, k string) []string {
			return []string{"DYNO.EXEC", "0", "2", "2", "GET", k, "2", "TYPE", "b"}
		},
		"EVALERR": func(t *rapid.T, k string) []string {
			return []string{"EVAL", "return redis.call('SET', KEYS[1])", "1", k}
		},
		"EVALSHA": func(t *rapid.T, k string) []string {
			return []string{"EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "1", k}
		},
		// HyperLogLogs: PFADD modifies its key, PFMERGE writes its first
		// (alone too), PFCOUNT reads (and caches).
		"PFADD":    func(t *rapid.T, k string) []string { return []string{"PFADD", k, val(t)} },
		"PFMERGE":  func(t *rapid.T, k string) []string { return []string{"PFMERGE", k, "b"} },
		"PFMERGE1": func(t *rapid.T, k string) []string { return []string{"PFMERGE", k} },
		"PFCOUNT":  func(t *rapid.T, k string) []string { return []string{"PFCOUNT", k} },
		// DUMP reads; RESTORE replaces its key whole.
		"DUMP":      func(t *rapid.T, k string) []string { return []string{"DUMP", k} },
		"RESTORE":   func(t *rapid.T, k string) []string { return []string{"RESTORE", k, "0", payload, "REPLACE"} },
		"RESTORENR": func(t *rapid.T, k string) []string { return []string{"RESTORE", k, "0", payload} },
	}
	names := make([]string, 0, len(gens))
	for n := range gens {
		names = append(names, n)
	}
	sort.Strings(names)
	rapid.Check(t, func(rt *rapid.T) {
		require.Equal(rt, "+OK\r\n", direct.Do("FLUSHALL"))
		e := store.NewEngine(store.Options{Seed: 1})
		for i := range rapid.IntRange(1, 40).Draw(rt, "len") {
			args := gens[rapid.SampledFrom(names).Draw(rt, "cmd")](rt, rapid.SampledFrom(keys).Draw(rt, "key"))
			wall := int64(rapid.IntRange(1, 6).Draw(rt, "wall")) * 1000
			v := ver(wall, rapid.SampledFrom([]string{"n1", "n2"}).Draw(rt, "node"))
			b := make([][]byte, len(args))
			for j, a := range args {
				b[j] = []byte(a)
			}
			want, wantV := e.ExecVersion(time.Now(), b, v, nil)
			h.nextID++
			h.node.Send(h.me, h.ds, store.Exec{ID: h.nextID, Args: b, Version: v})
			got := h.next()
			require.Empty(rt, got.Failure)
			require.Equal(rt, string(want), string(got.Reply), "step %d: %v @ %v", i, args, v)
			require.Equal(rt, wantV, got.Version, "step %d: %v @ %v: version", i, args, v)
		}
		for _, k := range keys {
			_, wantV := e.ExecVersion(time.Now(), [][]byte{[]byte("EXISTS"), []byte(k)}, reader, nil)
			require.Equal(rt, wantV, h.vdo(reader, "EXISTS", k).Version, "final version of %s", k)
		}
	})
}

func val(t *rapid.T) string { return rapid.SampledFrom([]string{"1", "2", "x"}).Draw(t, "val") }

// Without a version and without Options.Versions the adapter sends
// commands as they are: no script, no companion, no filtering.
func TestRedisUnversionedUnchanged(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis})
	direct := testproc.DialRESP(t, r.Addr)
	for _, args := range [][]string{
		{"SET", "k", "v"}, {"INCR", "n"}, {"DEL", "k"}, {"GET", "k"}, {"KEYS", "*"}, {"DBSIZE"},
		{"DYNO.DUMP", "n"}, {"HSET", VersionHash, "n", "x"}, {"KEYS", "*"}, {"RANDOMKEY"},
	} {
		r := h.do(args...)
		require.Empty(t, r.Failure)
		require.Zero(t, r.Version)
		require.NotEmpty(t, r.Reply)
	}
	require.Equal(t, "*2\r\n", direct.Do("KEYS", "*")[:4], "the client's own __dyno:v is an ordinary key here")
	require.True(t, strings.HasPrefix(string(h.do("DYNO.DUMP", "n").Reply), "-ERR unknown command"))
	require.Equal(t, "*1\r\n:0\r\n", direct.Do("SCRIPT", "EXISTS", scriptApply.sha), "no script loaded")
	h.requireBalanced()
}

// A key written without a version over its tombstone is live and has no
// version: an older versioned SET applies to it, through set.lua (plain
// SET) as through apply.lua (SET XX), as the embedded engine's rules say
// (a version counts while its key exists, a tombstone while it does not).
func TestRedisSetOverUnversionedRewrite(t *testing.T) {
	h, direct := newVersioned(t, Options{})
	for _, c := range []struct{ key, extra string }{{"k1", ""}, {"k2", "XX"}} {
		h.vdo(ver(10, "a"), "DEL", c.key)
		require.Equal(t, "+OK\r\n", string(h.do("SET", c.key, "plain").Reply), "a write without a version")
		args := []string{"SET", c.key, "five"}
		if c.extra != "" {
			args = append(args, c.extra)
		}
		r := h.vdo(ver(5, "a"), args...)
		require.Equal(t, "+OK\r\n", string(r.Reply), "%v", args)
		require.Equal(t, ver(5, "a"), r.Version, "%v: applied", args)
		require.Equal(t, bulk("five"), direct.Do("GET", c.key), "%v", args)
	}
}
