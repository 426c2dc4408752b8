package hints

import (
	"fmt"
	"slices"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/store"
)

// Defaults of Config.
const (
	DefaultMaxBytes  = 256 << 20
	DefaultMaxWindow = 3 * time.Hour
	DefaultRate      = 10000
	DefaultWindow    = 64
	DefaultTimeout   = 5 * time.Second
	// tickEvery is how often the manager replays, expires and retries
	// while it holds hints.
	tickEvery = 100 * time.Millisecond
	// retryAfter is how long a target that failed a replayed hint rests.
	retryAfter = time.Second
)

// Config sets a Manager up.
type Config struct {
	// Self is this node's id.
	Self string
	// LogName is the log actor's name on this node; "" keeps hints in
	// memory only (lost with the process).
	LogName string
	// StoreName is the store actor's name on every node: hints are
	// replayed to it.
	StoreName string
	// GossipName is the gossiper's name on this node, whose views say
	// which targets are up; "" replays to every target at once.
	GossipName string
	// MaxBytes bounds the hints kept for one target (framed size);
	// MaxWindow their age. Past either, hints are dropped and counted:
	// anti-entropy must repair that target.
	MaxBytes  int64
	MaxWindow time.Duration
	// Rate bounds the hints replayed per second, all targets together;
	// Window the replayed hints awaiting an answer per target.
	Rate, Window int
	// Timeout bounds the answer to a replayed hint.
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxWindow <= 0 {
		c.MaxWindow = DefaultMaxWindow
	}
	if c.Rate <= 0 {
		c.Rate = DefaultRate
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// New returns the producer of a hint manager.
func New(cfg Config) actors.Producer {
	cfg = cfg.withDefaults()
	return func() actors.Behaviour { return &Manager{cfg: cfg} }
}

// Manager keeps the hints of one node: it stores what coordinators hand
// it (Hint), writes each ahead to its target's log, and replays them in
// order to the target's store once gossip sees the target up, each applied
// there only if newer than what it holds (the hint carries the write's
// version). Delivered hints leave the log; a restarted node reloads the
// rest from it.
type Manager struct {
	cfg        Config
	targets    map[string]*target
	names      []string // targets, sorted: map order decides nothing
	view       *gossip.View
	seq        uint64
	loaded     bool
	early      []Hint            // hints that came before the log was loaded
	earlyBytes int64             // their framed size
	flight     map[uint64]string // replayed hints awaiting an answer: seq -> target
	ticking    bool
	tokens     int
	stat       Status
}

type target struct {
	queue     []*entry // oldest first
	bytes     int64
	delivered uint64    // the log says every hint up to it was delivered
	retryAt   time.Time // after a failed replay: rest until then
	inFlight  int
	drops     uint64 // dropped for this target: logged at 1, 2, 4, ...
}

type entry struct {
	seq     uint64
	created int64
	version hlc.Version
	args    [][]byte
	size    int
	sentAt  time.Time // zero: not awaiting an answer
	done    bool
	// reloaded: read back from the log by a restarted manager.
	reloaded bool
}

type tick struct{}

// Receive implements actors.Behaviour.
func (m *Manager) Receive(ctx actors.Context, msg any) {
	switch msg := msg.(type) {
	case actors.Started:
		m.start(ctx)
	case Loaded:
		m.load(ctx, msg)
	case Hint:
		if !m.loaded {
			// Kept until the log is loaded (its hints come first), within
			// one target's bound in all.
			if size := int64(RecordSize(msg.Args, msg.Version.Node)); m.earlyBytes+size <= m.cfg.MaxBytes {
				m.early = append(m.early, msg)
				m.earlyBytes += size
			} else {
				m.stat.Dropped++
			}
			return
		}
		m.add(ctx, msg)
	case gossip.View:
		v := msg
		m.view = &v
		m.arm(ctx)
	case tick:
		m.ticking = false
		m.tick(ctx)
	case store.Result:
		m.answered(ctx, msg)
	case store.Results:
		for _, r := range msg.Results {
			m.answered(ctx, r)
		}
	case AppendFailed:
		m.stat.WriteErrors++
		if n := m.stat.WriteErrors; n&(n-1) == 0 {
			ctx.Log().Warn("hint log write failed: those hints live in memory only, lost if the process dies",
				"target", msg.Target, "err", msg.Err, "failures_so_far", n)
		}
	case GetStatus:
		ctx.Send(ctx.Sender(), m.status(ctx.Now()))
	case Drop:
		if t := m.targets[msg.Target]; t != nil {
			n := m.dropFront(ctx, msg.Target, t, len(t.queue))
			ctx.Log().Warn("hints dropped by the operator: anti-entropy must repair the target",
				"target", msg.Target, "hints", n)
		}
		ctx.Send(ctx.Sender(), m.status(ctx.Now()))
	}
}

func (m *Manager) start(ctx actors.Context) {
	m.targets, m.names, m.flight = map[string]*target{}, nil, map[uint64]string{}
	m.loaded, m.ticking, m.view = false, false, nil
	if m.cfg.GossipName != "" {
		ctx.Send(actors.Addr{Node: ctx.Self().Node, Name: m.cfg.GossipName}, gossip.Subscribe{})
	}
	if m.cfg.LogName == "" {
		m.load(ctx, Loaded{})
		return
	}
	ctx.Send(m.logAddr(ctx), Load{})
}

func (m *Manager) logAddr(ctx actors.Context) actors.Addr {
	return actors.Addr{Node: ctx.Self().Node, Name: m.cfg.LogName}
}

// load rebuilds the hints from the logs: records up to the first damaged
// one (the log is cut there), without those a delivery record covers.
func (m *Manager) load(ctx actors.Context, l Loaded) {
	if m.loaded {
		return
	}
	m.loaded = true
	for _, lg := range l.Logs {
		recs, good, err := ReadRecords(lg.Data)
		if err != nil {
			ctx.Log().Warn("hint log has a damaged tail (a write torn by a crash?): cut at the last good record",
				"target", lg.Target, "good_bytes", good, "cut_bytes", len(lg.Data)-good, "err", err)
			ctx.Send(m.logAddr(ctx), Cut{Target: lg.Target, Len: good})
		}
		t := m.target(lg.Target)
		for _, r := range recs {
			m.seq = max(m.seq, r.Seq)
			if r.Delivered {
				t.delivered = max(t.delivered, r.Seq)
				continue
			}
			e := &entry{seq: r.Seq, created: r.Created, version: r.Version, args: r.Args, size: RecordSize(r.Args, r.Version.Node), reloaded: true}
			t.queue = append(t.queue, e)
		}
		t.queue = slices.DeleteFunc(t.queue, func(e *entry) bool { return e.seq <= t.delivered })
		for _, e := range t.queue {
			t.bytes += int64(e.size)
		}
		if len(t.queue) == 0 {
			ctx.Send(m.logAddr(ctx), Clear{Target: lg.Target})
		} else {
			ctx.Log().Info("hints reloaded from the log", "target", lg.Target, "hints", len(t.queue), "bytes", t.bytes)
		}
	}
	for _, h := range m.early {
		m.add(ctx, h)
	}
	m.early, m.earlyBytes = nil, 0
	m.arm(ctx)
}

func (m *Manager) target(name string) *target {
	t := m.targets[name]
	if t == nil {
		t = &target{}
		m.targets[name] = t
		i, _ := slices.BinarySearch(m.names, name)
		m.names = slices.Insert(m.names, i, name)
	}
	return t
}

// add stores one hint, unless its target's bound is reached.
func (m *Manager) add(ctx actors.Context, h Hint) {
	if h.Target == "" || len(h.Args) == 0 {
		return
	}
	if fam, _, _ := store.CommandFamily(h.Args); fam != store.FamilyWhole && fam != store.FamilyDelete {
		// Only whole-value writes and deletes replay safely (see
		// actors/coord/handoff.go); coordinators send no other.
		return
	}
	t := m.target(h.Target)
	size := RecordSize(h.Args, h.Version.Node)
	if t.bytes+int64(size) > m.cfg.MaxBytes {
		m.stat.Dropped++
		t.drops++
		if t.drops&(t.drops-1) == 0 {
			ctx.Log().Warn("hints for a target reached max_hints_bytes: new hints dropped; anti-entropy must repair the target",
				"target", h.Target, "max_hints_bytes", m.cfg.MaxBytes, "dropped_so_far", t.drops)
		}
		return
	}
	m.seq++
	e := &entry{seq: m.seq, created: ctx.Now().UnixNano(), version: h.Version, args: own(h.Args), size: size}
	t.queue = append(t.queue, e)
	t.bytes += int64(size)
	m.stat.Stored++
	if m.cfg.LogName != "" {
		ctx.Send(m.logAddr(ctx), Append{Target: h.Target, Data: AppendRecord(nil,
			Record{Seq: e.seq, Created: e.created, Version: e.version, Args: e.args})})
	}
	m.arm(ctx)
}

// own copies args into one allocation of their own. A coordinator's
// arguments share one buffer with every command of the client's batch:
// a hint kept for hours must not pin the rest of it.
func own(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		at := len(buf)
		buf = append(buf, a...)
		out[i] = buf[at:len(buf):len(buf)]
	}
	return out
}

func (m *Manager) arm(ctx actors.Context) {
	if m.ticking {
		return
	}
	for _, t := range m.targets {
		if len(t.queue) > 0 {
			m.ticking = true
			ctx.After(tickEvery, tick{})
			return
		}
	}
}

// tick expires old hints, gives up on unanswered replays, replays what the
// rate allows to the targets that are up, and records deliveries.
func (m *Manager) tick(ctx actors.Context) {
	now := ctx.Now()
	// Tokens in thousandths of a hint: a rate under 10 per second still
	// adds up, tick by tick.
	perTick := m.cfg.Rate * 1000 * int(tickEvery/time.Millisecond) / 1000
	m.tokens = min(m.tokens+perTick, max(2*perTick, 1000))
	for _, name := range m.names {
		t := m.targets[name]
		// Too old: the target was away longer than max_hint_window.
		n := 0
		for n < len(t.queue) && now.UnixNano()-t.queue[n].created > int64(m.cfg.MaxWindow) && t.queue[n].sentAt.IsZero() {
			n++
		}
		if n > 0 {
			m.dropFront(ctx, name, t, n)
			ctx.Log().Warn("hints older than max_hint_window dropped: anti-entropy must repair the target",
				"target", name, "hints", n, "max_hint_window", m.cfg.MaxWindow)
		}
		// The replayed hints awaiting an answer are among the first ones
		// (replay sends in order): stop once all were seen, not at the
		// end of a queue of millions.
		seen, flying := 0, t.inFlight
		for _, e := range t.queue {
			if seen == flying {
				break
			}
			if e.sentAt.IsZero() || e.done {
				continue
			}
			seen++
			if now.Sub(e.sentAt) >= m.cfg.Timeout {
				m.unsend(t, e)
				t.retryAt = now.Add(retryAfter)
			}
		}
		m.replay(ctx, name, t, now)
	}
	m.arm(ctx)
}

// replay sends target's next hints, in order, as far as its window, the
// rate and its health allow.
func (m *Manager) replay(ctx actors.Context, name string, t *target, now time.Time) {
	if now.Before(t.retryAt) || !m.view.Usable(name, true) || (m.cfg.GossipName != "" && m.view == nil) {
		return // resting, down, or not known yet (no view from gossip)
	}
	var batch []store.Exec
	for _, e := range t.queue {
		if t.inFlight >= m.cfg.Window || m.tokens < 1000 {
			break
		}
		if e.done || !e.sentAt.IsZero() {
			continue
		}
		e.sentAt = now
		t.inFlight++
		m.tokens -= 1000
		m.flight[e.seq] = name
		batch = append(batch, store.Exec{ID: e.seq, Args: e.args, Version: e.version})
	}
	to := actors.Addr{Node: actors.NodeID(name), Name: m.cfg.StoreName}
	switch len(batch) {
	case 0:
	case 1:
		ctx.Send(to, batch[0])
	default:
		ctx.Send(to, store.Batch{Execs: batch})
	}
}

func (m *Manager) unsend(t *target, e *entry) {
	e.sentAt = time.Time{}
	t.inFlight--
	delete(m.flight, e.seq)
}

// answered files a target store's answer to a replayed hint: delivered, or
// to be sent again after the target rests.
func (m *Manager) answered(ctx actors.Context, r store.Result) {
	name, ok := m.flight[r.ID]
	if !ok {
		return // late (timed out meanwhile, or dropped)
	}
	t := m.targets[name]
	i, found := slices.BinarySearchFunc(t.queue, r.ID, func(e *entry, seq uint64) int {
		switch {
		case e.seq < seq:
			return -1
		case e.seq > seq:
			return 1
		}
		return 0
	})
	if !found {
		delete(m.flight, r.ID)
		return
	}
	e := t.queue[i]
	if r.Failure != "" || Transient(r.Reply) {
		m.unsend(t, e)
		t.retryAt = ctx.Now().Add(retryAfter)
		return
	}
	delete(m.flight, r.ID)
	t.inFlight--
	e.done = true
	m.stat.Replayed++
	if e.reloaded {
		actors.Mark(ctx, markReplayedAfterRestart)
	}
	n := 0
	for n < len(t.queue) && t.queue[n].done {
		n++
	}
	if n > 0 {
		m.popFront(ctx, name, t, n)
		m.replay(ctx, name, t, ctx.Now())
	}
}

// popFront removes t's first n hints (delivered, or dropped) and records
// it in the log.
func (m *Manager) popFront(ctx actors.Context, name string, t *target, n int) {
	last := t.queue[n-1].seq
	for _, e := range t.queue[:n] {
		t.bytes -= int64(e.size)
		if !e.sentAt.IsZero() && !e.done {
			m.unsend(t, e)
		}
	}
	clear(t.queue[:n])
	t.queue = t.queue[n:]
	t.delivered = last
	if m.cfg.LogName == "" {
		return
	}
	// The marker first: should the Clear not last (a power loss before
	// the directory is synced), the hints stay delivered.
	ctx.Send(m.logAddr(ctx), Append{Target: name, Data: AppendRecord(nil, Record{Delivered: true, Seq: last})})
	if len(t.queue) == 0 {
		ctx.Send(m.logAddr(ctx), Clear{Target: name})
	}
}

// dropFront drops t's first n hints (counted as dropped) and returns n.
func (m *Manager) dropFront(ctx actors.Context, name string, t *target, n int) int {
	if n == 0 {
		return 0
	}
	dropped := 0
	for _, e := range t.queue[:n] {
		if !e.done {
			dropped++
		}
	}
	m.stat.Dropped += uint64(dropped)
	m.popFront(ctx, name, t, n)
	return dropped
}

// Snapshot is the manager's Status at now (for the runtime's Inspect, in
// the manager's turn).
func (m *Manager) Snapshot(now time.Time) Status {
	if m.targets == nil {
		return Status{}
	}
	return m.status(now)
}

func (m *Manager) status(now time.Time) Status {
	s := m.stat
	s.Targets = nil
	for _, name := range m.names {
		t := m.targets[name]
		if len(t.queue) == 0 {
			continue
		}
		waiting, bytes := 0, int64(0)
		for _, e := range t.queue {
			if !e.done {
				waiting++
				bytes += int64(e.size)
			}
		}
		s.Targets = append(s.Targets, TargetStatus{Target: name, Hints: waiting, Bytes: bytes,
			Oldest: time.Duration(now.UnixNano() - t.queue[0].created)})
	}
	return s
}

// String is a Status in one line, for logs and tests.
func (s Status) String() string {
	return fmt.Sprintf("stored=%d replayed=%d dropped=%d write_errors=%d targets=%v",
		s.Stored, s.Replayed, s.Dropped, s.WriteErrors, s.Targets)
}

// Coverage mark (actors.Mark; sim's TestMain requires a test run to reach it).
const markReplayedAfterRestart = "hints/replayed-after-restart"
