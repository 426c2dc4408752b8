package frontend_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/netio/frontend"
	"github.com/dynonode/dynonode/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingHost is the node as the edge sees it, counting the requests the
// read loops hand to coordinators.
type countingHost struct {
	*transport.Node
	requests atomic.Int64
}

func (h *countingHost) Send(from, to actors.Addr, m any) {
	if r, ok := m.(coord.Requests); ok {
		h.requests.Add(int64(len(r.Cmds)))
	}
	h.Node.Send(from, to, m)
}

// env is one node: the runtime, an embedded store named "store", and a
// RESP client listener on 127.0.0.1.
type env struct {
	t    *testing.T
	node *transport.Node
	host *countingHost
	ln   *frontend.Listener
	addr string
}

func newEnv(t *testing.T, mutate ...func(*frontend.Options)) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := transport.Start(transport.Options{ID: "n1", Log: log})
	require.NoError(t, err)
	require.False(t, node.Spawn("store", store.NewEmbedded(store.Options{})).IsZero())
	rg, err := ring.New(ring.Config{Nodes: []ring.Node{{ID: "n1", DC: "dc1", Rack: "r1", Tokens: []uint32{0}}}, Local: "n1"})
	require.NoError(t, err)
	host := &countingHost{Node: node}
	opts := frontend.Options{
		Addr: "127.0.0.1:0", Protocol: frontend.Redis, Host: host, Log: log,
		Coordinator: func(sink actors.Addr) actors.Producer {
			return coord.NewRedis(coord.Config{Sink: sink, Ring: rg, StoreName: "store", Timeout: time.Minute, Version: "test"})
		},
	}
	for _, m := range mutate {
		m(&opts)
	}
	ln, err := frontend.Listen(opts)
	require.NoError(t, err)
	go ln.Serve()
	e := &env{t: t, node: node, host: host, ln: ln, addr: ln.Addr().String()}
	t.Cleanup(func() {
		ln.Close()
		node.Close(5 * time.Second)
	})
	return e
}

// eventually polls cond every 10ms for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// actorLive reports whether the node still hosts the named actor.
func (e *env) actorLive(name string) bool {
	return e.node.Inspect(name, time.Second, func(actors.Behaviour) {}) == nil
}

// writeAsync writes b from another goroutine, so the test can read replies
// while a large pipeline is still going out; the returned channel yields
// the write's error.
func writeAsync(c *respClient, b []byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		_ = c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := c.nc.Write(b)
		done <- err
	}()
	return done
}

func TestPipelineTenThousandInOneWrite(t *testing.T) {
	e := newEnv(t)
	c := dialRESP(t, e.addr)
	const n = 10000
	var buf []byte
	for i := range n {
		buf = append(buf, command("SET", fmt.Sprintf("key:%d", i), fmt.Sprintf("value-%d", i))...)
	}
	for i := range n {
		buf = append(buf, command("GET", fmt.Sprintf("key:%d", i))...)
	}
	wrote := writeAsync(c, buf)
	for i := range n {
		require.Equal(t, "+OK\r\n", c.reply(), "SET #%d", i)
	}
	for i := range n {
		require.Equal(t, bulk(fmt.Sprintf("value-%d", i)), c.reply(), "GET #%d", i)
	}
	require.NoError(t, <-wrote)
	c.expectOpen(50 * time.Millisecond)
	assert.Equal(t, "+PONG\r\n", c.do("PING"))
}

func TestOneByteWrites(t *testing.T) {
	e := newEnv(t)
	c := dialRESP(t, e.addr)
	stream := string(command("SET", "split", strings.Repeat("x", 300))) + "PING\r\n" +
		string(command("GET", "split")) + string(command("APPEND", "split", "yz")) + "ECHO  \"a b\"\r\n"
	for i := range len(stream) {
		c.write([]byte{stream[i]})
	}
	assert.Equal(t, "+OK\r\n", c.reply())
	assert.Equal(t, "+PONG\r\n", c.reply())
	assert.Equal(t, bulk(strings.Repeat("x", 300)), c.reply())
	assert.Equal(t, ":302\r\n", c.reply())
	assert.Equal(t, bulk("a b"), c.reply())
}

