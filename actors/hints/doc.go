// Package hints is hinted handoff: a write that a replica could not take
// (down, unreachable, timed out, its datastore failed) is kept as a hint by
// its coordinator's node and replayed to the replica once it is back, with
// the write's version, so that it applies only where newer.
//
// The Manager actor keeps a node's hints in memory, writes each ahead to
// its target's log and replays them in order (msgs.go has the protocol:
// Hint from coordinators, Append/Clear/Cut/Load with the log, GetStatus and
// Drop from operators). The log is the runtime's: files under hints_dir in
// the daemon (netio/hintlog), a durable actor in the simulator
// (sim/hintlog.go); both hold the framed, checksummed records of
// record.go, which a restarted manager reads back up to the first damaged
// one. The coordinator's part (what is hinted, when) is
// actors/coord/handoff.go; docs/cluster.md, "Hinted handoff", is the
// operator's view.
package hints
