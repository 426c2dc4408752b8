package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
)

// listKeys pages through DYNO.KEYS with count and returns key -> version
// text, failing on a key listed twice with different versions.
func listKeys(t *testing.T, e *Engine, now time.Time, count int) map[string]string {
	t.Helper()
	got := map[string]string{}
	cursor := "0"
	for range 100000 {
		out := do(e, now, "DYNO.KEYS", cursor, fmt.Sprint(count))
		v, n, err := resp.ParseReply([]byte(out))
		require.NoError(t, err, out)
		require.Equal(t, len(out), n)
		require.Len(t, v.Elems, 2, out)
		pairs := v.Elems[1].Elems
		require.Zero(t, len(pairs)%2, out)
		for i := 0; i < len(pairs); i += 2 {
			k, text := string(pairs[i].Str), string(pairs[i+1].Str)
			if old, ok := got[k]; ok {
				require.Equal(t, old, text, "key %q listed twice with different versions", k)
			}
			got[k] = text
		}
		cursor = string(v.Elems[0].Str)
		if cursor == "0" {
			return got
		}
	}
	t.Fatal("DYNO.KEYS never ended")
	return nil
}

func text(v hlc.Version) string { return string(hlc.AppendText(nil, v)) }

func TestDynoKeysListsVersionsAndTombstones(t *testing.T) {
	e := NewEngine(Options{})
	now := t0
	vexec(e, now, ver(5, "a"), "SET", "whole", "x")
	vexec(e, now, ver(6, "b"), "HSET", "inplace", "f", "v")
	vexec(e, now, ver(7, "a"), "SET", "gone", "x")
	vexec(e, now, ver(8, "c"), "DEL", "gone")
	vexec(e, now, ver(9, "a"), "SET", "brief", "x", "PX", "10")
	do(e, now, "SET", "plain", "x")
	vexec(e, now, ver(3, "a"), "SET", "back", "x")
	vexec(e, now, ver(4, "a"), "DEL", "back")
	vexec(e, now, ver(10, "b"), "SET", "back", "y")
	later := now.Add(time.Second)

	want := map[string]string{
		"whole":   text(ver(5, "a")),
		"inplace": "r" + text(ver(6, "b")),
		"gone":    text(ver(8, "c")),
		"back":    text(ver(10, "b")),
	}
	for _, count := range []int{1, 2, 3, 1000} {
		require.Equal(t, want, listKeys(t, e, later, count), "count %d", count)
	}
	require.Equal(t, fmt.Sprintf("*5\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$0\r\n\r\n$0\r\n\r\n",
		len(want["whole"]), want["whole"], len(want["inplace"]), want["inplace"], len(want["gone"]), want["gone"]),
		do(e, later, "DYNO.VERSIONS", "whole", "inplace", "gone", "plain", "missing"))

	// Past the tombstone's time, it is no longer listed.
	e2 := NewEngine(Options{TombstoneTTL: time.Minute})
	vexec(e2, now, ver(8, "c"), "DEL", "k")
	require.Equal(t, map[string]string{"k": text(ver(8, "c"))}, listKeys(t, e2, now, 10))
	require.Empty(t, listKeys(t, e2, now.Add(2*time.Minute), 10))
}

func TestDynoKeysPagesEveryKey(t *testing.T) {
	e := NewEngine(Options{})
	want := map[string]string{}
	for i := range 2000 {
		k := fmt.Sprintf("key:%d", i)
		v := ver(int64(i+1), "n")
		if i%5 == 0 {
			vexec(e, t0, v, "DEL", k)
		} else {
			vexec(e, t0, v, "SET", k, "x")
		}
		want[k] = text(v)
	}
	require.Equal(t, want, listKeys(t, e, t0, 7))
}

func TestDynoKeysRejectsBadArguments(t *testing.T) {
	e := NewEngine(Options{})
	for _, args := range [][]string{
		{"DYNO.KEYS", "x1", "10"}, {"DYNO.KEYS", "k", "10"}, {"DYNO.KEYS", "kx", "10"},
		{"DYNO.KEYS", "0", "0"}, {"DYNO.KEYS", "0", "-1"}, {"DYNO.KEYS", "0", "many"},
	} {
		require.Contains(t, do(e, t0, args...), "-ERR", "%q", args)
	}
	require.Contains(t, do(e, t0, "DYNO.KEYS", "0"), "-ERR wrong number of arguments")
	require.Contains(t, do(e, t0, "DYNO.VERSIONS"), "-ERR wrong number of arguments")
}

func TestDynoMarkSetsOnce(t *testing.T) {
	e := NewEngine(Options{})
	require.Equal(t, "$0\r\n\r\n", do(e, t0, "DYNO.MARK", "a"), "a new engine holds no marker")
	require.Equal(t, "$1\r\na\r\n", do(e, t0, "DYNO.MARK", "b"), "the first marker stays")
	do(e, t0, "FLUSHALL")
	require.Equal(t, "$1\r\na\r\n", do(e, t0, "DYNO.MARK", "b"), "FLUSHALL keeps it")
	require.Equal(t, "$0\r\n\r\n", do(NewEngine(Options{}), t0, "DYNO.MARK", "a"), "a fresh engine (a restart) has none")
}
