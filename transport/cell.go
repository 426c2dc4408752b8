package transport

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
)

// Messages the runtime puts in a mailbox on an actor's behalf.
type (
	timerFired struct {
		id          actors.TimerID
		incarnation uint64
		msg         any
	}
	inspectReq struct {
		f    func(actors.Behaviour)
		done chan struct{}
	}
	stopReq struct{}
)

// envelope is one mailbox entry: a message and who sent it.
type envelope struct {
	from actors.Addr
	msg  any
}

// maxCrashLoop bounds how many times in a row a fresh incarnation may panic
// before the actor is stopped instead of restarted again.
const maxCrashLoop = 3

// keepMailbox is the capacity beyond which a drained mailbox buffer is
// dropped rather than reused, so a burst does not pin its memory.
const keepMailbox = 1024

// cell adapts one actors.Behaviour to a hollywood process. It is its own
// hollywood Processer rather than a Receiver behind hollywood's inbox: that
// inbox costs a boxed delivery, two registry lookups and a fresh goroutine
// per wake-up, and 8 KiB per idle actor. The cell's mailbox is a slice
// under a mutex, drained one batch at a time by a goroutine started only
// while messages wait. A message sent to an idle actor is handled at once
// on the sender's goroutine (one message at a time still holds: the
// mailbox is marked running meanwhile, and what arrives then is queued).
// A client request then usually runs from socket read to socket write on
// one goroutine, as in a single-threaded proxy, with no hand-off between
// its hops. It asks one thing of behaviours: Receive must not block (the
// client writer hands a slow socket to a goroutine of its own).
//
// The fields below mu are touched only by whoever holds the running mark.
type cell struct {
	n       *Node
	addr    actors.Addr
	pid     *actor.PID
	produce actors.Producer
	log     *slog.Logger
	done    chan struct{} // closed once the actor has stopped
	dead    atomic.Bool   // stopped for good: a cached pointer to it is stale

	mu      sync.Mutex
	queue   []envelope
	running bool // someone is handling this actor's messages
	gone    bool // stopped: later messages are dropped

	spare       []envelope
	lastName    string // the local actor this one sent to last, and its cell
	lastCell    *cell
	inline      bool       // running on a sender's goroutine
	outbox      []posted   // local messages sent while handling one
	group       []envelope // flushOutbox's scratch
	b           actors.Behaviour
	rng         *rand.Rand
	sender      actors.Addr
	now         time.Time // Now's reading in this turn, when nowRead
	nowRead     bool
	incarnation uint64
	nextTID     actors.TimerID
	timers      []pendingTimer // few per actor; nil when none (idle actors hold no table)
	stopped     bool
}

// process is a cell as hollywood sees it (its Send differs from the
// actors.Context one).
type process cell

var _ actor.Processer = (*process)(nil)
var _ actors.Context = (*cell)(nil)

func newCell(n *Node, name string, p actors.Producer) *cell {
	c := &cell{n: n, addr: actors.Addr{Node: n.id, Name: name}, produce: p, done: make(chan struct{})}
	// Hollywood names a process "<kind>/<id>".
	c.pid = actor.NewPID(n.engine.Address(), "a/"+name)
	c.running = true // until Start has run Started, messages wait
	return c
}

func (c *cell) fresh() {
	c.incarnation++
	c.stopTimers()
	c.b = c.produce()
	c.rng = nil // made on first use: most actors never draw
}

// pendingTimer is one timer set with After and not yet fired or cancelled.
type pendingTimer struct {
	id actors.TimerID
	t  *time.Timer
}

func (c *cell) stopTimers() {
	for _, p := range c.timers {
		p.t.Stop()
	}
	c.timers = nil
}

// takeTimer forgets timer id and reports whether it was pending.
func (c *cell) takeTimer(id actors.TimerID) (*time.Timer, bool) {
	for i, p := range c.timers {
		if p.id == id {
			last := len(c.timers) - 1
			c.timers[i] = c.timers[last]
			c.timers[last] = pendingTimer{}
			c.timers = c.timers[:last]
			if last == 0 {
				c.timers = nil
			}
			return p.t, true
		}
	}
	return nil, false
}

// hollywood's Processer. Start runs inside Spawn, on its caller's
// goroutine, as hollywood's Started does.

func (p *process) Start() {
	c := (*cell)(p)
	c.fresh()
	c.run(actors.Addr{}, actors.Started{})
	c.flushOutbox()
	c.release()
}

func (p *process) PID() *actor.PID { return p.pid }

