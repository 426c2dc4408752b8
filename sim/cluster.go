package sim

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/config"
	nodeasm "github.com/dynonode/dynonode/actors/node"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
	"gopkg.in/yaml.v3"
)

// ClusterSpec describes a simulated dynonode cluster. Every node is the
// daemon's own assembly (actors/node) built from a dynomite.yml that the
// simulator writes and parses with the daemon's parser: store (embedded,
// durable across crashes), stats actor, gossiper, and the coordinators
// client connections get.
type ClusterSpec struct {
	Seed int64
	// Racks lists, per DC, how many racks it has; PerRack nodes each.
	Racks   []int
	PerRack int
	Net     Link
	// Log, when set, receives every actor's log (World's Config.Log).
	Log slog.Handler
	// Timeout is the request timeout (dynomite.yml timeout). Default 500ms.
	Timeout time.Duration
	// Heartbeat is the gossip period (heartbeat_interval). Default 1s.
	Heartbeat time.Duration
	// Config holds dynomite.yml keys set on every node, over the
	// simulator's own (e.g. {"enable_gossip": true, "hash": "fnv1a_64"});
	// NodeConfig the same for one node, by node id, over Config.
	Config     map[string]any
	NodeConfig map[string]map[string]any
	// WrapStore, when set, wraps every node's store producer (tests inject
	// faulty stores through it to prove the checkers catch them).
	WrapStore func(node string, p actors.Producer) actors.Producer
}

// Cluster is a running simulated cluster.
type Cluster struct {
	W      *World
	Spec   ClusterSpec
	Nodes  []ring.Node
	asm    map[actors.NodeID]*nodeasm.Node
	conns  int
	faults []Fault // the schedule of the last fault phase
}

// peerPort is every simulated node's dyn_listen port; a node's id is its
// host name, so its address is "<id>:8101".
const peerPort = 8101

// simPeerID names a simulated node by the host of its peer address.
func simPeerID(a config.Addr) actors.NodeID { return actors.NodeID(a.Host) }

// AEInterval is the simulator's anti_entropy_interval unless a spec's
// config sets one: rounds every few seconds of virtual time.
const AEInterval = 4 * time.Second

// NewCluster builds and boots a cluster.
func NewCluster(spec ClusterSpec) (*Cluster, error) {
	if spec.Timeout == 0 {
		spec.Timeout = 500 * time.Millisecond
	}
	if spec.Heartbeat == 0 {
		spec.Heartbeat = time.Second
	}
	if spec.PerRack == 0 {
		spec.PerRack = 1
	}
	if spec.Net.Latency == 0 {
		spec.Net.Latency = time.Millisecond
	}
	c := &Cluster{W: New(Config{Seed: spec.Seed, Net: spec.Net, Log: spec.Log}), Spec: spec, asm: map[actors.NodeID]*nodeasm.Node{}}
	for d, nr := range spec.Racks {
		for r := range nr {
			for k := range spec.PerRack {
				c.Nodes = append(c.Nodes, ring.Node{
					ID: fmt.Sprintf("dc%d-r%d-n%d", d+1, r+1, k+1), DC: fmt.Sprintf("dc%d", d+1), Rack: fmt.Sprintf("r%d", r+1),
					Tokens: []uint32{uint32(uint64(k) * (1 << 32) / uint64(spec.PerRack))},
				})
			}
		}
	}
	for id := range spec.NodeConfig {
		if !slices.ContainsFunc(c.Nodes, func(n ring.Node) bool { return n.ID == id }) {
			return nil, fmt.Errorf("sim: node_config names %q, which is not a node of this topology (nodes are named dcD-rR-nN)", id)
		}
	}
	for i, n := range c.Nodes {
		cfg, err := c.nodeConfig(n)
		if err != nil {
			return nil, err
		}
		id := n.ID
		asm, err := nodeasm.New(cfg, nodeasm.Deps{
			Store:     datastoreModel(cfg, uint64(spec.Seed)+uint64(i)),
			PeerID:    simPeerID,
			StoreSeed: uint64(spec.Seed) + uint64(i),
			Version:   "sim",
			HintLog:   NewHintLog,
			AETimeout: 5 * time.Second,
			AESettle:  5 * time.Second,
			NodeState: NewNodeState,
			WrapStore: func(p actors.Producer) actors.Producer {
				if spec.WrapStore != nil {
					return spec.WrapStore(id, p)
				}
				return p
			},
		})
		if err != nil {
			return nil, fmt.Errorf("sim: node %s: %w", n.ID, err)
		}
		c.asm[asm.ID()] = asm
		w := c.W
		c.W.AddNode(NodeSpec{ID: asm.ID(), DC: n.DC, Rack: n.Rack, Durable: asm.Durable(), Persistent: asm.Persistent(),
			Boot: func(s actors.Spawner) {
				if err := asm.Boot(s); err != nil {
					w.Fail(fmt.Errorf("node %s: %w", id, err))
				}
			}})
	}
	return c, nil
}