// Malformed RESP gets what redis-server 7.0 answers (checked by hand
// against it): earlier replies, then the protocol error, then the close.
func TestMalformedRequestClosesOnlyThatConnection(t *testing.T) {
	cases := []struct {
		name, send string
		want       []string
	}{
		{"bad bulk length", "PING\r\n*1\r\n$abc\r\nPING\r\n", []string{"+PONG\r\n", "-ERR Protocol error: invalid bulk length\r\n"}},
		{"bad multibulk length", "PING\r\n*abc\r\n", []string{"+PONG\r\n", "-ERR Protocol error: invalid multibulk length\r\n"}},
		{"negative bulk length", "*1\r\n$-1\r\n", []string{"-ERR Protocol error: invalid bulk length\r\n"}},
		{"no dollar", "*2\r\n$4\r\nECHO\r\n:5\r\n", []string{"-ERR Protocol error: expected '$', got ':'\r\n"}},
		{"unbalanced quotes", "PING\r\nECHO \"abc\r\n", []string{"+PONG\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			bystander := dialRESP(t, e.addr)
			require.Equal(t, "+OK\r\n", bystander.do("SET", "b", "1"))
			bad := dialRESP(t, e.addr)
			bad.write([]byte(tc.send))
			for _, w := range tc.want {
				assert.Equal(t, w, bad.reply())
			}
			bad.expectClosed()
			assert.Equal(t, bulk("1"), bystander.do("GET", "b"), "the other client is unaffected")
			eventually(t, "the bad connection's actors gone", func() bool { return e.ln.Active.Load() == 1 })
		})
	}
}

// A bulk header outside an array is an inline command named "$5" to Redis
// (unknown command), and the "hello" line after it is HELLO: the
// connection stays open.
func TestBulkWithoutArrayIsInline(t *testing.T) {
	e := newEnv(t)
	c := dialRESP(t, e.addr)
	c.write([]byte("PING\r\n$5\r\nhello\r\nPING\r\n"))
	assert.Equal(t, "+PONG\r\n", c.reply())
	assert.Equal(t, "-ERR unknown command '$5', with args beginning with: \r\n", c.reply())
	assert.True(t, strings.HasPrefix(c.reply(), "*6\r\n$6\r\nserver\r\n$8\r\ndynonode\r\n"), "HELLO's map")
	assert.Equal(t, "+PONG\r\n", c.reply())
	c.expectOpen(50 * time.Millisecond)
}

func TestOversizedRequestCloses(t *testing.T) {
	e := newEnv(t, func(o *frontend.Options) { o.RESP = resp.Limits{MaxBulkLen: 1024, MaxArgs: 8} })
	c := dialRESP(t, e.addr)
	require.Equal(t, "+OK\r\n", c.do("SET", "fits", strings.Repeat("a", 1024)))
	c.write([]byte("PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n"))
	assert.Equal(t, "+PONG\r\n", c.reply())
	assert.Equal(t, "-ERR Protocol error: invalid bulk length\r\n", c.reply())
	c.expectClosed()

	c = dialRESP(t, e.addr)
	c.write([]byte("*9\r\n"))
	assert.Equal(t, "-ERR Protocol error: invalid multibulk length\r\n", c.reply())
	c.expectClosed()

	c = dialRESP(t, e.addr)
	assert.Equal(t, bulk(strings.Repeat("a", 1024)), c.do("GET", "fits"))
}

