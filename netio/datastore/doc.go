// Package datastore holds the store adapters that talk to a real
// redis-server (data_store: 0) or memcached (data_store: 1): an actor that
// answers the actors/store contract (Exec in, Result out) by pipelining
// requests over a small pool of connections (datastore_connections).
//
// The actor only validates, encodes and queues a request on a connection;
// each connection has a writer goroutine that flushes everything queued in
// one write, and a reader goroutine that frames replies with the pure codecs
// (actors/resp, actors/mcproto), matches them FIFO to the pending requests
// and hands each Result straight to its requester through Options.Deliver,
// without a hop through the adapter actor.
//
// Failure semantics follow Dynomite: every Exec gets exactly one Result
// within Timeout; a timeout closes its connection and fails everything
// queued on it; a datastore that refuses connections (down, or not up yet
// when the node starts) is redialled in the background with exponential
// backoff (InitialBackoff, doubling, up to RetryTimeout) until it accepts,
// requests failing fast meanwhile with FailRefused naming its address; with
// AutoEject, FailureLimit consecutive failures eject the server for
// RetryTimeout, and a successful redial ends an ejection that refusals
// caused. The Fail* constants are the Failure strings.
//
// This package does I/O and owns goroutines; it must hold no cluster logic
// (routing, consistency), which lives in actors/ where the simulator runs it.
package datastore
