package frontend_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/dynonode/dynonode/netio/admit"
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

// bothWays runs a test with event loops serving the connections (the
// default on Linux) and with a read loop goroutine per connection.
func bothWays(t *testing.T, test func(t *testing.T)) {
	t.Run("loops", test)
	t.Run("goroutines", test)
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
		Coordinator: func(sink actors.Addr, _ clients.Conn) actors.Producer {
			return coord.NewRedis(coord.Config{Sink: sink, Ring: rg, StoreName: "store", Timeout: time.Minute, Version: "test"})
		},
	}
	if strings.HasSuffix(t.Name(), "/goroutines") {
		opts.Loops = -1
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
func writeAsync(c *testproc.RESPClient, b []byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := c.Conn.Write(b)
		done <- err
	}()
	return done
}

func TestPipelineTenThousandInOneWrite(t *testing.T) { bothWays(t, testPipelineTenThousandInOneWrite) }

func testPipelineTenThousandInOneWrite(t *testing.T) {
	e := newEnv(t)
	c := testproc.DialRESP(t, e.addr)
	const n = 10000
	var buf []byte
	for i := range n {
		buf = append(buf, testproc.Command("SET", fmt.Sprintf("key:%d", i), fmt.Sprintf("value-%d", i))...)
	}
	for i := range n {
		buf = append(buf, testproc.Command("GET", fmt.Sprintf("key:%d", i))...)
	}
	wrote := writeAsync(c, buf)
	for i := range n {
		require.Equal(t, "+OK\r\n", c.Reply(), "SET #%d", i)
	}
	for i := range n {
		require.Equal(t, bulk(fmt.Sprintf("value-%d", i)), c.Reply(), "GET #%d", i)
	}
	require.NoError(t, <-wrote)
	c.ExpectOpen(50 * time.Millisecond)
	assert.Equal(t, "+PONG\r\n", c.Do("PING"))
}

func TestOneByteWrites(t *testing.T) { bothWays(t, testOneByteWrites) }

func testOneByteWrites(t *testing.T) {
	e := newEnv(t)
	c := testproc.DialRESP(t, e.addr)
	stream := string(testproc.Command("SET", "split", strings.Repeat("x", 300))) + "PING\r\n" +
		string(testproc.Command("GET", "split")) + string(testproc.Command("APPEND", "split", "yz")) + "ECHO  \"a b\"\r\n"
	for i := range len(stream) {
		c.Send([]byte{stream[i]})
	}
	assert.Equal(t, "+OK\r\n", c.Reply())
	assert.Equal(t, "+PONG\r\n", c.Reply())
	assert.Equal(t, bulk(strings.Repeat("x", 300)), c.Reply())
	assert.Equal(t, ":302\r\n", c.Reply())
	assert.Equal(t, bulk("a b"), c.Reply())
}

// Malformed RESP gets what redis-server 7.0 answers (checked by hand
// against it): earlier replies, then the protocol error, then the close.
func TestMalformedRequestClosesOnlyThatConnection(t *testing.T) {
	bothWays(t, testMalformedRequestClosesOnlyThatConnection)
}

func testMalformedRequestClosesOnlyThatConnection(t *testing.T) {
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
			bystander := testproc.DialRESP(t, e.addr)
			require.Equal(t, "+OK\r\n", bystander.Do("SET", "b", "1"))
			bad := testproc.DialRESP(t, e.addr)
			bad.Send([]byte(tc.send))
			for _, w := range tc.want {
				assert.Equal(t, w, bad.Reply())
			}
			bad.ExpectClosed()
			assert.Equal(t, bulk("1"), bystander.Do("GET", "b"), "the other client is unaffected")
			eventually(t, "the bad connection's actors gone", func() bool { return e.ln.Active.Load() == 1 })
		})
	}
}

// A bulk header outside an array is an inline command named "$5" to Redis
// (unknown command), and the "hello" line after it is HELLO: the
// connection stays open.
func TestBulkWithoutArrayIsInline(t *testing.T) { bothWays(t, testBulkWithoutArrayIsInline) }

