package main

import (
	"errors"
	"fmt"
	"github.com/dynonode/dynonode/actors/gossip"
	"log/slog"
	"time"

	"github.com/dynonode/dynonode/actors"
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
	cfg      *config.Config
	node     *transport.Node
	fe       **frontend.Listener // set once the client listener is bound
	counters *datastore.Counters // nil for the embedded store
	level    admin.LogLevel
	log      *slog.Logger
	gossip   actors.Addr // zero when the node runs no gossiper
	hints    bool        // the node runs a hint manager (node.HintsName)
}

// newAdmin builds the admin server over the node's counters; request
// statistics come from the stats actor, inside its turn.
func newAdmin(w adminWiring) *admin.Server {
	statsAddr := actors.Addr{Node: w.node.ID(), Name: stats.Name}
	opts := admin.Options{
		Config: w.cfg, NodeID: string(w.node.ID()), Version: version, Started: time.Now(), Log: w.level, Logger: w.log,
		Requests: func() (stats.Snapshot, error) {
			got := make(chan stats.Snapshot, 1)
			err := w.node.Inspect(stats.Name, 2*time.Second, func(b actors.Behaviour) {
				if s, ok := b.(*stats.Stats); ok {
					got <- s.Snapshot()
				}
			})
			if err != nil {
				return stats.Snapshot{}, err
			}
			select {
			case s := <-got:
				return s, nil
			default:
				return stats.Snapshot{}, fmt.Errorf("actor %s is not the stats actor", stats.Name)
			}
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
			got := make(chan []gossip.MemberView, 1)
			err := w.node.Inspect(w.gossip.Name, 2*time.Second, func(b actors.Behaviour) {
				if g, ok := b.(*gossip.Gossiper); ok {
					got <- g.Snapshot().List
				}
			})
			if err != nil {
				return nil, err
			}
			select {
			case l := <-got:
				return l, nil
			default:
				return nil, errors.New("the gossip actor is not a gossiper")
			}
		},
		ResetHistograms: func() error {
			w.node.Send(actors.Addr{Node: w.node.ID(), Name: "admin"}, statsAddr, stats.ResetWindow{})
			return nil
		},
		Links: func() admin.Links {
			s := w.node.Stats()
			return admin.Links{Sent: s.Sent, Received: s.Received, Dropped: s.Dropped, BadFrames: s.BadFrames,
				DeadLetters: s.DeadLetters, Panics: s.Panics, Queued: s.Queued}
		},
		Clients: func() admin.Clients {
			fe := *w.fe
			if fe == nil {
				return admin.Clients{}
			}
			return admin.Clients{Accepted: fe.Accepted.Load(), Active: fe.Active.Load(), InFlight: fe.Unwritten()}
		},
	}
	if w.counters != nil {
		opts.Datastore = w.counters.Snapshot
	}
	if w.gossip.IsZero() {
		// No gossiper: /cluster_describe shows the configuration.
		opts.Members = nil
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

// hintStatus reads the hint manager's status inside its turn.
func hintStatus(n *transport.Node) (hints.Status, error) {
	got := make(chan hints.Status, 1)
	err := n.Inspect(node.HintsName, 2*time.Second, func(b actors.Behaviour) {
		if m, ok := b.(*hints.Manager); ok {
			got <- m.Snapshot(time.Now())
		}
	})
	if err != nil {
		return hints.Status{}, err
	}
	select {
	case s := <-got:
		return s, nil
	default:
		return hints.Status{}, fmt.Errorf("actor %s is not the hint manager", node.HintsName)
	}
}
