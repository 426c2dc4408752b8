// Package coord owns request coordination: one coordinator actor per client
// connection takes the connection's requests in order, routes each to the
// store adapters of the nodes that own its keys (through the ring), splits
// multi-key commands and merges their replies, answers what the node itself
// answers, refuses what a cluster cannot serve, times requests out, and
// hands the replies back to the connection's writer strictly in request
// order, one batch at a time.
//
// It is pure actor code: it sees bytes already parsed by actors/resp or
// actors/mcproto and never touches a socket, so the simulator runs it
// unchanged.
package coord
