package transport

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynonode/dynonode/actors"
)

// Messages the runtime puts in a hollywood inbox on an actor's behalf.
type (
	delivery struct {
		from actors.Addr
		msg  any
	}
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

// maxCrashLoop bounds how many times in a row a fresh incarnation may panic
// before the actor is stopped instead of restarted again.
const maxCrashLoop = 3

// cell adapts one actors.Behaviour to a hollywood Receiver. Its fields are
// touched only from Receive, which hollywood runs one message at a time.
type cell struct {
	n           *Node
	addr        actors.Addr
	pid         *actor.PID
	produce     actors.Producer
	b           actors.Behaviour
	rng         *rand.Rand
	log         *slog.Logger
	sender      actors.Addr
	incarnation uint64
	nextTID     actors.TimerID
	timers      map[actors.TimerID]*time.Timer
	stopped     bool
}

var _ actor.Receiver = (*cell)(nil)
var _ actors.Context = (*cell)(nil)

func (c *cell) fresh() {
	c.incarnation++
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = map[actors.TimerID]*time.Timer{}
	c.b = c.produce()
	c.rng = actors.Stream(c.n.seed, "actor:"+c.addr.String()+"#"+strconv.FormatUint(c.incarnation, 10))
}

// Receive implements actor.Receiver.
func (c *cell) Receive(hc *actor.Context) {
	if c.stopped {
		return
	}
	switch m := hc.Message().(type) {
	case actor.Started:
		c.fresh()
		c.run(actors.Addr{}, actors.Started{})
	case delivery:
		c.run(m.from, m.msg)
	case timerFired:
		if _, live := c.timers[m.id]; live && m.incarnation == c.incarnation {
			delete(c.timers, m.id)
			c.run(c.addr, m.msg)
		}
	case inspectReq:
		m.f(c.b)
		close(m.done)
	case stopReq:
		c.shutdown()
		hc.Engine().Poison(c.pid)
	case actor.Stopped:
		c.shutdown()
	}
}

func (c *cell) shutdown() {
	if c.stopped {
		return
	}
	c.run(actors.Addr{}, actors.Stopping{})
	c.stopped = true
	for _, t := range c.timers {
		t.Stop()
	}
	c.n.unregister(c.addr.Name, c)
}

// run hands one message to the behaviour. A panic is logged and the actor
// restarted with fresh state (Restarted, then Started); hollywood's own
// restart path is never reached, because exceeding its MaxRestarts crashes
// the process (see ../shared/LIBRARIES.md).
func (c *cell) run(from actors.Addr, m any) {
	for attempt := 0; ; attempt++ {
		cause := c.try(from, m)
		if cause == "" {
			return
		}
		c.n.stats.panics.Add(1)
		c.log.Error("actor panicked; restarting with fresh state", "msg_type", fmt.Sprintf("%T", m), "cause", cause)
		if attempt >= maxCrashLoop {
			c.log.Error("actor keeps panicking on start; stopping it", "restarts", attempt)
			c.stopped = true
			c.n.unregister(c.addr.Name, c)
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
	c.sender = from
	c.b.Receive(c, m)
	return ""
}

// actors.Context

func (c *cell) Self() actors.Addr   { return c.addr }
func (c *cell) Sender() actors.Addr { return c.sender }
func (c *cell) Now() time.Time      { return time.Now() }
func (c *cell) Rand() *rand.Rand    { return c.rng }
func (c *cell) Log() *slog.Logger   { return c.log }

func (c *cell) Send(to actors.Addr, m any) { c.n.send(c.addr, to, m) }

func (c *cell) After(d time.Duration, m any) actors.TimerID {
	c.nextTID++
	id, inc, pid, e := c.nextTID, c.incarnation, c.pid, c.n.engine
	c.timers[id] = time.AfterFunc(d, func() { e.Send(pid, timerFired{id: id, incarnation: inc, msg: m}) })
	return id
}

func (c *cell) Cancel(id actors.TimerID) {
	if t, ok := c.timers[id]; ok {
		t.Stop()
		delete(c.timers, id)
	}
}

func (c *cell) Spawn(name string, p actors.Producer) actors.Addr { return c.n.Spawn(name, p) }

func (c *cell) Stop(a actors.Addr) {
	if a.Node == c.n.id {
		c.n.Stop(a.Name)
	}
}