func testBulkWithoutArrayIsInline(t *testing.T) {
	e := newEnv(t)
	c := testproc.DialRESP(t, e.addr)
	c.Send([]byte("PING\r\n$5\r\nhello\r\nPING\r\n"))
	assert.Equal(t, "+PONG\r\n", c.Reply())
	assert.Equal(t, "-ERR unknown command '$5', with args beginning with: \r\n", c.Reply())
	assert.True(t, strings.HasPrefix(c.Reply(), "*6\r\n$6\r\nserver\r\n$8\r\ndynonode\r\n"), "HELLO's map")
	assert.Equal(t, "+PONG\r\n", c.Reply())
	c.ExpectOpen(50 * time.Millisecond)
}

func TestOversizedRequestCloses(t *testing.T) { bothWays(t, testOversizedRequestCloses) }

func testOversizedRequestCloses(t *testing.T) {
	e := newEnv(t, func(o *frontend.Options) { o.RESP = resp.Limits{MaxBulkLen: 1024, MaxArgs: 8} })
	c := testproc.DialRESP(t, e.addr)
	require.Equal(t, "+OK\r\n", c.Do("SET", "fits", strings.Repeat("a", 1024)))
	c.Send([]byte("PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n"))
	assert.Equal(t, "+PONG\r\n", c.Reply())
	assert.Equal(t, "-ERR Protocol error: invalid bulk length\r\n", c.Reply())
	c.ExpectClosed()

	c = testproc.DialRESP(t, e.addr)
	c.Send([]byte("*9\r\n"))
	assert.Equal(t, "-ERR Protocol error: invalid multibulk length\r\n", c.Reply())
	c.ExpectClosed()

	c = testproc.DialRESP(t, e.addr)
	assert.Equal(t, bulk(strings.Repeat("a", 1024)), c.Do("GET", "fits"))
}

func TestQuitClosesAfterOK(t *testing.T) { bothWays(t, testQuitClosesAfterOK) }

func testQuitClosesAfterOK(t *testing.T) {
	e := newEnv(t)
	c := testproc.DialRESP(t, e.addr)
	c.Send([]byte("PING\r\n" + string(testproc.Command("SET", "q", "1")) + "QUIT\r\n" + string(testproc.Command("SET", "q", "2"))))
	assert.Equal(t, "+PONG\r\n", c.Reply())
	assert.Equal(t, "+OK\r\n", c.Reply())
	assert.Equal(t, "+OK\r\n", c.Reply())
	c.ExpectClosed()
	c = testproc.DialRESP(t, e.addr)
	assert.Equal(t, bulk("1"), c.Do("GET", "q"), "nothing after QUIT ran")
	eventually(t, "the quit connection gone", func() bool { return e.ln.Active.Load() == 1 })
}

// A client that pipelines and hangs up without reading leaves nothing
// behind: no goroutine, no actor, no connection.
func TestWriteAndCloseWithoutReadingLeaksNothing(t *testing.T) {
	bothWays(t, testWriteAndCloseWithoutReadingLeaksNothing)
}

