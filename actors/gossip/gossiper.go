package gossip

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/ring"
)

// Config parameterises a Gossiper.
type Config struct {
	// Self is this node: ID, DC, rack, tokens.
	Self Member
	// Seeds are the nodes known from dyn_seeds (or a seed provider).
	Seeds []Member
	// Name is the gossiper's actor name on every node.
	Name string
	// Interval is the heartbeat and gossip period. Default 1s.
	Interval time.Duration
	// Fanout is how many peers believed up get the table each round (the
	// next ones of a shuffled rotation), besides one peer believed down.
	// Default 3.
	Fanout int
	// PhiThreshold is the suspicion above which a member is down.
	// Default 8.
	PhiThreshold float64
	// AcceptablePause is silence tolerated on top of the usual interval
	// before suspicion grows. Default 2 x Interval.
	AcceptablePause time.Duration
	// AllowJoin (enable_gossip) lets nodes that are not seeds join through
	// gossip. Without it the membership is the seeds, as in Dynomite.
	AllowJoin bool
	// Versions is this node's `versions` setting. A member that declares
	// the other setting is refused: never taken for up, never in the
	// ring, logged once (a mixed cluster would let unversioned writes
	// overwrite versioned ones).
	Versions bool
	// Hash and HashTag build the ring of the membership.
	Hash    ring.Hash
	HashTag ring.HashTag
	// EchoMovesGeneration is for tests only: it brings back issue 22's bug
	// (a peer echoing this node's current generation is taken for a
	// previous life's, and the generation moves every round), so that the
	// simulator's join properties can be shown to catch it.
	EchoMovesGeneration bool
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Fanout <= 0 {
		c.Fanout = 3
	}
	if c.PhiThreshold <= 0 {
		c.PhiThreshold = 8
	}
	if c.AcceptablePause <= 0 {
		c.AcceptablePause = 2 * c.Interval
	}
	if c.Name == "" {
		c.Name = "gossip"
	}
	return c
}

type tick struct{}

// Gossiper is the membership actor of one node.
type Gossiper struct {
	cfg     Config
	self    Member
	members map[string]*entry
	subs    map[actors.Addr]bool
	view    *View
	version uint64
	mono    time.Duration   // ctx.Elapsed at the last message: snapshots are taken then
	moves   int             // times this node moved its generation past a previous life's
	refused map[string]bool // members that declared the other versions setting
	// order is a shuffled rotation of the peers; each round takes the next
	// Fanout of them that are up (cursor), so every reachable peer hears
	// from this node directly at least every len(order)/Fanout rounds.
	order  []string
	cursor int
}

type entry struct {
	m     Member
	det   *detector
	seed  bool
	downs int // times this member was declared down
}

// New returns a producer of gossipers.
func New(cfg Config) actors.Producer {
	cfg = cfg.withDefaults()
	return func() actors.Behaviour { return &Gossiper{cfg: cfg} }
}

// Receive implements actors.Behaviour.
func (g *Gossiper) Receive(ctx actors.Context, m any) {
	g.mono = ctx.Elapsed()
	switch m := m.(type) {
	case actors.Started:
		g.start(ctx)
	case tick:
		g.round(ctx)
		ctx.After(g.jitter(ctx), tick{})
	case Digest:
		g.merge(ctx, m.Members)
	case Subscribe:
		g.subs[ctx.Sender()] = true
		ctx.Send(ctx.Sender(), *g.view)
	case Unsubscribe:
		delete(g.subs, ctx.Sender())
	case SetState:
		g.self.State = m.State
		g.self.Heartbeat++
		g.publish(ctx)
	case Leave:
		g.self.Left = true
		g.self.Heartbeat++
		for _, id := range g.peers() {
			ctx.Send(g.addr(id), Digest{Members: []Member{g.self}})
		}
	case GetMembers:
		ctx.Send(ctx.Sender(), g.snapshot(g.mono))
	}
}

func (g *Gossiper) start(ctx actors.Context) {
	g.self = g.cfg.Self
	g.self.Versions = VersionsOff
	if g.cfg.Versions {
		g.self.Versions = VersionsOn
	}
	g.refused = map[string]bool{}
	g.self.Generation = uint64(ctx.Now().UnixNano())
	g.self.Heartbeat = 0
	// Dynomite goes from JOINING to NORMAL at once without gossip; with
	// gossip a node is NORMAL once it has heard from the cluster.
	if g.self.State == 0 || g.self.State == Init {
		g.self.State = Normal
	}
	g.members = map[string]*entry{}
	g.subs = map[actors.Addr]bool{}
	now := ctx.Elapsed()
	for _, s := range g.cfg.Seeds {
		if s.ID == g.self.ID {
			continue
		}
		s.State, s.Generation, s.Heartbeat = Unknown, 0, 0
		g.members[s.ID] = &entry{m: s, det: g.newDetector(now), seed: true}
	}
	g.view = g.buildView(now)
	ctx.After(g.jitter(ctx), tick{})
}

