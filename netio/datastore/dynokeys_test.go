package datastore

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// noPurge stops the background purge for the test, so that what the
// listings skip is skipped by them, not already gone.
func noPurge(t *testing.T) {
	purgeEvery = time.Hour
	t.Cleanup(func() { purgeEvery = time.Second })
}

// keysPage sends DYNO.KEYS cursor count and returns the next cursor and
// the (key, version) pairs, requiring one well-formed reply and no version.
func (h *harness) keysPage(cursor string, count int) (string, [][2]string) {
	h.t.Helper()
	r := h.do("DYNO.KEYS", cursor, fmt.Sprint(count))
	require.Empty(h.t, r.Failure)
	require.Zero(h.t, r.Version)
	v, n, err := resp.ParseReply(r.Reply)
	require.NoError(h.t, err, "%q", r.Reply)
	require.Equal(h.t, len(r.Reply), n, "one reply: %q", r.Reply)
	require.Equal(h.t, resp.Array, v.Type, "%q", r.Reply)
	require.Len(h.t, v.Elems, 2, "%q", r.Reply)
	require.Equal(h.t, resp.BulkString, v.Elems[0].Type, "%q", r.Reply)
	list := v.Elems[1]
	require.Equal(h.t, resp.Array, list.Type, "%q", r.Reply)
	require.Zero(h.t, len(list.Elems)%2, "%q", r.Reply)
	var pairs [][2]string
	for i := 0; i < len(list.Elems); i += 2 {
		k, ver := list.Elems[i], list.Elems[i+1]
		require.Equal(h.t, resp.BulkString, k.Type)
		require.Equal(h.t, resp.BulkString, ver.Type)
		pairs = append(pairs, [2]string{string(k.Str), string(ver.Str)})
	}
	return string(v.Elems[0].Str), pairs
}

// listAll pages through DYNO.KEYS with count until the cursor is "0" and
// returns every key's version (a key listed twice must agree), the
// number of pages, and the cursors seen.
func (h *harness) listAll(count int) (map[string]string, int, []string) {
	h.t.Helper()
	got := map[string]string{}
	var cursors []string
	cursor := "0"
	for pages := 1; pages <= 100000; pages++ {
		next, pairs := h.keysPage(cursor, count)
		for _, p := range pairs {
			if old, ok := got[p[0]]; ok {
				require.Equal(h.t, old, p[1], "%s listed twice with different versions", p[0])
			}
			got[p[0]] = p[1]
		}
		if next == "0" {
			return got, pages, cursors
		}
		cursors = append(cursors, next)
		cursor = next
	}
	h.t.Fatal("DYNO.KEYS never answered cursor 0")
	return nil, 0, nil
}

