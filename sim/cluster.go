package sim

import (
	"fmt"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
)

// ClusterSpec describes a simulated dynonode cluster running the real node
// actors: an embedded store (durable across crashes), a gossiper, and
// client connections made of the real coordinator.
type ClusterSpec struct {
	Seed int64
	// Racks lists, per DC, how many racks it has; PerRack nodes each.
	Racks   []int
	PerRack int
	Net     Link
	// Timeout is the coordinators' request timeout. Default 500ms.
	Timeout time.Duration
	// Heartbeat is the gossip period. Default 1s. NoGossip: static
	// membership.
	Heartbeat time.Duration
	NoGossip  bool
	// WrapStore, when set, wraps every node's store producer (tests inject
	// faulty stores through it to prove the checkers catch them).
	WrapStore func(node string, p actors.Producer) actors.Producer
}

// Cluster is a running simulated cluster.
type Cluster struct {
	W     *World
	Spec  ClusterSpec
	Nodes []ring.Node
	rings map[actors.NodeID]*ring.Ring
	conns int
}

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
	c := &Cluster{W: New(Config{Seed: spec.Seed, Net: spec.Net}), Spec: spec, rings: map[actors.NodeID]*ring.Ring{}}
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
	var members []gossip.Member
	for _, n := range c.Nodes {
		members = append(members, gossip.Member{ID: n.ID, DC: n.DC, Rack: n.Rack, Tokens: n.Tokens})
	}
	for i, n := range c.Nodes {
		rg, err := ring.New(ring.Config{Nodes: c.Nodes, Local: n.ID})
		if err != nil {
			return nil, fmt.Errorf("sim: cluster ring: %w", err)
		}
		c.rings[actors.NodeID(n.ID)] = rg
		storeP := store.NewEmbedded(store.Options{Seed: uint64(spec.Seed) + uint64(i)})
		if spec.WrapStore != nil {
			storeP = spec.WrapStore(n.ID, storeP)
		}
		gcfg := gossip.Config{Self: members[i], Seeds: members, Interval: spec.Heartbeat}
		c.W.AddNode(NodeSpec{ID: actors.NodeID(n.ID), DC: n.DC, Rack: n.Rack, Durable: []string{"store"},
			Boot: func(s actors.Spawner) {
				s.Spawn("store", storeP)
				if !spec.NoGossip {
					s.Spawn("gossip", gossip.New(gcfg))
				}
			}})
	}
	return c, nil
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

// Connect opens a client connection on node: its coordinator and a sink.
// It returns the coordinator's address; replies go to sink.
func (c *Cluster) Connect(node string, read, write config.Consistency, sink actors.Addr) actors.Addr {
	c.conns++
	id := actors.NodeID(node)
	name := fmt.Sprintf("conn%d", c.conns)
	cfg := coord.Config{Sink: sink, Ring: c.rings[id], StoreName: "store", Timeout: c.Spec.Timeout, Read: read, Write: write, Version: "sim"}
	if !c.Spec.NoGossip {
		cfg.Gossip = actors.Addr{Node: id, Name: "gossip"}
	}
	return c.W.Spawn(id, name, coord.NewRedis(cfg))
}
