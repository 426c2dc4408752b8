package actors

// Coverage marks. A rare path worth proving that fault runs reach (a
// quorum lost mid-request, a hint replayed after a crash, a tombstone
// blocking a late write...) calls Mark with a name. In production it costs
// a type assertion on the Context; the simulator's Context counts it per
// run (sim.World.Marks) and per process, and sim's TestMain, once the
// package's tests have all run and passed, fails naming every mark
// declared in actors/ that no run reached. A mark's name is a string
// constant named mark... in its package ("area/what"), so that the test
// can list them all from the source.

// Marker is a Context that counts coverage marks (the simulator's).
type Marker interface{ Mark(name string) }

// Mark records that the rare path name ran.
func Mark(ctx Context, name string) {
	if m, ok := ctx.(Marker); ok {
		m.Mark(name)
	}
}