// nodeConfig writes node n's dynomite.yml (the spec's topology, then
// spec.Config and spec.NodeConfig over it) and parses it as the daemon
// does.
func (c *Cluster) nodeConfig(n ring.Node) (*config.Config, error) {
	seeds := []string{}
	for _, o := range c.Nodes {
		if o.ID != n.ID {
			seeds = append(seeds, fmt.Sprintf("%s:%d:%s:%s:%s", o.ID, peerPort, o.Rack, o.DC, formatTokens(o.Tokens)))
		}
	}
	keys := map[string]any{
		"listen":             n.ID + ":8102",
		"dyn_listen":         fmt.Sprintf("%s:%d", n.ID, peerPort),
		"datacenter":         n.DC,
		"rack":               n.Rack,
		"tokens":             formatTokens(n.Tokens),
		"data_store":         int(config.Embedded),
		"timeout":            c.Spec.Timeout.Milliseconds(),
		"heartbeat_interval": c.Spec.Heartbeat.Milliseconds(),
		// Anti-entropy rounds every few seconds, not every 10 minutes:
		// runs last a minute of virtual time.
		"anti_entropy_interval": AEInterval.Milliseconds(),
	}
	if len(seeds) > 0 {
		keys["dyn_seeds"] = seeds
	}
	maps.Copy(keys, c.Spec.Config)
	maps.Copy(keys, c.Spec.NodeConfig[n.ID])
	if ds, ok := keys["data_store"].(int); ok && ds != int(config.Embedded) && keys["servers"] == nil {
		// The modelled datastore beside the node (see datastoreModel).
		keys["servers"] = []string{n.ID + ":" + map[int]string{0: "6379", 1: "11211"}[ds] + ":1"}
	}
	text, err := yaml.Marshal(map[string]any{"dyn_o_mite": keys})
	if err != nil {
		return nil, fmt.Errorf("sim: node %s: config: %w", n.ID, err)
	}
	cfg, err := config.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("sim: node %s: config:\n%s\n%w", n.ID, text, err)
	}
	return cfg, nil
}

// datastoreModel is the datastore a simulated node fronts when its config
// names a server: for data_store 1 a modelled memcached (MemcachedStore),
// for data_store 0 the embedded engine standing in for redis-server (the
// differential test in actors/store holds it to Redis's answers), which,
// like the Redis adapter, answers a version only to a request that
// carries one (store.Options.VersionsWhenAsked). The
// embedded store (data_store 2) is built by the assembly itself.
func datastoreModel(cfg *config.Config, seed uint64) actors.Producer {
	switch cfg.DataStore {
	case config.Memcached:
		return MemcachedStore()
	case config.Redis:
		return store.NewEmbedded(store.Options{Seed: seed, TombstoneTTL: cfg.TombstoneTTL, VersionsWhenAsked: true})
	}
	return nil
}

func formatTokens(ts []uint32) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = strconv.FormatUint(uint64(t), 10)
	}
	return strings.Join(s, ",")
}

// Node returns the ring node with id.
func (c *Cluster) Node(id string) ring.Node {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	panic("sim: no node " + id)
}

// Assembly is node id's assembly: its config, ring and coordinators.
func (c *Cluster) Assembly(id string) *nodeasm.Node {
	asm, ok := c.asm[actors.NodeID(id)]
	if !ok {
		panic("sim: no node " + id)
	}
	return asm
}

// NodeIDs lists the cluster's node ids, sorted.
func (c *Cluster) NodeIDs() []string {
	ids := make([]string, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		ids = append(ids, n.ID)
	}
	slices.Sort(ids)
	return ids
}

// Connect opens a client connection on node: the coordinator the node's
// assembly makes for its protocol, named client/<n> as the daemon's edge
// names them (n, the connection's CLIENT ID, counts the cluster's
// connections). It returns the coordinator's address; replies go to sink.
// The connection's address, for CLIENT LIST, is ClientAddr(n); its local
// address the node's listen address.
func (c *Cluster) Connect(id string, read, write config.Consistency, sink actors.Addr) actors.Addr {
	c.conns++
	name := fmt.Sprintf("client/%d", c.conns)
	asm := c.Assembly(id)
	sock := clients.Conn{Addr: ClientAddr(c.conns), LAddr: asm.Config().Listen.String()}
	// As the daemon's admin port does, read repair starts at the config's
	// read_repairs_enabled.
	return c.W.Spawn(actors.NodeID(id), name, asm.Coordinator(nodeasm.Conn{Sink: sink, Read: read, Write: write,
		ReadRepairs: asm.Config().ReadRepairs, Socket: sock}))
}

// ClientAddr is the address of a simulated client's n-th connection:
// 192.0.2.1 (an address for documentation, RFC 5737), port 40000+n.
func ClientAddr(n int) string { return fmt.Sprintf("192.0.2.1:%d", 40000+n) }