func testWriteAndCloseWithoutReadingLeaksNothing(t *testing.T) {
	e := newEnv(t)
	warm := testproc.DialRESP(t, e.addr)
	require.Equal(t, "+PONG\r\n", warm.Do("PING"))
	warm.Conn.Close()
	eventually(t, "warm-up connection gone", func() bool { return e.ln.Active.Load() == 0 })
	baseline := settledGoroutines()

	const conns = 20
	var buf []byte
	for i := range 1000 {
		buf = append(buf, testproc.Command("SET", fmt.Sprintf("k%d", i), strings.Repeat("v", 100))...)
	}
	for range conns {
		c := testproc.DialRESP(t, e.addr)
		c.Send(buf)
		c.Conn.Close()
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
	c := testproc.DialRESP(t, e.addr)
	assert.Equal(t, "+OK\r\n", c.Do("SET", "after", "1"), "the node still serves")
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
func TestBackpressureBoundsInFlight(t *testing.T) { bothWays(t, testBackpressureBoundsInFlight) }

func testBackpressureBoundsInFlight(t *testing.T) {
	const maxInFlight = 64
	e := newEnv(t, func(o *frontend.Options) { o.MaxInFlight = maxInFlight })
	c := testproc.DialRESP(t, e.addr)
	value := strings.Repeat("v", 64<<10)
	require.Equal(t, "+OK\r\n", c.Do("SET", "big", value))
	before := e.host.requests.Load()

	const n = 5000
	get := testproc.Command("GET", "big")
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
		if r := c.Reply(); r != want {
			t.Fatalf("reply #%d: %d bytes, want the %d-byte value", i, len(r), len(want))
		}
	}
	require.NoError(t, <-wrote)
	assert.Equal(t, int64(n), e.host.requests.Load()-before)
	assert.LessOrEqual(t, e.ln.PeakInFlight.Load(), int64(maxInFlight)+batch)
	assert.Equal(t, "+PONG\r\n", c.Do("PING"))
}

// A client that stops reading while its replies fill the socket is
// disconnected once the socket took nothing for WriteTimeout; the replies
// it was owed stop counting as unwritten, so a drain does not wait for
// them.
func TestStuckReaderClosedAfterWriteTimeout(t *testing.T) {
	bothWays(t, testStuckReaderClosedAfterWriteTimeout)
}

func testStuckReaderClosedAfterWriteTimeout(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	e := newEnv(t, func(o *frontend.Options) { o.WriteTimeout = writeTimeout })
	c := testproc.DialRESP(t, e.addr)
	require.NoError(t, c.Conn.(*net.TCPConn).SetReadBuffer(64<<10))
	big := strings.Repeat("b", 256<<10)
	require.Equal(t, "+OK\r\n", c.Do("SET", "big", big))
	other := testproc.DialRESP(t, e.addr)
	require.Equal(t, "+PONG\r\n", other.Do("PING"))
	require.EqualValues(t, 2, e.ln.Active.Load())
	var buf []byte
	for range 100 { // 25 MB of replies: far more than the socket buffers hold
		buf = append(buf, testproc.Command("GET", "big")...)
	}
	_, err := c.Conn.Write(buf)
	require.NoError(t, err)
	eventually(t, "the stuck client's connection to close", func() bool { return e.ln.Active.Load() == 1 })
	assert.Zero(t, e.ln.Unwritten())
	assert.Equal(t, "+PONG\r\n", other.Do("PING"), "another client is served meanwhile")
	// What the node wrote before it gave up is there, then the end.
	require.NoError(t, c.Conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	got, err := io.Copy(io.Discard, c.Conn)
	if err != nil {
		assert.ErrorIs(t, err, syscall.ECONNRESET)
	}
	assert.Less(t, got, int64(100*len(bulk(big))), "every reply arrived: the client was not stuck")
}

// A client that sends its pipeline and shuts its write side gets every
// reply before the node closes the connection.
func TestHalfCloseDrainsReplies(t *testing.T) { bothWays(t, testHalfCloseDrainsReplies) }

func testHalfCloseDrainsReplies(t *testing.T) {
	e := newEnv(t)
	c := testproc.DialRESP(t, e.addr)
	const n = 3000
	var buf []byte
	for i := range n {
		buf = append(buf, testproc.Command("INCR", "drain")...)
		buf = append(buf, testproc.Command("GET", "drain")...)
		if i%100 == 0 {
			buf = append(buf, "PING\r\n"...)
		}
	}
	wrote := writeAsync(c, buf)
	require.NoError(t, <-wrote)
	require.NoError(t, c.Conn.(*net.TCPConn).CloseWrite())
	for i := range n {
		require.Equal(t, fmt.Sprintf(":%d\r\n", i+1), c.Reply(), "INCR #%d", i)
		require.Equal(t, bulk(fmt.Sprint(i+1)), c.Reply(), "GET #%d", i)
		if i%100 == 0 {
			require.Equal(t, "+PONG\r\n", c.Reply(), "PING after #%d", i)
		}
	}
	c.ExpectClosed()
	eventually(t, "the connection forgotten", func() bool { return e.ln.Active.Load() == 0 })
}

// Replies the node makes itself (PING, ECHO, errors) never overtake the
// replies of store requests sent before them.
func TestNodeRepliesKeepPipelineOrder(t *testing.T) { bothWays(t, testNodeRepliesKeepPipelineOrder) }

func testNodeRepliesKeepPipelineOrder(t *testing.T) {
	e := newEnv(t)
	c := testproc.DialRESP(t, e.addr)
	var buf []byte
	var want []string
	for i := range 2000 {
		v := fmt.Sprint(i)
		switch i % 4 {
		case 0:
			buf = append(buf, testproc.Command("SET", "o", v)...)
			want = append(want, "+OK\r\n")
		case 1:
			buf = append(buf, testproc.Command("ECHO", v)...)
			want = append(want, bulk(v))
		case 2:
			buf = append(buf, testproc.Command("GET", "o")...)
			want = append(want, bulk(fmt.Sprint(i-2)))
		case 3:
			buf = append(buf, testproc.Command("NOSUCH", v)...)
			want = append(want, "-ERR unknown command 'NOSUCH', with args beginning with: '"+v+"' \r\n")
		}
	}
	wrote := writeAsync(c, buf)
	for i, w := range want {
		require.Equal(t, w, c.Reply(), "reply #%d", i)
	}
	require.NoError(t, <-wrote)
}

// Many clients pipelining at once, some reading slowly: each client's
// replies are written by the listener's end-of-pass writer, or by a
// flusher once its socket is full, while more replies queue behind them.
// Every client gets every reply, in order.
func TestManyClientsSlowReadersGetEveryReplyInOrder(t *testing.T) {
	bothWays(t, testManyClientsSlowReadersGetEveryReplyInOrder)
}

func testManyClientsSlowReadersGetEveryReplyInOrder(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("b", 48<<10)
	require.Equal(t, "+OK\r\n", testproc.DialRESP(t, e.addr).Do("SET", "big", big))
	const clients, n = 12, 400
	errs := make(chan error, clients)
	for i := range clients {
		c := testproc.DialRESP(t, e.addr)
		go func() {
			errs <- func() error {
				key := fmt.Sprint("ctr", i)
				var buf []byte
				for range n {
					buf = append(buf, testproc.Command("INCR", key)...)
					buf = append(buf, testproc.Command("GET", "big")...)
				}
				wrote := writeAsync(c, buf)
				for j := 1; j <= n; j++ {
					got, err := c.ReplyWithin(testproc.IOWait)
					if err != nil {
						return fmt.Errorf("client %d reply #%d: %w", i, 2*j-2, err)
					}
					if want := fmt.Sprintf(":%d\r\n", j); got != want {
						return fmt.Errorf("client %d reply #%d: %q, want %q", i, 2*j-2, got, want)
					}
					if got, err = c.ReplyWithin(testproc.IOWait); err != nil || got != bulk(big) {
						return fmt.Errorf("client %d reply #%d: %d bytes (%v), want the big value", i, 2*j-1, len(got), err)
					}
					if i%3 == 0 && j%50 == 0 {
						time.Sleep(20 * time.Millisecond) // a slow reader: its socket fills
					}
				}
				return <-wrote
			}()
		}()
	}
	for range clients {
		require.NoError(t, <-errs)
	}
}

// A connection whose replies once went through the flusher (its client
// read slowly) keeps working after WriteTimeout has passed: the flusher's
// write deadline does not outlive the flush.
func TestSlowReaderStillServedAfterWriteTimeout(t *testing.T) {
	bothWays(t, testSlowReaderStillServedAfterWriteTimeout)
}

func testSlowReaderStillServedAfterWriteTimeout(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	e := newEnv(t, func(o *frontend.Options) { o.WriteTimeout = writeTimeout })
	c := testproc.DialRESP(t, e.addr)
	big := strings.Repeat("b", 256<<10)
	require.Equal(t, "+OK\r\n", c.Do("SET", "big", big))
	const n = 40 // 10 MB of replies: more than the socket buffers hold
	var buf []byte
	for range n {
		buf = append(buf, testproc.Command("GET", "big")...)
	}
	wrote := writeAsync(c, buf)
	time.Sleep(100 * time.Millisecond) // the node's socket fills; the flusher takes over
	for i := range n {
		require.Equal(t, bulk(big), c.Reply(), "reply #%d", i)
	}
	require.NoError(t, <-wrote)
	time.Sleep(writeTimeout + 200*time.Millisecond)
	assert.Equal(t, "+PONG\r\n", c.Do("PING"))
}

// Closing the listener ends every connection, idle or busy, and returns.
func TestListenerCloseEndsConnections(t *testing.T) { bothWays(t, testListenerCloseEndsConnections) }

func testListenerCloseEndsConnections(t *testing.T) {
	e := newEnv(t)
	idle := testproc.DialRESP(t, e.addr)
	require.Equal(t, "+PONG\r\n", idle.Do("PING"))
	busy := testproc.DialRESP(t, e.addr)
	var buf []byte
	for range 5000 {
		buf = append(buf, testproc.Command("INCR", "busy")...)
	}
	busy.Send(buf)
	closed := make(chan struct{})
	go func() { e.ln.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Listener.Close did not return")
	}
	idle.ExpectClosed()
	assert.Zero(t, e.ln.Active.Load())
	_, err := net.DialTimeout("tcp", e.addr, time.Second)
	assert.Error(t, err, "no longer accepting")
}

// Close may race with a Serve that has not started yet (the daemon stops
// right after starting): Serve then returns at once and Close does not
// wait for it.
func TestCloseRacingServe(t *testing.T) { bothWays(t, testCloseRacingServe) }

func testCloseRacingServe(t *testing.T) {
	e := newEnv(t)
	for range 200 {
		ln, err := frontend.Listen(frontend.Options{Addr: "127.0.0.1:0", Host: e.host, Coordinator: func(actors.Addr, clients.Conn) actors.Producer { return nil }})
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

// TestSendThenHalfClose: a client that writes one request and shuts its
// side at once (`printf 'PING\r\n' | nc`) gets its reply and then the close,
// even when the request and the FIN arrive together.
func TestSendThenHalfClose(t *testing.T) { bothWays(t, testSendThenHalfClose) }

func testSendThenHalfClose(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		c := testproc.DialRESP(t, e.addr)
		_, err := c.Conn.Write([]byte("PING\r\n"))
		require.NoError(t, err)
		require.NoError(t, c.Conn.(*net.TCPConn).CloseWrite(), "try %d", i)
		require.Equal(t, "+PONG\r\n", c.Reply(), "try %d", i)
		c.ExpectClosed()
	}
}

// TestClientReadsWaitAtTheGate: a client connection's reader waits at a
// held admission gate after each read, and only for a bounded time: a
// client of a node whose gate stays held is slowed, not stopped.
func TestClientReadsWaitAtTheGate(t *testing.T) { bothWays(t, testClientReadsWaitAtTheGate) }

func testClientReadsWaitAtTheGate(t *testing.T) {
	gate := &admit.Gate{}
	e := newEnv(t, func(o *frontend.Options) { o.Gate = gate })
	c := testproc.DialRESP(t, e.addr)
	require.Equal(t, "+PONG\r\n", c.Do("PING"))
	require.Zero(t, gate.Waits(), "an open gate holds nobody")
	gate.Hold()
	defer gate.Release()
	for range 3 {
		require.Equal(t, "+PONG\r\n", c.Do("PING"))
	}
	eventually(t, "three waits at the gate", func() bool { return gate.Waits() >= 3 })
}

// A listener out of file descriptors keeps the connection waiting in the
// kernel's queue and accepts it once descriptors are free again, instead
// of stopping accepting for good.
func TestAcceptSurvivesDescriptorShortage(t *testing.T) {
	bothWays(t, testAcceptSurvivesDescriptorShortage)
}

func testAcceptSurvivesDescriptorShortage(t *testing.T) {
	e := newEnv(t)
	first := testproc.DialRESP(t, e.addr)
	require.Equal(t, "+PONG\r\n", first.Do("PING"))
	accepted := e.ln.Accepted.Load()

	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	restore := func() { require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)) }
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) })
	// Descriptors are numbered from the lowest free one and the limit
	// bounds the number: fill every hole below the highest open one, so
	// that the client's socket takes the last number the limit allows.
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	top := 0
	for _, d := range fds {
		if n, err := strconv.Atoi(d.Name()); err == nil {
			top = max(top, n)
		}
	}
	for {
		f, err := os.Open(os.DevNull)
		require.NoError(t, err)
		if int(f.Fd()) > top {
			f.Close()
			break
		}
		defer f.Close()
	}
	low := lim
	low.Cur = uint64(top + 2) // top+1: the client's socket; none left for the node's accept
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	nc, err := net.DialTimeout("tcp", e.addr, 5*time.Second)
	if err != nil {
		restore()
		t.Fatalf("dial under the lowered limit: %v", err)
	}
	defer nc.Close()
	_, err = nc.Write(testproc.Command("PING"))
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the node's accept fails meanwhile
	stillOut := e.ln.Accepted.Load() == accepted
	restore()
	require.True(t, stillOut, "the node accepted a connection without a descriptor to spare")

	require.NoError(t, nc.SetReadDeadline(time.Now().Add(10*time.Second)))
	buf := make([]byte, 7)
	_, err = io.ReadFull(nc, buf)
	require.NoError(t, err, "the connection is accepted once descriptors are free")
	assert.Equal(t, "+PONG\r\n", string(buf))
	assert.Equal(t, "+PONG\r\n", testproc.DialRESP(t, e.addr).Do("PING"), "and the listener accepts on")
}
