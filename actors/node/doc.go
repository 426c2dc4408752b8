// Package node assembles one dynonode node from its parsed config: the
// ring, the store adapter (or the embedded store), the stats actor, the
// gossiper, and the coordinators that client connections get. Both
// runtimes call it — the daemon (cmd/dynonode on transport/) and the
// simulator (sim/) — so every actor production runs also runs in the
// swarm, wired the same way.
//
// What the runtime owns stays outside: sockets and the datastore adapter
// that talks to a real Redis or Memcached (handed in as Deps.Store), peer
// links, seed providers, the admin port. The package is pure like the rest
// of actors/: it only builds values and spawns actors through a Spawner.
package node
