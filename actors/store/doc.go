// Package store owns the datastore side of a node: the store-adapter
// contract (Exec in, Result out, keyed by a requester-chosen ID) that every
// adapter honours, and the embedded in-memory engine that answers like Redis
// 7, byte for byte, and is the datastore the simulator runs.
//
// Adapters that talk to a real Redis or Memcached do I/O and live in netio/;
// nothing here may touch sockets, goroutines or the wall clock: the engine
// reads time only from the Context (or from its caller), so expiry is
// deterministic in the simulator.
package store
