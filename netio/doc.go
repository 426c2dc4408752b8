// Package netio holds dynonode's edges, where bytes meet sockets: the client
// listener (frontend), the store adapters to real Redis and Memcached
// (datastore), seed providers (seeds) and, later, the admin HTTP server.
// The protocol codecs themselves are pure and live in actors/resp and
// actors/mcproto, because the coordinator and the embedded store (actor
// code) need them too. netio may use goroutines, sockets and time; it holds
// no cluster logic, which belongs in actors/.
package netio