func TestQuitClosesAfterOK(t *testing.T) {
	e := newEnv(t)
	c := dialRESP(t, e.addr)
	c.write([]byte("PING\r\n" + string(command("SET", "q", "1")) + "QUIT\r\n" + string(command("SET", "q", "2"))))
	assert.Equal(t, "+PONG\r\n", c.reply())
	assert.Equal(t, "+OK\r\n", c.reply())
	assert.Equal(t, "+OK\r\n", c.reply())
	c.expectClosed()
	c = dialRESP(t, e.addr)
	assert.Equal(t, bulk("1"), c.do("GET", "q"), "nothing after QUIT ran")
	eventually(t, "the quit connection gone", func() bool { return e.ln.Active.Load() == 1 })
}

// A client that pipelines and hangs up without reading leaves nothing
// behind: no goroutine, no actor, no connection.
func TestWriteAndCloseWithoutReadingLeaksNothing(t *testing.T) {
	e := newEnv(t)
	warm := dialRESP(t, e.addr)
	require.Equal(t, "+PONG\r\n", warm.do("PING"))
	warm.nc.Close()
	eventually(t, "warm-up connection gone", func() bool { return e.ln.Active.Load() == 0 })
	baseline := settledGoroutines()

	const conns = 20
	var buf []byte
	for i := range 1000 {
		buf = append(buf, command("SET", fmt.Sprintf("k%d", i), strings.Repeat("v", 100))...)
	}
	for range conns {
		c := dialRESP(t, e.addr)
		c.write(buf)
		c.nc.Close()
	}
	eventually(t, "every connection forgotten", func() bool { return e.ln.Active.Load() == 0 })
	for i := 1; i <= conns+1; i++ {
		name := fmt.Sprintf("client/%d", i)
		eventually(t, name+"'s actors stopped", func() bool { return !e.actorLive(name) && !e.actorLive(name+"/w") })
	}
	assert.True(t, e.actorLive("store"))
	assert.Zero(t, e.node.Stats().Panics)
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, baseline %d:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
	c := dialRESP(t, e.addr)
	assert.Equal(t, "+OK\r\n", c.do("SET", "after", "1"), "the node still serves")
}

// settledGoroutines waits for the goroutine count to stop changing.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// A client that pipelines big replies without reading is throttled: the
// node stops reading once MaxInFlight requests are unanswered, instead of
// parsing everything the client sends into memory.
func TestBackpressureBoundsInFlight(t *testing.T) {
	const maxInFlight = 64
	e := newEnv(t, func(o *frontend.Options) { o.MaxInFlight = maxInFlight })
	c := dialRESP(t, e.addr)
	value := strings.Repeat("v", 64<<10)
	require.Equal(t, "+OK\r\n", c.do("SET", "big", value))
	before := e.host.requests.Load()

	const n = 5000
	get := command("GET", "big")
	var buf []byte
	for range n {
		buf = append(buf, get...)
	}
	wrote := writeAsync(c, buf)
	// Without reads, socket buffers fill with some MB of replies; then the
	// writer blocks, nothing more is answered, and reads stop.
	var handed int64
	stalled := 0
	for deadline := time.Now().Add(20 * time.Second); stalled < 5 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		now := e.host.requests.Load() - before
		if now == handed {
			stalled++
		} else {
			handed, stalled = now, 0
		}
	}
	require.Equal(t, 5, stalled, "reading never paused")
	assert.Less(t, handed, int64(n), "requests read while the client was not reading")
	t.Logf("read %d of %d requests before pausing; peak in flight %d", handed, n, e.ln.PeakInFlight.Load())
	batch := int64(16<<10/len(get) + 1) // one read's worth
	assert.LessOrEqual(t, e.ln.PeakInFlight.Load(), int64(maxInFlight)+batch)

	want := bulk(value)
	for i := range n {
		if r := c.reply(); r != want {
			t.Fatalf("reply #%d: %d bytes, want the %d-byte value", i, len(r), len(want))
		}
	}
	require.NoError(t, <-wrote)
	assert.Equal(t, int64(n), e.host.requests.Load()-before)
	assert.LessOrEqual(t, e.ln.PeakInFlight.Load(), int64(maxInFlight)+batch)
	assert.Equal(t, "+PONG\r\n", c.do("PING"))
}

