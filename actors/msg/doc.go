// Package msg owns every message that crosses nodes: the registry of stable
// numeric type codes, the msgpack envelope {code, from, to, corr_id, payload}
// and the length-prefixed frame that carries one envelope on a byte stream.
//
// Decoding is for untrusted bytes: unknown codes, garbage, truncated or
// oversized input return an error and never panic. Payloads are always
// decoded into the concrete registered type, never into any (see
// ../shared/LIBRARIES.md on msgpack). Structs are array-encoded, so a
// message type may only grow by appending fields; never reorder them.
//
// Code ranges: 1-0x7FFF cluster protocol, 0xFF00-0xFFFF test-only protocols.
package msg