func (g *Gossiper) newDetector(now time.Duration) *detector {
	return newDetector(now, g.cfg.Interval, g.cfg.Interval/2, g.cfg.AcceptablePause)
}

func (g *Gossiper) jitter(ctx actors.Context) time.Duration {
	i := g.cfg.Interval
	return i - i/10 + time.Duration(ctx.Rand().Int64N(int64(i/5)+1))
}

func (g *Gossiper) addr(id string) actors.Addr {
	return actors.Addr{Node: actors.NodeID(id), Name: g.cfg.Name}
}

// peers lists the members gossip is sent to, sorted (map order must not
// decide anything).
func (g *Gossiper) peers() []string {
	out := make([]string, 0, len(g.members))
	for id, e := range g.members {
		if !e.m.Left {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// round bumps the heartbeat and pushes the table to the next Fanout peers
// of the rotation that are up, and to one peer believed down.
//
// Random targets starved a partitioned minority: two nodes of an isolated
// rack heard from each other only when a random pick fell on their own
// side of the cut, and gaps of several rounds made each take the other
// for down. The rotation bounds the gap between direct messages to
// every reachable peer; skipping peers believed down spends the fanout on
// the reachable ones; the one down peer per round lets a recovered node
// (or a false verdict) be heard of again.
func (g *Gossiper) round(ctx actors.Context) {
	g.self.Heartbeat++
	table := g.table()
	for _, id := range g.targets(ctx) {
		ctx.Send(g.addr(id), Digest{Members: table})
	}
	g.publishIfChanged(ctx)
}

// targets picks this round's peers.
func (g *Gossiper) targets(ctx actors.Context) []string {
	peers := g.peers()
	var out []string
	for scanned := 0; len(out) < g.cfg.Fanout && scanned < len(peers); scanned++ {
		if g.cursor >= len(g.order) {
			g.order = append(g.order[:0], peers...)
			ctx.Rand().Shuffle(len(g.order), func(i, j int) { g.order[i], g.order[j] = g.order[j], g.order[i] })
			g.cursor = 0
		}
		id := g.order[g.cursor]
		g.cursor++
		if e := g.members[id]; e == nil || e.m.Left || g.view.Down[id] || slices.Contains(out, id) {
			continue
		}
		out = append(out, id)
	}
	var down []string
	for _, id := range peers {
		if g.view.Down[id] {
			down = append(down, id)
		}
	}
	if len(down) > 0 {
		out = append(out, down[ctx.Rand().IntN(len(down))])
	}
	return out
}

func (g *Gossiper) table() []Member {
	out := make([]Member, 0, len(g.members)+1)
	out = append(out, g.self)
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		if m := g.members[id].m; m.Generation > 0 || m.Left {
			out = append(out, m)
		}
	}
	return out
}

// merge folds a peer's table into ours.
func (g *Gossiper) merge(ctx actors.Context, ms []Member) {
	now := ctx.Elapsed()
	changed := false
	for _, m := range ms {
		if m.ID == g.self.ID {
			g.pastPreviousLife(ctx, m)
			continue
		}
		if m.Versions != 0 && m.Versions != g.self.Versions {
			g.refuse(ctx, m)
			continue
		}
		e, known := g.members[m.ID]
		if !known {
			if !g.cfg.AllowJoin || m.Left {
				continue
			}
			e = &entry{m: Member{ID: m.ID}, det: g.newDetector(now)}
			g.members[m.ID] = e
			ctx.Log().Info("member joined", "member", m.ID, "dc", m.DC, "rack", m.Rack)
		}
		if !m.newerThan(e.m) {
			continue
		}
		if m.State != e.m.State || m.Left != e.m.Left || !slices.Equal(m.Tokens, e.m.Tokens) {
			changed = true
		}
		if m.Left && !e.m.Left {
			ctx.Log().Info("member left", "member", m.ID)
		}
		seedTokens := e.m.Tokens
		e.m = m
		if len(m.Tokens) == 0 {
			e.m.Tokens = seedTokens
		}
		e.det.heartbeat(now)
	}
	if changed {
		g.publish(ctx)
	} else {
		g.publishIfChanged(ctx)
	}
}

// pastPreviousLife handles this node's own entry in a peer's table. Peers
// echo this life's (generation, heartbeat) back all the time: that is never
// newer than what this node holds, and changes nothing. An entry that is
// newer comes from a previous life of this node: its generation is from the
// wall clock, which may have stepped back since the previous start (or, at
// equal generation, the previous life's heartbeats ran further). Move past
// it, or every peer would take this life's heartbeats for stale ones and
// keep it down forever.
func (g *Gossiper) pastPreviousLife(ctx actors.Context, m Member) {
	echo := g.cfg.EchoMovesGeneration && m.Generation >= g.self.Generation
	if !m.newerThan(g.self) && !echo {
		return
	}
	g.self.Generation, g.self.Heartbeat = m.Generation+1, 0
	g.moves++
	actors.Mark(ctx, markGenerationMoved)
	ctx.Log().Warn("gossip generation moved past a previous life's", "generation", g.self.Generation,
		"previous_generation", m.Generation, "previous_heartbeat", m.Heartbeat)
}

// refuse keeps a member whose versions setting differs from this node's
// out of the membership: it is never heard from, so it is never up, and
// coordinators route around it. Logged once per member and life.
func (g *Gossiper) refuse(ctx actors.Context, m Member) {
	if g.refused[m.ID] {
		return
	}
	g.refused[m.ID] = true
	on := func(v bool) string {
		if v {
			return "on"
		}
		return "off"
	}
	ctx.Log().Error("peer refused: it runs with versions "+on(m.Versions == VersionsOn)+", this node with versions "+on(g.cfg.Versions)+
		"; a cluster must not mix them (unversioned writes would overwrite versioned ones): set `versions` alike on every node",
		"member", m.ID)
}

func (g *Gossiper) down(now time.Duration) map[string]bool {
	out := map[string]bool{}
	for id, e := range g.members {
		if e.m.Left || e.det.phi(now) > g.cfg.PhiThreshold {
			out[id] = true
		}
	}
	return out
}

func (g *Gossiper) publishIfChanged(ctx actors.Context) {
	if !maps.Equal(g.down(ctx.Elapsed()), g.view.Down) {
		g.publish(ctx)
	}
}

// publish rebuilds the view and sends it to every subscriber.
func (g *Gossiper) publish(ctx actors.Context) {
	old := g.view
	g.view = g.buildView(ctx.Elapsed())
	for id := range g.view.Down {
		if !old.Down[id] {
			if e := g.members[id]; e != nil {
				e.downs++
			}
			ctx.Log().Warn("member down", "member", id)
		}
	}
	for id := range old.Down {
		if !g.view.Down[id] {
			ctx.Log().Info("member up", "member", id)
		}
	}
	subs := make([]actors.Addr, 0, len(g.subs))
	for a := range g.subs {
		subs = append(subs, a)
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].String() < subs[j].String() })
	for _, a := range subs {
		ctx.Send(a, *g.view)
	}
}

