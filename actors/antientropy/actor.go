package antientropy

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
)

// Defaults of Config.
const (
	DefaultInterval  = 10 * time.Minute
	DefaultScanRate  = 200000
	DefaultBandwidth = 32 << 20
	DefaultPageKeys  = 1000
	DefaultBits      = 10
	DefaultHorizon   = 10 * time.Second
	DefaultTimeout   = 30 * time.Second
	DefaultSettle    = 10 * time.Second
	DefaultMarkEvery = time.Second
	// resumeEvery is the pause between rounds while the node resumes.
	resumeEvery = 500 * time.Millisecond
	// busyRetries bounds the times a round asks a busy peer again.
	busyRetries = 3
	// dumpBatch bounds the dumps sent to a peer's store in one message.
	dumpBatch = 128
	// pageWindow bounds the pages a lister sends ahead of the peer's
	// acknowledgements: the peer pulls one while the next travels.
	pageWindow = 4
	// replyWait bounds the wait for a SyncReply (the peer answers at once
	// or after one scan of its store): a lost Sync ends the session soon.
	replyWait = 3 * time.Second
)

// Config sets an Actor up.
type Config struct {
	// Name, StoreName and GossipName are the anti-entropy actor's, the
	// store's and the gossiper's names, the same on every node.
	Name, StoreName, GossipName string
	// Ring is the ring the node starts with; gossip's views replace it.
	Ring *ring.Ring
	// Interval is the time between rounds (each jittered by ±25%); a
	// round syncs with every peer that shares a segment.
	Interval time.Duration
	// ScanRate bounds the keys a scan reads from the store per second;
	// Bandwidth the bytes of values copied in per second.
	ScanRate  int
	Bandwidth int64
	// PageKeys is the keys of one store listing (DYNO.KEYS count) and of
	// one Page to a peer.
	PageKeys int
	// Bits is log2 of the buckets (tree leaves) of one segment.
	Bits uint8
	// Horizon leaves the versions written in the last Horizon before a
	// round out of its digests: writes still replicating would make every
	// bucket differ under load. The next round covers them.
	Horizon time.Duration
	// Timeout aborts a session that made no progress for that long.
	Timeout time.Duration
	// Settle is how long a resuming node waits for a replica that is down
	// before it counts it out.
	Settle time.Duration
	// MarkEvery is how often the store's data marker is checked (a
	// datastore restarted empty loses it); negative: never after start.
	MarkEvery time.Duration
	// Resume makes a node whose datastore lost its data RESUMING until
	// it has pulled its segments from replicas.
	Resume bool
	// StateName is the node-state actor's name on this node (GetMark,
	// SaveMark): where the node remembers the datastore's marker, so that
	// at start a datastore without one is told emptied (the node
	// remembers one) from new (it does not). "": no memory, a datastore
	// without a marker at start is taken as new.
	StateName string
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.ScanRate <= 0 {
		c.ScanRate = DefaultScanRate
	}
	if c.Bandwidth <= 0 {
		c.Bandwidth = DefaultBandwidth
	}
	if c.PageKeys <= 0 {
		c.PageKeys = DefaultPageKeys
	}
	if c.Bits == 0 || c.Bits > 16 {
		c.Bits = DefaultBits
	}
	if c.Horizon <= 0 {
		c.Horizon = DefaultHorizon
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Settle <= 0 {
		c.Settle = DefaultSettle
	}
	if c.MarkEvery == 0 {
		c.MarkEvery = DefaultMarkEvery
	}
	return c
}

// New returns the producer of an anti-entropy actor.
func New(cfg Config) actors.Producer {
	cfg = cfg.withDefaults()
	return func() actors.Behaviour { return &Actor{cfg: cfg} }
}

// Actor is a node's anti-entropy: on a schedule (and on demand) it syncs
// the segments it owns with each replica that shares them, and it
// refills the node's datastore when it finds it emptied (doc.go).
type Actor struct {
	cfg  Config
	lay  *layout
	view *gossip.View

	nextID  uint64
	pending map[uint64]req

	scan  *scanner
	scans int      // scanners started: a scanner's gen
	ended []uint64 // the last sessions ended: a late copy of their Sync is no new session
	// downSince is when gossip saw each peer down, while it stays down.
	downSince map[string]time.Duration
	// silent counts, per peer up in gossip, the Syncs in a row it left
	// unanswered (it runs no anti-entropy: anti_entropy off there, or a
	// version without it), and since when.
	silent map[string]silence
	round  round
	sess   *session

	mark        string // the store's data marker as this node knows it
	markChecked bool   // the first DYNO.MARK answered
	markOff     bool   // the store has no markers (it does not know DYNO.MARK)
	markErrs    uint64 // other error answers to DYNO.MARK
	storeFresh  bool   // the first DYNO.MARK found no marker
	remembered  string // the node state's marker
	remResuming bool   // the node state says a refill was under way
	stateLoaded bool   // the node state answered (or there is none)
	decided     bool   // the start's verdict (new, emptied, kept) is made
	resume      *resumeState

	stat    Status
	ticking bool
}

// req is a store request in flight.
type req struct {
	kind    uint8
	session uint64
	idx     int
}

const (
	reqScan uint8 = iota + 1
	reqVersions
	reqDump
	reqRestore
	reqMark
)

// digest is the leaves of the local node's segments over the versions no
// newer than horizon.
type digest struct {
	horizon int64
	leaves  map[int][]uint64
}

// scanner walks the store's listing (DYNO.KEYS) a page at a time.
type scanner struct {
	list    bool   // listing for a session (else a digest)
	horizon int64  // a digest's
	cursor  []byte // "0" before the first page
	done    bool
	waitAck bool // a listing waits for the peer's PageAck
	inWait  bool // a page request or pacing timer is pending
	dig     *digest
	session uint64 // the session it serves (0: the round's digest)
	gen     int
}

type round struct {
	active  bool
	queue   []string
	busy    map[string]int
	started time.Duration
	dig     *digest // the round's digest, sent to each peer
}

type session struct {
	id        uint64
	peer      string
	initiator bool
	segs      []int // shared segments
	theirs    map[int][]uint64
	horizon   int64
	diff      []uint64 // sorted
	phase     uint8
	progress  time.Duration // elapsed at the last progress
	accepted  bool          // the peer took the Sync (SyncReply Scanning)
	sent      time.Duration // elapsed at the last message sent to the peer
	listed    uint64
	out       Page // the page being filled
	sentLast  bool
	lastAcked bool
	peerDone  bool
	sendSeq   uint64   // the last page sent's Seq
	unacked   []uint64 // the Seqs of pages sent, not acknowledged yet
	// the peer's page being pulled, and those waiting behind it
	in       *Page
	recvNext uint64 // the Seq of the peer's next page to pull
	held     []Page // the peer's pages that came ahead of their turn
	pulls    []pull
	left     int
	bytes    int
	keysIn   uint64
	pulledIn uint64
	pullErrs uint64 // pulls that failed: the session does not count as synced
}

type pull struct {
	key     []byte
	ver     hlc.Version
	inPlace bool // listed with the in-place mark
}

const (
	phaseDigest   uint8 = iota + 1 // waiting for the local digest
	phaseReply                     // initiator: waiting for SyncReply
	phaseTransfer                  // listing and pulling
)

type resumeState struct {
	since      time.Duration
	at         time.Time
	synced     map[string]bool
	normal     map[int]bool
	keys, size uint64
}

// Timer messages.
type (
	tick       struct{}
	roundTimer struct{}
	scanNext   struct{ gen int }
	nextTimer  struct{}
	ackLater   struct{ session uint64 }
)

// Receive implements actors.Behaviour.
func (a *Actor) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		a.start(ctx)
	case gossip.View:
		a.setView(ctx, m)
	case tick:
		a.onTick(ctx)
	case roundTimer:
		a.startRound(ctx, false)
	case nextTimer:
		a.nextPeer(ctx)
	case scanNext:
		if a.scan != nil && a.scan.gen == m.gen {
			a.scan.inWait = false
			a.requestPage(ctx)
		}
	case ackLater:
		if s := a.sess; s != nil && s.id == m.session {
			a.ackPage(ctx)
		}
	case store.Result:
		a.result(ctx, m)
	case store.Results:
		for _, r := range m.Results {
			a.result(ctx, r)
		}
	case Sync:
		a.onSync(ctx, m)
	case SyncReply:
		a.onSyncReply(ctx, m)
	case Page:
		a.onPage(ctx, m)
	case PageAck:
		a.onPageAck(ctx, m)
	case Abort:
		if s := a.sess; s != nil && s.id == m.Session {
			ctx.Log().Info("anti-entropy session aborted by the peer", "peer", s.peer)
			a.endSession(ctx, false)
		}
	case MarkState:
		if m.Err != "" {
			ctx.Log().Warn("anti-entropy: the node's remembered data marker cannot be read: a datastore found empty at start is taken as new", "err", m.Err)
		}
		a.remembered, a.remResuming, a.stateLoaded = m.Mark, m.Resuming, true
		a.decide(ctx)
	case GetStatus:
		ctx.Send(ctx.Sender(), a.Snapshot(ctx.Now()))
	case Start:
		a.startRound(ctx, true)
		ctx.Send(ctx.Sender(), a.Snapshot(ctx.Now()))
	}
}

