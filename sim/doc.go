// Package sim is dynonode's deterministic runtime: it hosts the real actors
// (the same code transport/ runs on hollywood) on one goroutine, in virtual
// time, with one master seed from which every component draws its own
// random stream. It models the network (latency, drop, duplicate, reorder,
// partitions), nodes (crash, restart, pause, clock offset, drift and jumps),
// and hashes the ordered event trace into a digest so a seed can be shown
// to replay exactly.
//
// A simulated cluster (Cluster) is made of the daemon's own node assembly
// (actors/node): each node's dynomite.yml is written by the simulator (or
// stated by a scenario) and parsed by the daemon's parser, and the same
// function spawns its store, stats actor, gossiper and coordinators.
//
// sim must not start goroutines, read the wall clock for anything but the
// wall-time figure it reports, or use global randomness: a run is a pure
// function of its seed and its script.
package sim