func (g *Gossiper) buildView(now time.Duration) *View {
	g.version++
	v := &View{Version: g.version, Down: g.down(now), States: map[string]State{g.self.ID: g.self.State}, Self: g.self.State}
	nodes := []ring.Node{{ID: g.self.ID, DC: g.self.DC, Rack: g.self.Rack, Tokens: g.self.Tokens}}
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		e := g.members[id]
		if e.m.Left {
			continue
		}
		if e.m.State != Unknown {
			v.States[id] = e.m.State
		}
		if len(e.m.Tokens) > 0 {
			nodes = append(nodes, ring.Node{ID: id, DC: e.m.DC, Rack: e.m.Rack, Tokens: e.m.Tokens})
		}
	}
	r, err := ring.New(ring.Config{Nodes: nodes, Local: g.self.ID, Hash: g.cfg.Hash, HashTag: g.cfg.HashTag})
	if err != nil {
		// A joining node whose tokens clash is kept out of the ring; the
		// previous ring stays.
		if g.view != nil {
			v.Ring = g.view.Ring
		}
	} else {
		v.Ring = r
	}
	return v
}

// Snapshot is the membership as seen when the gossiper last handled a
// message (at most one heartbeat interval ago). Tests in the simulator and
// the admin port (inside the actor's turn) read it; actors ask with
// GetMembers.
func (g *Gossiper) Snapshot() Members { return g.snapshot(g.mono) }

func (g *Gossiper) snapshot(now time.Duration) Members {
	out := Members{List: []MemberView{{Member: g.self, Up: true}}, GenerationMoves: g.moves}
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		e := g.members[id]
		phi := e.det.phi(now)
		out.List = append(out.List, MemberView{Member: e.m, Up: !e.m.Left && phi <= g.cfg.PhiThreshold, Phi: phi, Downs: e.downs})
	}
	sort.Slice(out.List, func(i, j int) bool { return out.List[i].ID < out.List[j].ID })
	return out
}

// Coverage mark (actors.Mark; sim's TestMain requires a test run to reach it).
const markGenerationMoved = "gossip/generation-moved"
