package seeds

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func drawSeeds(t *rapid.T, label string) []config.Seed {
	n := rapid.IntRange(0, 6).Draw(t, label+"n")
	var out []config.Seed
	for i := range n {
		line := fmt.Sprintf("%s:%d:%s:%s:%d",
			rapid.SampledFrom([]string{"h1", "h2", "10.0.0.1", "[::1]"}).Draw(t, fmt.Sprint(label, "host", i)),
			rapid.IntRange(1, 65535).Draw(t, fmt.Sprint(label, "port", i)),
			rapid.SampledFrom([]string{"r1", "r2"}).Draw(t, fmt.Sprint(label, "rack", i)),
			rapid.SampledFrom([]string{"dc1", "dc2"}).Draw(t, fmt.Sprint(label, "dc", i)),
			rapid.Uint32().Draw(t, fmt.Sprint(label, "token", i)))
		s, err := config.ParseSeed(line)
		require.NoError(t, err, line)
		out = append(out, s)
	}
	return out
}

// Two lists count as the same exactly when one is a reordering of the other.
func TestCanonicalIsOrderInsensitive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := drawSeeds(t, "a")
		perm := rapid.Permutation(a).Draw(t, "perm")
		if canonical(a) != canonical(perm) {
			t.Fatalf("reordering changed the canonical form: %v vs %v", a, perm)
		}
		b := drawSeeds(t, "b")
		if canonical(a) == canonical(b) && !sameMultiset(a, b) {
			t.Fatalf("different lists share a canonical form: %v vs %v", a, b)
		}
	})
}

func sameMultiset(a, b []config.Seed) bool {
	count := map[string]int{}
	for _, s := range a {
		count[s.String()]++
	}
	for _, s := range b {
		count[s.String()]--
	}
	for _, c := range count {
		if c != 0 {
			return false
		}
	}
	return true
}

// Every retry delay lies in the upper half of min(RetryMin*2^(n-1), period).
func TestRetryDelayBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := PollOptions{
			Interval:    time.Duration(rapid.Int64Range(1, int64(time.Hour)).Draw(t, "interval")),
			MinInterval: time.Duration(rapid.Int64Range(1, int64(time.Minute)).Draw(t, "floor")),
			RetryMin:    time.Duration(rapid.Int64Range(1, int64(time.Minute)).Draw(t, "retryMin")),
			Rand:        rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0)),
		}
		n := rapid.IntRange(1, 200).Draw(t, "failures")
		nominal := time.Duration(min(float64(o.RetryMin)*math.Pow(2, float64(n-1)), float64(o.period())))
		if d := o.retryDelay(n); d < nominal/2 || d > nominal {
			t.Fatalf("retryDelay(%d) = %v, want within [%v, %v]", n, d, nominal/2, nominal)
		}
	})
}