func (a *Actor) start(ctx actors.Context) {
	a.lay = newLayout(a.cfg.Ring)
	a.pending = map[uint64]req{}
	a.stat = Status{Enabled: true}
	if a.cfg.GossipName != "" {
		ctx.Send(actors.Addr{Node: ctx.Self().Node, Name: a.cfg.GossipName}, gossip.Subscribe{})
	}
	// A marker of this life: kept if the store holds none.
	a.mark = fmt.Sprintf("%s/%016x", ctx.Self().Node, ctx.Rand().Uint64())
	a.stateLoaded = a.cfg.StateName == ""
	if !a.stateLoaded {
		ctx.Send(a.stateAddr(ctx), GetMark{})
	}
	a.checkMark(ctx)
	a.armTick(ctx)
	a.scheduleRound(ctx, a.jitter(ctx, a.cfg.Interval))
}

func (a *Actor) jitter(ctx actors.Context, d time.Duration) time.Duration {
	return d*3/4 + time.Duration(ctx.Rand().Int64N(int64(d/2)+1))
}

func (a *Actor) scheduleRound(ctx actors.Context, d time.Duration) {
	ctx.After(d, roundTimer{})
	a.stat.NextRound = ctx.Now().Add(d)
}

func (a *Actor) armTick(ctx actors.Context) {
	if !a.ticking {
		a.ticking = true
		ctx.After(min(a.cfg.Timeout/4, max(a.cfg.MarkEvery, 100*time.Millisecond)), tick{})
	}
}

// onTick checks the store's marker and aborts a session that stalled.
func (a *Actor) onTick(ctx actors.Context) {
	a.ticking = false
	if a.cfg.MarkEvery > 0 && !a.markOff {
		a.checkMark(ctx)
	}
	if s := a.sess; s != nil && (ctx.Elapsed()-s.progress > a.cfg.Timeout || s.phase == phaseReply && !s.accepted && ctx.Elapsed()-s.progress > replyWait) {
		ctx.Log().Warn("anti-entropy session made no progress: aborted", "peer", s.peer, "timeout", a.cfg.Timeout)
		if s.phase == phaseReply && !s.accepted {
			a.unanswered(ctx, s.peer)
		}
		ctx.Send(a.peerAddr(s.peer), Abort{Session: s.id})
		a.endSession(ctx, false)
	}
	a.armTick(ctx)
}

