package datastore

import (
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// TestFailureKinds: every Failure the adapter answers with carries the kind
// a coordinator counts it under (store.Result.Kind): a timeout is
// KindTimeout, everything else the datastore's (refused, ejected, closed
// after a timeout, queue full, stopped, a bad request). The coordinator
// never reads the text to tell them apart.
func TestFailureKinds(t *testing.T) {
	requireFailure := func(t *testing.T, res store.Result, prefix string, kind store.FailureKind) {
		t.Helper()
		requirePrefix(t, prefix, res.Failure)
		require.Equal(t, kind, res.Kind, "kind of %q", res.Failure)
	}

	t.Run("refused and ejected", func(t *testing.T) {
		addr := testproc.FreeAddr(t, "127.0.0.1") // nothing listens there
		h := newHarness(t, Options{Addr: addr, Protocol: Redis, AutoEject: true, FailureLimit: 1,
			RetryTimeout: time.Minute, InitialBackoff: time.Millisecond})
		requireFailure(t, h.do("PING"), FailRefused+": ", store.KindDatastore)
		// Ejected by refusals: the answer still says what is wrong.
		requireFailure(t, h.do("PING"), FailRefused+": ", store.KindDatastore)
		require.EqualValues(t, 1, h.opts.Counters.Snapshot().Ejections)
	})

	t.Run("bad request", func(t *testing.T) {
		m := testproc.Memcached(t)
		h := newHarness(t, Options{Addr: m.Addr, Protocol: Memcached})
		requireFailure(t, h.do("get a\r\n", "get b\r\n"), FailBadRequest+": ", store.KindDatastore)
	})

	t.Run("timeout, queue full, stopped", func(t *testing.T) {
		r := testproc.Redis(t)
		h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Timeout: 300 * time.Millisecond,
			MaxInFlight: 3, Preconnect: true})
		require.Equal(t, "+PONG\r\n", h.reply("PING"))
		require.NoError(t, r.Stop())
		t.Cleanup(func() { _ = r.Signal(syscall.SIGCONT) })
		ids := []uint64{h.send("GET", "k"), h.send("GET", "k"), h.send("GET", "k")}
		requireFailure(t, h.do("GET", "k"), FailQueueFull, store.KindDatastore)
		got := h.collect(ids, 0)
		requireFailure(t, got[ids[0]], FailTimeout+": ", store.KindTimeout)
		for _, id := range ids[1:] {
			requireFailure(t, got[id], FailClosedAfterTimeout, store.KindDatastore)
		}

		ids = []uint64{h.send("GET", "k")}
		require.Eventually(t, func() bool { return h.opts.Counters.Snapshot().InFlight == 1 }, wait, time.Millisecond)
		h.stop()
		requireFailure(t, h.collect(ids, 0)[ids[0]], FailStopped, store.KindDatastore)
	})
}
