package hints

import (
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/stretchr/testify/require"
)

type sent struct {
	to actors.Addr
	m  any
}

// fakeCtx is a scripted Context: its clock moves when the test says.
type fakeCtx struct {
	now  time.Time
	sent []sent
	from actors.Addr
}

func (c *fakeCtx) Self() actors.Addr                         { return actors.Addr{Node: "n1", Name: "hints"} }
func (c *fakeCtx) Sender() actors.Addr                       { return c.from }
func (c *fakeCtx) Send(to actors.Addr, m any)                { c.sent = append(c.sent, sent{to, m}) }
func (c *fakeCtx) After(time.Duration, any) actors.TimerID   { return 1 }
func (c *fakeCtx) Cancel(actors.TimerID)                     {}
func (c *fakeCtx) Now() time.Time                            { return c.now }
func (c *fakeCtx) Elapsed() time.Duration                    { return 0 }
func (c *fakeCtx) HLC() hlc.Timestamp                        { return hlc.Timestamp{} }
func (c *fakeCtx) Rand() *rand.Rand                          { return rand.New(rand.NewPCG(1, 2)) }
func (c *fakeCtx) Spawn(string, actors.Producer) actors.Addr { return actors.Addr{} }
func (c *fakeCtx) Stop(actors.Addr)                          {}
func (c *fakeCtx) Log() *slog.Logger                         { return slog.New(slog.DiscardHandler) }

// take returns and forgets what was sent to name.
func (c *fakeCtx) take(name string) []any {
	var out []any
	rest := c.sent[:0]
	for _, s := range c.sent {
		if s.to.Name == name {
			out = append(out, s.m)
		} else {
			rest = append(rest, s)
		}
	}
	c.sent = rest
	return out
}

func set(k string) [][]byte { return [][]byte{[]byte("SET"), []byte(k), []byte("v")} }

func started(t *testing.T, cfg Config) (*Manager, *fakeCtx) {
	cfg.StoreName, cfg.LogName, cfg.GossipName = "store", "hintlog", "gossip"
	m := New(cfg)().(*Manager)
	c := &fakeCtx{now: time.Unix(1000, 0)}
	m.Receive(c, actors.Started{})
	require.Equal(t, []any{Load{}}, c.take("hintlog"))
	m.Receive(c, Loaded{})
	return m, c
}

// Hints are replayed in order to a target that is up, each Result
// delivers one, and a target whose hints were all delivered has its log
// cleared; a failed replay is sent again after the target rests.
func TestManagerReplaysInOrder(t *testing.T) {
	m, c := started(t, Config{})
	down := gossip.View{Down: map[string]bool{"n2": true}}
	m.Receive(c, down)
	for _, k := range []string{"a", "b", "c"} {
		m.Receive(c, Hint{Target: "n2", Args: set(k), Version: hlc.Version{TS: hlc.Timestamp{Wall: 5}, Node: "n1"}})
	}
	require.Len(t, c.take("hintlog"), 3, "each hint written ahead")
	m.Receive(c, tick{})
	require.Empty(t, c.take("store"), "nothing replayed to a target that is down")
	m.Receive(c, gossip.View{})
	c.now = c.now.Add(tickEvery)
	m.Receive(c, tick{})
	out := c.take("store")
	require.Len(t, out, 1)
	batch := out[0].(store.Batch)
	require.Len(t, batch.Execs, 3)
	for i, k := range []string{"a", "b", "c"} {
		require.Equal(t, k, string(batch.Execs[i].Args[1]))
		require.Equal(t, int64(5), batch.Execs[i].Version.TS.Wall, "the write's own version")
	}
	// b fails: a is delivered (the log says so), b and c wait.
	m.Receive(c, store.Result{ID: batch.Execs[0].ID, Reply: []byte("+OK\r\n")})
	m.Receive(c, store.Result{ID: batch.Execs[1].ID, Failure: "Datastore timeout", Kind: store.KindTimeout})
	log := c.take("hintlog")
	require.Len(t, log, 1)
	recs, _, err := ReadRecords(log[0].(Append).Data)
	require.NoError(t, err)
	require.Equal(t, Record{Delivered: true, Seq: batch.Execs[0].ID}, recs[0])
	m.Receive(c, store.Result{ID: batch.Execs[2].ID, Reply: []byte("+OK\r\n")})
	st := m.Snapshot(c.now)
	require.Equal(t, uint64(2), st.Replayed)
	require.Equal(t, 1, st.Targets[0].Hints, "b waits; c delivered but behind it")
	c.now = c.now.Add(retryAfter / 2)
	m.Receive(c, tick{})
	require.Empty(t, c.take("store"), "the target rests after a failure")
	c.now = c.now.Add(retryAfter)
	m.Receive(c, tick{})
	out = c.take("store")
	require.Len(t, out, 1)
	again := out[0].(store.Exec)
	require.Equal(t, "b", string(again.Args[1]))
	m.Receive(c, store.Result{ID: again.ID, Reply: []byte("+OK\r\n")})
	last := c.take("hintlog")
	require.Len(t, last, 2, "the delivered marker, then the Clear")
	require.Equal(t, Clear{Target: "n2"}, last[1])
	require.Empty(t, m.Snapshot(c.now).Targets)
}

