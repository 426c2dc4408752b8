package sim

import (
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
)

// NodeSpec describes one simulated node: its identity, its place in the
// topology (for rack and DC partitions) and the boot function that spawns its
// actors, run at start and again after every restart.
type NodeSpec struct {
	ID   actors.NodeID
	DC   string
	Rack string
	Boot func(actors.Spawner)
	// Durable names actors whose state outlives a crash of the node: the
	// datastore process beside dynonode. Restart hands the surviving
	// behaviour back when Boot spawns that name again; CrashWipe loses it
	// too (a cold restart with an empty datastore).
	Durable []string
	// Persistent names actors whose state lives on the node's own disk:
	// it outlives every crash, CrashWipe included.
	Persistent []string
}

// node is a simulated process. epoch counts incarnations: a crash bumps it,
// and anything addressed to an older epoch (timers, in-flight messages to the
// node) is dropped, as a real process loses its sockets and timers.
type node struct {
	w       *World
	spec    NodeSpec
	epoch   uint64
	up      bool
	paused  bool
	parked  []*event // events held while paused, released in order on resume
	clock   clock
	actors  map[string]*cell
	nextTID actors.TimerID
	log     *slog.Logger
	kept    map[string]actors.Behaviour // durable actors' state across a crash
	hlc     hlc.Clock                   // the process's clock: lost in a crash, as a real process loses it
}

// cell hosts one actor on a node.
type cell struct {
	n       *node
	addr    actors.Addr
	produce actors.Producer
	b       actors.Behaviour
	rng     *rand.Rand
	log     *slog.Logger
	timers  map[actors.TimerID]struct{}
	sender  actors.Addr
}

// Spawn starts an actor on the node; it receives Started as its first event.
func (n *node) Spawn(name string, p actors.Producer) actors.Addr {
	if !n.up {
		return actors.Addr{}
	}
	if _, dup := n.actors[name]; dup {
		n.w.record(recSpawnDup, n.w.now, actors.Addr{Node: n.spec.ID, Name: name}, actors.Addr{}, "")
		return actors.Addr{}
	}
	addr := actors.Addr{Node: n.spec.ID, Name: name}
	b, survived := n.kept[name]
	if survived {
		delete(n.kept, name)
	} else {
		b = p()
	}
	c := &cell{
		n:       n,
		addr:    addr,
		produce: p,
		b:       b,
		rng:     actors.Stream(n.w.seed, "actor:"+addr.String()+"#"+strconv.FormatUint(n.epoch, 10)),
		log:     n.log.With("actor", name),
		timers:  map[actors.TimerID]struct{}{},
	}
	n.actors[name] = c
	n.w.schedule(&event{at: n.w.now, kind: evDeliver, node: n, epoch: n.epoch, to: name, msg: actors.Started{}})
	return addr
}

// boot brings the node up as a fresh incarnation.
func (n *node) boot() {
	n.epoch++
	n.up = true
	n.paused = false
	n.parked = nil
	n.actors = map[string]*cell{}
	n.nextTID = 0
	if n.spec.Boot != nil {
		n.spec.Boot(n)
	}
}

// crash loses every actor's state, timers and queued input, except the
// state of durable actors unless wipe is set.
func (n *node) crash(wipe bool) {
	n.kept = map[string]actors.Behaviour{}
	keep := n.spec.Persistent
	if !wipe {
		keep = append(append([]string(nil), keep...), n.spec.Durable...)
	}
	for _, name := range keep {
		if c := n.actors[name]; c != nil {
			n.kept[name] = c.b
		}
	}
	n.up = false
	n.hlc = hlc.Clock{}
	n.epoch++
	n.actors = nil
	n.parked = nil
}

// simContext is the actors.Context the simulator hands to Receive. One value
// per cell is reused for every message: the simulator is single-threaded.
type simContext struct{ c *cell }

var _ actors.Context = simContext{}

// Mark implements actors.Marker: the run counts it (World.Marks).
func (x simContext) Mark(name string) {
	x.c.n.w.marks[name]++
	noteMark(name)
}

func (x simContext) Self() actors.Addr   { return x.c.addr }
func (x simContext) Sender() actors.Addr { return x.c.sender }
func (x simContext) Rand() *rand.Rand    { return x.c.rng }
func (x simContext) Log() *slog.Logger   { return x.c.log }
func (x simContext) Now() time.Time      { return x.c.n.clock.now(x.c.n.w.now) }
func (x simContext) HLC() hlc.Timestamp {
	n := x.c.n
	return n.hlc.Now(n.clock.now(n.w.now))
}
func (x simContext) Elapsed() time.Duration {
	return x.c.n.clock.mono(x.c.n.w.now)
}

func (x simContext) Send(to actors.Addr, m any) { x.c.n.w.send(x.c.addr, to, m) }

func (x simContext) After(d time.Duration, m any) actors.TimerID {
	n := x.c.n
	n.nextTID++
	id := n.nextTID
	x.c.timers[id] = struct{}{}
	n.w.schedule(&event{
		at: n.w.now + n.clock.virtualDelay(d), kind: evTimer, node: n, epoch: n.epoch,
		to: x.c.addr.Name, msg: m, timer: id,
	})
	return id
}

func (x simContext) Cancel(id actors.TimerID) { delete(x.c.timers, id) }

func (x simContext) Spawn(name string, p actors.Producer) actors.Addr { return x.c.n.Spawn(name, p) }

func (x simContext) Stop(a actors.Addr) {
	n := x.c.n
	if a.Node != n.spec.ID {
		return
	}
	n.w.schedule(&event{at: n.w.now, kind: evDeliver, node: n, epoch: n.epoch, to: a.Name, msg: stopNow{}})
}

// stopNow asks the runtime to deliver Stopping and remove the actor.
type stopNow struct{}