// DYNO.KEYS lists the versioned keys and the tombstones with their version
// text, an in-place value's with its 'r'; DYNO.VERSIONS answers each key's.
func TestRedisDynoKeysAndVersions(t *testing.T) {
	noPurge(t)
	h, direct := newVersioned(t, Options{})
	vLive, vRMW, vDel := ver(10, "a"), ver(11, "b"), ver(13, "a")
	h.vdo(vLive, "SET", "live", "x")
	h.vdo(ver(9, "a"), "HSET", "inplace", "f", "1")
	h.vdo(vRMW, "HSET", "inplace", "f", "2")
	h.vdo(ver(12, "a"), "SET", "deleted", "x")
	h.vdo(vDel, "DEL", "deleted")
	h.vdo(ver(14, "a"), "SET", "expiring", "x", "PX", "30")
	require.Equal(t, "+OK\r\n", h.reply("SET", "plain", "x"), "a write without a version")
	h.vdo(ver(15, "a"), "SET", "gone", "x")
	require.Equal(t, ":1\r\n", h.reply("DEL", "gone"), "deleted without a version: its version stays behind")
	h.vdo(ver(16, "a"), "DEL", "over")
	require.Equal(t, "+OK\r\n", h.reply("SET", "over", "x"), "written without a version over its tombstone")
	past := hexMs(time.Now().Add(-time.Minute)) + encodeVersion(ver(17, "a"))
	require.Equal(t, ":1\r\n", direct.Do("HSET", TombstoneHash, "old", past), "a tombstone past its deadline")
	require.Eventually(t, func() bool { return direct.Do("EXISTS", "expiring") == ":0\r\n" }, wait, 5*time.Millisecond)
	// What the listing must skip is still in the companions.
	for _, c := range [][2]string{{VersionHash, "expiring"}, {VersionHash, "gone"}, {TombstoneHash, "over"}, {TombstoneHash, "old"}} {
		require.Equal(t, ":1\r\n", direct.Do("HEXISTS", c[0], c[1]), "%v", c)
	}

	want := map[string]string{
		"live":    encodeVersion(vLive),
		"inplace": "r" + encodeVersion(vRMW),
		"deleted": encodeVersion(vDel),
	}
	for _, count := range []int{1, 2, 1000} {
		got, _, _ := h.listAll(count)
		require.Equal(t, want, got, "count %d", count)
	}
	for k, text := range want {
		v, ok := decodeVersion([]byte(strings.TrimPrefix(text, "r")))
		require.True(t, ok, "%s: %q", k, text)
		require.NotZero(t, v)
	}

	keys := []string{"live", "inplace", "deleted", "missing", "plain", "expiring", "gone", "over", "old"}
	wantV := "*9\r\n" + bulk(encodeVersion(vLive)) + bulk("r"+encodeVersion(vRMW)) + bulk(encodeVersion(vDel)) +
		strings.Repeat(bulk(""), 6)
	r := h.do(append([]string{"DYNO.VERSIONS"}, keys...)...)
	require.Equal(t, wantV, string(r.Reply))
	require.Zero(t, r.Version)
	// The versions the scripts compare, as versioned reads report them
	// (an in-place value's excepted: reads report none).
	require.Equal(t, vLive, h.vdo(reader, "EXISTS", "live").Version)
	require.Equal(t, vDel, h.vdo(reader, "EXISTS", "deleted").Version)
	require.Zero(t, h.vdo(reader, "EXISTS", "gone").Version)
	require.Equal(t, "*1\r\n"+bulk(""), h.reply("DYNO.VERSIONS", "missing"))

	// Both write nothing: what the listing skipped is still there.
	require.Equal(t, ":1\r\n", direct.Do("HEXISTS", TombstoneHash, "old"))
	require.Equal(t, ":1\r\n", direct.Do("HEXISTS", VersionHash, "gone"))

	// After SCRIPT FLUSH the admin script is sent again, as EVAL.
	require.Equal(t, "+OK\r\n", direct.Do("SCRIPT", "FLUSH"))
	require.Equal(t, wantV, h.reply(append([]string{"DYNO.VERSIONS"}, keys...)...))
	got, _, _ := h.listAll(1)
	require.Equal(t, want, got)
	h.requireBalanced()
}

// vsend issues one Exec under version v without waiting for its Result.
func (h *harness) vsend(v hlc.Version, args ...string) uint64 {
	h.nextID++
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	h.node.Send(h.me, h.ds, store.Exec{ID: h.nextID, Args: b, Version: v})
	return h.nextID
}