// Past max_hints_bytes new hints are dropped; past max_hint_window old
// ones are; both are counted.
func TestManagerBounds(t *testing.T) {
	size := RecordSize(set("a"), "n1")
	m, c := started(t, Config{MaxBytes: int64(2 * size), MaxWindow: time.Minute})
	m.Receive(c, gossip.View{Down: map[string]bool{"n2": true}})
	v := hlc.Version{Node: "n1"}
	for _, k := range []string{"a", "b", "c"} {
		m.Receive(c, Hint{Target: "n2", Args: set(k), Version: v})
	}
	st := m.Snapshot(c.now)
	require.Equal(t, uint64(2), st.Stored)
	require.Equal(t, uint64(1), st.Dropped)
	require.Equal(t, int64(2*size), st.Targets[0].Bytes)
	c.now = c.now.Add(time.Minute + time.Second)
	m.Receive(c, tick{})
	st = m.Snapshot(c.now)
	require.Equal(t, uint64(3), st.Dropped)
	require.Empty(t, st.Targets)
	require.Contains(t, c.take("hintlog"), any(Clear{Target: "n2"}))
}

// A restarted manager rebuilds its hints from the log: delivered ones
// stay delivered, a damaged tail is cut, numbering goes on past the log.
func TestManagerReloads(t *testing.T) {
	v := hlc.Version{Node: "n1"}
	var log []byte
	for i, k := range []string{"a", "b", "c"} {
		log = AppendRecord(log, Record{Seq: uint64(i + 1), Created: time.Unix(1000, 0).UnixNano(), Version: v, Args: set(k)})
	}
	log = AppendRecord(log, Record{Delivered: true, Seq: 1})
	good := len(log)
	log = append(log, AppendRecord(nil, Record{Seq: 4, Version: v, Args: set("d")})[:10]...) // torn
	m := New(Config{LogName: "hintlog", StoreName: "store"})().(*Manager)
	c := &fakeCtx{now: time.Unix(1001, 0)}
	m.Receive(c, actors.Started{})
	c.take("hintlog")
	m.Receive(c, Loaded{Logs: []Log{{Target: "n2", Data: log}}})
	require.Equal(t, []any{Cut{Target: "n2", Len: good}}, c.take("hintlog"))
	st := m.Snapshot(c.now)
	require.Equal(t, 2, st.Targets[0].Hints, "b and c")
	require.Equal(t, time.Second, st.Targets[0].Oldest)
	m.Receive(c, Hint{Target: "n2", Args: set("e"), Version: v})
	recs, _, err := ReadRecords(c.take("hintlog")[0].(Append).Data)
	require.NoError(t, err)
	require.Equal(t, uint64(4), recs[0].Seq, "numbering goes on past the log")
}

// A replayed hint with no answer within Timeout is sent again once the
// target has rested; its late answer is ignored.
func TestManagerRetriesUnanswered(t *testing.T) {
	m, c := started(t, Config{Timeout: time.Second})
	m.Receive(c, gossip.View{})
	m.Receive(c, Hint{Target: "n2", Args: set("a"), Version: hlc.Version{Node: "n1"}})
	m.Receive(c, tick{})
	first := c.take("store")[0].(store.Exec)
	c.now = c.now.Add(time.Second)
	m.Receive(c, tick{})
	require.Empty(t, c.take("store"), "timed out: the target rests first")
	c.now = c.now.Add(retryAfter)
	m.Receive(c, tick{})
	second := c.take("store")[0].(store.Exec)
	require.Equal(t, first.Args, second.Args)
	m.Receive(c, store.Result{ID: second.ID, Reply: []byte("+OK\r\n")})
	m.Receive(c, store.Result{ID: first.ID, Reply: []byte("+OK\r\n")}) // the same hint: ignored
	st := m.Snapshot(c.now)
	require.Equal(t, uint64(1), st.Replayed)
	require.Empty(t, st.Targets)
}

