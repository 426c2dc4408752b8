// Package actors is the deterministic core of dynonode: the actor contract
// (Behaviour, Context, Addr, lifecycle messages) that every piece of cluster
// behaviour is written against, and, in sub-packages, the behaviours and
// the pure code they share: config (dynomite.yml), ring (tokens, hashes,
// replicas), command (the Redis command table), resp and mcproto (the
// protocol codecs), coord (request coordinators), gossip (membership and
// failure detection), store (the embedded engine and the store adapter
// contract), stats (the request statistics actor) and msg (the inter-node
// envelope).
//
// Code under actors/ must not reach the world directly: no net, os, sync,
// syscall or unsafe imports, no goroutines, no time.Now/Sleep/timers, no
// math/rand globals and nothing whose output depends on map order. Every
// effect goes through the Context, which is what lets the same code run in
// production (transport/, over real TCP) and inside the simulator with
// virtual time (sim/). purity_test.go enforces this.
package actors
