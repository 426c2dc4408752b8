package hlc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestClockModel: whatever the wall clock does (steps back, stands still,
// jumps ahead) and whatever peers send, every reading is newer than every
// earlier reading and every timestamp merged before it, and a reading
// never lags the wall clock.
func TestClockModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var c Clock
		var newest Timestamp
		phys := time.Unix(1_700_000_000, 0)
		for i := range rapid.IntRange(1, 200).Draw(t, "steps") {
			phys = phys.Add(time.Duration(rapid.Int64Range(-int64(300*time.Second), int64(300*time.Second)).Draw(t, "step")))
			var got Timestamp
			if rapid.Bool().Draw(t, "merge") {
				remote := Timestamp{Wall: phys.UnixNano() + rapid.Int64Range(-1e9, 1e9).Draw(t, "skew"),
					Logical: rapid.Uint32Range(0, 5).Draw(t, "logical")}
				got = c.Update(remote, phys)
				if !remote.Less(got) {
					t.Fatalf("step %d: merged %s, read %s: not newer", i, remote, got)
				}
			} else {
				got = c.Now(phys)
			}
			if !newest.Less(got) {
				t.Fatalf("step %d: read %s after %s", i, got, newest)
			}
			if got.Wall < phys.UnixNano() {
				t.Fatalf("step %d: read %s lags the wall clock %d", i, got, phys.UnixNano())
			}
			if c.Last() != got {
				t.Fatalf("Last %s, want the reading %s", c.Last(), got)
			}
			newest = got
		}
	})
}

func TestLogicalWrapMovesWall(t *testing.T) {
	c := Clock{last: Timestamp{Wall: 10, Logical: ^uint32(0)}}
	if got := c.Now(time.Unix(0, 5)); got != (Timestamp{Wall: 11}) {
		t.Fatalf("got %s, want 11.0", got)
	}
}

func TestVersionOrder(t *testing.T) {
	a := Version{TS: Timestamp{Wall: 5, Logical: 1}, Node: "b"}
	for _, tc := range []struct {
		v, w Version
		want int
	}{
		{a, a, 0},
		{Version{}, a, -1},
		{Version{TS: Timestamp{Wall: 5}, Node: "z"}, a, -1},
		{Version{TS: Timestamp{Wall: 5, Logical: 1}, Node: "a"}, a, -1},
		{Version{TS: Timestamp{Wall: 5, Logical: 1}, Node: "c"}, a, 1},
		{Version{TS: Timestamp{Wall: 6}, Node: "a"}, a, 1},
	} {
		if got := tc.v.Compare(tc.w); got != tc.want {
			t.Errorf("%s vs %s: %d, want %d", tc.v, tc.w, got, tc.want)
		}
		if got := -tc.w.Compare(tc.v); got != tc.want {
			t.Errorf("%s vs %s reversed: %d, want %d", tc.w, tc.v, got, tc.want)
		}
	}
	if Newer(a, Version{}) != a || Newer(Version{}, a) != a {
		t.Error("Newer does not pick the newer version")
	}
}

func TestVersionText(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := Version{TS: Timestamp{Wall: rapid.Int64Min(1).Draw(t, "wall"), Logical: rapid.Uint32().Draw(t, "logical")},
			Node: rapid.StringMatching(`[a-z0-9.:]{1,12}`).Draw(t, "node")}
		got, ok := ParseText(AppendText(nil, v))
		if !ok || got != v {
			t.Fatalf("round trip of %v gave %v, %v", v, got, ok)
		}
	})
	v, ok := ParseText(nil)
	require.True(t, ok)
	require.True(t, v.IsZero())
	require.Empty(t, AppendText(nil, Version{}))
	for _, bad := range []string{"12", "zz00000000000000000000000n", "0000000000000001000000g0n"} {
		_, ok := ParseText([]byte(bad))
		require.False(t, ok, bad)
	}
}