// Paging through large companions (hash tables, not listpacks, which
// HSCAN answers whole) with a small count lists every key exactly as the
// hashes say, each at least once.
func TestRedisDynoKeysManyPages(t *testing.T) {
	noPurge(t)
	h, direct := newVersioned(t, Options{})
	const n, deleted, rmw = 2000, 800, 200
	limit, _, err := resp.ParseReply([]byte(direct.Do("CONFIG", "GET", "hash-max-listpack-entries")))
	require.NoError(t, err)
	require.Len(t, limit.Elems, 2)
	entries, err := strconv.Atoi(string(limit.Elems[1].Str))
	require.NoError(t, err)
	require.Less(t, entries, deleted, "both companions grow past listpacks")
	want := make(map[string]string, n)
	var ids []uint64
	for i := range n {
		k, v := fmt.Sprint("k", i), ver(int64(1000+i), "n1")
		ids = append(ids, h.vsend(v, "SET", k, "x"))
		want[k] = encodeVersion(v)
	}
	for i := range deleted {
		k, v := fmt.Sprint("k", i), ver(int64(5000+i), "n2")
		ids = append(ids, h.vsend(v, "DEL", k))
		want[k] = encodeVersion(v)
	}
	for i := n - rmw; i < n; i++ {
		k, v := fmt.Sprint("k", i), ver(int64(9000+i), "n3")
		ids = append(ids, h.vsend(v, "APPEND", k, "y"))
		want[k] = "r" + encodeVersion(v)
	}
	for id, r := range h.collect(ids, 10*time.Millisecond) {
		require.Empty(t, r.Failure, "request %d", id)
	}

	got, pages, cursors := h.listAll(10)
	require.Equal(t, want, got)
	require.Greater(t, pages, n/10/2, "pages of about count entries")
	var v, tomb bool
	for _, c := range cursors {
		v = v || c[0] == 'v'
		tomb = tomb || c[0] == 't'
	}
	require.True(t, v && tomb, "both hashes paged: %v", cursors)
	h.requireBalanced()
}

// Bad cursors, counts and arities are errors; a phase's cursor 0 starts it.
func TestRedisDynoKeysBadArgs(t *testing.T) {
	h, _ := newVersioned(t, Options{})
	h.vdo(ver(10, "a"), "SET", "k", "x")
	h.vdo(ver(10, "a"), "DEL", "d")
	for _, c := range []string{"", "x", "v", "t", "1", "k0", "vx", "v-1", "v+1", "v 1", "t1x", "v18446744073709551616", "00"} {
		require.Equal(t, "-ERR invalid cursor\r\n", h.reply("DYNO.KEYS", c, "10"), "cursor %q", c)
	}
	for _, n := range []string{"", "0", "-1", "x", "1.5", "1048577", "99999999999999999999"} {
		require.Equal(t, "-ERR value is not an integer or out of range\r\n", h.reply("DYNO.KEYS", "0", n), "count %q", n)
	}
	for _, args := range [][]string{{"DYNO.KEYS"}, {"DYNO.KEYS", "0"}, {"DYNO.KEYS", "0", "1", "2"}, {"DYNO.VERSIONS"}} {
		r := h.reply(args...)
		require.Equal(t, "-ERR wrong number of arguments for '"+strings.ToLower(args[0])+"' command\r\n", r, "%v", args)
	}
	tomb := "*2\r\n" + bulk("0") + "*2\r\n" + bulk("d") + bulk(encodeVersion(ver(10, "a")))
	require.Equal(t, "*2\r\n"+bulk("0")+"*4\r\n"+bulk("k")+bulk(encodeVersion(ver(10, "a")))+bulk("d")+bulk(encodeVersion(ver(10, "a"))),
		h.reply("DYNO.KEYS", "v0", "1048576"), "small hashes: one page, both hashes")
	require.Equal(t, tomb, h.reply("DYNO.KEYS", "t0", "010"))
	require.Equal(t, tomb, h.reply("DYNO.KEYS", "t00", "1"))
	h.requireBalanced()
}

// Without Options.Versions and without a version, Redis answers DYNO.KEYS,
// DYNO.VERSIONS and DYNO.MARK its unknown-command error, as DYNO.DUMP.
func TestRedisDynoKeysNeedVersions(t *testing.T) {
	plain := newHarness(t, Options{Addr: testproc.Redis(t).Addr, Protocol: Redis})
	for _, args := range [][]string{{"DYNO.KEYS", "0", "10"}, {"DYNO.VERSIONS", "k"}, {"DYNO.MARK", "n1"}, {"DYNO.DUMP", "k"}} {
		require.True(t, strings.HasPrefix(plain.reply(args...), "-ERR unknown command"), "%v", args)
	}
}

