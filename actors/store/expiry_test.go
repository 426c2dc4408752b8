package store

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
)

func do(e *Engine, now time.Time, cmd ...string) string {
	return string(e.Exec(now, strArgs(cmd...), nil))
}

func TestLazyExpiryAndTTL(t *testing.T) {
	e := NewEngine(Options{})
	require.Equal(t, "+OK\r\n", do(e, t0, "SET", "k", "v", "PX", "1500"))
	require.Equal(t, ":1500\r\n", do(e, t0, "PTTL", "k"))
	require.Equal(t, ":2\r\n", do(e, t0, "TTL", "k"), "TTL rounds to the nearest second")
	at := t0.Add(1500 * time.Millisecond)
	require.Equal(t, "$1\r\nv\r\n", do(e, at, "GET", "k"), "alive at its deadline, as in Redis")
	require.Equal(t, ":0\r\n", do(e, at, "PTTL", "k"))
	require.Equal(t, 1, e.Len())
	later := at.Add(time.Millisecond)
	require.Equal(t, "$-1\r\n", do(e, later, "GET", "k"))
	require.Equal(t, ":-2\r\n", do(e, later, "TTL", "k"))
	require.Equal(t, 0, e.Len(), "the read reclaimed the key")
}

func TestExpireOptionsAndPersist(t *testing.T) {
	e := NewEngine(Options{})
	do(e, t0, "SET", "k", "v")
	require.Equal(t, ":-1\r\n", do(e, t0, "TTL", "k"))
	require.Equal(t, ":0\r\n", do(e, t0, "EXPIRE", "k", "100", "XX"))
	require.Equal(t, ":0\r\n", do(e, t0, "EXPIRE", "k", "100", "GT"), "no TTL counts as infinite")
	require.Equal(t, ":1\r\n", do(e, t0, "EXPIRE", "k", "100", "NX"))
	require.Equal(t, ":0\r\n", do(e, t0, "EXPIRE", "k", "50", "GT"))
	require.Equal(t, ":1\r\n", do(e, t0, "EXPIRE", "k", "50", "LT"))
	require.Equal(t, ":50\r\n", do(e, t0, "TTL", "k"))
	require.Equal(t, "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", do(e, t0, "EXPIRE", "k", "1", "NX", "LT"))
	require.Equal(t, "-ERR Unsupported option foo\r\n", do(e, t0, "EXPIRE", "k", "1", "foo"))
	require.Equal(t, "-ERR invalid expire time in 'expire' command\r\n", do(e, t0, "EXPIRE", "k", "9223372036854775807"))
	require.Equal(t, "+OK\r\n", do(e, t0, "SET", "k", "w", "KEEPTTL"))
	require.Equal(t, ":50\r\n", do(e, t0, "TTL", "k"), "KEEPTTL keeps the expiry")
	require.Equal(t, ":1\r\n", do(e, t0, "PERSIST", "k"))
	require.Equal(t, ":0\r\n", do(e, t0, "PERSIST", "k"))
	require.Equal(t, ":-1\r\n", do(e, t0, "TTL", "k"))
	do(e, t0, "EXPIRE", "k", "10")
	require.Equal(t, "+OK\r\n", do(e, t0, "SET", "k", "x"))
	require.Equal(t, ":-1\r\n", do(e, t0, "TTL", "k"), "a plain SET drops the expiry")
	require.Equal(t, ":1\r\n", do(e, t0, "EXPIRE", "k", "0"), "a deadline not in the future deletes")
	require.Equal(t, ":0\r\n", do(e, t0, "EXISTS", "k"))
	require.Equal(t, 0, e.Len())
}

func TestGetExAndRenameKeepExpiry(t *testing.T) {
	e := NewEngine(Options{})
	do(e, t0, "SET", "k", "v")
	require.Equal(t, "$1\r\nv\r\n", do(e, t0, "GETEX", "k", "PX", "2000"))
	require.Equal(t, ":2000\r\n", do(e, t0, "PTTL", "k"))
	require.Equal(t, "+OK\r\n", do(e, t0, "RENAME", "k", "n"))
	require.Equal(t, ":2000\r\n", do(e, t0, "PTTL", "n"))
	require.Equal(t, "$1\r\nv\r\n", do(e, t0, "GETEX", "n", "PERSIST"))
	require.Equal(t, ":-1\r\n", do(e, t0, "PTTL", "n"))
	past := fmt.Sprint(t0.Add(-time.Second).UnixMilli())
	require.Equal(t, "$1\r\nv\r\n", do(e, t0, "GETEX", "n", "PXAT", past))
	require.Equal(t, 0, e.Len(), "GETEX with a past PXAT deletes")
}

// TestClockBackwards: deadlines are absolute node time. If the clock goes
// back, keys live longer and TTL reports the larger time left; nothing
// panics and nothing is reclaimed early.
func TestClockBackwards(t *testing.T) {
	e := NewEngine(Options{})
	do(e, t0, "SET", "k", "v", "EX", "10")
	back := t0.Add(-time.Hour)
	require.Equal(t, ":3610\r\n", do(e, back, "TTL", "k"))
	require.Equal(t, 0, e.ActiveExpire(back, 100))
	require.Equal(t, "$1\r\nv\r\n", do(e, back, "GET", "k"))
	require.Equal(t, ":1\r\n", do(e, back, "EXPIRE", "k", "5"))
	require.Equal(t, "$-1\r\n", do(e, t0, "GET", "k"), "forward again: long expired")
}