// A client that sends its pipeline and shuts its write side gets every
// reply before the node closes the connection.
func TestHalfCloseDrainsReplies(t *testing.T) {
	e := newEnv(t)
	c := dialRESP(t, e.addr)
	const n = 3000
	var buf []byte
	for i := range n {
		buf = append(buf, command("INCR", "drain")...)
		buf = append(buf, command("GET", "drain")...)
		if i%100 == 0 {
			buf = append(buf, "PING\r\n"...)
		}
	}
	wrote := writeAsync(c, buf)
	require.NoError(t, <-wrote)
	require.NoError(t, c.nc.(*net.TCPConn).CloseWrite())
	for i := range n {
		require.Equal(t, fmt.Sprintf(":%d\r\n", i+1), c.reply(), "INCR #%d", i)
		require.Equal(t, bulk(fmt.Sprint(i+1)), c.reply(), "GET #%d", i)
		if i%100 == 0 {
			require.Equal(t, "+PONG\r\n", c.reply(), "PING after #%d", i)
		}
	}
	c.expectClosed()
	eventually(t, "the connection forgotten", func() bool { return e.ln.Active.Load() == 0 })
}

// Replies the node makes itself (PING, ECHO, errors) never overtake the
// replies of store requests sent before them.
func TestNodeRepliesKeepPipelineOrder(t *testing.T) {
	e := newEnv(t)
	c := dialRESP(t, e.addr)
	var buf []byte
	var want []string
	for i := range 2000 {
		v := fmt.Sprint(i)
		switch i % 4 {
		case 0:
			buf = append(buf, command("SET", "o", v)...)
			want = append(want, "+OK\r\n")
		case 1:
			buf = append(buf, command("ECHO", v)...)
			want = append(want, bulk(v))
		case 2:
			buf = append(buf, command("GET", "o")...)
			want = append(want, bulk(fmt.Sprint(i-2)))
		case 3:
			buf = append(buf, command("NOSUCH", v)...)
			want = append(want, "-ERR unknown command 'NOSUCH', with args beginning with: '"+v+"' \r\n")
		}
	}
	wrote := writeAsync(c, buf)
	for i, w := range want {
		require.Equal(t, w, c.reply(), "reply #%d", i)
	}
	require.NoError(t, <-wrote)
}

// Closing the listener ends every connection, idle or busy, and returns.
func TestListenerCloseEndsConnections(t *testing.T) {
	e := newEnv(t)
	idle := dialRESP(t, e.addr)
	require.Equal(t, "+PONG\r\n", idle.do("PING"))
	busy := dialRESP(t, e.addr)
	var buf []byte
	for range 5000 {
		buf = append(buf, command("INCR", "busy")...)
	}
	busy.write(buf)
	closed := make(chan struct{})
	go func() { e.ln.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Listener.Close did not return")
	}
	idle.expectClosed()
	assert.Zero(t, e.ln.Active.Load())
	_, err := net.DialTimeout("tcp", e.addr, time.Second)
	assert.Error(t, err, "no longer accepting")
}

// Close may race with a Serve that has not started yet (the daemon stops
// right after starting): Serve then returns at once and Close does not
// wait for it.
func TestCloseRacingServe(t *testing.T) {
	e := newEnv(t)
	for range 200 {
		ln, err := frontend.Listen(frontend.Options{Addr: "127.0.0.1:0", Host: e.host, Coordinator: func(actors.Addr) actors.Producer { return nil }})
		require.NoError(t, err)
		served := make(chan struct{})
		go func() { ln.Serve(); close(served) }()
		ln.Close()
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return after Close")
		}
	}
}
