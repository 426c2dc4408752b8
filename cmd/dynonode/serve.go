package main

import (
	"context"
	cryptorand "crypto/rand"
	binenc "encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/stats"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/netio/admin"
	"github.com/dynonode/dynonode/netio/admit"
	"github.com/dynonode/dynonode/netio/datastore"
	"github.com/dynonode/dynonode/netio/frontend"
	"github.com/dynonode/dynonode/netio/seeds"
	"github.com/dynonode/dynonode/transport"
)

// Actor names, the same on every node.
const (
	storeName  = "store"
	gossipName = "gossip"
)

// gossipConfig sets up membership and failure detection from the config.
func gossipConfig(cfg *config.Config, rg *ring.Ring) gossip.Config {
	member := func(id, dc, rack string, tokens []uint32) gossip.Member {
		return gossip.Member{ID: id, DC: dc, Rack: rack, Tokens: tokens}
	}
	self := rg.Local()
	c := gossip.Config{
		Self: member(self.ID, self.DC, self.Rack, self.Tokens), Name: gossipName,
		Interval: cfg.HeartbeatInterval, PhiThreshold: float64(cfg.PhiThreshold),
		AllowJoin: cfg.EnableGossip, Hash: rg.Hash(), HashTag: rg.HashTag(),
	}
	for _, s := range cfg.Seeds {
		c.Seeds = append(c.Seeds, member(s.Addr.String(), s.Datacenter, s.Rack, s.Tokens))
	}
	return c
}

// nodeID names this node in the cluster: its peer address, which is also
// how its seeds name it; a node without dyn_listen is alone and local.
func nodeID(cfg *config.Config) actors.NodeID {
	if cfg.DynListen.IsZero() {
		return "local"
	}
	return actors.NodeID(cfg.DynListen.String())
}

// buildRing places keys over this node and its seeds.
func buildRing(cfg *config.Config) (*ring.Ring, error) {
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
	self := ring.Node{ID: string(nodeID(cfg)), DC: cfg.Datacenter, Rack: cfg.Rack, Tokens: tokens}
	nodes := []ring.Node{self}
	for _, s := range cfg.Seeds {
		nodes = append(nodes, ring.Node{ID: s.Addr.String(), DC: s.Datacenter, Rack: s.Rack, Tokens: s.Tokens})
	}
	return ring.New(ring.Config{Nodes: nodes, Local: self.ID, Hash: h, HashTag: tag})
}

// storeProducer makes the store adapter the config asks for.
func storeProducer(cfg *config.Config, node *transport.Node, counters *datastore.Counters, log *slog.Logger) actors.Producer {
	switch cfg.DataStore {
	case config.Embedded:
		// A secret hash seed: clients cannot choose keys that collide.
		var seed [8]byte
		_, _ = cryptorand.Read(seed[:]) // never fails (crypto/rand panics rather)
		return store.NewEmbedded(store.Options{HashSeed: binenc.LittleEndian.Uint64(seed[:])})
	}
	proto := datastore.Redis
	if cfg.DataStore == config.Memcached {
		proto = datastore.Memcached
	}
	return datastore.New(datastore.Options{
		Addr:         cfg.Server.Addr.String(),
		Protocol:     proto,
		Connections:  cfg.DatastoreConnections,
		Timeout:      cfg.Timeout,
		Preconnect:   cfg.Preconnect,
		AutoEject:    cfg.AutoEjectHosts,
		FailureLimit: cfg.ServerFailureLimit,
		RetryTimeout: cfg.ServerRetryTimeout,
		Counters:     counters,
		Gate:         counters.Gate,
		Log:          log.With("datastore", cfg.Server.StatsName()),
		Deliver:      node.Send,
	})
}