func (a *Actor) stateAddr(ctx actors.Context) actors.Addr {
	return actors.Addr{Node: ctx.Self().Node, Name: a.cfg.StateName}
}

func (a *Actor) storeAddr(ctx actors.Context) actors.Addr {
	return actors.Addr{Node: ctx.Self().Node, Name: a.cfg.StoreName}
}

func (a *Actor) peerAddr(peer string) actors.Addr {
	return actors.Addr{Node: actors.NodeID(peer), Name: a.cfg.Name}
}

func (a *Actor) send(ctx actors.Context, to actors.Addr, r req, args ...[]byte) {
	a.nextID++
	a.pending[a.nextID] = r
	ctx.Send(to, store.Exec{ID: a.nextID, Args: args})
}

// checkMark asks the store for its data marker: only a node with
// replicas resumes, so a lone node leaves its datastore alone (and does
// not dial it before the first request).
func (a *Actor) checkMark(ctx actors.Context) {
	if len(a.lay.peers()) == 0 {
		return
	}
	a.send(ctx, a.storeAddr(ctx), req{kind: reqMark}, []byte("DYNO.MARK"), []byte(a.mark))
}

func (a *Actor) setView(ctx actors.Context, v gossip.View) {
	a.view = &v
	if v.Ring != nil && v.Ring != a.lay.ring {
		a.lay = newLayout(v.Ring)
	}
	if a.downSince == nil {
		a.downSince = map[string]time.Duration{}
	}
	for _, p := range a.lay.peers() {
		if !v.Down[p.ID] {
			delete(a.downSince, p.ID)
		} else if _, ok := a.downSince[p.ID]; !ok {
			a.downSince[p.ID] = ctx.Elapsed()
		}
	}
}

type silence struct {
	syncs int
	since time.Duration
}

// silentSyncs is how many unanswered Syncs in a row make a peer silent.
const silentSyncs = 3

// unanswered counts a Sync peer left unanswered; the third in a row is
// logged: a resuming node then counts the peer out as if it were down.
func (a *Actor) unanswered(ctx actors.Context, peer string) {
	if a.silent == nil {
		a.silent = map[string]silence{}
	}
	sl := a.silent[peer]
	if sl.syncs == 0 {
		sl.since = ctx.Elapsed()
	}
	if sl.syncs++; sl.syncs == silentSyncs {
		ctx.Log().Warn("anti-entropy: a replica answers no Sync (anti_entropy off there, or a version without it?): it cannot refill this node",
			"peer", peer)
	}
	a.silent[peer] = sl
}

// downLong reports whether peer has been down for Settle: a resuming
// node counts it out then, and no sooner (a replica that flaps down
// for a moment may be the one that holds the data).
func (a *Actor) downLong(ctx actors.Context, peer string) bool {
	since, ok := a.downSince[peer]
	return ok && ctx.Elapsed()-since >= a.cfg.Settle
}

func (a *Actor) up(peer string) bool { return a.view == nil || !a.view.Down[peer] }

// heard reports whether gossip has heard from peer (it knows its state):
// a round syncs only with those, so a node starting before its peers
// does not send into links that are not up yet.
func (a *Actor) heard(peer string) bool {
	if a.view == nil {
		return false
	}
	_, ok := a.view.States[peer]
	return ok
}

// startRound starts a round of sessions, unless one runs: with every
// peer when all is set (an operator's Start, a node resuming), else with
// the peers whose id sorts after this node's: a session syncs both ways,
// so each pair needs one per interval, and the node with the lower id
// starts it (one scan of each store fewer per pair and interval).
func (a *Actor) startRound(ctx actors.Context, all bool) {
	if a.round.active {
		return
	}
	all = all || a.resume != nil
	var queue []string
	for _, p := range a.lay.peers() {
		if a.up(p.ID) && a.heard(p.ID) && (all || p.ID > a.lay.self.ID) {
			queue = append(queue, p.ID)
		}
	}
	if len(queue) == 0 {
		a.checkResume(ctx)
		a.scheduleRound(ctx, a.nextDelay(ctx))
		return
	}
	a.stat.Round++
	a.round = round{active: true, queue: queue, busy: map[string]int{}, started: ctx.Elapsed()}
	a.stat.LastRound = ctx.Now()
	// nextPeer scans first (the round has no digest yet), once a session
	// or scan this node serves for a peer is over.
	a.nextPeer(ctx)
}

// roundScan scans the store into the round's digest.
func (a *Actor) roundScan(ctx actors.Context) {
	// Versions carry HLC wall times, which a node's clock may lag (a
	// clock stepped back): the horizon is taken from the HLC. When the
	// HLC runs ahead of the clock (some node's clock ran ahead), versions
	// pile up on one wall time with growing logical counts, and no wall
	// time tells the recent ones: every version is compared.
	hw := ctx.HLC().Wall
	horizon := hw - int64(a.cfg.Horizon)
	if hw-ctx.Now().UnixNano() > int64(a.cfg.Horizon/2) {
		horizon = math.MaxInt64
	}
	if a.resume != nil {
		// A node refilling compares everything: what it missed lately
		// counts as much as the rest.
		horizon = math.MaxInt64
	}
	a.round.dig = nil
	a.startScan(ctx, &scanner{horizon: horizon})
}

func (a *Actor) nextDelay(ctx actors.Context) time.Duration {
	if a.resume != nil {
		return resumeEvery
	}
	return a.jitter(ctx, a.cfg.Interval)
}

