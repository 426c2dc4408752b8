package main

import (
	"errors"
	"fmt"
	"github.com/dynonode/dynonode/actors/gossip"
	"log/slog"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/antientropy"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/hints"
	"github.com/dynonode/dynonode/actors/node"
	"github.com/dynonode/dynonode/actors/stats"
	"github.com/dynonode/dynonode/netio/admin"
	"github.com/dynonode/dynonode/netio/datastore"
	"github.com/dynonode/dynonode/netio/frontend"
	"github.com/dynonode/dynonode/transport"
)

// adminWiring is what the admin server reads the node through.
type adminWiring struct {
	cfg         *config.Config
	node        *transport.Node
	fe          **frontend.Listener // set once the client listener is bound
	counters    *datastore.Counters // nil for the embedded store
	level       admin.LogLevel
	log         *slog.Logger
	gossip      actors.Addr // zero when the node runs no gossiper
	hints       bool        // the node runs a hint manager (node.HintsName)
	antiEntropy bool        // the node runs anti-entropy (node.AEName)
}

// newAdmin builds the admin server over the node's counters; request
// statistics come from the stats actor, inside its turn.
func newAdmin(w adminWiring) *admin.Server {
	statsAddr := actors.Addr{Node: w.node.ID(), Name: stats.Name}
	opts := admin.Options{
		Config: w.cfg, NodeID: string(w.node.ID()), Version: version, Started: time.Now(), Log: w.level, Logger: w.log,
		Requests: func() (stats.Snapshot, error) {
			return inspect(w.node, stats.Name, func(s *stats.Stats) stats.Snapshot { return s.Snapshot() })
		},
		OnState: func(st gossip.State) {
			if !w.gossip.IsZero() {
				w.node.Send(actors.Addr{Node: w.node.ID(), Name: "admin"}, w.gossip, gossip.SetState{State: st})
			}
		},
		Members: func() ([]gossip.MemberView, error) {
			if w.gossip.IsZero() {
				return nil, errors.New("no gossiper")
			}
			return inspect(w.node, w.gossip.Name, func(g *gossip.Gossiper) []gossip.MemberView { return g.Snapshot().List })
		},
		ResetHistograms: func() error {
			w.node.Send(actors.Addr{Node: w.node.ID(), Name: "admin"}, statsAddr, stats.ResetWindow{})
			return nil
		},
		Links: func() admin.Links {
			s := w.node.Stats()
			return admin.Links{Sent: s.Sent, Received: s.Received, Dropped: s.Dropped, BadFrames: s.BadFrames, Refused: s.Refused,
				DeadLetters: s.DeadLetters, Panics: s.Panics, Queued: s.Queued}
		},
		Clients: func() admin.Clients {
			fe := *w.fe
			if fe == nil {
				return admin.Clients{}
			}
			return admin.Clients{Accepted: fe.Accepted.Load(), Active: fe.Active.Load(), InFlight: fe.Unwritten(),
				Refused: fe.Refused.Load(), Stalled: fe.Stalled.Load()}
		},
	}
	if w.counters != nil {
		opts.Datastore = w.counters.Snapshot
	}
	if w.gossip.IsZero() {
		// No gossiper: /cluster_describe shows the configuration.
		opts.Members = nil
	}
	if w.antiEntropy {
		opts.AntiEntropy = func() (antientropy.Status, error) { return aeStatus(w.node) }
		opts.StartRepair = func() (antientropy.Status, error) {
			w.node.Send(actors.Addr{Node: w.node.ID(), Name: "admin"}, actors.Addr{Node: w.node.ID(), Name: node.AEName}, antientropy.Start{})
			return aeStatus(w.node) // after the Start: one mailbox, in order
		}
	}
	if w.hints {
		opts.Hints = func() (hints.Status, error) { return hintStatus(w.node) }
		opts.DropHints = func(target string) (hints.Status, error) {
			w.node.Send(actors.Addr{Node: w.node.ID(), Name: "admin"}, actors.Addr{Node: w.node.ID(), Name: node.HintsName}, hints.Drop{Target: target})
			return hintStatus(w.node) // after the Drop: one mailbox, in order
		}
	}
	return admin.New(opts)
}

// aeStatus reads anti-entropy's status inside its turn.
func aeStatus(n *transport.Node) (antientropy.Status, error) {
	return inspect(n, node.AEName, func(a *antientropy.Actor) antientropy.Status { return a.Snapshot(time.Now()) })
}

// hintStatus reads the hint manager's status inside its turn.
func hintStatus(n *transport.Node) (hints.Status, error) {
	return inspect(n, node.HintsName, func(m *hints.Manager) hints.Status { return m.Snapshot(time.Now()) })
}

// inspect reads get(the actor named name) inside its turn; an error when
// the actor does not answer in 2 s or is not a B.
func inspect[B actors.Behaviour, T any](n *transport.Node, name string, get func(B) T) (T, error) {
	var zero T
	got := make(chan T, 1)
	err := n.Inspect(name, 2*time.Second, func(b actors.Behaviour) {
		if x, ok := b.(B); ok {
			got <- get(x)
		}
	})
	if err != nil {
		return zero, err
	}
	select {
	case v := <-got:
		return v, nil
	default:
		return zero, fmt.Errorf("actor %s is not a %T", name, *new(B))
	}
}
