package command

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func args(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func TestLookupAnyCase(t *testing.T) {
	for _, n := range []string{"get", "GET", "GeT"} {
		s := Lookup([]byte(n))
		require.NotNil(t, s, n)
		require.Equal(t, "get", s.Name)
	}
	require.Nil(t, Lookup([]byte("nosuchcommand")))
	require.Nil(t, Lookup([]byte(strings.Repeat("x", 100))))
	require.Zero(t, testing.AllocsPerRun(100, func() { Lookup([]byte("HGETALL")) }))
}

// TestFullName: the names CLIENT LIST shows as a connection's last
// command, as redis-server 7.0.15 shows them (cmd=object|encoding,
// cmd=NULL for an unknown subcommand), without allocating.
func TestFullName(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"GET k", "get"}, {"CLIENT LIST", "client|list"}, {"client No-Evict on", "client|no-evict"},
		{"OBJECT ENCODING k", "object|encoding"}, {"CLIENT", "client"}, {"CLIENT FOO", ""},
		{"CLIENT " + strings.Repeat("x", 30), ""}, {"CONFIG GET maxmemory", "config|get"}, {"PING x", "ping"},
	} {
		a := args(tc.args)
		require.Equal(t, tc.want, FullName(Lookup(a[0]), a), tc.args)
	}
	a := args("CLIENT KILL ID 1")
	spec := Lookup(a[0])
	require.Zero(t, testing.AllocsPerRun(100, func() { FullName(spec, a) }))
}

func TestKeyIndexes(t *testing.T) {
	cases := []struct {
		cmd  string
		keys []int
		ok   bool
	}{
		{"get k", []int{1}, true},
		{"mget a b c", []int{1, 2, 3}, true},
		{"mset a 1 b 2", []int{1, 3}, true},
		{"mset a 1 b", nil, false},
		{"del a", []int{1}, true},
		{"rename a b", []int{1, 2}, true},
		{"sunionstore d a b", []int{1, 2, 3}, true},
		{"zunionstore d 2 a b weights 1 2", []int{1, 3, 4}, true},
		{"zunionstore d 3 a b", nil, false},
		{"zunionstore d x a", nil, false},
		{"eval script 2 k1 k2 arg", []int{3, 4}, true},
		{"eval script 0", nil, true},
		{"sort k by w store dst", []int{1, 5}, true},
		{"sort k limit 0 1", []int{1}, true},
		{"georadius g 15 37 200 km withdist store dst", []int{1, 8}, true},
		{"georadius g 15 37 200 km storedist dst", []int{1, 7}, true},
		{"georadiusbymember g store 200 km", []int{1}, true}, // a member named "store"
		{"georadiusbymember g m 200 km asc store dst", []int{1, 7}, true},
		{"georadius g 15 37 200 km store\x00x dst", []int{1, 7}, true}, // Redis reads option names as C strings
		{"georadius_ro g 15 37 200 km store dst", []int{1}, true},      // the _RO forms take no STORE
		{"georadiusbymember_ro g m 200 km", []int{1}, true},
		{"geosearchstore dst g frommember m byradius 1 km", []int{1, 2}, true},
		{"ping", nil, true},
	}
	for _, c := range cases {
		a := args(c.cmd)
		s := Lookup(a[0])
		require.NotNil(t, s, c.cmd)
		got, ok := s.KeyIndexes(a, nil)
		require.Equal(t, c.ok, ok, c.cmd)
		if ok {
			require.Equal(t, c.keys, got, c.cmd)
		}
	}
}

func TestArityAndWrites(t *testing.T) {
	require.True(t, Lookup([]byte("get")).ArityOK(2))
	require.False(t, Lookup([]byte("get")).ArityOK(3))
	require.True(t, Lookup([]byte("set")).ArityOK(5))
	require.False(t, Lookup([]byte("set")).ArityOK(2))
	require.True(t, Lookup([]byte("sort")).IsWrite(args("sort k store d")))
	require.False(t, Lookup([]byte("sort")).IsWrite(args("sort k alpha")))
	require.True(t, Lookup([]byte("georadius")).IsWrite(args("georadius g 15 37 200 km storedist d")))
	require.False(t, Lookup([]byte("georadius")).IsWrite(args("georadius g 15 37 200 km withcoord")))
	// Option names compare as C's strcasecmp: ASCII only (found by
	// review: Unicode folding read "ſtore" as STORE).
	require.False(t, Lookup([]byte("georadius")).IsWrite(args("georadius g 15 37 200 km ſtore d")))
	require.Zero(t, Lookup([]byte("sort")).StoreIndex(args("sort k ſtore d")))
	require.False(t, Lookup([]byte("georadiusbymember")).IsWrite(args("georadiusbymember g store 200 km")))
	require.False(t, Lookup([]byte("georadius_ro")).IsWrite(args("georadius_ro g 15 37 200 km store d")))
	require.True(t, Lookup([]byte("geosearchstore")).IsWrite(args("geosearchstore d g frommember m byradius 1 km")))
	require.True(t, Lookup([]byte("keys")).ArityOK(2))
	require.False(t, Lookup([]byte("keys")).ArityOK(3)) // Redis: wrong number of arguments
	require.True(t, Lookup([]byte("incr")).IsWrite(args("incr k")))
	require.False(t, Lookup([]byte("hgetall")).IsWrite(args("hgetall k")))
}

func TestClassesAreConsistent(t *testing.T) {
	names := Names()
	require.Greater(t, len(names), 150)
	for _, n := range names {
		s := table[n]
		require.Equal(t, n, s.Name)
		switch s.Class {
		case SingleKey, SameOwner:
			require.True(t, s.First > 0 || s.NumKeysAt > 0, "%s routes by key but has none", n)
		case MultiKey:
			require.NotEqual(t, MergeNone, s.Merge, "%s is split but never merged", n)
		case Unsupported:
			require.NotEmpty(t, s.Why, n)
		}
	}
	for _, n := range []string{"wait", "config"} {
		require.Equal(t, Unsupported, table[n].Class, n)
	}
	for _, n := range []string{"blpop", "brpop", "blmove", "brpoplpush", "blmpop", "bzpopmin", "bzpopmax", "bzmpop"} {
		require.Equal(t, Blocking, table[n].Class, n)
		require.True(t, table[n].Write, "%s pops: a write", n)
	}
	for _, n := range []string{"multi", "exec", "discard", "watch", "unwatch"} {
		require.Equal(t, Transaction, table[n].Class, n)
	}
	require.Equal(t, Node, table["auth"].Class, "AUTH is answered by the node (requirepass)")
}
