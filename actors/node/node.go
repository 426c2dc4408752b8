package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/acl"
	"github.com/dynonode/dynonode/actors/antientropy"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/hints"
	"github.com/dynonode/dynonode/actors/pubsub"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/stats"
	"github.com/dynonode/dynonode/actors/store"
)

// Actor names, the same on every node: peers address each other's store
// and gossiper by them.
const (
	StoreName   = "store"
	BrokerName  = "pubsub" // the pub/sub broker (actors/pubsub)
	GossipName  = "gossip"
	StatsName   = stats.Name
	HintsName   = "hints"
	HintLogName = "hintlog"
	AEName      = "antientropy"
	StateName   = "nodestate"
	ClientsName = clients.Name // the registry of client connections (actors/clients)
)

// Deps is what a runtime hands the assembly.
type Deps struct {
	// Store makes the datastore adapter for data_store 0 (Redis) and 1
	// (Memcached): the daemon's speaks to a real server over TCP, the
	// simulator's is a modelled datastore. Ignored for the embedded store,
	// which the assembly builds itself. Required otherwise.
	Store actors.Producer
	// WrapStore, when set, wraps the store producer (whichever it is): the
	// simulator injects datastore faults through it.
	WrapStore func(actors.Producer) actors.Producer
	// PeerID names a node from its peer address (dyn_listen, or a
	// dyn_seeds entry). Default: the address as written, "host:port",
	// which is how the daemon's peer links are keyed.
	PeerID func(config.Addr) actors.NodeID
	// HashSeed keys the embedded store's hash. The daemon draws a secret
	// one (clients cannot choose colliding keys); the simulator derives
	// one from its seed so a run replays.
	HashSeed uint64
	// StoreSeed seeds the embedded store's random commands (SPOP, ...).
	StoreSeed uint64
	// Users are the ACL users read from aclfile (the runtime reads the
	// file); nil: requirepass's default user, or Redis's open default.
	Users *acl.Users
	// AdminMode is Dynomite's -x 1: no gossiper, and coordinators that
	// work on the local datastore only.
	AdminMode bool
	// Version is what INFO, HELLO and memcached's version report.
	Version string
	// HintLog makes the hint log (actors/hints' log protocol): files
	// under hints_dir in the daemon, a durable actor in the simulator.
	// Nil: hints live in memory only.
	HintLog actors.Producer
	// AETimeout and AESettle, when set, replace anti-entropy's session
	// timeout and the time a resuming node waits for a replica that is
	// down (antientropy.Config); the simulator shortens them.
	AETimeout, AESettle time.Duration
	// NodeState makes the node-state actor (actors/antientropy's
	// GetMark and SaveMark): a file under hints_dir in the daemon, an
	// actor that outlives even a wiped datastore in the simulator. Nil: a
	// datastore found without a marker at start is taken as new.
	NodeState actors.Producer
}

// Node is one assembled node: what Boot spawns and what its client
// connections are made of.
type Node struct {
	cfg   *config.Config
	deps  Deps
	id    actors.NodeID
	ring  *ring.Ring
	users *acl.Users // aclfile or requirepass; nil: Redis's open default user
}

// New checks that cfg and deps make a node and builds its ring over the
// node and its dyn_seeds. It spawns nothing.
func New(cfg *config.Config, deps Deps) (*Node, error) {
	if cfg == nil {
		return nil, errors.New("node: no config")
	}
	if cfg.DataStore != config.Embedded && deps.Store == nil {
		return nil, fmt.Errorf("node: data_store %s needs a store adapter from the runtime", cfg.DataStore)
	}
	if deps.PeerID == nil {
		deps.PeerID = func(a config.Addr) actors.NodeID { return actors.NodeID(a.String()) }
	}
	n := &Node{cfg: cfg, deps: deps, id: "local"}
	// A node without dyn_listen is alone and local.
	if !cfg.DynListen.IsZero() {
		n.id = deps.PeerID(cfg.DynListen)
	}
	rg, err := buildRing(cfg, n.id, deps.PeerID)
	if err != nil {
		return nil, fmt.Errorf("cluster topology: %w", err)
	}
	n.ring = rg
	switch {
	case deps.Users != nil:
		n.users = deps.Users
	case cfg.RequirePass != "":
		n.users = acl.FromRequirePass(string(cfg.RequirePass))
	}
	return n, nil
}