// nextPeer opens the round's next session, or ends the round.
func (a *Actor) nextPeer(ctx actors.Context) {
	if !a.round.active || a.sess != nil || a.scan != nil {
		return
	}
	for len(a.round.queue) > 0 {
		if a.round.dig == nil {
			// The digest is gone: a session pulled keys since it was
			// taken (an emptied store's first session pulls them all),
			// and the next peer would be compared with what it lacked.
			a.roundScan(ctx)
			return
		}
		peer := a.round.queue[0]
		a.round.queue = a.round.queue[1:]
		n, ok := a.lay.ring.Node(peer)
		if !ok || !a.up(peer) || !a.heard(peer) {
			continue
		}
		segs := a.lay.shared(n)
		if len(segs) == 0 {
			continue
		}
		d := a.round.dig
		s := &session{id: ctx.Rand().Uint64() | 1, peer: peer, initiator: true, segs: segs, horizon: d.horizon,
			phase: phaseReply, progress: ctx.Elapsed()}
		sync := Sync{Session: s.id, From: string(ctx.Self().Node), Layout: a.lay.sum, Horizon: d.horizon, Bits: a.cfg.Bits}
		for _, i := range segs {
			sync.Segs = append(sync.Segs, a.lay.bounds[i])
			sync.Leaves = append(sync.Leaves, a.leaves(d, i))
			a.stat.BytesSent += uint64(8 << a.cfg.Bits)
		}
		a.sess = s
		ctx.Send(a.peerAddr(peer), sync)
		return
	}
	a.round.active = false
	a.stat.LastRoundTook = ctx.Elapsed() - a.round.started
	a.checkResume(ctx)
	a.scheduleRound(ctx, a.nextDelay(ctx))
}

func (a *Actor) leaves(d *digest, seg int) []uint64 {
	if l := d.leaves[seg]; l != nil {
		return l
	}
	return make([]uint64, 1<<a.cfg.Bits)
}

// onSync answers a peer's Sync: busy, or a session whose digest it scans.
func (a *Actor) onSync(ctx actors.Context, m Sync) {
	if a.sess != nil && a.sess.id == m.Session || slices.Contains(a.ended, m.Session) {
		return // a copy the network duplicated or delayed
	}
	reply := SyncReply{Session: m.Session}
	switch {
	case a.sess != nil || a.scan != nil:
		reply.Busy = true
	case m.Layout != a.lay.sum || m.Bits != a.cfg.Bits || len(m.Segs) != len(m.Leaves):
		reply.Mismatch = true
	}
	if reply.Busy || reply.Mismatch {
		ctx.Send(ctx.Sender(), reply)
		return
	}
	s := &session{id: m.Session, peer: m.From, segs: nil, theirs: map[int][]uint64{}, horizon: m.Horizon,
		phase: phaseDigest, progress: ctx.Elapsed()}
	n, ok := a.lay.ring.Node(m.From)
	if ok {
		own := a.lay.shared(n)
		for j, b := range m.Segs {
			if i := a.lay.index(b); i >= 0 && slices.Contains(own, i) && len(m.Leaves[j]) == 1<<a.cfg.Bits {
				s.segs = append(s.segs, i)
				s.theirs[i] = m.Leaves[j]
			}
		}
	}
	a.sess = s
	s.sent = ctx.Elapsed()
	ctx.Send(ctx.Sender(), SyncReply{Session: s.id, Scanning: true})
	a.startScan(ctx, &scanner{horizon: m.Horizon})
}

// alive tells the peer this side still works on the session when it sent
// it nothing for a quarter of Timeout; true if it did.
func (a *Actor) alive(ctx actors.Context, s *session) bool {
	if ctx.Elapsed()-s.sent < a.cfg.Timeout/4 {
		return false
	}
	s.sent = ctx.Elapsed()
	if s.phase == phaseDigest {
		ctx.Send(a.peerAddr(s.peer), SyncReply{Session: s.id, Scanning: true})
	}
	return true
}

// digestDone: a digest scan ended.
func (a *Actor) digestDone(ctx actors.Context, d *digest) {
	s := a.sess
	if s == nil || s.phase != phaseDigest {
		if a.round.active {
			a.round.dig = d
		}
		a.nextPeer(ctx)
		return
	}
	// A responder compares and answers.
	for _, i := range s.segs {
		mine, theirs := a.leaves(d, i), s.theirs[i]
		for b := range mine {
			if mine[b] != theirs[b] {
				s.diff = append(s.diff, uint64(a.lay.bounds[i])<<32|uint64(b))
			}
		}
	}
	slices.Sort(s.diff)
	s.theirs = nil
	a.stat.BytesSent += uint64(8 * len(s.diff))
	ctx.Send(a.peerAddr(s.peer), SyncReply{Session: s.id, Diff: s.diff})
	a.transfer(ctx)
}

func (a *Actor) onSyncReply(ctx actors.Context, m SyncReply) {
	s := a.sess
	if s == nil || s.id != m.Session || s.phase != phaseReply {
		return
	}
	s.progress = ctx.Elapsed()
	delete(a.silent, s.peer) // it answers: it runs anti-entropy
	switch {
	case m.Scanning:
		s.accepted = true
		return
	case m.Mismatch:
		ctx.Log().Info("anti-entropy: the peer's ring differs from this node's: skipped this round", "peer", s.peer)
		a.endSession(ctx, false)
		return
	case m.Busy && s.accepted:
		return // a copy of the Sync came in while the peer ran the session
	case m.Busy:
		if a.round.busy[s.peer]++; a.round.busy[s.peer] <= busyRetries {
			a.round.queue = append(a.round.queue, s.peer)
		}
		a.sess = nil
		a.stat.Aborted++
		// Let the peer finish: the next session waits a little.
		ctx.After(time.Duration(100+ctx.Rand().IntN(400))*time.Millisecond, nextTimer{})
		return
	}
	s.diff = m.Diff
	ctx.Log().Debug("anti-entropy session", "peer", s.peer, "differing_buckets", len(s.diff), "horizon", s.horizon)
	a.transfer(ctx)
}

