// Package resp is a pure codec for RESP2, the Redis serialization protocol,
// in the style of tidwall/redcon: it is fed bytes and returns values, or
// appends encoded bytes to a caller's buffer. It owns no sockets, starts no
// goroutines and reads no clock; the client listener and the Redis store
// adapter in netio do the I/O around it.
//
// Three parts:
//
//   - Parser parses client requests: multibulk arrays of bulk strings and
//     inline commands (split like Redis's sdssplitargs), many pipelined
//     commands per call. Arguments alias the caller's buffer (or the
//     parser's arena for unescaped inline quotes) and stay valid until the
//     next Parse call. Limits and error texts follow Redis's networking.c.
//     After a *ProtocolError the caller sends the error reply and closes the
//     connection, as Redis does: the byte stream cannot be resynchronised.
//   - Append* encoders write replies (and commands, for the store adapter)
//     into a []byte without allocating when it has capacity.
//   - ReplyScanner / ReplyLen find the end of one complete reply from a
//     redis-server so the proxy can forward it as bytes; ParseReply builds a
//     Value tree when the contents are needed.
//
// The steady-state request path allocates nothing: Parser reuses its
// command, argument and arena slices from call to call.
package resp