// buildRing places keys over this node and its seeds.
func buildRing(cfg *config.Config, self actors.NodeID, peerID func(config.Addr) actors.NodeID) (*ring.Ring, error) {
	h, err := ring.ParseHash(cfg.Hash)
	if err != nil {
		return nil, err
	}
	var tag ring.HashTag
	if cfg.HashTag != "" {
		if tag, err = ring.ParseHashTag(cfg.HashTag); err != nil {
			return nil, err
		}
	}
	tokens := cfg.Tokens
	if len(tokens) == 0 {
		tokens = []uint32{0}
	}
	nodes := []ring.Node{{ID: string(self), DC: cfg.Datacenter, Rack: cfg.Rack, Tokens: tokens}}
	for _, s := range cfg.Seeds {
		nodes = append(nodes, ring.Node{ID: string(peerID(s.Addr)), DC: s.Datacenter, Rack: s.Rack, Tokens: s.Tokens})
	}
	return ring.New(ring.Config{Nodes: nodes, Local: string(self), Hash: h, HashTag: tag})
}

// ID is the node's name in the cluster.
func (n *Node) ID() actors.NodeID { return n.id }

// Ring is the ring the node starts with (gossip may replace it later in
// each coordinator's view).
func (n *Node) Ring() *ring.Ring { return n.ring }

// Config is the node's parsed config.
func (n *Node) Config() *config.Config { return n.cfg }

// Gossips reports whether the node runs a gossiper: it has a peer
// listener and is not in admin mode.
func (n *Node) Gossips() bool { return !n.deps.AdminMode && !n.cfg.DynListen.IsZero() }

// Versioned reports whether the node's writes carry versions: the
// `versions` key, for a datastore that keeps them (the embedded store, and
// Redis through the adapter's scripts; memcached keeps none, so its nodes
// behave as with versions: false).
func (n *Node) Versioned() bool { return n.cfg.Versions && n.cfg.DataStore != config.Memcached }

// Durable names the actors whose state lives beside the node process (the
// datastore): a runtime that restarts the node keeps them unless the
// datastore itself is lost.
func (n *Node) Durable() []string { return []string{StoreName, HintLogName} }

// Persistent names the actors whose state lives on the node's own disk:
// a runtime keeps them across every restart, even one that loses the
// datastore.
func (n *Node) Persistent() []string { return []string{StateName} }

// Hints reports whether the node hands writes off (hinted_handoff): with
// versions on (a replayed hint must apply only where newer), in a
// cluster (the node gossips).
func (n *Node) Hints() bool { return n.cfg.HintedHandoff && n.Versioned() && n.Gossips() }

// AntiEntropy reports whether the node runs anti-entropy (anti_entropy):
// with versions on (the newest copy wins), in a cluster.
func (n *Node) AntiEntropy() bool { return n.cfg.AntiEntropy && n.Versioned() && n.Gossips() }

// AntiEntropyConfig is the anti-entropy actor's setup from the config.
func (n *Node) AntiEntropyConfig() antientropy.Config {
	c := antientropy.Config{Name: AEName, StoreName: StoreName, GossipName: GossipName, Ring: n.ring,
		Interval: n.cfg.AntiEntropyInterval, ScanRate: n.cfg.AntiEntropyScanRate,
		Bandwidth: int64(n.cfg.AntiEntropyBandwidth), Timeout: n.deps.AETimeout, Settle: n.deps.AESettle, Resume: true}
	if n.deps.NodeState != nil {
		c.StateName = StateName
	}
	return c
}

// HintsConfig is the hint manager's setup from the config.
func (n *Node) HintsConfig() hints.Config {
	c := hints.Config{Self: string(n.id), StoreName: StoreName, GossipName: GossipName,
		MaxBytes: int64(n.cfg.MaxHintsBytes), MaxWindow: n.cfg.MaxHintWindow, Rate: n.cfg.HintsReplayRate,
		Timeout: n.cfg.Timeout}
	if n.deps.HintLog != nil {
		c.LogName = HintLogName
	}
	return c
}

