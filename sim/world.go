package sim

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"sort"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/msg"
)

// Config sets up a World.
type Config struct {
	// Seed is the master seed: every random choice of the run derives from it.
	Seed int64
	// Start is the virtual wall-clock time every node's clock starts at
	// (before offsets). Zero means 2026-01-01T00:00:00Z.
	Start time.Time
	// Net is the default behaviour of every link; SetLink overrides one.
	Net Link
	// Log receives actor and simulator logs with virtual timestamps. Nil
	// discards them.
	Log slog.Handler
}

// World is one simulated cluster. It is not safe for concurrent use: the
// whole run happens on the caller's goroutine.
type World struct {
	marks   map[string]uint64 // coverage marks reached (actors.Mark)
	seed    int64
	start   time.Time
	now     time.Duration
	seq     uint64
	q       agenda
	nodes   map[actors.NodeID]*node
	order   []*node // insertion order, for deterministic iteration
	net     network
	codec   *msg.Codec
	arena   []byte // where remote messages are encoded (encode)
	trace   tracer
	log     slog.Handler
	failure error
	stats   Stats
	reach   reachLog // reach.go
	noHLC   bool     // SetClockless
}

// Stats counts what happened in a run.
type Stats struct {
	Events      uint64 // events processed
	Delivered   uint64 // messages handed to an actor
	Remote      uint64 // messages that crossed the simulated network
	Dropped     uint64 // remote messages lost to drops, partitions or dead nodes
	Duplicated  uint64
	DeadLetters uint64 // messages for actors that do not exist
	Undecodable uint64 // remote messages the receiver could not decode
}

