// Package stats owns a node's request statistics: one actor, named Name on
// every node, folds the StatsDelta reports of the connection coordinators
// into totals that only grow (for Prometheus) and a latency window that
// /historeset and a five-minute timer clear (for Dynomite's /info
// percentiles). It is pure actor code: the admin server reads it through
// the runtime (transport.Node.Inspect), never through shared memory.
package stats