// Boot spawns the node's actors: the store adapter, the pub/sub broker,
// the stats actor, the registry of client connections and, when the node
// gossips, the gossiper. It runs at start and again after a simulated
// restart.
func (n *Node) Boot(s actors.Spawner) error {
	if s.Spawn(StoreName, n.storeProducer()).IsZero() {
		return errors.New("cannot start the store adapter")
	}
	if s.Spawn(BrokerName, pubsub.New()).IsZero() {
		return errors.New("cannot start the pub/sub broker")
	}
	if s.Spawn(StatsName, stats.New()).IsZero() {
		return errors.New("cannot start the stats actor")
	}
	if s.Spawn(ClientsName, clients.New(clients.Config{})).IsZero() {
		return errors.New("cannot start the client registry")
	}
	if n.Gossips() {
		if s.Spawn(GossipName, gossip.New(n.GossipConfig())).IsZero() {
			return errors.New("cannot start the gossiper")
		}
	}
	if n.Hints() {
		if n.deps.HintLog != nil && s.Spawn(HintLogName, n.deps.HintLog).IsZero() {
			return errors.New("cannot start the hint log")
		}
		if s.Spawn(HintsName, hints.New(n.HintsConfig())).IsZero() {
			return errors.New("cannot start the hint manager")
		}
	}
	if n.AntiEntropy() {
		if n.deps.NodeState != nil && s.Spawn(StateName, n.deps.NodeState).IsZero() {
			return errors.New("cannot start the node state")
		}
		if s.Spawn(AEName, antientropy.New(n.AntiEntropyConfig())).IsZero() {
			return errors.New("cannot start anti-entropy")
		}
	}
	return nil
}

func (n *Node) storeProducer() actors.Producer {
	p := n.deps.Store
	if n.cfg.DataStore == config.Embedded {
		p = store.NewEmbedded(store.Options{HashSeed: n.deps.HashSeed, Seed: n.deps.StoreSeed, TombstoneTTL: n.cfg.TombstoneTTL})
	}
	if n.deps.WrapStore != nil {
		p = n.deps.WrapStore(p)
	}
	return p
}

// GossipConfig is the gossiper's setup from the config: membership and
// failure detection (Boot spawns it; property tests of gossip alone start
// from it too).
func (n *Node) GossipConfig() gossip.Config {
	self := n.ring.Local()
	c := gossip.Config{
		Self: gossip.Member{ID: self.ID, DC: self.DC, Rack: self.Rack, Tokens: self.Tokens}, Name: GossipName,
		Interval: n.cfg.HeartbeatInterval, PhiThreshold: float64(n.cfg.PhiThreshold),
		AllowJoin: n.cfg.EnableGossip, Hash: n.ring.Hash(), HashTag: n.ring.HashTag(), Versions: n.Versioned(),
	}
	for _, s := range n.cfg.Seeds {
		c.Seeds = append(c.Seeds, gossip.Member{ID: string(n.deps.PeerID(s.Addr)), DC: s.Datacenter, Rack: s.Rack, Tokens: s.Tokens})
	}
	return c
}

// Conn describes one client connection.
type Conn struct {
	// Sink receives the connection's replies (the edge writer).
	Sink actors.Addr
	// Read and Write are the connection's consistency levels (the daemon
	// passes the admin port's current setting, which starts at
	// read_consistency and write_consistency).
	Read, Write config.Consistency
	// Timeout bounds each request; zero takes the config's timeout.
	Timeout time.Duration
	// ReadRepairs turns background read repair on (the daemon passes the
	// admin port's current setting, which starts at read_repairs_enabled).
	ReadRepairs bool
	// Socket is the connection's socket, as CLIENT LIST shows it.
	Socket clients.Conn
}

// Coordinator makes the coordinator of a client connection, for the
// protocol the node's datastore speaks (memcached text for data_store 1,
// RESP otherwise).
func (n *Node) Coordinator(c Conn) actors.Producer {
	cfg := coord.Config{
		Sink: c.Sink, Ring: n.ring, StoreName: StoreName, BrokerName: BrokerName, Timeout: c.Timeout, AdminMode: n.deps.AdminMode,
		Read: c.Read, Write: c.Write, Version: n.deps.Version, ReadRepairs: c.ReadRepairs, Versions: n.Versioned(),
		Stats: actors.Addr{Node: n.id, Name: StatsName}, Users: n.users, EmbeddedStore: n.cfg.DataStore == config.Embedded,
		Clients: actors.Addr{Node: n.id, Name: ClientsName}, Socket: c.Socket,
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = n.cfg.Timeout
	}
	if n.Gossips() {
		cfg.Gossip = actors.Addr{Node: n.id, Name: GossipName}
	}
	if n.Hints() {
		cfg.Hints = actors.Addr{Node: n.id, Name: HintsName}
	}
	if n.cfg.DataStore == config.Memcached {
		return coord.NewMemcached(cfg)
	}
	return coord.NewRedis(cfg)
}
