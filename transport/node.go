package transport

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/dynonode/dynonode/netio/admit"
)

// Options configures a Node.
type Options struct {
	// ID is this node's identity in actor addresses. Required.
	ID actors.NodeID
	// PeerListen is the TCP address peers connect to (dyn_listen), e.g.
	// "127.0.0.1:8101" or "127.0.0.1:0". Empty: no inbound peer links.
	PeerListen string
	// Seed derives every actor's random source. Zero: a random seed.
	Seed int64
	// MaxFrame bounds one inbound envelope in bytes. Zero: msg.DefaultMaxFrame.
	MaxFrame int
	// LinkQueue is the burst buffer of one peer connection. Zero: 32768,
	// so a burst of asynchronous replication (DC_ONE writes) is absorbed
	// rather than dropped; MaxQueued still bounds all links together.
	LinkQueue int
	// MaxQueued bounds the messages waiting for peers across all links
	// (Dynomite's max_msgs). Beyond it, requests bounce back to their
	// senders as failures and other messages are dropped and counted:
	// memory stays bounded when peers are slow. Zero: 200000.
	MaxQueued int
	// DialTimeout bounds one connection attempt to a peer. Zero: 2s.
	DialTimeout time.Duration
	// Log receives runtime and actor logs. Nil: slog.Default().
	Log *slog.Logger
	// Gate, when not nil, is the node's admission gate: each inbound peer
	// connection's reader waits at it (up to GateWait) after handing on
	// what one read brought, so a burst of replication stays in the socket
	// while the local datastore's queue is long (see netio/admit).
	Gate *admit.Gate
	// GateWait bounds one reader's wait at Gate. Zero: admit.DefaultWait.
	GateWait time.Duration
	// TLS, when not nil, secures peer links with TLS (see PeerTLS). Nil:
	// every link is plain TCP.
	TLS *PeerTLS
	// MaxPerSource bounds the inbound peer connections open at once from
	// one IP; beyond it a connection is closed and counted in
	// Stats.Refused. Zero: no bound.
	MaxPerSource int
}

// PeerTLS says which peer links are TLS and with what identity
// (secure_server_option and tls_*_file).
type PeerTLS struct {
	// Server is the configuration of inbound links: it must require and
	// verify the dialling peer's certificate.
	Server *tls.Config
	// Client gives the configuration of an outbound link, at each dial:
	// it presents this node's certificate and verifies the peer's
	// (ServerName is set to the host dialled).
	Client func() *tls.Config
	// Encrypt reports whether the link to peer is TLS (outbound).
	Encrypt func(peer actors.NodeID) bool
	// PlainInbound says whether an inbound connection may be plain TCP
	// (secure_server_option rack or datacenter: the dialler decides);
	// false requires TLS on every inbound connection (all).
	PlainInbound bool
	// HandshakeTimeout bounds an inbound connection's first byte and TLS
	// handshake. Zero: 10s.
	HandshakeTimeout time.Duration
}

// Node is one dynonode process's actor runtime: a hollywood engine, the
// actors it hosts, and TCP links to and from its peers.
type Node struct {
	id     actors.NodeID
	opts   Options
	seed   int64
	engine *actor.Engine
	log    *slog.Logger

	mu     sync.RWMutex
	cells  sync.Map // name -> *cell; read on every send without a lock
	links  map[actors.NodeID]*link
	closed bool

	ln         net.Listener
	inbound    sync.WaitGroup
	conns      map[net.Conn]struct{}
	sources    map[string]int // inbound connections per source IP (under mu)
	stats      counters
	queued     atomic.Int64  // messages waiting in peer queues
	queueDrops atomic.Uint64 // messages dropped by full queues (see link.full)
	started    time.Time     // for actors' monotonic Elapsed
	// clockOffset (ns) shifts the wall clock actors see (Context.Now),
	// for fault injection; Elapsed stays monotonic and unshifted.
	clockOffset atomic.Int64

	// hlc is the node's hybrid logical clock: read by actors (Context.HLC),
	// stamped on every envelope sent and merged from every one received.
	hlcMu sync.Mutex
	hlc   hlc.Clock
}

type counters struct {
	deadLetters, dropped, badFrames, panics, sent, received, refused atomic.Uint64
}

