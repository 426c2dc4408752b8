// Package actors is the deterministic core of dynonode: the actor contract
// (Behaviour, Context, Addr, lifecycle messages) that every piece of cluster
// behaviour is written against, and, in sub-packages, the behaviours
// themselves (ring, coord, gossip, store, msg, config).
//
// Code under actors/ must not reach the world directly: no net, os or sync
// imports, no goroutines, no time.Now/Sleep/timers and no math/rand globals.
// Every effect goes through the Context, which is what lets the same code run
// on hollywood over real TCP (transport/) and inside the simulator with
// virtual time (sim/). purity_test.go enforces this.
package actors
