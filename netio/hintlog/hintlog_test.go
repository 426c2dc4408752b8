package hintlog

import (
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hints"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/stretchr/testify/require"
)

// ctx is an actors.Context recording what the log sends.
type ctx struct{ sent []any }

func (c *ctx) Self() actors.Addr                         { return actors.Addr{Node: "n", Name: "hintlog"} }
func (c *ctx) Sender() actors.Addr                       { return actors.Addr{Node: "n", Name: "hints"} }
func (c *ctx) Send(_ actors.Addr, m any)                 { c.sent = append(c.sent, m) }
func (c *ctx) After(time.Duration, any) actors.TimerID   { return 0 }
func (c *ctx) Cancel(actors.TimerID)                     {}
func (c *ctx) Now() time.Time                            { return time.Unix(1, 0) }
func (c *ctx) Elapsed() time.Duration                    { return 0 }
func (c *ctx) HLC() hlc.Timestamp                        { return hlc.Timestamp{} }
func (c *ctx) Rand() *rand.Rand                          { return rand.New(rand.NewPCG(1, 2)) }
func (c *ctx) Spawn(string, actors.Producer) actors.Addr { return actors.Addr{} }
func (c *ctx) Stop(actors.Addr)                          {}
func (c *ctx) Log() *slog.Logger                         { return slog.New(slog.DiscardHandler) }

func rec(seq uint64, key string) []byte {
	return hints.AppendRecord(nil, hints.Record{Seq: seq, Args: [][]byte{[]byte("SET"), []byte(key), []byte("v")}})
}

// Appends land in one file per target (named after it), survive a new
// incarnation of the actor (a restart), and Cut, Clear and Load do what
// the manager asks.
func TestLogFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hints")
	p := New(Options{Dir: dir, SyncInterval: 5 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	c := &ctx{}
	l := p()
	l.Receive(c, actors.Started{})
	a, b := "127.0.0.1:8101", "node/b"
	l.Receive(c, hints.Append{Target: a, Data: rec(1, "x")})
	l.Receive(c, hints.Append{Target: a, Data: rec(2, "y")})
	l.Receive(c, hints.Append{Target: b, Data: rec(3, "z")})
	time.Sleep(20 * time.Millisecond) // a sync or more
	l.Receive(c, actors.Stopping{})
	require.Empty(t, c.sent, "no failure")
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, names, 2)
	require.Equal(t, "127.0.0.1%3A8101.hints", names[0].Name())
	require.Equal(t, "node%2Fb.hints", names[1].Name())

	l = p() // the restarted node's
	l.Receive(c, actors.Started{})
	l.Receive(c, hints.Load{})
	loaded := c.sent[0].(hints.Loaded)
	require.Len(t, loaded.Logs, 2)
	require.Equal(t, a, loaded.Logs[0].Target)
	require.Equal(t, append(rec(1, "x"), rec(2, "y")...), loaded.Logs[0].Data)
	require.Equal(t, b, loaded.Logs[1].Target)

	l.Receive(c, hints.Cut{Target: a, Len: len(rec(1, "x"))})
	l.Receive(c, hints.Clear{Target: b})
	l.Receive(c, hints.Load{})
	loaded = c.sent[1].(hints.Loaded)
	require.Len(t, loaded.Logs, 1)
	require.Equal(t, rec(1, "x"), loaded.Logs[0].Data)
	l.Receive(c, actors.Stopping{})
}

// A write that fails (here the target's file is a directory) answers
// AppendFailed; files that are not hint logs are left alone.
func TestLogWriteFails(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, fileName("t")), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("not a log"), 0o644))
	c := &ctx{}
	l := New(Options{Dir: dir, Log: slog.New(slog.DiscardHandler)})()
	l.Receive(c, actors.Started{})
	l.Receive(c, hints.Append{Target: "t", Data: rec(1, "x")})
	require.Len(t, c.sent, 1)
	require.Equal(t, "t", c.sent[0].(hints.AppendFailed).Target)
	l.Receive(c, hints.Load{})
	require.Empty(t, c.sent[1].(hints.Loaded).Logs)
	l.Receive(c, actors.Stopping{})
}

func TestFileNames(t *testing.T) {
	for _, target := range []string{"127.0.0.1:8101", "a", "dc1-r1-n1", "x/y%z", "[::1]:8101"} {
		back, ok := targetOf(fileName(target))
		require.True(t, ok, target)
		require.Equal(t, target, back)
	}
	for _, bad := range []string{"x.txt", ".hints", "a%2.hints", "a%zz.hints", "a%3a.hints"} {
		_, ok := targetOf(bad)
		require.False(t, ok, bad)
	}
}

// A write that fails half way (a full disk, here a file size limit) is
// cut back at once: an Append that succeeds after it is not lost behind a
// torn record at the next Load (found by review: it was).
func TestLogCutsATornWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hints")
	p := New(Options{Dir: dir, SyncInterval: 5 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	c := &ctx{}
	l := p()
	l.Receive(c, actors.Started{})
	r1 := rec(1, "a")
	l.Receive(c, hints.Append{Target: "t", Data: r1})
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	lim := old
	lim.Cur = uint64(len(r1) + 10)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))
	l.Receive(c, hints.Append{Target: "t", Data: rec(2, "b")}) // torn
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old))
	require.Len(t, c.sent, 1, "AppendFailed for 2")
	l.Receive(c, hints.Append{Target: "t", Data: rec(3, "c")}) // succeeds
	require.Len(t, c.sent, 1, "3 was written")
	l.Receive(c, actors.Stopping{})

	l = p()
	l.Receive(c, actors.Started{})
	l.Receive(c, hints.Load{})
	loaded := c.sent[len(c.sent)-1].(hints.Loaded)
	recs, good, err := hints.ReadRecords(loaded.Logs[0].Data)
	t.Logf("good=%d err=%v recs=%d", good, err, len(recs))
	l.Receive(c, actors.Stopping{})
	var seqs []uint64
	for _, r := range recs {
		seqs = append(seqs, r.Seq)
	}
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 3}, seqs, "hint 3, written after the failed one, survives the restart")
}
