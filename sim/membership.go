package sim

import (
	"fmt"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/gossip"
	nodeasm "github.com/dynonode/dynonode/actors/node"
	"github.com/dynonode/dynonode/internal/check"
)

// membersProbe asks its node's gossiper for the membership as the node
// sees it.
type membersProbe struct {
	got  *gossip.Members
	name string
}

func (p *membersProbe) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		ctx.Send(actors.Addr{Node: ctx.Self().Node, Name: nodeasm.GossipName}, gossip.GetMembers{})
	case gossip.Members:
		p.got = &m
		ctx.Stop(ctx.Self())
	}
}

// membership is the check that every fault, once healed, is forgotten by
// the failure detectors: every node sees every node of the cluster up.
// Operations alone do not show it: a node its peers keep down for good
// (a restart whose gossip generation lost to its previous life's, a
// detector that never forgives) still coordinates, and quorums form
// without it, while it no longer receives a replica write. Checker
// "membership"; a swarm runs it after its liveness phase (the heal 30 s
// old), a register swarm after its convergence reads.
func (c *Cluster) membership(nodes []Node) (check.Result, error) {
	res := check.Result{Valid: true, Stats: map[string]int{}}
	probes := make([]*membersProbe, len(nodes))
	for i, n := range nodes {
		probes[i] = &membersProbe{name: n.ID}
		p := probes[i]
		c.W.Spawn(actors.NodeID(n.ID), "members-probe", func() actors.Behaviour { return p })
	}
	if err := c.W.RunFor(100 * time.Millisecond); err != nil {
		return res, err
	}
	fail := func(format string, args ...any) {
		res.Valid = false
		res.Violations = append(res.Violations, check.Violation{Checker: "membership", What: fmt.Sprintf(format, args...)})
	}
	for _, p := range probes {
		if p.got == nil {
			fail("%s's gossiper did not answer after the heal", p.name)
			continue
		}
		seen := map[string]bool{}
		for _, m := range p.got.List {
			seen[m.ID] = true
			if !m.Up {
				fail("%s sees %s down after the heal (generation %d, phi %.1f)", p.name, m.ID, m.Generation, m.Phi)
			}
		}
		for _, n := range nodes {
			if !seen[n.ID] {
				fail("%s does not know %s after the heal", p.name, n.ID)
			}
		}
		res.Stats["membership-views"]++
	}
	return res, nil
}
