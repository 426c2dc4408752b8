package coord

import (
	"bytes"
	"slices"
	"testing"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// Three racks in dc1 (replicas 0-2, 0 local) and two in dc2 (3-4).
var reps5 = []ring.Replica{
	{DC: "dc1", Rack: "r1", Node: "a", LocalDC: true}, {DC: "dc1", Rack: "r2", Node: "b", LocalDC: true},
	{DC: "dc1", Rack: "r3", Node: "c", LocalDC: true}, {DC: "dc2", Rack: "r1", Node: "d"}, {DC: "dc2", Rack: "r2", Node: "e"},
}

func ok(i int, reply string) vote { return vote{replica: i, reply: []byte(reply)} }
func bad(i int) vote              { return vote{replica: i, failure: failure{"Storage: down", ErrDatastore}} }

func TestTally(t *testing.T) {
	cases := []struct {
		name    string
		level   config.Consistency
		votes   []vote
		doneAt  int // index of the vote that decides; -1: undecided after all
		reply   string
		failure string  // substring
		kind    ErrKind // the failure's, when there is one
	}{
		{"one: local answer decides", config.DCOne, []vote{ok(1, "x"), ok(0, "y")}, 1, "y", "", 0},
		{"one: local failure fails", config.DCOne, []vote{ok(2, "x"), bad(0)}, 1, "", "down", ErrDatastore},
		{"quorum: two agree", config.DCQuorum, []vote{ok(2, "v"), ok(0, "v")}, 1, "v", "", 0},
		{"quorum: remote DC does not count", config.DCQuorum, []vote{ok(3, "v"), ok(4, "v"), ok(0, "v"), ok(1, "v")}, 3, "v", "", 0},
		{"quorum: disagreement then first wins", config.DCQuorum, []vote{ok(0, "a"), ok(1, "b"), ok(2, "c")}, 2, "a", "", 0},
		{"quorum: late agreement", config.DCQuorum, []vote{ok(0, "a"), ok(1, "b"), ok(2, "b")}, 2, "b", "", 0},
		{"quorum: two down fails at once", config.DCQuorum, []vote{bad(1), bad(2)}, 1, "", "needs 2 of 3 replicas in dc1, 0 answered", ErrQuorum},
		{"quorum: one down still fine", config.DCQuorum, []vote{bad(1), ok(0, "v"), ok(2, "v")}, 2, "v", "", 0},
		{"safe: disagreement is an error", config.DCSafeQuorum, []vote{ok(0, "a"), ok(1, "b"), ok(2, "c")}, 2, "", "disagree", ErrQuorum},
		{"safe: quorum agrees", config.DCSafeQuorum, []vote{ok(0, "a"), ok(1, "b"), ok(2, "a")}, 2, "a", "", 0},
		{"each: needs every DC", config.DCEachSafeQuorum, []vote{ok(0, "v"), ok(1, "v"), ok(3, "v"), ok(4, "v")}, 3, "v", "", 0},
		{"each: remote DC lost", config.DCEachSafeQuorum, []vote{ok(0, "v"), ok(1, "v"), bad(3)}, 2, "", "in dc2", ErrQuorum},
		{"each: local reply wins", config.DCEachSafeQuorum, []vote{ok(3, "r"), ok(4, "r"), ok(0, "l"), ok(1, "l")}, 3, "l", "", 0},
		{"quorum: undecided with one answer", config.DCQuorum, []vote{ok(0, "v")}, -1, "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tl := newTally(c.level, reps5)
			decided := -1
			var reply []byte
			var failure failure
			for i, v := range c.votes {
				done, r, f := tl.add(v)
				if done {
					decided, reply, failure = i, r, f
					break
				}
			}
			require.Equal(t, c.doneAt, decided)
			require.Equal(t, c.reply, string(reply))
			if c.failure == "" {
				require.False(t, failure.failed(), "%+v", failure)
			} else {
				require.Contains(t, failure.text, c.failure)
				require.Equal(t, c.kind, failure.kind, "%q", failure.text)
			}
		})
	}
}

