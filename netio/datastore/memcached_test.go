package datastore

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

func TestMemcachedRoundTrips(t *testing.T) {
	m := testproc.Memcached(t)
	h := newHarness(t, Options{Addr: m.Addr, Protocol: Memcached, Connections: 2})
	steps := []struct{ req, want string }{
		{"set a 5 0 5\r\nhello\r\n", "STORED\r\n"},
		{"get a\r\n", "VALUE a 5 5\r\nhello\r\nEND\r\n"},
		{"add a 0 0 1\r\nx\r\n", "NOT_STORED\r\n"},
		{"set b 0 0 0\r\n\r\n", "STORED\r\n"},
		{"append a 0 0 3\r\n!!!\r\n", "STORED\r\n"},
		{"get a b missing\r\n", "VALUE a 5 8\r\nhello!!!\r\nVALUE b 0 0\r\n\r\nEND\r\n"},
		{"get missing\r\n", "END\r\n"},
		{"set n 0 0 2\r\n41\r\n", "STORED\r\n"},
		{"incr n 1\r\n", "42\r\n"},
		{"decr n 50\r\n", "0\r\n"},
		{"incr a 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
		{"touch n 100\r\n", "TOUCHED\r\n"},
		{"delete b\r\n", "DELETED\r\n"},
		{"delete b\r\n", "NOT_FOUND\r\n"},
	}
	for _, s := range steps {
		require.Equal(t, s.want, h.reply(s.req), "request %q", s.req)
	}

	// memcached keeps a decremented value's length: "0 " (padded).
	gets := h.reply("gets a n\r\n")
	re := regexp.MustCompile(`^VALUE a 5 8 (\d+)\r\nhello!!!\r\nVALUE n 0 2 (\d+)\r\n0 \r\nEND\r\n$`)
	mm := re.FindStringSubmatch(gets)
	require.NotNil(t, mm, "gets: %q", gets)
	require.Equal(t, "EXISTS\r\n", h.reply("cas a 0 0 1 "+mm[1]+"1\r\nx\r\n"), "stale cas unique")
	require.Equal(t, "STORED\r\n", h.reply("cas a 0 0 3 "+mm[1]+"\r\nnew\r\n"))
	require.Equal(t, "NOT_FOUND\r\n", h.reply("cas gone 0 0 1 1\r\nx\r\n"))
	require.Equal(t, "VALUE a 0 3\r\nnew\r\nEND\r\n", h.reply("get a\r\n"))
	require.True(t, strings.HasPrefix(h.reply("version\r\n"), "VERSION "))
	h.requireBalanced()
}

// Requests memcached would not answer (noreply, quit) or that are not one
// complete request are refused before they reach it.
func TestMemcachedRefusesUnansweredRequests(t *testing.T) {
	m := testproc.Memcached(t)
	h := newHarness(t, Options{Addr: m.Addr, Protocol: Memcached})
	for _, args := range [][]string{
		{"set a 0 0 1 noreply\r\nx\r\n"},
		{"delete a noreply\r\n"},
		{"quit\r\n"},
		{"get a\r\nget b\r\n"},
		{"set a 0 0 5\r\nhel"},
		{"bogus\r\n"},
		{"get a\r\n", "get b\r\n"},
		{},
	} {
		res := h.do(args...)
		require.True(t, strings.HasPrefix(res.Failure, FailBadRequest+": "), "%q: %+v", args, res)
	}
	require.Equal(t, "END\r\n", h.reply("get a\r\n"), "nothing was sent")
	h.requireBalanced()
}

func TestMemcachedRestart(t *testing.T) {
	m := testproc.Memcached(t)
	h := newHarness(t, Options{Addr: m.Addr, Protocol: Memcached, Preconnect: true,
		InitialBackoff: 20 * time.Millisecond, RetryTimeout: 200 * time.Millisecond})
	require.Equal(t, "STORED\r\n", h.reply("set k 0 0 1\r\nv\r\n"))
	m.Kill()
	res := h.do("get k\r\n")
	require.True(t, strings.HasPrefix(res.Failure, FailConnLost) || strings.HasPrefix(res.Failure, FailRefused), "%+v", res)
	m.Restart()
	h.eventually("END\r\n", "get k\r\n") // a fresh memcached: k is gone
	h.requireBalanced()
}
