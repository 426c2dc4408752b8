package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemcachedThroughDynonode: the memcached text protocol through
// dynonode (data_store 1) against a real memcached, checked on both sides.
func TestMemcachedThroughDynonode(t *testing.T) {
	memcached := testproc.Memcached(t)
	d := startDaemon(t, 1, memcached.Addr)
	c := dialMC(t, d.Addr)
	direct := dialMC(t, memcached.Addr)

	c.send("set k1 42 0 5\r\nhello\r\n")
	require.Equal(t, "STORED", c.line())
	direct.send("get k1\r\n")
	assert.Equal(t, []string{"VALUE k1 42 5|hello"}, direct.retrieval(), "the item landed in memcached")
	direct.send("set k2 7 0 3\r\nabc\r\n")
	require.Equal(t, "STORED", direct.line())

	c.send("get k1\r\n")
	assert.Equal(t, []string{"VALUE k1 42 5|hello"}, c.retrieval())
	c.send("get k2 missing k1\r\n")
	assert.Equal(t, []string{"VALUE k2 7 3|abc", "VALUE k1 42 5|hello"}, c.retrieval(), "multi-get in key order")
	c.send("get missing\r\n")
	assert.Empty(t, c.retrieval())

	t.Run("add replace append prepend", func(t *testing.T) {
		c.send("add k1 0 0 1\r\nx\r\nadd k3 0 0 1\r\nx\r\nreplace k4 0 0 1\r\ny\r\nappend k3 0 0 2\r\nyz\r\nprepend k3 0 0 1\r\nw\r\n")
		assert.Equal(t, []string{"NOT_STORED", "STORED", "NOT_STORED", "STORED", "STORED"},
			[]string{c.line(), c.line(), c.line(), c.line(), c.line()})
		direct.send("get k3\r\n")
		assert.Equal(t, []string{"VALUE k3 0 4|wxyz"}, direct.retrieval())
	})

	t.Run("gat gats", func(t *testing.T) {
		// gat and gats answer as memcached answers them, byte for byte, and
		// the expiry reaches the item: gat -1 expires it at once.
		raw := func(addr string, lines string) string { // every byte answered until 300 ms of quiet
			c := dialMC(t, addr)
			c.send(lines)
			var out []byte
			buf := make([]byte, 4096)
			for {
				require.NoError(t, c.nc.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
				n, err := c.r.Read(buf)
				out = append(out, buf[:n]...)
				if err != nil {
					return string(out)
				}
			}
		}
		for _, lines := range []string{"gat 100 k1\r\n", "gats 100 k1 missing\r\n", "gat 5\r\n", "gat x k1\r\nget k1\r\n",
			"gat\r\nget k1\r\n"} {
			assert.Equal(t, raw(memcached.Addr, lines), raw(d.Addr, lines), "%q", lines)
		}
		c.send("set gone 0 0 1\r\nx\r\n")
		require.Equal(t, "STORED", c.line())
		c.send("gat -1 gone\r\n")
		assert.Equal(t, []string{"VALUE gone 0 1|x"}, c.retrieval())
		direct.send("get gone\r\n")
		assert.Empty(t, direct.retrieval(), "gat -1 expired the item in memcached")
	})

	t.Run("incr decr", func(t *testing.T) {
		c.send("incr n 5\r\n")
		assert.Equal(t, "NOT_FOUND", c.line())
		c.send("set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 20\r\nincr n 18446744073709551615\r\n")
		assert.Equal(t, []string{"STORED", "15", "0", "18446744073709551615"}, []string{c.line(), c.line(), c.line(), c.line()})
		c.send("incr k1 1\r\n")
		assert.Equal(t, "CLIENT_ERROR cannot increment or decrement non-numeric value", c.line())
	})

	t.Run("gets and cas", func(t *testing.T) {
		c.send("gets k1\r\n")
		got := c.retrieval()
		require.Len(t, got, 1)
		var key string
		var flags, size int
		var cas uint64
		_, err := fmt.Sscanf(strings.SplitN(got[0], "|", 2)[0], "VALUE %s %d %d %d", &key, &flags, &size, &cas)
		require.NoError(t, err, got[0])
		c.send(fmt.Sprintf("cas k1 1 0 3 %d\r\nnew\r\n", cas))
		assert.Equal(t, "STORED", c.line())
		c.send(fmt.Sprintf("cas k1 1 0 3 %d\r\nold\r\n", cas))
		assert.Equal(t, "EXISTS", c.line())
		c.send("cas nokey 0 0 1 1\r\nx\r\n")
		assert.Equal(t, "NOT_FOUND", c.line())
		direct.send("get k1\r\n")
		assert.Equal(t, []string{"VALUE k1 1 3|new"}, direct.retrieval())
	})

	t.Run("noreply", func(t *testing.T) {
		// Nothing comes back for the noreply requests: the first line read
		// is the get's reply, and it sees every write before it.
		c.send("set nr 3 0 2 noreply\r\nab\r\nappend nr 0 0 1 noreply\r\nc\r\nset nn 0 0 1 noreply\r\n5\r\n" +
			"incr nn 1 noreply\r\ndelete k2 noreply\r\nadd nr 0 0 1 noreply\r\nz\r\nget nr nn k2\r\n")
		assert.Equal(t, []string{"VALUE nr 3 3|abc", "VALUE nn 0 1|6"}, c.retrieval())
		direct.send("get nr k2\r\n")
		assert.Equal(t, []string{"VALUE nr 3 3|abc"}, direct.retrieval())
		c.send("version\r\n")
		assert.True(t, strings.HasPrefix(c.line(), "VERSION dynonode-"))
	})

	t.Run("noreply flood", func(t *testing.T) {
		// Silent requests are still accounted for: thousands of them do not
		// fill the connection's in-flight budget and stall it.
		var b strings.Builder
		for i := range 10000 {
			fmt.Fprintf(&b, "set flood 0 0 %d noreply\r\n%d\r\n", len(fmt.Sprint(i)), i)
		}
		b.WriteString("get flood\r\n")
		c.send(b.String())
		assert.Equal(t, []string{"VALUE flood 0 4|9999"}, c.retrieval())
	})

	t.Run("one-byte writes", func(t *testing.T) {
		const stream = "set split 5 0 10\r\n0123456789\r\nget split k3\r\n"
		for i := range len(stream) {
			c.send(stream[i : i+1])
		}
		assert.Equal(t, "STORED", c.line())
		assert.Equal(t, []string{"VALUE split 5 10|0123456789", "VALUE k3 0 4|wxyz"}, c.retrieval())
	})

	t.Run("delete", func(t *testing.T) {
		c.send("delete k1\r\ndelete k1\r\n")
		assert.Equal(t, []string{"DELETED", "NOT_FOUND"}, []string{c.line(), c.line()})
		direct.send("get k1\r\n")
		assert.Empty(t, direct.retrieval())
	})

	t.Run("quit", func(t *testing.T) {
		q := dialMC(t, d.Addr)
		q.send("set q 0 0 1\r\n1\r\nquit\r\nset q 0 0 1\r\n2\r\n")
		assert.Equal(t, "STORED", q.line())
		expectClosed(t, q.nc, q.r)
		direct.send("get q\r\n")
		assert.Equal(t, []string{"VALUE q 0 1|1"}, direct.retrieval(), "nothing after quit ran")
	})
}

// TestMemcachedNoreplyLikeMemcached: memcached reads noreply from a
// request's last token, after the key: "delete noreply" deletes the key
// named noreply (dynonode took it for the flag, found by
// FuzzRequestParser in review), and "incr k noreply" fails on its delta
// silently. Each input is followed by a get; the lines up to its END are
// compared with a real memcached's.
func TestMemcachedNoreplyLikeMemcached(t *testing.T) {
	memcached := testproc.Memcached(t)
	d := startDaemon(t, 1, memcached.Addr)
	for _, in := range []string{
		"set noreply 0 0 1\r\nx\r\ndelete noreply\r\nget noreply\r\n",
		"incr k noreply\r\nget zz\r\n", "decr k noreply\r\nget zz\r\n", "touch k noreply\r\nget zz\r\n",
		"incr k 1 noreply\r\nget zz\r\n", "touch k 10 noreply\r\nget zz\r\n", "set n 0 0 1\r\n5\r\nincr n 1 noreply\r\nget n\r\n",
	} {
		var got [2][]string
		for i, addr := range []string{memcached.Addr, d.Addr} {
			c := dialMC(t, addr)
			c.send(in)
			for len(got[i]) == 0 || got[i][len(got[i])-1] != "END" {
				got[i] = append(got[i], c.line())
			}
		}
		require.Equal(t, got[0], got[1], "%q: memcached, then dynonode", in)
	}
}

// TestMemcachedMalformedLikeMemcached: bad request lines get memcached
// 1.6's answers, byte for byte, and the connection stays open as it does
// with memcached: the line after a bad storage line (its data block, if
// the client sent one) is read as a command, a bad data chunk costs its
// <bytes>+2 bytes, noreply (the last token) silences the CLIENT_ERRORs it
// silences; numbers are read as memcached's safe_strtoul/safe_strtol read
// them, so no value memcached would store is read as commands (the inputs
// from the review of ecbccbb: a '+', '-0', flags over 32 bits, negative
// <bytes> truncated to 32 bits, a CR or NUL after a number).
func TestMemcachedMalformedLikeMemcached(t *testing.T) {
	memcached := testproc.Memcached(t)
	d := startDaemon(t, 1, memcached.Addr)
	k251 := strings.Repeat("k", 251)
	// Not compared: a key with a control byte ("k\t0"), which memcached
	// stores and dynonode refuses, skipping its data block (mcproto's
	// TestParseRequests); flush_all and stats, which dynonode refuses.
	for _, in := range []string{
		"bogus\r\n", "\r\n", "get\r\n", "set k 0 0\r\nget a\r\n", "set k x 0 1\r\nx\r\n", "set k 0 0 -1\r\nget a\r\n",
		"set k 0 0 x\r\nget a\r\n", "set " + k251 + " 0 0 5\r\nget a\r\n", "set k x 0 5 noreply\r\nget a\r\n",
		"set k 0 0 1 noreply extra\r\nx\r\n", "set k 0 0 1\r\nxx\r\nget a\r\n", "set k 0 0 1 noreply\r\nxx\r\nget a\r\n",
		"cas k 0 0 5 x\r\nget a\r\n", "incr\r\n", "delete\r\n", "touch k\r\n", "GET k\r\n", "  get k\r\n", "get k\n",
		"set k 0 0 2000000\r\n" + strings.Repeat("v", 2000000) + "\r\nget a\r\n",
		// Numbers memcached accepts: the value is stored, never run.
		"set v1 0 0 1\r\nA\r\nset k 0 0 +11\r\ndelete v1\r\n\r\nget v1 k\r\n",
		"set k +1 0 1\r\nx\r\nget k\r\n", "set k 4294967296 0 1\r\nx\r\nget k\r\n", "set k -0 0 1\r\nx\r\nget k\r\n",
		"set k 4294967295 0 1\r\nx\r\nget k\r\n", "set k 0 0 -4294967295\r\nx\r\nget k\r\n", "set k 0 0 1\r\r\nx\r\nget k\r\n",
		"set k 0 0 1\x00junk\r\nx\r\nget k\r\n", "set k 0 +5 1\r\nx\r\nget k\r\n", "cas k 0 0 1 +0\r\nx\r\nget k\r\n",
		"set k 0 0 noreply\r\nget k\r\n", "cas k 0 0 1 noreply\r\nx\r\nget k\r\n", "set k 18446744073709551616 0 1\r\nx\r\nget k\r\n",
		"set k 0 0 2147483646\r\nget k\r\n", "set k 0 0 2147483648\r\nx\r\nget k\r\n",
		"set k 0 0 1\tx\r\nx\r\nget k\r\n", "set k 0x1 0 1\r\nx\r\nget k\r\n", "set k 1e2 0 1\r\nx\r\nget k\r\n",
	} {
		var got [2]string
		for i, addr := range []string{memcached.Addr, d.Addr} {
			c := dialMC(t, addr)
			c.send(in + "get zz\r\n") // a command after: the connection must still serve it
			buf := make([]byte, 64<<10)
			for {
				wait := 2 * time.Second
				if strings.HasSuffix(got[i], "END\r\n") {
					wait = 150 * time.Millisecond // anything more comes at once
				}
				require.NoError(t, c.nc.SetReadDeadline(time.Now().Add(wait)))
				n, err := c.r.Read(buf)
				got[i] += string(buf[:n])
				if err != nil {
					var ne net.Error
					require.True(t, errors.As(err, &ne) && ne.Timeout(), "%.60q: %v (have %q)", in, err, got[i])
					break
				}
			}
			require.True(t, strings.HasSuffix(got[i], "END\r\n"), "%.60q via %s: %q", in, addr, got[i])
		}
		require.Equal(t, got[0], got[1], "%.60q: memcached, then dynonode", in)
	}
}

// TestMemcachedMetaAndBinaryRefused: dynonode serves meta commands (see
// TestMemcachedMetaLikeMemcached) but not the binary protocol, and
// neither a refused meta set nor a binary connection runs a value as
// commands (found in review): a refused meta set's data block is skipped,
// and a connection that starts with the binary magic is closed. memcached
// itself stores "delete v1" as k's value in both cases.
func TestMemcachedMetaAndBinaryRefused(t *testing.T) {
	memcached := testproc.Memcached(t)
	d := startDaemon(t, 1, memcached.Addr)
	c := dialMC(t, d.Addr)
	c.send("set v1 0 0 1\r\nA\r\nms k 9\r\ndelete v1\r\nms k 9 q E1\r\ndelete v1\r\nmg v1 v\r\nget v1 k\r\n")
	assert.Equal(t, "STORED", c.line())
	assert.Equal(t, "HD", c.line())
	assert.Equal(t, "CLIENT_ERROR invalid flag", c.line())
	assert.Equal(t, "VA 1", c.line())
	assert.Equal(t, "A", c.line())
	assert.Equal(t, []string{"VALUE v1 0 1|A", "VALUE k 0 9|delete v1"}, c.retrieval(), "the meta sets' values did not run")

	// A binary set of k whose value is "\r\ndelete v1\r\n".
	key, val := "k", "\r\ndelete v1\r\n"
	pkt := []byte{0x80, 0x01, 0, byte(len(key)), 8, 0, 0, 0, 0, 0, 0, byte(8 + len(key) + len(val))}
	pkt = append(pkt, make([]byte, 12)...) // opaque, cas
	pkt = append(pkt, make([]byte, 8)...)  // flags, expiry
	pkt = append(append(pkt, key...), val...)
	b := dialMC(t, d.Addr)
	b.send(string(pkt))
	assert.Equal(t, "SERVER_ERROR the binary protocol is not served by dynonode", b.line())
	expectClosed(t, b.nc, b.r)
	c.send("get v1\r\n")
	assert.Equal(t, []string{"VALUE v1 0 1|A"}, c.retrieval(), "the binary value did not run")
}