// listEngine pages through the embedded engine's DYNO.KEYS as listAll
// does through the adapter's.
func listEngine(t require.TestingT, e *store.Engine, count int) map[string]string {
	got := map[string]string{}
	cursor := "0"
	for range 100000 {
		reply, _ := e.ExecVersion(time.Now(), [][]byte{[]byte("DYNO.KEYS"), []byte(cursor), []byte(fmt.Sprint(count))}, hlc.Version{}, nil)
		v, _, err := resp.ParseReply(reply)
		require.NoError(t, err, "%q", reply)
		require.Len(t, v.Elems, 2, "%q", reply)
		for i := 0; i+1 < len(v.Elems[1].Elems); i += 2 {
			got[string(v.Elems[1].Elems[i].Str)] = string(v.Elems[1].Elems[i+1].Str)
		}
		if cursor = string(v.Elems[0].Str); cursor == "0" {
			return got
		}
	}
	require.Fail(t, "the engine's DYNO.KEYS never answered cursor 0")
	return nil
}

// The same random versioned commands on the embedded engine and on Redis
// through the adapter leave the same DYNO.KEYS listing and DYNO.VERSIONS.
func TestRedisDynoKeysMatchEmbedded(t *testing.T) {
	noPurge(t)
	h, direct := newVersioned(t, Options{})
	keys := []string{"a", "b", "c"}
	cmds := [][]string{
		{"SET", "_", "1"}, {"SET", "_", "2", "NX"}, {"DEL", "_"}, {"GETDEL", "_"}, {"INCR", "_"},
		{"APPEND", "_", "x"}, {"HSET", "_", "f", "1"}, {"HDEL", "_", "f"}, {"RPUSH", "_", "x"},
		{"RPOP", "_"}, {"EXPIRE", "_", "1000"}, {"DYNO.DEL", "_"}, {"MSET", "_", "1", "c", "2"},
		{"RENAME", "_", "b"}, {"GET", "_"},
	}
	rapid.Check(t, func(rt *rapid.T) {
		require.Equal(rt, "+OK\r\n", direct.Do("FLUSHALL"))
		e := store.NewEngine(store.Options{Seed: 1})
		for range rapid.IntRange(1, 30).Draw(rt, "len") {
			tmpl := rapid.SampledFrom(cmds).Draw(rt, "cmd")
			b := make([][]byte, len(tmpl))
			for i, a := range tmpl {
				b[i] = []byte(a)
			}
			b[1] = []byte(rapid.SampledFrom(keys).Draw(rt, "key"))
			v := ver(int64(rapid.IntRange(1, 6).Draw(rt, "wall"))*1000, rapid.SampledFrom([]string{"n1", "n2"}).Draw(rt, "node"))
			e.ExecVersion(time.Now(), b, v, nil)
			h.nextID++
			h.node.Send(h.me, h.ds, store.Exec{ID: h.nextID, Args: b, Version: v})
			require.Empty(rt, h.next().Failure)
		}
		args := append([]string{"DYNO.VERSIONS"}, append(keys, "none")...)
		b := make([][]byte, len(args))
		for i, a := range args {
			b[i] = []byte(a)
		}
		want, _ := e.ExecVersion(time.Now(), b, hlc.Version{}, nil)
		require.Equal(rt, string(want), h.reply(args...))
		got, _, _ := h.listAll(1)
		require.Equal(rt, listEngine(rt, e, 1), got)
	})
}