// An error the target's datastore may not give again (loading, out of
// memory...) leaves the hint to be replayed; a command's own error is
// the answer it will always get: delivered.
func TestManagerTransientErrors(t *testing.T) {
	m, c := started(t, Config{})
	m.Receive(c, gossip.View{})
	m.Receive(c, Hint{Target: "n2", Args: set("a"), Version: hlc.Version{Node: "n1"}})
	m.Receive(c, tick{})
	first := c.take("store")[0].(store.Exec)
	m.Receive(c, store.Result{ID: first.ID, Reply: []byte("-LOADING Redis is loading the dataset in memory\r\n")})
	require.Equal(t, 1, m.Snapshot(c.now).Targets[0].Hints, "still waiting")
	c.now = c.now.Add(retryAfter)
	m.Receive(c, tick{})
	again := c.take("store")[0].(store.Exec)
	m.Receive(c, store.Result{ID: again.ID, Reply: []byte("-ERR syntax error\r\n")})
	require.Empty(t, m.Snapshot(c.now).Targets)
	require.True(t, Transient([]byte("-OOM command not allowed\r\n")))
	require.False(t, Transient([]byte("-WRONGTYPE Operation against a key\r\n")))
	require.False(t, Transient([]byte("+OK\r\n")))
}

// A rate under ten hints a second still replays, at that rate.
func TestManagerSlowRate(t *testing.T) {
	m, c := started(t, Config{Rate: 2})
	m.Receive(c, gossip.View{})
	for _, k := range []string{"a", "b", "c"} {
		m.Receive(c, Hint{Target: "n2", Args: set(k), Version: hlc.Version{Node: "n1"}})
	}
	sent := 0
	for range 10 { // one second
		c.now = c.now.Add(tickEvery)
		m.Receive(c, tick{})
		for _, x := range c.take("store") {
			switch x := x.(type) {
			case store.Exec:
				sent++
			case store.Batch:
				sent += len(x.Execs)
			}
		}
	}
	require.Equal(t, 2, sent)
}

// A hint owns its arguments: it does not pin the buffer the coordinator's
// batch shared (nor change if that buffer is reused).
func TestManagerOwnsHintArgs(t *testing.T) {
	m, c := started(t, Config{})
	batch := []byte("SETkvSETk2v2")
	m.Receive(c, Hint{Target: "n2", Args: [][]byte{batch[0:3], batch[3:4], batch[4:5]}, Version: hlc.Version{Node: "n1"}})
	copy(batch, "XXXXXXXXXXXX")
	m.Receive(c, gossip.View{})
	m.Receive(c, tick{})
	e := c.take("store")[0].(store.Exec)
	require.Equal(t, [][]byte{[]byte("SET"), []byte("k"), []byte("v")}, e.Args)
}

// Hints that come before the log is loaded wait for it (the log's hints
// come first), within one target's bound in all.
func TestManagerEarlyHints(t *testing.T) {
	size := RecordSize(set("a"), "n1")
	m := New(Config{LogName: "hintlog", StoreName: "store", MaxBytes: int64(2 * size)})().(*Manager)
	c := &fakeCtx{now: time.Unix(1000, 0)}
	m.Receive(c, actors.Started{})
	for _, k := range []string{"a", "b", "c"} {
		m.Receive(c, Hint{Target: "n2", Args: set(k), Version: hlc.Version{Node: "n1"}})
	}
	require.Equal(t, uint64(1), m.Snapshot(c.now).Dropped, "the third is past the bound")
	var log []byte
	log = AppendRecord(log, Record{Seq: 7, Created: c.now.UnixNano(), Version: hlc.Version{Node: "n1"}, Args: set("z")})
	m.Receive(c, Loaded{Logs: []Log{{Target: "n2", Data: log}}})
	st := m.Snapshot(c.now)
	require.Equal(t, 2, st.Targets[0].Hints, "z from the log, then a; b is past the target's bound")
	require.Equal(t, uint64(2), st.Dropped)
}
