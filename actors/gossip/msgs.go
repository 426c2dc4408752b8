package gossip

import (
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/dynonode/dynonode/actors/ring"
)

// Member is one node as the cluster knows it. Generation changes at every
// start of the node, so a restarted node's fresh heartbeats win over the
// ones of its previous life.
type Member struct {
	ID         string
	DC, Rack   string
	Tokens     []uint32
	State      State // what the node declares
	Generation uint64
	Heartbeat  uint64
	Left       bool // the node left the cluster for good
	// Versions says whether the node keeps versioned values (the
	// `versions` key): VersionsOn or VersionsOff; 0 from a node built
	// before versions. Nodes that disagree refuse each other.
	Versions uint8
}

// Values of Member.Versions.
const (
	VersionsOff uint8 = 1
	VersionsOn  uint8 = 2
)

func (m Member) newerThan(o Member) bool {
	return m.Generation > o.Generation || (m.Generation == o.Generation && m.Heartbeat > o.Heartbeat)
}

// Digest is one gossip push: the sender's whole table.
type Digest struct{ Members []Member }

func init() { msg.Register[Digest](200) }

// Subscribe asks the gossiper to send the sender a View now and whenever
// it changes; Unsubscribe stops it. Local messages.
type (
	Subscribe   struct{}
	Unsubscribe struct{}
)

// SetState changes this node's declared state (the admin endpoints).
type SetState struct{ State State }

// Leave announces that this node leaves the cluster for good.
type Leave struct{}

// GetMembers asks for a Members snapshot (admin, tests).
type GetMembers struct{}

// MemberView is a member as this node sees it.
type MemberView struct {
	Member
	Up    bool
	Phi   float64
	Downs int // how often this node declared the member down
}

// Members answers GetMembers: every member, sorted by ID (this node
// included, always up).
type Members struct {
	List []MemberView
	// GenerationMoves counts the times this node moved its generation past
	// a previous life's (a restart after its wall clock stepped back). In a
	// run without restarts it stays 0.
	GenerationMoves int
}

// View is what coordinators route by: the ring of the live membership and
// which nodes cannot be used. Rings are immutable, so sharing one between
// actors is safe.
type View struct {
	Version uint64
	Ring    *ring.Ring
	Down    map[string]bool  // suspected by the failure detector, or left
	States  map[string]State // declared states, by node id
	Self    State            // this node's own state
}

// Usable reports whether node may serve a read (or a write).
func (v *View) Usable(node string, write bool) bool {
	if v == nil {
		return true
	}
	if v.Down[node] {
		return false
	}
	st, ok := v.States[node]
	if !ok {
		return true
	}
	if write {
		return st.AllowsWrites()
	}
	return st.AllowsReads()
}
