// Package transport is dynonode's production runtime. It hosts actors
// (actors.Behaviour) on the hollywood engine, one hollywood process per
// actor, through an adapter that implements actors.Context with real timers,
// the real clock and per-actor seeded randomness. Messages for other nodes
// travel as length-prefixed msgpack envelopes (actors/msg) over TCP peer
// links that reconnect with backoff and never let a bad peer take anything
// else down.
//
// transport owns goroutines, sockets and time; it must hold no cluster logic:
// everything a node decides is decided in actors/ so the simulator runs it
// too.
package transport