// Stats is a snapshot of a node's runtime counters.
type Stats struct {
	DeadLetters uint64 // messages for actors that do not exist here
	Dropped     uint64 // remote messages dropped: queue full, encode error, link down
	BadFrames   uint64 // inbound frames that failed to decode (the link was closed)
	Panics      uint64 // actor panics recovered
	Sent        uint64 // envelopes written to peers
	Received    uint64 // envelopes read from peers
	Refused     uint64 // inbound peer connections refused: no valid certificate, or plain TCP where TLS is required
	Queued      int64  // messages waiting for peers now
}

// Start creates the engine and, when PeerListen is set, the peer listener.
func Start(opts Options) (*Node, error) {
	if opts.ID == "" {
		return nil, errors.New("transport: node id is required")
	}
	if opts.MaxFrame == 0 {
		opts.MaxFrame = msg.DefaultMaxFrame
	}
	if opts.LinkQueue == 0 {
		opts.LinkQueue = 32768
	}
	if opts.MaxQueued == 0 {
		opts.MaxQueued = 200000
	}
	if opts.GateWait == 0 {
		opts.GateWait = admit.DefaultWait
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 2 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	seed := opts.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	}
	e, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		return nil, fmt.Errorf("transport: start engine for node %s: %w", opts.ID, err)
	}
	n := &Node{
		id: opts.ID, opts: opts, seed: seed, engine: e, started: time.Now(),
		log:   opts.Log.With("node", string(opts.ID)),
		links: map[actors.NodeID]*link{}, conns: map[net.Conn]struct{}{}, sources: map[string]int{},
	}
	if opts.PeerListen != "" {
		ln, err := net.Listen("tcp", opts.PeerListen)
		if err != nil {
			return nil, fmt.Errorf("transport: node %s: listen for peers on %s: %w", opts.ID, opts.PeerListen, err)
		}
		n.ln = ln
		n.inbound.Add(1)
		go n.acceptLoop()
	}
	return n, nil
}

// ID is the node's identity.
func (n *Node) ID() actors.NodeID { return n.id }

// SetClockOffset shifts the wall clock this node's actors read through
// Context.Now by d (fault injection: clock skew). Elapsed is unaffected.
func (n *Node) SetClockOffset(d time.Duration) { n.clockOffset.Store(int64(d)) }

// ClockOffset is the shift set by SetClockOffset.
func (n *Node) ClockOffset() time.Duration { return time.Duration(n.clockOffset.Load()) }

// hlcNow reads the node's hybrid logical clock at wall time now.
func (n *Node) hlcNow(now time.Time) hlc.Timestamp {
	n.hlcMu.Lock()
	defer n.hlcMu.Unlock()
	return n.hlc.Now(now)
}

// hlcMerge folds a peer's clock reading into the node's.
func (n *Node) hlcMerge(ts hlc.Timestamp) {
	if ts.IsZero() {
		return
	}
	now := time.Now().Add(n.ClockOffset())
	n.hlcMu.Lock()
	n.hlc.Update(ts, now)
	n.hlcMu.Unlock()
}

// PeerAddr is the address the peer listener is bound to ("" when none).
func (n *Node) PeerAddr() string {
	if n.ln == nil {
		return ""
	}
	return n.ln.Addr().String()
}

// Spawn starts an actor named name on this node. It returns the zero Addr
// when the name is taken or the node is closed.
func (n *Node) Spawn(name string, p actors.Producer) actors.Addr {
	c := newCell(n, name, p)
	n.mu.Lock()
	if _, dup := n.cells.Load(name); dup || n.closed {
		n.mu.Unlock()
		n.log.Error("spawn refused: name in use or node closed", "actor", name)
		return actors.Addr{}
	}
	n.cells.Store(name, c)
	n.mu.Unlock()
	n.engine.SpawnProc((*process)(c))
	return c.addr
}

// Stop stops the named local actor; it receives Stopping first.
func (n *Node) Stop(name string) {
	if c := n.lookup(name); c != nil {
		c.deliver(actors.Addr{}, stopReq{}, false)
	}
}

// Send delivers m to an actor from outside any actor (a socket read loop, a
// test), as if sent by from.
func (n *Node) Send(from, to actors.Addr, m any) { n.send(from, to, m, true) }

// Inspect runs f on the named actor's behaviour inside that actor's turn, so
// f sees a consistent state. It waits up to timeout.
func (n *Node) Inspect(name string, timeout time.Duration, f func(actors.Behaviour)) error {
	c := n.lookup(name)
	if c == nil {
		return fmt.Errorf("transport: inspect %s/%s: no such actor", n.id, name)
	}
	done := make(chan struct{})
	c.deliver(actors.Addr{}, inspectReq{f: f, done: done}, false)
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("transport: inspect %s/%s: no answer within %s", n.id, name, timeout)
	}
}