// DYNO.MARK answers the marker the datastore held ("" for none) and sets
// it only when there was none, in __dyno:m; a redis-server restarted
// without persistence, or flushed, holds none again.
func TestRedisDynoMark(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Versions: true,
		InitialBackoff: 20 * time.Millisecond, RetryTimeout: 200 * time.Millisecond})
	direct := testproc.DialRESP(t, r.Addr)
	mark := func(id string) string {
		t.Helper()
		res := h.do("DYNO.MARK", id)
		require.Empty(t, res.Failure)
		require.Zero(t, res.Version)
		return string(res.Reply)
	}
	require.Equal(t, bulk(""), mark("n1/a"), "a fresh server holds no marker")
	require.Equal(t, bulk("n1/a"), direct.Do("GET", MarkKey))
	require.Equal(t, bulk("n1/a"), mark("n2/b"), "the first marker stays")
	require.Equal(t, bulk("n1/a"), mark("n1/a"))
	require.Equal(t, bulk("n1/a"), direct.Do("GET", MarkKey))
	// The embedded engine answers the same calls alike.
	e := store.NewEngine(store.Options{})
	for i, c := range [][2]string{{"n1/a", bulk("")}, {"n2/b", bulk("n1/a")}, {"n1/a", bulk("n1/a")}} {
		got, _ := e.ExecVersion(time.Now(), [][]byte{[]byte("DYNO.MARK"), []byte(c[0])}, hlc.Version{}, nil)
		require.Equal(t, c[1], string(got), "engine call %d", i)
	}

	// Data lost: flushed, or restarted empty.
	require.Equal(t, "+OK\r\n", direct.Do("FLUSHALL"))
	require.Equal(t, bulk(""), mark("n1/c"), "flushed: no marker")
	require.Equal(t, bulk("n1/c"), mark("n1/d"))
	r.Restart()
	h.eventually(bulk(""), "DYNO.MARK", "n1/e") // a fresh redis-server: the marker is gone
	require.Equal(t, bulk("n1/e"), mark("n1/f"))

	// An empty id reads the marker and sets none; the script is sent again
	// as EVAL after SCRIPT FLUSH.
	direct = testproc.DialRESP(t, r.Addr)
	require.Equal(t, "+OK\r\n", direct.Do("FLUSHALL"))
	require.Equal(t, "+OK\r\n", direct.Do("SCRIPT", "FLUSH"))
	require.Equal(t, bulk(""), mark(""))
	require.Equal(t, ":0\r\n", direct.Do("EXISTS", MarkKey))
	require.Equal(t, bulk(""), mark("n1/g"))
	require.Equal(t, bulk("n1/g"), mark(""))

	// A versioned DYNO.MARK is the same command, and answers no version.
	res := h.vdo(ver(10, "a"), "DYNO.MARK", "n1/h")
	require.Equal(t, bulk("n1/g"), string(res.Reply))
	require.Zero(t, res.Version)

	for _, args := range [][]string{{"DYNO.MARK"}, {"DYNO.MARK", "a", "b"}, {"dyno.mark", "a", "b", "c"}} {
		require.Equal(t, "-ERR wrong number of arguments for 'dyno.mark' command\r\n", h.reply(args...), "%v", args)
	}
	require.Equal(t, bulk("n1/g"), direct.Do("GET", MarkKey))
	h.requireBalanced()
}

// Concurrent DYNO.MARKs on an unmarked datastore: exactly one is
// answered "", every other the winner's marker.
func TestRedisDynoMarkOnce(t *testing.T) {
	h, direct := newVersioned(t, Options{Connections: 4})
	var ids []uint64
	for i := range 200 {
		ids = append(ids, h.send("DYNO.MARK", fmt.Sprint("n", i)))
	}
	results := h.collect(ids, 10*time.Millisecond)
	winner := direct.Do("GET", MarkKey)
	empty := 0
	for id, r := range results {
		require.Empty(t, r.Failure, "request %d", id)
		if string(r.Reply) == bulk("") {
			empty++
			continue
		}
		require.Equal(t, winner, string(r.Reply), "request %d", id)
	}
	require.Equal(t, 1, empty)
	h.requireBalanced()
}
