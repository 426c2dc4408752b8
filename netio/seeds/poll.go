package seeds

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors/config"
)

// Poll defaults.
const (
	// DefaultMinInterval is Dynomite's SEEDS_CHECK_INTERVAL: a provider is
	// asked at most once per 30 s whatever gos_interval says.
	DefaultMinInterval = 30 * time.Second
	// DefaultRetryMin is the first retry delay after a failed fetch.
	DefaultRetryMin = time.Second
)

// PollOptions tune Poll. The zero value is Dynomite's behaviour with the
// default gos_interval.
type PollOptions struct {
	// Interval is gos_interval, the pause after a successful fetch.
	// Default config.DefaultGossipInterval (30 s) when 0.
	Interval time.Duration
	// MinInterval is the floor on that pause. Default DefaultMinInterval
	// (30 s) when 0; tests lower it.
	MinInterval time.Duration
	// RetryMin is the delay before the first retry of a failed fetch; it
	// doubles with each consecutive failure up to the poll period
	// (max(Interval, MinInterval)), and each delay is drawn from its upper
	// half. Default DefaultRetryMin (1 s) when 0.
	RetryMin time.Duration
	// Log receives every failure, recovery and change of the list.
	// Default slog.Default() when nil.
	Log *slog.Logger
	// Rand draws the retry jitter; Poll is its only user. Default a
	// randomly seeded source when nil.
	Rand *rand.Rand
}

// period is the pause between successful fetches.
func (o PollOptions) period() time.Duration {
	return max(o.Interval, o.MinInterval)
}

// retryDelay is the pause after the n-th consecutive failure (n >= 1).
func (o PollOptions) retryDelay(n int) time.Duration {
	d := min(o.RetryMin, o.period())
	for i := 1; i < n && d < o.period(); i++ {
		d *= 2
	}
	d = min(d, o.period())
	// Jitter spreads the retries of many nodes that lost the same provider.
	return d/2 + time.Duration(o.Rand.Int64N(int64(d/2)+1))
}

func (o PollOptions) withDefaults() PollOptions {
	if o.Interval <= 0 {
		o.Interval = config.DefaultGossipInterval
	}
	if o.MinInterval <= 0 {
		o.MinInterval = DefaultMinInterval
	}
	if o.RetryMin <= 0 {
		o.RetryMin = DefaultRetryMin
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return o
}

// Poll fetches from p at once and then every max(Interval, MinInterval)
// until ctx is done, calling apply with the list whenever it differs from
// the last one applied (as a set of seeds: order does not matter). The first
// successful fetch is always applied. A failed fetch (an error, a malformed
// payload, even a panic in p) is logged with its cause and retried with
// jittered exponential backoff, and the last good list stays in effect:
// apply is not called. apply runs on Poll's goroutine.
func Poll(ctx context.Context, p Provider, opts PollOptions, apply func([]config.Seed)) {
	opts = opts.withDefaults()
	var (
		last     string // canonical form of the list last applied
		applied  bool
		failures int
	)
	for {
		seeds, err := fetch(ctx, p)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		if err != nil {
			failures++
			wait = opts.retryDelay(failures)
			opts.Log.Warn("seed provider failed; keeping the last good seed list",
				"provider", p.Name(), "failures", failures, "retry_in", wait, "err", err)
		} else {
			if failures > 0 {
				opts.Log.Info("seed provider recovered", "provider", p.Name(), "after_failures", failures)
				failures = 0
			}
			if key := canonical(seeds); !applied || key != last {
				opts.Log.Info("seed list changed", "provider", p.Name(), "seeds", len(seeds))
				apply(seeds)
				last, applied = key, true
			}
			wait = opts.period()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// fetch calls p.Fetch, turning a panic into an error so a buggy provider
// cannot take the node down.
func fetch(ctx context.Context, p Provider) (seeds []config.Seed, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s panicked: %v", p.Name(), v)
		}
	}()
	return p.Fetch(ctx)
}

// canonical renders a seed list independently of its order.
func canonical(seeds []config.Seed) string {
	lines := make([]string, len(seeds))
	for i, s := range seeds {
		lines[i] = s.String()
	}
	slices.Sort(lines)
	return strings.Join(lines, "|")
}
