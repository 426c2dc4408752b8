package datastore

import (
	"os"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/pingcap/failpoint"
	"github.com/stretchr/testify/require"
)

const fpPkg = "github.com/dynonode/dynonode/netio/datastore/"

// needFailpoints skips the test unless the tree is rewritten (`make test`
// runs failpoint-ctl enable).
func needFailpoints(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("binding__failpoint_binding__.go"); err != nil {
		t.Skip("failpoints not enabled (run through `make test`)")
	}
}

// enableFailpoint enables name with term until the end of the test.
func enableFailpoint(t *testing.T, name, term string) {
	t.Helper()
	require.NoError(t, failpoint.Enable(fpPkg+name, term))
	t.Cleanup(func() { _ = failpoint.Disable(fpPkg + name) })
}

// warmRedis skips without failpoints, else returns an adapter with an
// established connection to a fresh redis-server.
func warmRedis(t *testing.T) *harness {
	t.Helper()
	needFailpoints(t)
	r := testproc.Redis(t)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Preconnect: true})
	require.Equal(t, "+PONG\r\n", h.reply("PING"))
	return h
}

// Half a batch reaches redis, then the connection fails: the request fails,
// redis never ran it, and the next requests reconnect and succeed.
func TestFailpointShortWrite(t *testing.T) {
	h := warmRedis(t)
	enableFailpoint(t, "datastoreShortWrite", "1*return(true)")
	res := h.do("SET", "k", "v")
	require.Equal(t, FailConnLost+": write: short write (failpoint datastoreShortWrite)", res.Failure)
	require.Equal(t, "$-1\r\n", h.reply("GET", "k"), "the half-written SET never ran")
	require.Equal(t, "+OK\r\n", h.reply("SET", "k", "v"))
	require.Equal(t, bulk("v"), h.reply("GET", "k"))
	h.requireBalanced()
	require.EqualValues(t, 1, h.opts.Counters.Snapshot().Reconnects)
}

// A reset instead of a reply fails the request; the next reconnects.
func TestFailpointReset(t *testing.T) {
	h := warmRedis(t)
	enableFailpoint(t, "datastoreReset", "1*return(true)")
	res := h.do("INCR", "n")
	require.Equal(t, FailConnLost+": read: read: connection reset by peer (failpoint datastoreReset)", res.Failure)
	require.Equal(t, ":2\r\n", h.reply("INCR", "n"), "the first INCR ran; only its reply was lost")
	h.requireBalanced()
}

// A reply later than Timeout fails its request on time; a reply that is
// slow but within Timeout succeeds.
func TestFailpointSlowReply(t *testing.T) {
	needFailpoints(t)
	m := testproc.Memcached(t)
	const timeout = 300 * time.Millisecond
	h := newHarness(t, Options{Addr: m.Addr, Protocol: Memcached, Timeout: timeout, Preconnect: true})
	require.Equal(t, "END\r\n", h.reply("get k\r\n"))

	enableFailpoint(t, "datastoreSlowReply", "1*return(2000)")
	start := time.Now()
	res := h.do("get k\r\n")
	require.Equal(t, FailTimeout+": no reply within 300ms", res.Failure)
	require.Less(t, time.Since(start), timeout+slack)
	require.Equal(t, "END\r\n", h.reply("get k\r\n"), "the next request reconnects")

	enableFailpoint(t, "datastoreSlowReply", "1*return(100)")
	start = time.Now()
	require.Equal(t, "END\r\n", h.reply("get k\r\n"))
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	h.requireBalanced()
}
