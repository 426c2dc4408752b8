package main

import (
	"context"
	cryptorand "crypto/rand"
	binenc "encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/node"
	"github.com/dynonode/dynonode/netio/admin"
	"github.com/dynonode/dynonode/netio/admit"
	"github.com/dynonode/dynonode/netio/datastore"
	"github.com/dynonode/dynonode/netio/frontend"
	"github.com/dynonode/dynonode/netio/hintlog"
	"github.com/dynonode/dynonode/netio/nodestate"
	"github.com/dynonode/dynonode/netio/seeds"
	"github.com/dynonode/dynonode/transport"
)

// storeAdapter makes the datastore adapter for Redis or Memcached; the
// embedded store is built by the node assembly (actors/node).
func storeAdapter(cfg *config.Config, deliver func(from, to actors.Addr, m any), counters *datastore.Counters, log *slog.Logger) actors.Producer {
	if cfg.DataStore == config.Embedded {
		return nil
	}
	proto := datastore.Redis
	if cfg.DataStore == config.Memcached {
		proto = datastore.Memcached
	}
	return datastore.New(datastore.Options{
		Addr:         cfg.Server.Addr.String(),
		Protocol:     proto,
		Username:     cfg.DatastoreUsername,
		Password:     string(cfg.DatastorePassword),
		Connections:  cfg.DatastoreConnections,
		Timeout:      cfg.Timeout,
		Preconnect:   cfg.Preconnect,
		AutoEject:    cfg.AutoEjectHosts,
		FailureLimit: cfg.ServerFailureLimit,
		RetryTimeout: cfg.ServerRetryTimeout,
		Versions:     cfg.Versions && cfg.DataStore == config.Redis,
		TombstoneTTL: cfg.TombstoneTTL,
		Counters:     counters,
		Gate:         counters.Gate,
		Log:          log.With("datastore", cfg.Server.StatsName()),
		Deliver:      deliver,
	})
}

// secretSeed is a hash seed clients cannot guess, so they cannot choose
// keys that collide in the embedded store.
func secretSeed() uint64 {
	var seed [8]byte
	_, _ = cryptorand.Read(seed[:]) // never fails (crypto/rand panics rather)
	return binenc.LittleEndian.Uint64(seed[:])
}

