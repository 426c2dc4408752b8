// Package mcproto is a pure codec for the memcached text protocol: it parses
// client requests (get, gets, set, add, replace, append, prepend, cas,
// delete, incr, decr, touch, verbosity, version, quit), encodes replies, and
// frames responses coming back from a real memcached for the store adapter.
// It owns no sockets, goroutines or clocks.
//
// Parser is fed the unconsumed bytes of a connection and returns every
// complete request, pipelined requests included; partial input is left for
// the next call. Keys and data blocks alias the caller's buffer and stay
// valid until the next Parse call. The steady-state path allocates nothing.
//
// Errors come in two kinds, both carrying the exact line memcached sends
// (see Error):
//
//   - in-band: a request memcached answers with an error and then carries
//     on (unknown command, bad key, bad number, object too large). It is
//     returned as a Request of KindError in pipeline order, so replies stay
//     in order; a storage command's data block is skipped, as memcached
//     "swallows" it.
//   - fatal (Error.Close): the stream cannot be resynchronised (a storage
//     command whose <bytes> cannot be read, a data block not ending in
//     CRLF, a line too long). Parse stops and returns it; the caller sends
//     the reply line and closes the connection.
package mcproto