// serve runs the node until ctx is cancelled: the actor runtime with its
// peer listener, the store adapter, the stats actor, the client listener
// and the admin port. Then it drains the clients (see drain) and stops.
func serve(ctx context.Context, cfg *config.Config, opts Options, log *slog.Logger, level admin.LogLevel) error {
	rg, err := buildRing(cfg)
	if err != nil {
		return fmt.Errorf("cluster topology: %w", err)
	}
	// The admission gate: held by the datastore adapter while a
	// connection's queue is long, waited at by peer and client readers.
	var gate *admit.Gate
	if cfg.DataStore != config.Embedded {
		gate = &admit.Gate{}
	}
	node, err := transport.Start(transport.Options{ID: nodeID(cfg), PeerListen: peerListen(cfg), MaxQueued: cfg.MaxMsgs, Log: log, Gate: gate})
	if err != nil {
		return fmt.Errorf("cannot bind dyn_listen %s: %w", cfg.DynListen, err)
	}
	defer node.Close(5 * time.Second)
	if opts.AdminOperation == 0 {
		provider, err := seeds.New(cfg, nil)
		if err != nil {
			return fmt.Errorf("dyn_seed_provider: %w", err)
		}
		pollCtx, stopPoll := context.WithCancel(ctx)
		defer stopPoll()
		// The ring starts from dyn_seeds; peers a provider adds later get
		// links now, and with enable_gossip they join the ring through
		// gossip (they list this node among their seeds).
		go seeds.Poll(pollCtx, provider, seeds.PollOptions{Interval: cfg.GossipInterval, Log: log}, func(list []config.Seed) {
			for _, s := range list {
				conns := cfg.LocalPeerConnections
				if s.Datacenter != cfg.Datacenter {
					conns = cfg.RemotePeerConnections
				}
				node.AddPeer(actors.NodeID(s.Addr.String()), s.Addr.String(), conns)
			}
			log.Info("seed list applied", "provider", provider.Name(), "seeds", len(list))
		})
	}
	var counters *datastore.Counters
	if cfg.DataStore != config.Embedded {
		counters = &datastore.Counters{Gate: gate}
	}
	if node.Spawn(storeName, storeProducer(cfg, node, counters, log)).IsZero() {
		return errors.New("cannot start the store adapter")
	}
	statsAddr := node.Spawn(stats.Name, stats.New())
	if statsAddr.IsZero() {
		return errors.New("cannot start the stats actor")
	}
	var gossipAddr actors.Addr
	if opts.AdminOperation == 0 && !cfg.DynListen.IsZero() {
		if gossipAddr = node.Spawn(gossipName, gossip.New(gossipConfig(cfg, rg))); gossipAddr.IsZero() {
			return errors.New("cannot start the gossiper")
		}
	}

	proto := frontend.Redis
	if cfg.DataStore == config.Memcached {
		proto = frontend.Memcached
	}
	var fe *frontend.Listener
	host := newClientHost(node)
	adm := newAdmin(adminWiring{cfg: cfg, node: node, fe: &fe, counters: counters, level: level, log: log, gossip: gossipAddr})
	ccfg := coord.Config{Ring: rg, StoreName: storeName, Timeout: cfg.Timeout, AdminMode: opts.AdminOperation > 0, Version: version, Stats: statsAddr, Gossip: gossipAddr}
	grace := opts.DrainTimeout
	if grace <= 0 {
		grace = defaultDrain
	}
	fe, err = frontend.Listen(frontend.Options{
		Network: cfg.Listen.Network(), Addr: cfg.Listen.String(), Protocol: proto, Host: host, Log: log, Gate: gate,
		Loops:        clientLoops(opts.ClientIO),
		DrainTimeout: stoppedConnWait(cfg.Timeout, grace),
		Coordinator: func(sink actors.Addr) actors.Producer {
			c := ccfg
			c.Sink = sink
			// As Dynomite: level and timeout factor changes apply to new connections.
			c.Read, c.Write = adm.Consistency()
			c.Timeout = ccfg.Timeout * time.Duration(adm.TimeoutFactor())
			if proto == frontend.Memcached {
				return coord.NewMemcached(c)
			}
			return coord.NewRedis(c)
		},
	})
	if err != nil {
		return fmt.Errorf("cannot bind listen %s: %w", cfg.Listen, err)
	}
	go fe.Serve()
	defer closeClients(fe)

	statsLn, err := net.Listen(cfg.StatsListen.Network(), cfg.StatsListen.String())
	if err != nil {
		return fmt.Errorf("cannot bind stats_listen %s: %w", cfg.StatsListen, err)
	}
	adminSrv := &http.Server{Handler: faultHandler(adminHandler(adm, opts.Pprof), node, opts.FaultInjection), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = adminSrv.Serve(statsLn) }()
	defer adminSrv.Close()

	log.Info("dynonode is up", "node", string(nodeID(cfg)), "listen", fe.Addr().String(), "dyn_listen", node.PeerAddr(),
		"stats_listen", statsLn.Addr().String(), "datastore", cfg.DataStore.String(), "dc", cfg.Datacenter, "rack", cfg.Rack,
		"racks", rg.NumRacks(), "admin_operation", opts.AdminOperation, "client_loops", fe.Loops())
	<-ctx.Done()
	log.Info("dynonode stopping")
	drain(host, fe, grace, log)
	return nil
}

// clientLoops is frontend.Options.Loops for --client-io: one event loop
// per processor, or a goroutine per connection.
func clientLoops(mode string) int {
	if mode == "goroutines" {
		return -1
	}
	return 0
}

func peerListen(cfg *config.Config) string {
	if cfg.DynListen.IsZero() {
		return ""
	}
	return cfg.DynListen.String()
}
