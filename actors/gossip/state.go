package gossip

// State is a node state, numbered as Dynomite numbers them.
type State uint8

const (
	Init       State = 0
	Standby    State = 1
	WritesOnly State = 2
	Resuming   State = 3
	Normal     State = 4
	Joining    State = 7
	Down       State = 8
	Reset      State = 11
	Unknown    State = 12
)

func (s State) String() string {
	switch s {
	case Init:
		return "INIT"
	case Standby:
		return "STANDBY"
	case WritesOnly:
		return "WRITES_ONLY"
	case Resuming:
		return "RESUMING"
	case Normal:
		return "NORMAL"
	case Joining:
		return "JOINING"
	case Down:
		return "DOWN"
	case Reset:
		return "RESET"
	}
	return "Unknown"
}

// ParseState reads a state name as the admin endpoints spell it (any case).
func ParseState(s string) (State, bool) {
	for _, st := range []State{Init, Standby, WritesOnly, Resuming, Normal, Joining, Down, Reset} {
		if equalFold(st.String(), s) {
			return st, true
		}
	}
	return Unknown, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// AllowsReads reports whether a node in state s serves reads: only NORMAL.
func (s State) AllowsReads() bool { return s == Normal }

// AllowsWrites reports whether a node in state s takes writes: NORMAL, and
// WRITES_ONLY and RESUMING, the states of a node catching up.
func (s State) AllowsWrites() bool { return s == Normal || s == WritesOnly || s == Resuming }