// transfer starts listing the differing buckets to the peer (and pulling
// what the peer lists); with nothing differing, the session ends.
func (a *Actor) transfer(ctx actors.Context) {
	s := a.sess
	if len(s.diff) == 0 {
		a.stat.InSync++
		a.endSession(ctx, true)
		return
	}
	s.phase = phaseTransfer
	s.out = Page{Session: s.id}
	a.startScan(ctx, &scanner{list: true})
	a.nextPage(ctx) // the peer's pages that came before its SyncReply
}

// startScan starts sc (a digest scan or a session's listing).
func (a *Actor) startScan(ctx actors.Context, sc *scanner) {
	sc.cursor = []byte("0")
	a.scans++
	sc.gen = a.scans
	if a.sess != nil {
		sc.session = a.sess.id
	}
	if !sc.list {
		sc.dig = &digest{horizon: sc.horizon, leaves: map[int][]uint64{}}
	}
	a.scan = sc
	a.stat.State = "scanning"
	a.requestPage(ctx)
}

func (a *Actor) requestPage(ctx actors.Context) {
	sc := a.scan
	if sc.inWait || sc.waitAck || sc.done {
		return
	}
	sc.inWait = true
	a.send(ctx, a.storeAddr(ctx), req{kind: reqScan, session: sc.session, idx: sc.gen}, []byte("DYNO.KEYS"), sc.cursor,
		[]byte(strconv.Itoa(a.cfg.PageKeys)))
}

// scanPage files one page of the store's listing.
func (a *Actor) scanPage(ctx actors.Context, r store.Result) {
	sc := a.scan
	sc.inWait = false
	v, ok := parseReply(r)
	if !ok || v.Type != resp.Array || len(v.Elems) != 2 || v.Elems[1].Type != resp.Array {
		ctx.Log().Warn("anti-entropy: the store cannot list its keys: scan abandoned", "reply", replyText(r))
		a.scan = nil
		if a.sess != nil {
			ctx.Send(a.peerAddr(a.sess.peer), Abort{Session: a.sess.id})
			a.endSession(ctx, false)
		}
		if a.round.active && a.round.dig == nil {
			a.round.queue = nil
		}
		a.nextPeer(ctx)
		return
	}
	pairs := v.Elems[1].Elems
	a.stat.KeysScanned += uint64(len(pairs) / 2)
	s := a.sess
	for i := 0; i+1 < len(pairs); i += 2 {
		key, text := pairs[i].Str, pairs[i+1].Str
		seg := a.lay.keySegment(key)
		if seg < 0 || !a.lay.own[seg] {
			continue
		}
		kh := keyHash(key)
		bucket := kh >> (64 - a.cfg.Bits)
		if !sc.list {
			ver, ok := hlc.ParseText(trimR(text))
			if !ok || ver.TS.Wall > sc.horizon {
				continue
			}
			l := sc.dig.leaves[seg]
			if l == nil {
				l = make([]uint64, 1<<a.cfg.Bits)
				sc.dig.leaves[seg] = l
			}
			l[bucket] += leafOf(kh, text) // a sum: a key an HSCAN lists twice shows, not cancels
			continue
		}
		if _, found := slices.BinarySearch(s.diff, uint64(a.lay.bounds[seg])<<32|bucket); !found || !slices.Contains(s.segs, seg) {
			continue
		}
		s.out.Keys = append(s.out.Keys, append([]byte(nil), key...))
		s.out.Versions = append(s.out.Versions, append([]byte(nil), text...))
	}
	sc.cursor = append(sc.cursor[:0], v.Elems[0].Str...)
	sc.done = string(sc.cursor) == "0"
	if s != nil {
		s.progress = ctx.Elapsed()
	}
	if !sc.list {
		if sc.done {
			a.scan = nil
			a.stat.State = "idle"
			a.digestDone(ctx, sc.dig)
			return
		}
		if s != nil {
			a.alive(ctx, s)
		}
		a.pace(ctx)
		return
	}
	if sc.done || len(s.out.Keys) >= a.cfg.PageKeys || a.alive(ctx, s) {
		p := s.out
		p.Last = sc.done
		s.out = Page{Session: s.id}
		for i := range p.Keys {
			a.stat.BytesSent += uint64(len(p.Keys[i]) + len(p.Versions[i]))
		}
		s.listed += uint64(len(p.Keys))
		a.stat.KeysListed += uint64(len(p.Keys))
		s.sentLast = p.Last
		s.sent = ctx.Elapsed()
		s.sendSeq++
		p.Seq = s.sendSeq
		s.unacked = append(s.unacked, p.Seq)
		a.stat.State = "syncing"
		ctx.Send(a.peerAddr(s.peer), p)
		if p.Last || len(s.unacked) >= pageWindow {
			sc.waitAck = true
			return
		}
	}
	a.pace(ctx)
}

// pace asks for the next page after the time ScanRate allows a page.
func (a *Actor) pace(ctx actors.Context) {
	d := time.Duration(int64(a.cfg.PageKeys) * int64(time.Second) / int64(a.cfg.ScanRate))
	if d < time.Millisecond {
		a.requestPage(ctx)
		return
	}
	a.scan.inWait = true
	ctx.After(d, scanNext{gen: a.scan.gen})
}

func (a *Actor) onPageAck(ctx actors.Context, m PageAck) {
	s := a.sess
	if s == nil || s.id != m.Session || a.scan == nil || !a.scan.list {
		return
	}
	i := slices.Index(s.unacked, m.Seq)
	if i < 0 {
		return // a copy, or an ack of a page acknowledged already
	}
	s.unacked = slices.Delete(s.unacked, i, i+1)
	s.progress = ctx.Elapsed()
	if s.sentLast {
		if len(s.unacked) == 0 {
			s.lastAcked = true
			a.scan = nil
			a.maybeEnd(ctx)
		}
		return
	}
	if a.scan.waitAck {
		a.scan.waitAck = false
		a.pace(ctx)
	}
}

