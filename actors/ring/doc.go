// Package ring owns key placement for dynonode: the Dynomite-compatible hash
// functions that turn a key into a 32-bit token, hash_tag extraction, the
// per-rack token continuum, and replica selection (which node of which rack
// of which DC holds a key, and in what order a coordinator should talk to
// them).
//
// Placement follows Dynomite's vnode_dispatch exactly, because token-aware
// clients (Dyno) compute owners themselves and must agree with us:
//
//   - Every rack holds a full copy of the data, sharded over its nodes by
//     token. Within a rack, tokens are sorted ascending and token T_i owns the
//     hashes in (T_{i-1}, T_i]. A hash that is <= the smallest token or >
//     the largest wraps to the node with the smallest token.
//   - A key whose hashed bytes are empty (the empty key, or key "{}" with
//     hash tag "{}") belongs to the local node in the local rack, as in
//     Dynomite. Dynomite has no rule for other racks (it sends such keys to
//     itself); dynonode uses the owner of token 0 there, which is the node
//     with the smallest token: the node murmur (the default hash, which maps
//     the empty input to 0) would pick.
//   - A node may carry several tokens. Dynomite parses several but its ring
//     builder only honours one; dynonode supports them properly.
//
// Hash functions are byte-exact with Dynomite's src/hashkit on x86-64
// (including its quirks: crc32 keeps 15 bits, fnv1a_64 runs in 32 bits,
// one_at_a_time sign-extends bytes >= 0x80). murmur3 is a stub in Dynomite
// that computes nothing; dynonode implements real MurmurHash3 x86_32 with
// seed 0 instead. See the Hash constants for per-function notes.
//
// The package is pure and immutable: a Ring is built once from a node list
// (New) and replaced wholesale when membership changes. It does no I/O, keeps
// no clock, starts no goroutines and takes no locks, so a Ring may be shared
// freely. Lookups (Token, OwnerInRack, Replicas, ...) do not allocate. It
// does not decide consistency levels, quorums, failover or node liveness:
// those belong to the coordinator and gossip actors, which ask the ring
// "who owns this key" and decide the rest.
package ring