func TestActiveExpire(t *testing.T) {
	e := NewEngine(Options{})
	for i := range 10 {
		do(e, t0, "SET", fmt.Sprint("k", i), "v", "PX", fmt.Sprint(100*(i+1)))
	}
	do(e, t0, "SET", "forever", "v")
	do(e, t0, "SET", "k0", "replaced") // drops k0's expiry: its heap entry is stale
	do(e, t0, "PERSIST", "k1")
	require.Equal(t, 11, e.Len())
	now := t0.Add(550 * time.Millisecond) // k2..k4 expired (k0, k1 no longer expire)
	require.Equal(t, 2, e.ActiveExpire(now, 4), "the budget bounds the entries examined")
	require.Equal(t, 1, e.ActiveExpire(now, 100))
	require.Equal(t, 8, e.Len())
	require.Equal(t, 5, e.ActiveExpire(t0.Add(time.Hour), 100))
	require.Equal(t, 3, e.Len())
	require.Equal(t, 0, e.ActiveExpire(t0.Add(time.Hour), 100))
}

// fakeCtx is a scripted actors.Context recording sends and timers.
type fakeCtx struct {
	now    time.Time
	sender actors.Addr
	sent   []any
	timers []time.Duration
}

func (c *fakeCtx) Self() actors.Addr           { return actors.Addr{Node: "n", Name: "store"} }
func (c *fakeCtx) Sender() actors.Addr         { return c.sender }
func (c *fakeCtx) Send(_ actors.Addr, msg any) { c.sent = append(c.sent, msg) }
func (c *fakeCtx) After(d time.Duration, _ any) actors.TimerID {
	c.timers = append(c.timers, d)
	return 1
}
func (c *fakeCtx) Cancel(actors.TimerID)                     {}
func (c *fakeCtx) Now() time.Time                            { return c.now }
func (c *fakeCtx) Elapsed() time.Duration                    { return c.Now().Sub(time.Time{}) }
func (c *fakeCtx) HLC() hlc.Timestamp                        { return hlc.Timestamp{Wall: c.Now().UnixNano()} }
func (c *fakeCtx) Rand() *rand.Rand                          { return rand.New(rand.NewPCG(1, 2)) }
func (c *fakeCtx) Spawn(string, actors.Producer) actors.Addr { return actors.Addr{} }
func (c *fakeCtx) Stop(actors.Addr)                          {}
func (c *fakeCtx) Log() *slog.Logger                         { return slog.Default() }

func TestEmbeddedActor(t *testing.T) {
	b := NewEmbedded(Options{})()
	ctx := &fakeCtx{now: t0, sender: actors.Addr{Node: "n", Name: "coord"}}
	b.Receive(ctx, actors.Started{})
	require.Equal(t, []time.Duration{ActiveExpireInterval}, ctx.timers)
	b.Receive(ctx, Exec{ID: 7, Args: strArgs("SET", "k", "v", "PX", "100")})
	b.Receive(ctx, Exec{ID: 8, Args: strArgs("GET", "k")})
	require.Equal(t, []any{Result{ID: 7, Reply: []byte("+OK\r\n")}, Result{ID: 8, Reply: []byte("$1\r\nv\r\n")}}, ctx.sent)
	first := ctx.sent[0].(Result).Reply
	require.Equal(t, "+OK\r\n", string(first), "each Reply is its own slice, not the actor's buffer")
	ctx.now = t0.Add(time.Second)
	b.Receive(ctx, expireTick{})
	require.Len(t, ctx.timers, 2, "the tick re-arms itself")
	ctx.sent = nil
	b.Receive(ctx, Exec{ID: 9, Args: strArgs("DBSIZE")})
	require.Equal(t, []any{Result{ID: 9, Reply: []byte(":0\r\n")}}, ctx.sent, "the tick reclaimed the key")
}

// TestEmbeddedQuietExecs: a Quiet Exec runs and is not answered; in a
// Batch, only the Execs that are not Quiet are answered, in order, and a
// Batch of Quiet Execs sends nothing at all.
func TestEmbeddedQuietExecs(t *testing.T) {
	b := NewEmbedded(Options{})()
	ctx := &fakeCtx{now: t0, sender: actors.Addr{Node: "n", Name: "coord"}}
	b.Receive(ctx, actors.Started{})
	b.Receive(ctx, Exec{ID: 1, Args: strArgs("SET", "a", "1"), Quiet: true})
	require.Empty(t, ctx.sent)
	b.Receive(ctx, Batch{Execs: []Exec{
		{ID: 2, Args: strArgs("SET", "b", "2"), Quiet: true},
		{ID: 3, Args: strArgs("GET", "a")},
		{ID: 4, Args: strArgs("INCR", "b"), Quiet: true},
		{ID: 5, Args: strArgs("GET", "b")},
	}})
	require.Equal(t, []any{Results{Results: []Result{{ID: 3, Reply: []byte("$1\r\n1\r\n")}, {ID: 5, Reply: []byte("$1\r\n3\r\n")}}}}, ctx.sent)
	ctx.sent = nil
	b.Receive(ctx, Batch{Execs: []Exec{{ID: 6, Args: strArgs("DEL", "a"), Quiet: true}, {ID: 7, Args: strArgs("DEL", "b"), Quiet: true}}})
	require.Empty(t, ctx.sent)
	b.Receive(ctx, Exec{ID: 8, Args: strArgs("DBSIZE")})
	require.Equal(t, []any{Result{ID: 8, Reply: []byte(":0\r\n")}}, ctx.sent, "the quiet DELs ran")
}