// onPage takes a peer's page: pages are pulled in their order (Seq), a
// page that came ahead of its turn waits, a copy of one pulled already
// is acknowledged again (the first ack may have been lost).
func (a *Actor) onPage(ctx actors.Context, p Page) {
	s := a.sess
	if s == nil || s.id != p.Session || len(p.Keys) != len(p.Versions) || p.Seq == 0 {
		return
	}
	if s.recvNext == 0 {
		s.recvNext = 1
	}
	if p.Seq < s.recvNext {
		ctx.Send(a.peerAddr(s.peer), PageAck{Session: s.id, Seq: p.Seq})
		return
	}
	if s.in != nil && s.in.Seq == p.Seq || slices.ContainsFunc(s.held, func(h Page) bool { return h.Seq == p.Seq }) ||
		len(s.held) >= 2*pageWindow {
		return
	}
	s.progress = ctx.Elapsed()
	s.held = append(s.held, p)
	a.nextPage(ctx)
}

// nextPage pulls the peer's next page in order, if it came and no other
// is being pulled.
func (a *Actor) nextPage(ctx actors.Context) {
	s := a.sess
	if s == nil || s.in != nil || s.phase != phaseTransfer {
		return
	}
	if s.recvNext == 0 {
		s.recvNext = 1
	}
	i := slices.IndexFunc(s.held, func(h Page) bool { return h.Seq == s.recvNext })
	if i < 0 {
		return
	}
	p := s.held[i]
	s.held = slices.Delete(s.held, i, i+1)
	a.pullPage(ctx, p)
}

// pullPage starts pulling what page p lists.
func (a *Actor) pullPage(ctx actors.Context, p Page) {
	s := a.sess
	s.in = &p
	s.keysIn += uint64(len(p.Keys))
	a.stat.KeysCompared += uint64(len(p.Keys))
	if len(p.Keys) == 0 {
		a.ackPage(ctx)
		return
	}
	args := append([][]byte{[]byte("DYNO.VERSIONS")}, p.Keys...)
	a.send(ctx, a.storeAddr(ctx), req{kind: reqVersions, session: s.id}, args...)
}

// versions decides the pulls of the page being pulled from the local
// versions of its keys.
func (a *Actor) versions(ctx actors.Context, r store.Result) {
	s := a.sess
	v, ok := parseReply(r)
	if !ok || v.Type != resp.Array || len(v.Elems) != len(s.in.Keys) {
		ctx.Log().Warn("anti-entropy: the store cannot tell its versions: page skipped", "reply", replyText(r))
		a.stat.PullErrors++
		s.pullErrs++
		a.ackPage(ctx)
		return
	}
	quietBefore := ctx.HLC().Wall - int64(a.cfg.Horizon)
	s.pulls = s.pulls[:0]
	for i, key := range s.in.Keys {
		theirs, ok1 := hlc.ParseText(trimR(s.in.Versions[i]))
		mine, ok2 := hlc.ParseText(trimR(v.Elems[i].Str))
		if !ok1 || !ok2 || !mine.Less(theirs) {
			continue
		}
		// A value modified in place is copied only where the key is
		// missing (no value, no tombstone): over a copy that holds
		// elements or increments the peer's lacks, it would lose them. And
		// only once quiet for the horizon: a write still in flight to this
		// replica would apply on top of the copy and count twice. A node
		// refilling an emptied datastore takes the newer copy at once:
		// what it holds of the key came since it was emptied, and the
		// peer had those writes too.
		if isR(s.in.Versions[i]) && a.resume == nil && (!mine.IsZero() || theirs.TS.Wall > quietBefore) {
			continue
		}
		s.pulls = append(s.pulls, pull{key: key, ver: theirs, inPlace: isR(s.in.Versions[i])})
	}
	if len(s.pulls) == 0 {
		a.ackPage(ctx)
		return
	}
	s.left, s.bytes = len(s.pulls), 0
	peerStore := actors.Addr{Node: actors.NodeID(s.peer), Name: a.cfg.StoreName}
	for start := 0; start < len(s.pulls); start += dumpBatch {
		var b store.Batch
		for i := start; i < min(start+dumpBatch, len(s.pulls)); i++ {
			a.nextID++
			a.pending[a.nextID] = req{kind: reqDump, session: s.id, idx: i}
			b.Execs = append(b.Execs, store.Exec{ID: a.nextID, Args: [][]byte{[]byte("DYNO.DUMP"), s.pulls[i].key}})
		}
		ctx.Send(peerStore, b)
	}
}

// dumped copies a value (or tombstone) a peer's store dumped into the
// local store, under its version.
func (a *Actor) dumped(ctx actors.Context, q req, r store.Result) {
	s := a.sess
	p := s.pulls[q.idx]
	v, ok := parseReply(r)
	if !ok || v.Type != resp.BulkString {
		a.stat.PullErrors++
		s.pullErrs++
		a.pulled(ctx)
		return
	}
	ver := r.Version
	if ver.IsZero() && !v.Null {
		if !p.inPlace {
			// Listed whole, now modified in place (no version to
			// reads): the in-place rule decides it at the next round.
			a.pulled(ctx)
			return
		}
		ver = p.ver // a value modified in place answers no version: the listing's
	}
	var args [][]byte
	switch {
	case v.Null && r.Version.IsZero():
		a.pulled(ctx) // gone since it was listed (expired)
		return
	case v.Null:
		args = [][]byte{[]byte("DYNO.DEL"), p.key}
	default:
		args = [][]byte{[]byte("DYNO.RESTORE"), p.key, append([]byte(nil), v.Str...)}
		s.bytes += len(v.Str)
	}
	a.nextID++
	a.pending[a.nextID] = req{kind: reqRestore, session: s.id, idx: q.idx}
	ctx.Send(a.storeAddr(ctx), store.Exec{ID: a.nextID, Args: args, Version: ver})
}

