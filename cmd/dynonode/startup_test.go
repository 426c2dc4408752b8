package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Start-up as Dynomite: a node whose datastore is not up yet starts anyway.
const (
	// startupRetryCap is server_retry_timeout in these tests: the longest
	// backoff between two dials of a datastore that stays down.
	startupRetryCap = 2 * time.Second
	// startupServeBound bounds how long after the datastore accepts
	// connections a request through the node succeeds: one backoff at
	// the cap, plus margin for a loaded machine.
	startupServeBound = startupRetryCap + 3*time.Second
)

// startupClient is a client of either protocol, reduced to what these
// tests need: a write, a read, and the error reply.
type startupClient struct {
	set, get func() string
	value    string // what get answers once the set went through
	errLine  string // the error reply's start, the datastore's details follow
}

func newStartupClient(t *testing.T, memcached bool, addr, dsAddr string) startupClient {
	if memcached {
		c := dialMC(t, addr)
		return startupClient{
			set: func() string { c.send("set k 0 0 1\r\nv\r\n"); return c.line() },
			get: func() string {
				c.send("get k\r\n")
				l := c.line()
				if l == "END" || strings.HasPrefix(l, "SERVER_ERROR") {
					return l
				}
				require.Equal(t, "VALUE k 0 1", l)
				require.Equal(t, "v", c.line())
				require.Equal(t, "END", c.line())
				return "v"
			},
			value:   "v",
			errLine: "SERVER_ERROR Datastore refused connection: memcached " + dsAddr + " is not reachable yet: ",
		}
	}
	c := testproc.DialRESP(t, addr)
	return startupClient{
		set:     func() string { return c.Do("SET", "k", "v") },
		get:     func() string { return c.Do("GET", "k") },
		value:   bulkReply("v"),
		errLine: "-ERR Storage: Datastore refused connection: redis " + dsAddr + " is not reachable yet: ",
	}
}

// TestStartupDatastoreLate: a node started before its datastore (with
// preconnect true and false, redis and memcached) stays up, logs one clear
// warning, answers requests with an error naming the datastore, keeps
// redialling, and serves within startupServeBound of the datastore coming
// up some seconds later.
func TestStartupDatastoreLate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		memcached  bool
		preconnect bool
	}{
		{"redis preconnect", false, true},
		{"redis no preconnect", false, false},
		{"memcached preconnect", true, true},
		{"memcached no preconnect", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := testproc.FreeAddr(t, "127.0.0.1") // nothing listens there yet
			store := 0
			if tc.memcached {
				store = 1
			}
			n := startOpNode(t, fmt.Sprintf("  servers:\n  - %s:1\n  data_store: %d\n  preconnect: %t\n  server_retry_timeout: %d\n",
				ds, store, tc.preconnect, startupRetryCap.Milliseconds()))
			const warn = "datastore not reachable yet"
			if tc.preconnect {
				require.Eventually(t, n.logHas(warn), 5*time.Second, 20*time.Millisecond, "preconnect dials at start")
			} else {
				time.Sleep(300 * time.Millisecond)
				require.False(t, n.logHas(warn)(), "no dial before the first request")
			}
			c := newStartupClient(t, tc.memcached, n.listen, ds)
			for range 3 {
				assert.True(t, strings.HasPrefix(c.set(), c.errLine), "the error names the datastore")
			}
			got := c.get()
			require.True(t, strings.HasPrefix(got, c.errLine), "%q, want prefix %q", got, c.errLine)
			require.Contains(t, got, "connection refused")
			require.Eventually(t, n.logHas(warn), 5*time.Second, 20*time.Millisecond)

			time.Sleep(2 * time.Second) // some seconds: several redials
			require.ErrorContains(t, n.proc.Wait(time.Millisecond), "still running")
			got = c.get()
			require.True(t, strings.HasPrefix(got, c.errLine), "still the clear error after redials and ejection: %q", got)
			logText := readLog(t, n)
			assert.Equal(t, 1, strings.Count(logText, warn), "one warning, not one per redial:\n%s", logText)
			assert.NotContains(t, logText, "datastore connected")

			up := time.Now()
			if tc.memcached {
				testproc.MemcachedOn(t, ds)
			} else {
				testproc.RedisOn(t, ds)
			}
			var last string
			for time.Since(up) < startupServeBound {
				if last = c.set(); last == "+OK\r\n" || last == "STORED" {
					break
				}
				require.True(t, strings.HasPrefix(last, c.errLine) || strings.Contains(last, "Datastore refused connection: "),
					"only the refusal until it serves: %q", last)
				time.Sleep(50 * time.Millisecond)
			}
			require.Contains(t, []string{"+OK\r\n", "STORED"}, last, "no successful set within %s of the datastore accepting", startupServeBound)
			t.Logf("served %s after the datastore accepted", time.Since(up))
			require.Equal(t, c.value, c.get())
			require.Eventually(t, n.logHas("datastore connected"), 5*time.Second, 20*time.Millisecond)
		})
	}
}

func readLog(t *testing.T, n *opNode) string {
	t.Helper()
	data, err := os.ReadFile(n.log)
	require.NoError(t, err)
	return string(data)
}

// TestStartupStillExitsOnConfigAndPort: with the datastore down too, the
// only start-up failures are a broken config and a port the node cannot
// bind; both exit 1 naming the cause.
func TestStartupStillExitsOnConfigAndPort(t *testing.T) {
	ds := testproc.FreeAddr(t, "127.0.0.1") // nothing listens there
	dir := t.TempDir()

	broken := filepath.Join(dir, "broken.yml")
	require.NoError(t, os.WriteFile(broken, []byte(fmt.Sprintf(
		"dyn_o_mite:\n  listen: %s\n  servers:\n  - %s:1\n  preconnect: maybe\n", testproc.FreeAddr(t, "127.0.0.1"), ds)), 0o644))
	code, _, errs := runCLI(t, "-c", broken)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "line 5")
	assert.Contains(t, errs, "preconnect")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	taken := filepath.Join(dir, "taken.yml")
	require.NoError(t, os.WriteFile(taken, []byte(fmt.Sprintf(
		"dyn_o_mite:\n  listen: %s\n  stats_listen: %s\n  servers:\n  - %s:1\n",
		ln.Addr(), testproc.FreeAddr(t, "127.0.0.1"), ds)), 0o644))
	code, _, errs = runCLI(t, "-c", taken)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "cannot bind listen "+ln.Addr().String())
	assert.Contains(t, errs, "address already in use")
}