func (p *process) Send(_ *actor.PID, m any, _ *actor.PID) {
	(*cell)(p).deliver(actors.Addr{}, m, false)
}

func (p *process) Invoke(envs []actor.Envelope) {
	for _, e := range envs {
		(*cell)(p).deliver(actors.Addr{}, e.Msg, false)
	}
}

func (p *process) Shutdown() { (*cell)(p).deliver(actors.Addr{}, stopReq{}, false) }

// deliver puts m in the mailbox, or handles it now on the caller's
// goroutine when the actor is idle and inline is allowed.
func (c *cell) deliver(from actors.Addr, m any, inline bool) {
	one := [1]envelope{{from: from, msg: m}}
	c.deliverAll(one[:], inline)
}

// deliverAll is deliver for several messages, handled in order.
func (c *cell) deliverAll(envs []envelope, inline bool) {
	c.mu.Lock()
	if c.gone {
		c.mu.Unlock()
		return
	}
	if c.running {
		c.queue = append(c.queue, envs...)
		c.mu.Unlock()
		return
	}
	c.running = true
	if !inline {
		c.queue = append(c.queue, envs...)
		c.mu.Unlock()
		go c.loop()
		return
	}
	c.mu.Unlock()
	c.inline = true
	for _, e := range envs {
		c.handle(e)
	}
	c.endBatch()
	c.drainOnce() // what arrived meanwhile, up to one batch
	c.inline = false
	c.release()
}

// batchEnder is implemented by behaviours that gather work across messages
// (the datastore adapter's socket writes): EndOfBatch runs when the actor
// has handled every message that was waiting.
type batchEnder interface{ EndOfBatch() }

func (c *cell) endBatch() {
	if b, ok := c.b.(batchEnder); ok && !c.stopped {
		b.EndOfBatch()
	}
}

// post queues a message this actor sends to a local actor while it
// handles one; flushOutbox delivers them once it returns.
func (c *cell) post(to *cell, from actors.Addr, m any) {
	c.outbox = append(c.outbox, posted{to: to, env: envelope{from: from, msg: m}})
}

type posted struct {
	to  *cell
	env envelope
}

// flushOutbox delivers what the last message made this actor send, all the
// messages for one actor together (their order kept), so an idle receiver
// handles them in one run and ends one batch (one socket write for a
// pipeline's datastore requests).
func (c *cell) flushOutbox() {
	c.group = deliverGrouped(c.outbox, c.group)
	clear(c.outbox)
	c.outbox = c.outbox[:0]
}

// deliverGrouped delivers out, every actor's messages together and in
// their order, each group inline when its actor is idle. It marks out's
// entries as it goes and returns group, its scratch space, for reuse.
func deliverGrouped(out []posted, group []envelope) []envelope {
	for i := range out {
		to := out[i].to
		if to == nil {
			continue
		}
		group = append(group[:0], out[i].env)
		for j := i + 1; j < len(out); j++ {
			if out[j].to == to {
				group = append(group, out[j].env)
				out[j].to = nil
			}
		}
		to.deliverAll(group, true)
		clear(group)
	}
	return group[:0]
}

