// Package gossip owns cluster membership and failure detection: which nodes
// exist (from the seeds, then from gossip when joins are enabled), their
// tokens, the state each declares (Dynomite's NORMAL, STANDBY, WRITES_ONLY,
// RESUMING, JOINING...), and which of them this node believes are down.
//
// Every node runs one Gossiper actor. Each round it bumps its own heartbeat
// and pushes its whole table to a few random peers; tables merge by
// (generation, heartbeat), so a heartbeat reaches every node by many paths
// and a lost message costs little. A phi-accrual detector per member turns
// the arrival times of fresh heartbeats into a suspicion level; above the
// threshold the member is down until a fresh heartbeat arrives. Coordinators
// subscribe and receive a View (ring, down nodes, states) whenever it
// changes. Pure actor code: time, randomness and messages come from the
// Context, so the simulator runs it unchanged.
package gossip
