package sim

import (
	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/antientropy"
)

// NodeState is the simulator's node state (actors/antientropy's GetMark
// and SaveMark): the data marker a node remembers, on its own disk. The
// assembly names it persistent, so it outlives every crash of its node,
// a wiped datastore included.
type NodeState struct {
	mark     string
	resuming bool
}

// NewNodeState is the node-state actor's producer.
func NewNodeState() actors.Behaviour { return &NodeState{} }

// Receive implements actors.Behaviour.
func (s *NodeState) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case antientropy.GetMark:
		ctx.Send(ctx.Sender(), antientropy.MarkState{Mark: s.mark, Resuming: s.resuming})
	case antientropy.SaveMark:
		s.mark, s.resuming = m.Mark, m.Resuming
	}
}