// New returns an empty World.
func New(cfg Config) *World {
	start := cfg.Start
	if start.IsZero() {
		start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	h := cfg.Log
	if h == nil {
		h = slog.DiscardHandler
	}
	w := &World{
		seed:  cfg.Seed,
		start: start,
		nodes: map[actors.NodeID]*node{},
		codec: msg.NewCodec(),
		trace: newTracer(),
		log:   h,
		marks: map[string]uint64{},
	}
	w.net = newNetwork(cfg.Net, actors.Stream(cfg.Seed, "network"))
	return w
}

// Seed is the master seed of the run.
func (w *World) Seed() int64 { return w.seed }

// Now is the virtual time elapsed since the run started.
func (w *World) Now() time.Duration { return w.now }

// Stats returns the run's counters so far.
func (w *World) Stats() Stats { return w.stats }

// Marks returns how many times each coverage mark (actors.Mark) was
// reached in the run so far.
func (w *World) Marks() map[string]uint64 { return maps.Clone(w.marks) }

// Err is the first failure of the run (an actor panic, an unencodable remote
// message), or nil.
func (w *World) Err() error { return w.failure }

// Fail ends the run with err, unless it has failed already: for faults
// found outside any actor (a node's boot that could not spawn its actors).
func (w *World) Fail(err error) {
	if w.failure == nil {
		w.failure = fmt.Errorf("sim: seed=%d: %w", w.seed, err)
	}
}

// Rand derives an independent random stream for a named component outside
// the actors (a workload, a fault schedule).
func (w *World) Rand(component string) *rand.Rand { return actors.Stream(w.seed, component) }

// AddNode creates a node and boots it at the current virtual time.
func (w *World) AddNode(spec NodeSpec) {
	if _, dup := w.nodes[spec.ID]; dup {
		panic(fmt.Sprintf("sim: node %s added twice", spec.ID))
	}
	n := &node{w: w, spec: spec, clock: newClock(w.start)}
	n.log = slog.New(&virtualTime{h: w.log, n: n}).With("node", string(spec.ID))
	w.nodes[spec.ID] = n
	w.order = append(w.order, n)
	w.record(recFault, w.now, actors.Addr{Node: spec.ID}, actors.Addr{}, "add")
	n.boot()
	w.reachChanged()
}

// Nodes lists node ids in the order they were added.
func (w *World) Nodes() []actors.NodeID {
	out := make([]actors.NodeID, len(w.order))
	for i, n := range w.order {
		out[i] = n.spec.ID
	}
	return out
}

// Behaviour returns the live behaviour of an actor, for tests to inspect its
// state between steps, or nil when the actor does not exist.
func (w *World) Behaviour(a actors.Addr) actors.Behaviour {
	n := w.nodes[a.Node]
	if n == nil || n.actors == nil {
		return nil
	}
	if c := n.actors[a.Name]; c != nil {
		return c.b
	}
	return nil
}

// Spawn starts an actor on a running node from outside (a test's client
// connection). Unlike the node's boot actors it is not respawned by Restart.
func (w *World) Spawn(id actors.NodeID, name string, p actors.Producer) actors.Addr {
	return w.mustNode(id).Spawn(name, p)
}

// Inject delivers m to an actor from outside the cluster (a client, a test),
// as if sent by from, at the current virtual time without network effects.
func (w *World) Inject(from, to actors.Addr, m any) {
	n := w.nodes[to.Node]
	if n == nil {
		panic(fmt.Sprintf("sim: inject to unknown node %s", to.Node))
	}
	w.schedule(&event{at: w.now, kind: evDeliver, node: n, epoch: n.epoch, from: from, to: to.Name, msg: m})
}

// At runs fn at virtual time t (since start), in order with other events.
func (w *World) At(t time.Duration, fn func()) {
	if t < w.now {
		t = w.now
	}
	w.schedule(&event{at: t, kind: evFunc, fn: fn})
}

func (w *World) schedule(e *event) {
	w.seq++
	e.seq = w.seq
	w.q.push(e)
}

// Run processes events until virtual time until (since start), the agenda
// empties, or the run fails. It returns the failure, if any.
func (w *World) Run(until time.Duration) error {
	for w.failure == nil && w.q.len() > 0 && w.q.peek().at <= until {
		e := w.q.pop()
		w.now = e.at
		w.stats.Events++
		w.step(e)
	}
	if w.failure == nil && w.now < until {
		w.now = until
	}
	return w.failure
}

// RunFor runs for d more virtual time.
func (w *World) RunFor(d time.Duration) error { return w.Run(w.now + d) }

func (w *World) step(e *event) {
	if e.kind == evFunc {
		e.fn()
		return
	}
	n := e.node
	if e.epoch != n.epoch || !n.up {
		if e.wire != nil {
			w.stats.Dropped++
			w.record(recDrop, w.now, e.from, actors.Addr{Node: n.spec.ID, Name: e.to}, "dead")
		}
		return
	}
	if n.paused {
		n.parked = append(n.parked, e)
		return
	}
	c := n.actors[e.to]
	if c == nil {
		w.stats.DeadLetters++
		w.record(recDead, w.now, e.from, actors.Addr{Node: n.spec.ID, Name: e.to}, "")
		return
	}
	m := e.msg
	from := e.from
	switch e.kind {
	case evTimer:
		if _, live := c.timers[e.timer]; !live {
			return
		}
		delete(c.timers, e.timer)
		from = c.addr
		w.record(recTimer, w.now, from, c.addr, typeName(m))
	case evDeliver:
		if e.wire != nil {
			env, err := w.codec.Decode(e.wire)
			if err != nil {
				w.stats.Undecodable++
				w.record(recDrop, w.now, e.from, c.addr, "undecodable")
				n.log.Warn("dropping undecodable remote message", "to", c.addr.String(), "err", err)
				return
			}
			m = env.Msg
			w.trace.bytes(e.wire)
			if !env.HLC.IsZero() {
				n.hlc.Update(env.HLC, n.clock.now(w.now))
			}
		}
		w.record(recDeliver, w.now, from, c.addr, typeName(m))
	}
	w.stats.Delivered++
	w.deliver(c, from, m)
}

// deliver runs one Receive; a panic fails the run with the seed, because in
// the simulator a panic is a bug to replay, not a fault to ride out.
func (w *World) deliver(c *cell, from actors.Addr, m any) {
	defer func() {
		if r := recover(); r != nil {
			w.failure = fmt.Errorf("sim: seed=%d: actor %s panicked at %v handling %T: %v\n%s",
				w.seed, c.addr, w.now, m, r, debug.Stack())
		}
	}()
	if _, stop := m.(stopNow); stop {
		c.sender = actors.Addr{}
		c.b.Receive(simContext{c}, actors.Stopping{})
		delete(c.n.actors, c.addr.Name)
		return
	}
	c.sender = from
	c.b.Receive(simContext{c}, m)
}

// send routes a message: same node goes straight to the agenda, another node
// goes through the envelope codec and the network model.
func (w *World) send(from, to actors.Addr, m any) {
	dst := w.nodes[to.Node]
	if dst == nil {
		w.stats.DeadLetters++
		w.record(recDead, w.now, from, to, "no such node")
		return
	}
	if to.Node == from.Node {
		w.schedule(&event{at: w.now, kind: evDeliver, node: dst, epoch: dst.epoch, from: from, to: to.Name, msg: m})
		return
	}
	src := w.nodes[from.Node]
	var ts hlc.Timestamp
	if src != nil && !w.noHLC { // a send is an event of the sender's clock
		ts = src.hlc.Now(src.clock.now(w.now))
	}
	wire, err := w.encode(from, to, ts, m)
	if err != nil {
		w.failure = fmt.Errorf("sim: seed=%d: %s sending to %s: %w", w.seed, from, to, err)
		return
	}
	w.stats.Remote++
	for _, at := range w.net.transmit(src, dst, w.now) {
		w.schedule(&event{at: at, kind: evDeliver, node: dst, epoch: dst.epoch, from: from, to: to.Name, wire: wire})
	}
}

// arenaChunk is the size of the buffers remote messages are encoded into,
// one after another: a chunk is freed once every message in it has been
// delivered or dropped. An allocation per message (and the copy out of
// the codec's own buffer) was a tenth of a simulated cluster's garbage.
const arenaChunk = 64 << 10

// encode encodes a remote message into the arena, in place; one that does
// not fit in what is left of the chunk gets a buffer of its own.
func (w *World) encode(from, to actors.Addr, ts hlc.Timestamp, m any) ([]byte, error) {
	if cap(w.arena)-len(w.arena) < arenaChunk/16 {
		w.arena = make([]byte, 0, arenaChunk)
	}
	at, room := len(w.arena), cap(w.arena)-len(w.arena)
	out, err := w.codec.AppendStamped(w.arena[at:at:cap(w.arena)], from, to, ts, m)
	if err != nil {
		return nil, err
	}
	if len(out) <= room { // written in place: the next message follows it
		w.arena = w.arena[:at+len(out)]
	}
	return out[:len(out):len(out)], nil
}

// SetClockless makes messages between nodes travel without the sender's
// hybrid logical clock (true) or with it (false, the default): the
// planted bug of a cluster whose clocks never meet, for the tests of
// the checkers that rely on them.
func (w *World) SetClockless(on bool) { w.noHLC = on }

func (w *World) mustNode(id actors.NodeID) *node {
	n := w.nodes[id]
	if n == nil {
		panic(fmt.Sprintf("sim: unknown node %s", id))
	}
	return n
}

// nodesWhere lists nodes matching pred, in insertion order.
func (w *World) nodesWhere(pred func(*node) bool) []actors.NodeID {
	var out []actors.NodeID
	for _, n := range w.order {
		if pred(n) {
			out = append(out, n.spec.ID)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// virtualTime stamps log records with the node's virtual clock, so logs of a
// replayed seed line up with its trace.
type virtualTime struct {
	h slog.Handler
	n *node
}

func (v *virtualTime) Enabled(ctx context.Context, l slog.Level) bool { return v.h.Enabled(ctx, l) }
func (v *virtualTime) Handle(ctx context.Context, r slog.Record) error {
	r.Time = v.n.clock.now(v.n.w.now)
	return v.h.Handle(ctx, r)
}
func (v *virtualTime) WithAttrs(as []slog.Attr) slog.Handler {
	return &virtualTime{h: v.h.WithAttrs(as), n: v.n}
}
func (v *virtualTime) WithGroup(name string) slog.Handler {
	return &virtualTime{h: v.h.WithGroup(name), n: v.n}
}