func TestTallyExpire(t *testing.T) {
	tl := newTally(config.DCQuorum, reps5)
	done, _, _ := tl.add(ok(0, "v"))
	require.False(t, done)
	timedOut := failure{"timed out", ErrTimeout}
	reply, f := tl.expire(timedOut)
	require.Nil(t, reply)
	require.Contains(t, f.text, "needs 2 of 3 replicas in dc1, 1 answered")
	require.Equal(t, ErrQuorum, f.kind, "too few answers in time: the quorum failed")

	one := newTally(config.DCOne, reps5)
	_, f = one.expire(timedOut)
	require.Equal(t, timedOut, f)

	require.True(t, newTally(config.DCQuorum, reps5).awaits(2))
	require.False(t, newTally(config.DCQuorum, reps5).awaits(3))
	require.True(t, newTally(config.DCEachSafeQuorum, reps5).awaits(4))
	require.False(t, newTally(config.DCOne, reps5).awaits(1))
}

func TestUnorderedRepliesCompareAsMultisets(t *testing.T) {
	set := canonicalUnordered(false)
	a := []byte("*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n")
	b := []byte("*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n")
	require.Equal(t, set(a), set(b))
	require.NotEqual(t, set(a), set([]byte("*2\r\n$1\r\nb\r\n$1\r\na\r\n")))
	pairs := canonicalUnordered(true)
	h1 := []byte("*4\r\n$1\r\nf\r\n$1\r\n1\r\n$1\r\ng\r\n$1\r\n2\r\n")
	h2 := []byte("*4\r\n$1\r\ng\r\n$1\r\n2\r\n$1\r\nf\r\n$1\r\n1\r\n")
	h3 := []byte("*4\r\n$1\r\nf\r\n$1\r\n2\r\n$1\r\ng\r\n$1\r\n1\r\n") // values swapped: different hash
	require.Equal(t, pairs(h1), pairs(h2))
	require.NotEqual(t, pairs(h1), pairs(h3))
	require.Equal(t, []byte("-ERR x\r\n"), set([]byte("-ERR x\r\n")), "non-arrays pass through")

	tl := newTally(config.DCSafeQuorum, reps5)
	tl.canon = set
	done, _, _ := tl.add(vote{replica: 0, reply: a})
	require.False(t, done)
	done, reply, failure := tl.add(vote{replica: 1, reply: b})
	require.True(t, done, "same members in another order agree")
	require.False(t, failure.failed())
	require.Equal(t, string(a), string(reply), "the client gets a replica's own reply")
}

// canonicalByParse is the canonical form as it was made before (parse
// every element, sort by content, encode again): the reference the framed
// form must agree with on what compares equal.
func canonicalByParse(pairs bool, reply []byte) []byte {
	v, n, err := resp.ParseReply(reply)
	if err != nil || n != len(reply) || v.Type != resp.Array || len(v.Elems) < 2 {
		return reply
	}
	step := 1
	if pairs {
		step = 2
		if len(v.Elems)%2 != 0 {
			return reply
		}
	}
	items := make([][]resp.Value, 0, len(v.Elems)/step)
	for i := 0; i < len(v.Elems); i += step {
		items = append(items, v.Elems[i:i+step])
	}
	slices.SortFunc(items, func(a, b []resp.Value) int {
		for k := range a {
			if c := bytes.Compare(a[k].Str, b[k].Str); c != 0 {
				return c
			}
		}
		return 0
	})
	out := resp.AppendArrayHeader(nil, len(v.Elems))
	for _, it := range items {
		for _, e := range it {
			out = resp.AppendValue(out, e)
		}
	}
	return out
}

// TestCanonicalAgreesWithParsing: two replies compare equal in the framed
// canonical form exactly when they did in the parsed one, for sets and
// field/value pairs of random bulk strings (some repeated, some empty),
// in any order.
func TestCanonicalAgreesWithParsing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pairs := rapid.Bool().Draw(t, "pairs")
		elem := rapid.SliceOfN(rapid.SampledFrom([]byte("ab\r\n$*")), 0, 4)
		draw := func(label string) []byte {
			es := rapid.SliceOfN(elem, 0, 8).Draw(t, label)
			if pairs && len(es)%2 == 1 && rapid.Bool().Draw(t, label+" even") {
				es = es[1:]
			}
			out := resp.AppendArrayHeader(nil, len(es))
			for _, e := range es {
				out = resp.AppendBulk(out, e)
			}
			return out
		}
		a := draw("a")
		b := a
		if rapid.Bool().Draw(t, "other") {
			b = draw("b")
		} else { // the same elements (pairs), shuffled
			b = shuffled(t, pairs, a)
		}
		c := canonicalUnordered(pairs)
		if got, want := bytes.Equal(c(a), c(b)), bytes.Equal(canonicalByParse(pairs, a), canonicalByParse(pairs, b)); got != want {
			t.Fatalf("%q vs %q: framed equal %v, parsed equal %v", a, b, got, want)
		}
	})
}

