package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// checkKeyspace verifies the structure: every table at most three
// quarters full with a correct count, each entry reachable from its home
// slot without crossing an empty one, each table reached from exactly the
// directory entries that share its top bits, the order array's positions.
func checkKeyspace(t require.TestingT, ks *keyspace) {
	seen := map[*ktable]bool{}
	entries := 0
	for i, tb := range ks.dir {
		require.LessOrEqual(t, tb.depth, ks.depth)
		shift := uint(ks.depth - tb.depth)
		first := i >> shift << shift
		for j := first; j < first+1<<shift; j++ {
			require.Same(t, tb, ks.dir[j], "directory entry %d of %d", j, len(ks.dir))
		}
		if seen[tb] {
			continue
		}
		seen[tb] = true
		require.LessOrEqual(t, tb.used*4, len(tb.slots)*3, "table over three quarters full")
		mask := uint64(len(tb.slots) - 1)
		used := 0
		for s, sl := range tb.slots {
			if sl.v == nil {
				continue
			}
			used++
			if ks.depth > 0 {
				require.Equal(t, i>>shift, int(sl.h>>(64-uint(ks.depth)))>>shift, "entry in the wrong table")
			}
			for p := sl.h & mask; p != uint64(s); p = (p + 1) & mask {
				require.NotNil(t, tb.slots[p].v, "an empty slot between an entry's home and its place")
			}
		}
		require.Equal(t, used, tb.used)
		entries += used
	}
	require.Equal(t, ks.live, entries)
	live := 0
	for i, r := range ks.order {
		if r.v != nil {
			live++
			require.EqualValues(t, i, r.v.pos)
		}
		if i > 0 {
			require.Less(t, ks.order[i-1].seq, r.seq)
		}
	}
	require.Equal(t, ks.live, live)
}

func orderKeys(ks *keyspace) []string {
	out := []string{}
	ks.each(func(v *value) bool { out = append(out, string(v.key())); return true })
	return out
}

// TestKeyspaceModel runs random adds, deletes and lookups against a map
// and a slice that keeps insertion order.
func TestKeyspaceModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ks := newKeyspace(rapid.Uint64().Draw(rt, "seed"))
		universe := rapid.IntRange(1, 3000).Draw(rt, "universe")
		model := map[string]*value{}
		order := []string{}
		steps := rapid.IntRange(0, 4000).Draw(rt, "steps")
		r := rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "ops"), 1))
		for range steps {
			k := fmt.Sprintf("k%d", r.IntN(universe))
			switch op := r.IntN(10); {
			case op < 5:
				if model[k] != nil {
					continue
				}
				v := &value{kind: kString}
				ks.add([]byte(k), v)
				model[k] = v
				order = append(order, k)
			case op < 8:
				require.Equal(rt, model[k] != nil, ks.del([]byte(k)), "del %s", k)
				if model[k] != nil {
					delete(model, k)
					order = slices.DeleteFunc(order, func(x string) bool { return x == k })
				}
			default:
				require.Same(rt, model[k], ks.get([]byte(k)), "get %s", k)
			}
		}
		checkKeyspace(rt, ks)
		require.Equal(rt, len(model), ks.len())
		require.Equal(rt, order, orderKeys(ks))
		for k, v := range model {
			require.Same(rt, v, ks.get([]byte(k)))
		}
		// SCAN in steps of any size returns every key once, in order.
		count := rapid.IntRange(1, 50).Draw(rt, "count")
		scanned := []string{}
		for cur := uint64(0); ; {
			cur = ks.scan(cur, count, func(v *value) { scanned = append(scanned, string(v.key())) })
			if cur == 0 {
				break
			}
		}
		require.Equal(rt, order, scanned)
	})
}

// TestKeyspaceLarge grows the keyspace through many splits and directory
// doublings, deletes most of it and checks every key on the way.
func TestKeyspaceLarge(t *testing.T) {
	ks := newKeyspace(42)
	const n = 200_000
	vals := make([]*value, n)
	for i := range vals {
		vals[i] = &value{kind: kString}
		ks.add(fmt.Appendf(nil, "key:%d", i), vals[i])
	}
	checkKeyspace(t, ks)
	require.Greater(t, len(ks.dir), 64, "split into many tables")
	for i := 0; i < n; i += 3 {
		require.True(t, ks.del(fmt.Appendf(nil, "key:%d", i)))
	}
	checkKeyspace(t, ks)
	for i := range vals {
		want := vals[i]
		if i%3 == 0 {
			want = nil
		}
		require.Same(t, want, ks.get(fmt.Appendf(nil, "key:%d", i)), "key:%d", i)
	}
}

