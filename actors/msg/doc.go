// Package msg owns every message that crosses nodes: the registry of stable
// numeric type codes, the msgpack envelope {code, from, to, corr_id, payload}
// and the length-prefixed frame that carries one envelope on a byte stream.
//
// Decoding is for untrusted bytes: unknown codes, garbage, truncated or
// oversized input return an error and never panic. Payloads are always
// decoded into the concrete registered type, never into any (msgpack
// v5.4.1 allocates 32 GiB for a 5-byte slice header decoded into any or a
// slice; v5.3.6, the pinned version, is safe). Structs are array-encoded, so a
// message type may only grow by appending fields; never reorder them.
//
// Hot message types may encode themselves (msgpack.CustomEncoder and
// CustomDecoder, which the registry then calls directly) to skip
// reflection, provided their bytes stay exactly what reflection would
// produce with the Codec's settings; wire.go has decoding helpers that
// check every declared length against the input left and never alias it.
//
// Code ranges: 1-0x7FFF cluster protocol, 0xFF00-0xFFFF test-only protocols.
package msg
