package datastore

import (
	"log/slog"
	"math/bits"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// TestBackoffSchedule: a datastore that stays down is redialled after 1s,
// 2s, 4s, 8s, then every server_retry_timeout (10s by default).
func TestBackoffSchedule(t *testing.T) {
	schedule := func(o Options, n int) []time.Duration {
		o = o.withDefaults()
		var out []time.Duration
		for d := o.InitialBackoff; len(out) < n; d = nextBackoff(d, o.RetryTimeout) {
			out = append(out, d)
		}
		return out
	}
	s := time.Second
	require.Equal(t, []time.Duration{s, 2 * s, 4 * s, 8 * s, 10 * s, 10 * s, 10 * s}, schedule(Options{}, 7), "defaults")
	require.Equal(t, []time.Duration{s, 2 * s, 3 * s, 3 * s}, schedule(Options{RetryTimeout: 3 * s}, 4))
	require.Equal(t, []time.Duration{500 * time.Millisecond, 500 * time.Millisecond},
		schedule(Options{RetryTimeout: 500 * time.Millisecond}, 2), "a cap under 1s caps the first backoff too")
}

// captureLog returns a logger whose lines land in the returned buffer.
func captureLog() (*slog.Logger, *testproc.SafeBuffer) {
	buf := &testproc.SafeBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func countLines(log, substr string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// A datastore that is not up when the adapter starts: requests fail at once
// with a Failure naming it and saying it is not reachable yet; the adapter
// redials by itself with backoff (no request needed), logs the first
// refusal and then only at growing intervals, and serves as soon as the
// datastore accepts: within RetryTimeout (the backoff cap) of it coming up,
// plus slack. With preconnect the first dial is at start; without it, at
// the first request.
func TestLateDatastore(t *testing.T) {
	const initial, maxBackoff = 20 * time.Millisecond, 300 * time.Millisecond
	for _, tc := range []struct {
		name       string
		proto      Protocol
		preconnect bool
	}{
		{"redis preconnect", Redis, true},
		{"redis on first use", Redis, false},
		{"memcached preconnect", Memcached, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := testproc.FreeAddr(t, "127.0.0.1") // nothing listens there yet
			log, logs := captureLog()
			h := newHarness(t, Options{Addr: addr, Protocol: tc.proto, Connections: 2, Preconnect: tc.preconnect,
				InitialBackoff: initial, RetryTimeout: maxBackoff, AutoEject: true, FailureLimit: 2, Log: log})
			ping, pong := "PING", "+PONG\r\n"
			if tc.proto == Memcached {
				ping, pong = "version\r\n", "VERSION "
			}
			if !tc.preconnect {
				time.Sleep(50 * time.Millisecond)
				require.Empty(t, logs.String(), "no dial before the first request")
				require.Zero(t, h.opts.Counters.Snapshot().Reconnects)
			}
			for range 3 {
				f := h.do(ping).Failure
				requirePrefix(t, FailRefused+": "+tc.proto.String()+" "+addr+" is not reachable yet: ", f)
				require.Contains(t, f, "connection refused")
			}

			// Redials with no request, the log growing far slower.
			require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().Reconnects >= 16 }, wait, time.Millisecond)
			f := h.do(ping).Failure
			requirePrefix(t, FailRefused+": "+tc.proto.String()+" "+addr+" is not reachable yet: ", f) // ejected, yet said as it is
			// Each connection's first dial is not a reconnect.
			dials := h.opts.Counters.Snapshot().Reconnects + 2
			text := logs.String()
			require.Equal(t, 1, countLines(text, "datastore not reachable yet"), text)
			still := countLines(text, "datastore still not reachable")
			require.GreaterOrEqual(t, still, 2, text)
			require.LessOrEqual(t, still, bits.Len64(dials)-1, "logged at the 2nd, 4th, 8th... refused dial only: %d dials\n%s", dials, text)
			require.NotZero(t, h.opts.Counters.Snapshot().Ejections)
			require.Zero(t, countLines(text, "datastore connected"))

			up := time.Now()
			if tc.proto == Memcached {
				testproc.MemcachedOn(t, addr)
			} else {
				testproc.RedisOn(t, addr)
			}
			require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().Connected == 2 }, maxBackoff+2*time.Second,
				time.Millisecond, "both connections redialled without a request")
			t.Logf("connected %s after the datastore accepted", time.Since(up))
			require.True(t, strings.HasPrefix(h.reply(ping), pong), "served at once: the refusals' ejection ended")
			require.Equal(t, 1, countLines(logs.String(), "datastore connected"), logs.String())
			require.Contains(t, logs.String(), "after_failed_dials=")
			h.requireBalanced()
			h.stop()
		})
	}
}