// TestKeyspaceCollidingHashes inserts keys whose hashes share their top
// bits, and keys whose hashes are all equal (what a client that knew the
// seed could aim for): lookups stay correct and the directory does not grow
// for splits that separate nothing.
func TestKeyspaceCollidingHashes(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(i int) uint64
	}{
		{"same top 40 bits", func(i int) uint64 { return 0xabcdef1234<<24 | uint64(i)*0x9e3779b9&(1<<24-1) }},
		{"all equal", func(int) uint64 { return 0x5555_5555_5555_5555 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := newKeyspace(1)
			const n = 3000
			for i := range n {
				ks.insert(fmt.Appendf(nil, "c%d", i), tc.hash(i), &value{kind: kString})
			}
			checkKeyspace(t, ks)
			require.LessOrEqual(t, ks.depth, uint8(1), "directory depth for keys that share their top bits")
			for i := range n {
				k := fmt.Appendf(nil, "c%d", i)
				require.NotNil(t, ks.find(k, tc.hash(i)), "c%d", i)
			}
			for i := 0; i < n; i += 2 {
				require.True(t, ks.remove(fmt.Appendf(nil, "c%d", i), tc.hash(i)))
			}
			checkKeyspace(t, ks)
			for i := range n {
				got := ks.find(fmt.Appendf(nil, "c%d", i), tc.hash(i))
				require.Equal(t, i%2 == 1, got != nil, "c%d", i)
			}
		})
	}
}

// TestHashKeySpreads checks the hash mixes every input byte and length:
// distinct short keys (every length 0-40, single-bit differences) get
// distinct hashes, and a seed change changes them.
func TestHashKeySpreads(t *testing.T) {
	seen := map[uint64]string{}
	k7, k1, k2, k3 := newHashSecret(7), newHashSecret(1), newHashSecret(2), newHashSecret(3)
	add := func(b []byte) {
		h := hashKey(&k7, b)
		prev, dup := seen[h]
		require.False(t, dup, "%q and %q hash alike", prev, b)
		seen[h] = string(b)
	}
	for n := 0; n <= 40; n++ {
		base := make([]byte, n)
		add(base)
		for i := range n * 8 {
			b := slices.Clone(base)
			b[i/8] ^= 1 << (i % 8)
			add(b)
		}
	}
	require.NotEqual(t, hashKey(&k1, []byte("key")), hashKey(&k2, []byte("key")))
	// The top bits (the directory's) and the low bits (the slot's) both
	// spread sequential keys: 16 buckets of 4096 keys, none far off 256.
	var top, low [16]int
	for i := range 4096 {
		h := hashKey(&k3, fmt.Appendf(nil, "key:%06d", i))
		top[h>>60]++
		low[h&15]++
	}
	for b := range 16 {
		require.InDelta(t, 256, top[b], 80, "top bucket %d", b)
		require.InDelta(t, 256, low[b], 80, "low bucket %d", b)
	}
}

// TestWarmChangesNothing: warming any keys (present, absent, empty, more
// keys than scratch space) leaves the keyspace exactly as it was, and the
// embedded store answers a warmed batch as it answers the commands one by
// one.
func TestWarmChangesNothing(t *testing.T) {
	ks := newKeyspace(9)
	for i := range 5000 {
		ks.add(fmt.Appendf(nil, "k%d", i), &value{kind: kString})
	}
	before := orderKeys(ks)
	keys := [][]byte{nil, []byte(""), []byte("k1"), []byte("absent"), []byte("k4999"), []byte("k1")}
	for i := range 40 {
		keys = append(keys, fmt.Appendf(nil, "k%d", i*97))
	}
	ks.warm(keys, make([]uint64, 16))
	ks.warm(keys[:3], make([]uint64, 16))
	checkKeyspace(t, ks)
	require.Equal(t, before, orderKeys(ks))

	// The actor answers a Batch (warmed) as an engine answers its
	// commands one at a time.
	eng := NewEngine(Options{})
	actor := NewEmbedded(Options{})()
	ctx := &fakeCtx{now: t0}
	var execs []Exec
	var want []string
	for i := range 40 {
		k := fmt.Sprint("key", i%7)
		args := [][][]byte{strArgs("set", k, fmt.Sprint(i)), strArgs("get", k), strArgs("ping"), strArgs("incr", k)}[i%4]
		execs = append(execs, Exec{ID: uint64(i), Args: args})
		want = append(want, string(eng.Exec(t0, args, nil)))
	}
	actor.Receive(ctx, Batch{Execs: execs})
	require.Len(t, ctx.sent, 1)
	var got []string
	for _, r := range ctx.sent[0].(Results).Results {
		got = append(got, string(r.Reply))
	}
	require.Equal(t, want, got)
}