// serve runs the node until ctx is cancelled: the actor runtime with its
// peer listener, the store adapter, the stats actor, the client listener
// and the admin port. Then it drains the clients (see drain) and stops.
func serve(ctx context.Context, cfg *config.Config, opts Options, certs *security, log *slog.Logger, level admin.LogLevel) error {
	// The datastore adapter delivers its answers through the node's
	// runtime, which exists only once the assembly has named the node.
	var tnode *transport.Node
	deliver := func(from, to actors.Addr, m any) { tnode.Send(from, to, m) }
	// The admission gate: held by the datastore adapter while a
	// connection's queue is long, waited at by peer and client readers.
	var gate *admit.Gate
	var counters *datastore.Counters
	if cfg.DataStore != config.Embedded {
		gate = &admit.Gate{}
		counters = &datastore.Counters{Gate: gate}
	}
	asm, err := node.New(cfg, node.Deps{
		Store:     storeAdapter(cfg, deliver, counters, log),
		HashSeed:  secretSeed(),
		AdminMode: opts.AdminOperation > 0,
		Version:   version,
		HintLog:   hintlog.New(hintlog.Options{Dir: hintsDir(cfg), SyncInterval: cfg.HintsSyncInterval, Log: log}),
		NodeState: nodestate.New(hintsDir(cfg), log),
		Users:     certs.users,
	})
	if err != nil {
		return err
	}
	tnode, err = transport.Start(transport.Options{ID: asm.ID(), PeerListen: peerListen(cfg), MaxQueued: cfg.MaxMsgs, Log: log, Gate: gate,
		TLS: certs.peerTLS(cfg.SecureServerOption, asm.Ring()), MaxPerSource: cfg.MaxConnectionsPerSource})
	if err != nil {
		return fmt.Errorf("cannot bind dyn_listen %s: %w", cfg.DynListen, err)
	}
	defer tnode.Close(5 * time.Second)
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
				tnode.AddPeer(actors.NodeID(s.Addr.String()), s.Addr.String(), conns)
			}
			log.Info("seed list applied", "provider", provider.Name(), "seeds", len(list))
		})
	}
	if err := asm.Boot(tnode); err != nil {
		return err
	}
	var gossipAddr actors.Addr
	if asm.Gossips() {
		gossipAddr = actors.Addr{Node: asm.ID(), Name: node.GossipName}
	}

	proto := frontend.Redis
	if cfg.DataStore == config.Memcached {
		proto = frontend.Memcached
	}
	var fe *frontend.Listener
	host := newClientHost(tnode)
	adm := newAdmin(adminWiring{cfg: cfg, node: tnode, fe: &fe, counters: counters, level: level, log: log, gossip: gossipAddr,
		hints: asm.Hints(), antiEntropy: asm.AntiEntropy()})
	grace := opts.DrainTimeout
	if grace <= 0 {
		grace = defaultDrain
	}
	fe, err = frontend.Listen(frontend.Options{
		Network: cfg.Listen.Network(), Addr: cfg.Listen.String(), Protocol: proto, Host: host, Log: log, Gate: gate,
		Loops:        clientLoops(opts.ClientIO),
		TLS:          certs.clientTLS(),
		MaxPerSource: cfg.MaxConnectionsPerSource, RequestTimeout: cfg.ClientRequestTimeout,
		DrainTimeout: stoppedConnWait(cfg.Timeout, grace),
		Coordinator: func(sink actors.Addr, sock clients.Conn) actors.Producer {
			// As Dynomite: level and timeout factor changes apply to new connections.
			c := node.Conn{Sink: sink, Socket: sock, Timeout: cfg.Timeout * time.Duration(adm.TimeoutFactor())}
			c.Read, c.Write = adm.Consistency()
			c.ReadRepairs = adm.ReadRepairs()
			return asm.Coordinator(c)
		},
	})
	if err != nil {
		return fmt.Errorf("cannot bind listen %s: %w", cfg.Listen, err)
	}
	go fe.Serve()
	defer closeClients(fe)

	if err := checkDebugExposure(cfg.StatsListen, opts); err != nil {
		return err
	}
	statsLn, err := net.Listen(cfg.StatsListen.Network(), cfg.StatsListen.String())
	if err != nil {
		return fmt.Errorf("cannot bind stats_listen %s: %w", cfg.StatsListen, err)
	}
	adminSrv := &http.Server{Handler: faultHandler(adminHandler(adm, opts.Pprof), tnode, opts.FaultInjection), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = adminSrv.Serve(statsLn) }()
	defer adminSrv.Close()

	log.Info("dynonode is up", "node", string(asm.ID()), "listen", fe.Addr().String(), "dyn_listen", tnode.PeerAddr(),
		"stats_listen", statsLn.Addr().String(), "datastore", cfg.DataStore.String(), "dc", cfg.Datacenter, "rack", cfg.Rack,
		"racks", asm.Ring().NumRacks(), "admin_operation", opts.AdminOperation, "client_loops", fe.Loops())
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

// hintsDir is where the node's hint logs live: hints_dir, or by default
// dynonode-hints/<dyn_listen, ':' as '_'> under the system's temporary
// directory ($TMPDIR, else /tmp), so that nodes sharing a machine (make
// run, tests) keep apart and a restarted node finds its own.
func hintsDir(cfg *config.Config) string {
	if cfg.HintsDir != "" {
		return cfg.HintsDir
	}
	return filepath.Join(os.TempDir(), "dynonode-hints", strings.ReplaceAll(cfg.DynListen.String(), ":", "_"))
}