func (a *Actor) restored(ctx actors.Context, r store.Result) {
	if v, ok := parseReply(r); !ok || v.Type == resp.Error {
		a.stat.PullErrors++
		a.sess.pullErrs++
	} else {
		a.stat.KeysPulled++
		a.sess.pulledIn++
	}
	a.pulled(ctx)
}

// pulled counts one pull of the page done; the last acknowledges the page
// once the bandwidth allows its bytes.
func (a *Actor) pulled(ctx actors.Context) {
	s := a.sess
	if s.left--; s.left > 0 {
		return
	}
	a.stat.BytesPulled += uint64(s.bytes)
	if a.resume != nil {
		a.resume.keys += uint64(len(s.pulls))
		a.resume.size += uint64(s.bytes)
	}
	d := time.Duration(int64(s.bytes) * int64(time.Second) / a.cfg.Bandwidth)
	if d >= time.Millisecond {
		ctx.After(d, ackLater{session: s.id})
		return
	}
	a.ackPage(ctx)
}

func (a *Actor) ackPage(ctx actors.Context) {
	s := a.sess
	if s.in == nil {
		return
	}
	last, seq := s.in.Last, s.in.Seq
	s.in, s.pulls = nil, s.pulls[:0]
	s.recvNext = seq + 1
	s.progress = ctx.Elapsed()
	ctx.Send(a.peerAddr(s.peer), PageAck{Session: s.id, Seq: seq})
	if last {
		s.peerDone = true
		s.held = nil // nothing comes after the last
		a.maybeEnd(ctx)
		return
	}
	a.nextPage(ctx)
}

func (a *Actor) maybeEnd(ctx actors.Context) {
	if s := a.sess; s != nil && s.lastAcked && s.peerDone && s.in == nil {
		a.endSession(ctx, true)
	}
}

// endSession ends the session; a completed one counts for resuming.
func (a *Actor) endSession(ctx actors.Context, ok bool) {
	s := a.sess
	a.sess = nil
	if a.ended = append(a.ended, s.id); len(a.ended) > 16 {
		a.ended = a.ended[1:]
	}
	if a.scan != nil && a.scan.session == s.id {
		a.scan = nil
	}
	for id, q := range a.pending {
		if q.session == s.id {
			delete(a.pending, id)
		}
	}
	a.stat.State = "idle"
	ctx.Log().Debug("anti-entropy session ended", "peer", s.peer, "ok", ok, "initiator", s.initiator, "listed", s.listed,
		"compared", s.keysIn, "pulled", s.pulledIn)
	if ok {
		a.stat.Sessions++
		if s.pulledIn > 0 {
			ctx.Log().Info("anti-entropy repaired keys from a replica", "peer", s.peer, "keys", s.pulledIn, "compared", s.keysIn)
			a.round.dig = nil
		}
		if a.resume != nil && s.horizon == math.MaxInt64 && s.pullErrs == 0 {
			a.resume.synced[s.peer] = true
			if a.view != nil && a.view.States[s.peer] == gossip.Normal {
				for _, i := range s.segs {
					a.resume.normal[i] = true
				}
			}
		}
	} else {
		a.stat.Aborted++
	}
	a.checkResume(ctx)
	a.nextPeer(ctx)
}

// result routes a store's answer by the request it answers.
func (a *Actor) result(ctx actors.Context, r store.Result) {
	q, ok := a.pending[r.ID]
	if !ok {
		return
	}
	delete(a.pending, r.ID)
	if q.kind == reqMark {
		a.marked(ctx, r)
		return
	}
	if q.kind == reqScan {
		if a.scan != nil && a.scan.gen == q.idx {
			a.scanPage(ctx, r)
		}
		return
	}
	s := a.sess
	if s == nil || s.id != q.session || s.in == nil {
		return
	}
	s.progress = ctx.Elapsed()
	switch q.kind {
	case reqVersions:
		a.versions(ctx, r)
	case reqDump:
		a.dumped(ctx, q, r)
	case reqRestore:
		a.restored(ctx, r)
	}
}

// marked files the store's answer to DYNO.MARK: no marker means a new or
// emptied datastore.
func (a *Actor) marked(ctx actors.Context, r store.Result) {
	v, ok := parseReply(r)
	if r.Failure != "" {
		return // the store is down: asked again at the next tick
	}
	if !ok || v.Type != resp.BulkString {
		// A datastore that does not know the command keeps no markers;
		// any other error (a server still loading, a script not loaded
		// yet) is asked again at the next tick.
		if !ok || !bytes.Contains(bytes.ToLower(v.Str), []byte("unknown command")) {
			if a.markErrs++; a.markErrs&(a.markErrs-1) == 0 {
				ctx.Log().Warn("anti-entropy: the datastore's data marker cannot be read: asked again", "reply", replyText(r), "times", a.markErrs)
			}
			return
		}
		if !a.markOff {
			ctx.Log().Info("anti-entropy: the datastore keeps no data marker: an emptied datastore is not detected", "reply", replyText(r))
		}
		a.markOff, a.markChecked = true, true
		a.decide(ctx)
		return
	}
	first := !a.markChecked
	a.markChecked = true
	switch got := string(v.Str); {
	case got == a.mark:
	case got != "" && first:
		a.mark = got // kept from this node's previous life
	case got != "":
		ctx.Log().Warn("anti-entropy: the datastore holds another node's data marker (two nodes share one datastore?)", "marker", got)
		a.mark = got
		a.remember(ctx)
	case first:
		a.storeFresh = true
	default:
		a.stat.Resumes++
		a.enterResume(ctx, "the datastore lost its data marker (restarted empty)")
	}
	if first {
		a.decide(ctx)
	}
}