// release gives up the running mark, or hands what is still queued to a
// goroutine of the actor's own.
func (c *cell) release() {
	c.mu.Lock()
	if len(c.queue) == 0 || c.gone {
		c.running = false
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	go c.loop()
}

// loop drains the mailbox until it is empty.
func (c *cell) loop() {
	for c.drainOnce() {
	}
}

// drainOnce handles the messages queued now; it reports false, having
// given up the running mark, when there were none.
func (c *cell) drainOnce() bool {
	c.mu.Lock()
	batch := c.queue
	if len(batch) == 0 || c.gone {
		if !c.inline {
			c.running = false
		}
		c.mu.Unlock()
		return false
	}
	c.queue, c.spare = c.spare[:0], nil
	c.mu.Unlock()
	for i := range batch {
		c.handle(batch[i])
		batch[i] = envelope{}
	}
	c.endBatch()
	if cap(batch) <= keepMailbox {
		c.spare = batch[:0]
	}
	return true
}

func (c *cell) handle(e envelope) {
	if c.stopped {
		return
	}
	switch m := e.msg.(type) {
	case timerFired:
		if m.incarnation == c.incarnation {
			if _, live := c.takeTimer(m.id); live {
				c.run(c.addr, m.msg)
			}
		}
	case inspectReq:
		m.f(c.b)
		close(m.done)
	case stopReq:
		c.shutdown()
	default:
		c.run(e.from, e.msg)
	}
	if len(c.outbox) > 0 {
		c.flushOutbox()
	}
}

func (c *cell) shutdown() {
	if c.stopped {
		return
	}
	c.run(actors.Addr{}, actors.Stopping{})
	c.finish()
}

// finish marks the actor stopped for good and forgets it.
func (c *cell) finish() {
	c.stopped = true
	c.dead.Store(true)
	c.stopTimers()
	c.n.unregister(c.addr.Name, c)
	c.n.engine.Registry.Remove(c.pid)
	c.mu.Lock()
	c.gone = true
	c.queue = nil
	c.mu.Unlock()
	close(c.done)
}

// run hands one message to the behaviour. A panic is logged and the actor
// restarted with fresh state (Restarted, then Started); hollywood's own
// restart path is never reached, because exceeding its MaxRestarts crashes
// the process (hollywood v1.0.5 then dereferences a nil pointer).
func (c *cell) run(from actors.Addr, m any) {
	for attempt := 0; ; attempt++ {
		cause := c.try(from, m)
		if cause == "" {
			return
		}
		c.n.stats.panics.Add(1)
		c.Log().Error("actor panicked; restarting with fresh state", "msg_type", fmt.Sprintf("%T", m), "cause", cause)
		if attempt >= maxCrashLoop {
			c.Log().Error("actor keeps panicking on start; stopping it", "restarts", attempt)
			c.finish()
			return
		}
		c.fresh()
		if cause = c.try(actors.Addr{}, actors.Restarted{Cause: cause}); cause != "" {
			continue
		}
		from, m = actors.Addr{}, actors.Started{}
	}
}

func (c *cell) try(from actors.Addr, m any) (cause string) {
	defer func() {
		if r := recover(); r != nil {
			cause = fmt.Sprintf("%v\n%s", r, debug.Stack())
		}
	}()
	c.sender, c.nowRead = from, false
	c.b.Receive(c, m)
	return ""
}

// actors.Context

func (c *cell) Self() actors.Addr   { return c.addr }
func (c *cell) Sender() actors.Addr { return c.sender }

// Now reads the clock once per turn: within one Receive time does not
// move, as in the simulator, and a coordinator handling a pipeline of
// commands (or an adapter a batch) does not read it per command.
func (c *cell) Now() time.Time {
	if !c.nowRead {
		c.now, c.nowRead = time.Now().Add(c.n.ClockOffset()), true
	}
	return c.now
}
func (c *cell) HLC() hlc.Timestamp { return c.n.hlcNow(c.Now()) }
func (c *cell) Elapsed() time.Duration {
	return time.Since(c.n.started) // time.Since reads the monotonic clock
}
func (c *cell) Rand() *rand.Rand {
	if c.rng == nil {
		c.rng = actors.Stream(c.n.seed, "actor:"+c.addr.String()+"#"+strconv.FormatUint(c.incarnation, 10))
	}
	return c.rng
}

// Log is the actor's logger, made when first used: a logger per actor
// costs a handler clone, and most (client connections') never log.
func (c *cell) Log() *slog.Logger {
	if c.log == nil {
		c.log = c.n.log.With("actor", c.addr.Name)
	}
	return c.log
}

func (c *cell) Send(to actors.Addr, m any) {
	if to.Node == c.n.id {
		if t := c.local(to.Name); t != nil {
			c.post(t, c.addr, m)
			return
		}
	}
	c.n.send(c.addr, to, m, true)
}

// local finds a local actor, remembering the last one: a coordinator sends
// to its store and a store answers a pipeline's coordinator many times in
// a row, and the registry lookup hashes the name each time.
func (c *cell) local(name string) *cell {
	if t := c.lastCell; t != nil && name == c.lastName && !t.dead.Load() {
		return t
	}
	t := c.n.lookup(name)
	c.lastName, c.lastCell = name, t
	return t
}

func (c *cell) After(d time.Duration, m any) actors.TimerID {
	c.nextTID++
	id, inc := c.nextTID, c.incarnation
	t := time.AfterFunc(d, func() { c.deliver(c.addr, timerFired{id: id, incarnation: inc, msg: m}, false) })
	c.timers = append(c.timers, pendingTimer{id: id, t: t})
	return id
}

func (c *cell) Cancel(id actors.TimerID) {
	if t, ok := c.takeTimer(id); ok {
		t.Stop()
	}
}

func (c *cell) Spawn(name string, p actors.Producer) actors.Addr { return c.n.Spawn(name, p) }

func (c *cell) Stop(a actors.Addr) {
	if a.Node == c.n.id {
		c.n.Stop(a.Name)
	}
}