// shuffled is reply with its elements (pairs) in a drawn order.
func shuffled(t *rapid.T, pairs bool, reply []byte) []byte {
	v, _, err := resp.ParseReply(reply)
	if err != nil || len(v.Elems) == 0 {
		return reply
	}
	step := 1
	if pairs && len(v.Elems)%2 == 0 {
		step = 2
	}
	var items [][]resp.Value
	for i := 0; i+step <= len(v.Elems); i += step {
		items = append(items, v.Elems[i:i+step])
	}
	perm := rapid.Permutation(items).Draw(t, "order")
	out := resp.AppendArrayHeader(nil, len(v.Elems))
	for _, it := range perm {
		for _, e := range it {
			out = resp.AppendValue(out, e)
		}
	}
	return out
}

// TestMultisetAgreesWithCanonical: comparing two replies as multisets
// directly says what comparing their canonical forms says, for sets and
// field/value pairs with repeated elements, shuffled, damaged, with
// trailing bytes, and with one scratch reused throughout.
func TestMultisetAgreesWithCanonical(t *testing.T) {
	var ms multisetScratch
	decided := 0 // comparisons the multiset path decided itself
	rapid.Check(t, func(t *rapid.T) {
		pairs := rapid.Bool().Draw(t, "pairs")
		step := 1
		if pairs {
			step = 2
		}
		elem := rapid.SliceOfN(rapid.SampledFrom([]byte("ab\r\n$*")), 0, 3)
		draw := func(label string) []byte {
			es := rapid.SliceOfN(elem, 0, 10).Draw(t, label)
			out := resp.AppendArrayHeader(nil, len(es))
			for _, e := range es {
				out = resp.AppendBulk(out, e)
			}
			return out
		}
		a := draw("a")
		var b []byte
		switch rapid.IntRange(0, 3).Draw(t, "b") {
		case 0:
			b = draw("other")
		case 1:
			b = shuffled(t, pairs, a)
		case 2: // shuffled, then one byte changed
			b = append([]byte(nil), shuffled(t, pairs, a)...)
			if len(b) > 0 {
				b[rapid.IntRange(0, len(b)-1).Draw(t, "at")] = rapid.SampledFrom([]byte("ab\r\n$*:0123")).Draw(t, "byte")
			}
		case 3: // a prefix of another, with bytes after it
			b = append(draw("other"), rapid.SampledFrom([]string{"", "x", "$1\r\na\r\n"}).Draw(t, "tail")...)
		}
		c := canonicalUnordered(pairs)
		want := bytes.Equal(c(a), c(b))
		got, ok := ms.sameMultiset(a, b, step)
		if !ok {
			got = want // the caller falls back to the canonical forms
		} else {
			decided++
		}
		if got != want {
			t.Fatalf("%q vs %q: multiset equal %v, canonical equal %v", a, b, got, want)
		}
		if len(a) == len(b) { // what tally.same asks it
			if got2, ok2 := ms.sameMultiset(b, a, step); ok2 && got2 != want {
				t.Fatalf("%q vs %q reversed: multiset equal %v, canonical equal %v", b, a, got2, want)
			}
		}
	})
	require.Positive(t, decided, "the multiset path never decided a comparison")
}

// TestElemLenIsReplyLen: the inline bulk-string reading agrees with
// resp.ReplyLen on every input, well formed or not.
func TestElemLenIsReplyLen(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b []byte
		if rapid.Bool().Draw(t, "bulk") {
			b = resp.AppendBulk(nil, rapid.SliceOfN(rapid.Byte(), 0, 20).Draw(t, "s"))
			for range rapid.IntRange(0, 2).Draw(t, "damage") {
				if len(b) > 0 {
					b[rapid.IntRange(0, len(b)-1).Draw(t, "at")] = rapid.SampledFrom([]byte("$\r\n0159-+:*x")).Draw(t, "byte")
				}
			}
			b = append(b, rapid.SliceOfN(rapid.SampledFrom([]byte("$\r\n0x")), 0, 4).Draw(t, "tail")...)
		} else {
			b = rapid.SliceOfN(rapid.SampledFrom([]byte("$\r\n0123456789-:+*x")), 0, 30).Draw(t, "raw")
		}
		n, err := elemLen(b)
		wantN, wantErr := resp.ReplyLen(b)
		if (err == nil) != (wantErr == nil) || (err == nil && n != wantN) {
			t.Fatalf("%q: elemLen %d, %v; ReplyLen %d, %v", b, n, err, wantN, wantErr)
		}
	})
}