// decide makes the start's verdict once the store and the node state
// have answered: a datastore without a marker on a node that remembers
// one lost its data (the embedded store of a restarted process, a redis
// restarted empty while the node was down): the node resumes. Without a
// remembered marker the datastore is new (a new node, a new cluster).
func (a *Actor) decide(ctx actors.Context) {
	if a.decided || !a.markChecked || !a.stateLoaded {
		return
	}
	a.decided = true
	switch {
	case a.storeFresh && a.remembered != "":
		a.stat.Resumes++
		a.enterResume(ctx, "the datastore holds no data marker, but it held one before this start (emptied)")
	case a.remembered != "" && a.mark != a.remembered:
		// Not the datastore the node knew (its marker was set by a
		// previous start that died before saving it, or it is another
		// node's): refill from the replicas, to be safe.
		a.stat.Resumes++
		a.enterResume(ctx, "the datastore holds another data marker than the one this node remembers")
	case a.remResuming:
		a.enterResume(ctx, "this node was refilling its datastore when it stopped")
	}
	a.remember(ctx)
}

// remember saves the datastore's marker as the node's, and whether it
// refills the datastore, if either changed.
func (a *Actor) remember(ctx actors.Context) {
	resuming := a.resume != nil
	if a.cfg.StateName == "" || a.markOff || !a.decided || a.remembered == a.mark && a.remResuming == resuming {
		return
	}
	a.remembered, a.remResuming = a.mark, resuming
	ctx.Send(a.stateAddr(ctx), SaveMark{Mark: a.mark, Resuming: resuming})
}

// enterResume makes the node RESUMING until it has pulled its segments
// from replicas; a node without replicas has nothing to wait for.
func (a *Actor) enterResume(ctx actors.Context, why string) {
	if !a.cfg.Resume || len(a.lay.peers()) == 0 {
		return
	}
	// What the round scanned and what a session in flight compared was
	// the datastore before the loss: both go. A loss while resuming
	// starts the refill over.
	a.resume = &resumeState{since: ctx.Elapsed(), at: ctx.Now(), synced: map[string]bool{}, normal: map[int]bool{}}
	a.remember(ctx)
	a.round.dig = nil
	if s := a.sess; s != nil {
		ctx.Send(a.peerAddr(s.peer), Abort{Session: s.id})
		a.endSession(ctx, false)
	}
	a.setState(ctx, gossip.Normal, gossip.Resuming)
	ctx.Log().Warn("anti-entropy: resuming: reads go to replicas until this node has pulled its data from them",
		"why", why, "segments", a.lay.owned(), "replicas", len(a.lay.peers()))
	if !a.round.active {
		a.startRound(ctx, true)
	}
}

// setState moves the node's declared state from one to another, leaving
// a state the operator chose alone.
func (a *Actor) setState(ctx actors.Context, from, to gossip.State) {
	if a.cfg.GossipName == "" || (a.view != nil && a.view.Self != from) {
		return
	}
	ctx.Send(actors.Addr{Node: ctx.Self().Node, Name: a.cfg.GossipName}, gossip.SetState{State: to})
}

// checkResume ends resuming once every segment the node owns is
// refilled: synced with a replica that is NORMAL, or with every replica
// that is up while those that are down have been down for Settle.
func (a *Actor) checkResume(ctx actors.Context) {
	rs := a.resume
	if rs == nil {
		return
	}
	done, total := 0, 0
	peers := a.lay.peers()
	for i, own := range a.lay.own {
		if !own {
			continue
		}
		total++
		if rs.normal[i] {
			done++
			continue
		}
		ok := true
		for _, p := range peers {
			if !slices.Contains(a.lay.shared(p), i) {
				continue
			}
			silent := a.silent[p.ID].syncs >= silentSyncs
			if a.up(p.ID) && !silent && !rs.synced[p.ID] || !a.up(p.ID) && !a.downLong(ctx, p.ID) {
				ok = false
				break
			}
		}
		if ok {
			done++
		}
	}
	a.stat.ResumeSegments, a.stat.ResumeTotal = done, total
	if done < total {
		return
	}
	took := ctx.Elapsed() - rs.since
	a.resume = nil
	a.remember(ctx)
	a.stat.LastResume, a.stat.LastResumeKeys, a.stat.LastResumeBytes, a.stat.LastResumeTook = rs.at, rs.keys, rs.size, took
	a.setState(ctx, gossip.Resuming, gossip.Normal)
	ctx.Log().Warn("anti-entropy: resumed: the node serves reads again", "keys", rs.keys, "bytes", rs.size,
		"seconds", took.Seconds())
}

// Snapshot is the actor's Status (the admin port reads it in the actor's
// turn).
func (a *Actor) Snapshot(now time.Time) Status {
	st := a.stat
	st.Resuming = a.resume != nil
	if a.sess != nil {
		st.Peer = a.sess.peer
		if st.State == "idle" {
			st.State = "syncing"
		}
	}
	if a.round.active {
		st.RoundPeers = len(a.round.queue)
	}
	return st
}

func parseReply(r store.Result) (resp.Value, bool) {
	if r.Failure != "" {
		return resp.Value{}, false
	}
	v, n, err := resp.ParseReply(r.Reply)
	return v, err == nil && n == len(r.Reply)
}

func replyText(r store.Result) string {
	if r.Failure != "" {
		return r.Failure
	}
	if len(r.Reply) > 80 {
		return string(r.Reply[:80]) + "..."
	}
	return string(r.Reply)
}

func isR(text []byte) bool { return len(text) > 0 && text[0] == 'r' }

func trimR(text []byte) []byte {
	if isR(text) {
		return text[1:]
	}
	return text
}
