// Package netio holds dynonode's edges, where bytes meet sockets: the client
// listener (frontend), the store adapters to real Redis and Memcached
// (datastore), seed providers (seeds), the admin and stats HTTP server
// (admin), the admission gate at which readers of new work wait while a
// local component has too much queued (admit) and raw non-blocking socket reads and writes (sock).
// The protocol codecs themselves are pure and live in actors/resp and
// actors/mcproto, because the coordinator and the embedded store (actor
// code) need them too. netio may use goroutines, sockets and time; it holds
// no cluster logic, which belongs in actors/.
package netio
