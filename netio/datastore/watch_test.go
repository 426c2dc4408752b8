package datastore

import (
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// TestRedisWatches: the adapter keeps blocking pops' watches
// (store.Watches): DYNO.WATCH is answered only when a write that may add
// an element to a watched key is queued, never by Redis; pops, reads and
// other keys wake nobody; LPUSH of two wakes the first two watchers of
// the key, in order; DYNO.UNWATCH withdraws a watch; neither command
// reaches Redis.
func TestRedisWatches(t *testing.T) {
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis})
	w1 := h.send("DYNO.WATCH", "q", "other")
	w2 := h.send("DYNO.WATCH", "q")
	w3 := h.send("dyno.watch", "q")
	w4 := h.send("DYNO.WATCH", "z")
	for _, cmd := range [][]string{{"LPOP", "q"}, {"LLEN", "q"}, {"RPUSH", "elsewhere", "x"}, {"LMPOP", "1", "q", "LEFT"}} {
		r := h.do(cmd...) // its own Result, and no wake before it
		require.Equal(t, h.nextID, r.ID, "%q wakes nobody", cmd)
	}
	push := h.send("LPUSH", "q", "a", "b")
	got := h.collect([]uint64{w1, w2, push}, 200*time.Millisecond)
	require.Equal(t, "+OK\r\n", string(got[w1].Reply), "the first watcher")
	require.Equal(t, "+OK\r\n", string(got[w2].Reply), "the second")
	require.Equal(t, ":2\r\n", string(got[push].Reply))
	// w4 withdrawn: its key's write wakes nobody; w3 still waits for q.
	h.node.Send(h.me, h.ds, store.Exec{ID: w4, Args: [][]byte{[]byte("DYNO.UNWATCH")}, Quiet: true})
	add := h.send("ZADD", "z", "1", "m")
	got = h.collect([]uint64{add}, 300*time.Millisecond)
	require.Equal(t, ":1\r\n", string(got[add].Reply))
	again := h.send("RPUSH", "q", "c")
	got = h.collect([]uint64{w3, again}, 200*time.Millisecond)
	require.Equal(t, "+OK\r\n", string(got[w3].Reply), "the third, at the next push")
	// A key named twice is one watch: LPUSH of two wakes both watchers.
	d1, d2 := h.send("DYNO.WATCH", "d", "d"), h.send("DYNO.WATCH", "d")
	push = h.send("LPUSH", "d", "x", "y")
	got = h.collect([]uint64{d1, d2, push}, 200*time.Millisecond)
	require.Equal(t, "+OK\r\n", string(got[d2].Reply))
	// A watch not renewed within its lease is forgotten: it wakes nobody.
	defer func(old time.Duration) { store.WatchLease = old }(store.WatchLease)
	store.WatchLease = 100 * time.Millisecond
	h.send("DYNO.WATCH", "late")
	time.Sleep(300 * time.Millisecond)
	push = h.send("RPUSH", "late", "x")
	got = h.collect([]uint64{push}, 200*time.Millisecond)
	require.Equal(t, ":1\r\n", string(got[push].Reply))
	// LMOVE into its own source adds nothing: no wake.
	rot := h.send("DYNO.WATCH", "ring")
	rp := h.send("RPUSH", "ring", "a")
	got = h.collect([]uint64{rot, rp}, 100*time.Millisecond)
	require.Equal(t, "+OK\r\n", string(got[rot].Reply), "RPUSH wakes it")
	h.send("DYNO.WATCH", "ring")
	mv := h.send("LMOVE", "ring", "ring", "LEFT", "RIGHT")
	got = h.collect([]uint64{mv}, 200*time.Millisecond)
	require.Equal(t, "$1\r\na\r\n", string(got[mv].Reply))
	require.Equal(t, "-ERR wrong number of arguments for 'dyno.watch' command\r\n", h.reply("DYNO.WATCH"))
	d := testproc.DialRESP(t, r.Addr)
	require.NotContains(t, d.Do("INFO", "commandstats"), "dyno", "Redis never saw them")
}
