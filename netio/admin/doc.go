// Package admin is a node's admin and stats HTTP server on stats_listen:
// Dynomite's REST endpoints (/info, /cluster_describe, consistency, timeout
// factor, log level, node and peer states, read repairs), /help, and a
// Prometheus /metrics. It owns the run-time settings those endpoints change
// (consistency levels, timeout factor, node state, peer states, read
// repairs) and reads the node's counters through the functions its Options
// give it: request statistics come from the stats actor (actors/stats) by
// way of the runtime, never from shared memory with actor code.
//
// Where dynonode differs from Dynomite: unknown paths and bad arguments get
// a 4xx status and a one-line message (Dynomite answers 200 "OK" to
// anything), text replies are text/plain, and /peer/<verb>/all applies the
// verb to every peer (Dynomite resets them all whatever the verb).
package admin