// AddPeer tells the node where peer id listens and how many connections to
// keep to it (local_peer_connections or remote_peer_connections). Links are
// dialled lazily on the first message and redialled with backoff when they
// break; while a peer cannot be reached, requests to it bounce back to
// their senders as failures.
func (n *Node) AddPeer(id actors.NodeID, addr string, conns int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || id == n.id {
		return
	}
	if l, ok := n.links[id]; ok {
		l.setAddr(addr)
		return
	}
	n.links[id] = newLink(n, id, addr, conns)
}

// learnedLink makes the link to a node no AddPeer named, when its id is a
// host:port address: a node's id is its dyn_listen address, so a member
// learned through gossip (a node that joined through another seed) is
// reached at its id, over one connection. Without it a joining node hears
// nothing from the nodes it did not list as seeds, and takes them for down.
func (n *Node) learnedLink(id actors.NodeID) *link {
	host, port, err := net.SplitHostPort(string(id))
	if err != nil || host == "" {
		return nil
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || id == n.id {
		return nil
	}
	if l, ok := n.links[id]; ok {
		return l
	}
	l := newLink(n, id, string(id), 1)
	n.links[id] = l
	n.log.Info("peer link added for a node learned at run time", "peer", string(id))
	return l
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	s := &n.stats
	return Stats{
		DeadLetters: s.deadLetters.Load(), Dropped: s.dropped.Load(), BadFrames: s.badFrames.Load(), Refused: s.refused.Load(),
		Panics: s.panics.Load(), Sent: s.sent.Load(), Received: s.received.Load(), Queued: n.queued.Load(),
	}
}

// Close stops the listener, the peer links and every actor (each receives
// Stopping), waiting up to timeout for actors to finish.
func (n *Node) Close(timeout time.Duration) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	links := n.links
	n.links = map[actors.NodeID]*link{}
	var names []string
	n.cells.Range(func(name, _ any) bool {
		names = append(names, name.(string))
		return true
	})
	conns := make([]net.Conn, 0, len(n.conns))
	for c := range n.conns {
		conns = append(conns, c)
	}
	n.mu.Unlock()
	// net.Conn.Close waits for the connection's reader to let go of the
	// read lock, which it holds while it hands on messages (whose actors
	// may send to peers, taking n.mu) and while it waits at the admission
	// gate (up to GateWait): close outside the lock, all at once.
	for _, c := range conns {
		go c.Close()
	}
	if n.ln != nil {
		n.ln.Close()
	}
	n.inbound.Wait()
	for _, l := range links {
		l.close()
	}
	sort.Strings(names)
	deadline := time.After(timeout)
	for _, name := range names {
		c := n.lookup(name)
		if c == nil {
			continue
		}
		c.deliver(actors.Addr{}, stopReq{}, false)
		select {
		case <-c.done:
		case <-deadline:
			n.log.Warn("actors still running at close deadline", "actor", name)
			return
		}
	}
}

func (n *Node) lookup(name string) *cell {
	if c, ok := n.cells.Load(name); ok {
		return c.(*cell)
	}
	return nil
}

func (n *Node) unregister(name string, c *cell) {
	n.cells.CompareAndDelete(name, c)
}

// send routes one message: to a local mailbox, or onto the peer link.
// inline allows an idle local actor to handle it on the caller's goroutine.
func (n *Node) send(from, to actors.Addr, m any, inline bool) {
	if to.Node == n.id {
		c := n.lookup(to.Name)
		if c == nil {
			n.stats.deadLetters.Add(1)
			n.log.Debug("dead letter", "to", to.String(), "msg_type", fmt.Sprintf("%T", m))
			return
		}
		c.deliver(from, m, inline)
		return
	}
	n.mu.RLock()
	l := n.links[to.Node]
	n.mu.RUnlock()
	if l == nil {
		l = n.learnedLink(to.Node)
	}
	if l == nil {
		n.stats.deadLetters.Add(1)
		n.log.Debug("no link to node", "to", to.String(), "msg_type", fmt.Sprintf("%T", m))
		return
	}
	l.enqueue(outbound{from: from, to: to, msg: m})
}