// TestEmbeddedAcks: Execs that ask for an Ack and succeed (+OK, :n) are
// answered in one Acks; others (data, errors) still in Results, Quiet ones
// not at all.
func TestEmbeddedAcks(t *testing.T) {
	actor := NewEmbedded(Options{})()
	ctx := &fakeCtx{now: t0}
	actor.Receive(ctx, Batch{Execs: []Exec{
		{ID: 1, Args: strArgs("set", "a", "x"), Ack: true},
		{ID: 2, Args: strArgs("get", "a"), Ack: true},
		{ID: 3, Args: strArgs("incr", "a"), Ack: true},
		{ID: 4, Args: strArgs("del", "a"), Ack: true},
		{ID: 5, Args: strArgs("set", "b", "y"), Quiet: true},
		{ID: 6, Args: strArgs("set", "c", "z")},
	}})
	require.Equal(t, []any{
		Results{Results: []Result{{ID: 2, Reply: []byte("$1\r\nx\r\n")}, {ID: 3, Reply: []byte("-ERR value is not an integer or out of range\r\n")}, {ID: 6, Reply: []byte("+OK\r\n")}}},
		Acks{IDs: []uint64{1, 4}},
	}, ctx.sent)
	ctx.sent = nil
	actor.Receive(ctx, Exec{ID: 7, Args: strArgs("set", "d", "w"), Ack: true})
	actor.Receive(ctx, Exec{ID: 8, Args: strArgs("get", "d"), Ack: true})
	require.Equal(t, []any{Acks{IDs: []uint64{7}}, Result{ID: 8, Reply: []byte("$1\r\nw\r\n")}}, ctx.sent)
}

// Keys built around constants of the hash's algorithm do not collide: the
// constants a word is combined with before a multiply are secrets derived
// from the seed. (With public ones, a key holding the constant where a word
// is read multiplied by zero, and every such key hashed to 0 under every
// seed; a block whose first word was the constant^1 multiplied by one.)
func TestHashKeyResistsChosenCollisions(t *testing.T) {
	const p1 = 0xe7037ed1a0b428db // the constant the first version xored in
	colliding := func(prefix string, i uint64) []byte {
		b := binary.LittleEndian.AppendUint64([]byte(prefix), p1)
		return binary.LittleEndian.AppendUint64(b, i)
	}
	xorFamily := func(y uint64) []byte {
		var b []byte
		for range 2 {
			b = binary.LittleEndian.AppendUint64(b, p1^1)
			b = binary.LittleEndian.AppendUint64(b, y)
		}
		return append(b, "sixteen-byte-end"...)
	}
	for _, seed := range []uint64{0, 1, 42, 0xdeadbeefcafef00d} {
		k := newHashSecret(seed)
		seen := map[uint64]bool{}
		for i := range uint64(100) {
			seen[hashKey(&k, colliding("", i))] = true
			seen[hashKey(&k, colliding("user:", i))] = true
			seen[hashKey(&k, xorFamily(i*0x9e3779b97f4a7c15))] = true
		}
		require.Len(t, seen, 300, "distinct hashes, seed %#x", seed)
	}
	// Through the engine: 20,000 such keys spread over the tables like
	// any others (the longest run of occupied slots stays short).
	e := NewEngine(Options{HashSeed: 0x1234_5678_9abc_def1})
	for i := range uint64(20_000) {
		e.Exec(t0, [][]byte{[]byte("set"), colliding("", i), []byte("v")}, nil)
	}
	longest := 0
	for _, tb := range e.keys.dir {
		run := 0
		for _, s := range append(tb.slots, tb.slots...) { // twice: runs wrap around
			if s.v == nil {
				run = 0
				continue
			}
			run++
			longest = max(longest, run)
		}
	}
	require.Less(t, longest, 100, "longest run of occupied slots")
}

// TestKeyspaceGivesBackMemory: after most keys are deleted the tables
// and the order array shrink, what is left stays correct, and the
// keyspace grows again.
func TestKeyspaceGivesBackMemory(t *testing.T) {
	ks := newKeyspace(5)
	slots := func() int {
		n := 0
		seen := map[*ktable]bool{}
		for _, tb := range ks.dir {
			if !seen[tb] {
				seen[tb] = true
				n += len(tb.slots)
			}
		}
		return n
	}
	const n = 100_000
	for i := range n {
		ks.add(fmt.Appendf(nil, "key:%d", i), &value{kind: kString})
	}
	peakSlots, peakOrder := slots(), cap(ks.order)
	for i := range n {
		if i%100 != 0 {
			require.True(t, ks.del(fmt.Appendf(nil, "key:%d", i)))
		}
	}
	checkKeyspace(t, ks)
	require.Equal(t, n/100, ks.len())
	require.Less(t, slots(), peakSlots/8, "table slots after deleting 99%% (peak %d)", peakSlots)
	require.Less(t, cap(ks.order), peakOrder/8, "order array capacity after deleting 99%% (peak %d)", peakOrder)
	for i := 0; i < n; i += 100 {
		require.NotNil(t, ks.get(fmt.Appendf(nil, "key:%d", i)), "key:%d", i)
	}
	for i := range n {
		if i%100 != 0 {
			ks.add(fmt.Appendf(nil, "key:%d", i), &value{kind: kString})
		}
	}
	checkKeyspace(t, ks)
	require.Equal(t, n, ks.len())
	require.Equal(t, n, len(orderKeys(ks)))
}
