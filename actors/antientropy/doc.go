// Package antientropy makes the replicas of every key converge without
// reads, and refills a node whose datastore came back empty.
//
// # Segments and digests
//
// The ring is cut at every token of every rack of every DC (layout.go):
// within one segment each rack has exactly one owner, so the owners of a
// segment in two racks hold the same keys when they agree. Each segment
// is split into 2^Bits buckets by a 64-bit hash of the key (FNV-1a,
// mixed), and a bucket's digest is the sum (mod 2^64) of a hash of each
// of its (key, version) pairs: versioned values and tombstones alike, the
// version without its in-place mark. A sum is independent of the order a
// store lists its keys in, so a scan in pages (the store's DYNO.KEYS; on
// Redis an HSCAN of the version and tombstone hashes, never KEYS) builds
// it; unlike an XOR, a key an HSCAN lists twice makes the bucket differ
// (a listing's cost) rather than vanish from it.
//
// # A round
//
// Every anti_entropy_interval (jittered ±25%), and on demand (Start, the
// admin's /anti_entropy/start), a node scans its store once into the
// digests of the segments it owns, leaving out versions written in the
// last Horizon (still replicating: under steady writes they would make
// every bucket differ), then opens a session with each node of another
// rack or DC that shares a segment with it and whose id sorts after its
// own, one at a time (a session syncs both ways: the pair's other node
// need not start one too; on demand and while resuming, with every such
// node):
//
//  1. Sync carries the initiator's digests of the shared segments and
//     the horizon; the peer scans its own store with the same horizon
//     and answers the buckets that differ (SyncReply). Equal digests end
//     the session: that is the whole idle cost (one scan per interval,
//     2^Bits × 8 bytes per shared segment on the wire).
//  2. Each side lists its keys of the differing buckets, with versions,
//     in Pages of PageKeys; the other asks its own store for the
//     versions it holds (DYNO.VERSIONS) and pulls every key the peer
//     holds newer: DYNO.DUMP from the peer's store, DYNO.RESTORE (or
//     DYNO.DEL for a tombstone) into its own under the peer's version,
//     which the store applies only if still newer, so concurrent writes
//     and repeated sessions are safe. It acknowledges the page once
//     anti_entropy_bandwidth allows the bytes it copied; the lister
//     reads its store at most anti_entropy_scan_rate keys per second.
//
// A value modified in place (a counter, a list, a set or a hash written
// by read-modify-write commands) reports no version to reads, and read
// repair leaves it alone. Its replicas may each hold elements or
// increments the others lack, so copying one over another would lose
// some: anti-entropy copies it only to a replica that lacks the key
// altogether (an emptied datastore, a replica that missed its creation),
// and only once its version is older than Horizon, when every write in
// flight to that replica has arrived or timed out (an increment arriving
// after the copy would count twice). A node refilling an emptied
// datastore takes the newer copy at once, over what it holds of the key
// (writes since it was emptied, which the peer took too): an in-place
// write in flight to it during that copy may count twice. In-place values
// that diverged stay as they are until merged by type (not built); whole
// values and deletes converge to the newest.
//
// A peer in a session already answers Busy, and the round asks it again
// later (up to three times); a session without progress for Timeout is
// aborted on both sides.
//
// # Resuming an emptied datastore
//
// At start and every MarkEvery the actor sends DYNO.MARK with a marker
// of its own, and the node remembers the datastore's marker beside it
// (StateName: a file under hints_dir in the daemon). A datastore that
// loses its marker while the node runs (a Redis restarted without
// persistence) lost its data; so did one found without a marker at
// start on a node that remembers one (the embedded store after a process
// restart, a Redis emptied while the node was down). A datastore without
// a marker on a node that remembers none is new: a new node or cluster
// starts NORMAL. A node with replicas whose datastore lost its data
// declares RESUMING through gossip: coordinators read from the other
// racks (its own included), it keeps taking writes, and it runs rounds
// back to back, with every peer, comparing everything (no horizon). It
// is NORMAL again once every segment it owns was synced with a replica
// that is NORMAL, or with every replica that is up while those that are
// down stayed down for Settle (a replica that left three Syncs in a row
// unanswered runs no anti-entropy, anti_entropy off there or an older
// version, and counts as down). A node without replicas never resumes.
// While every replica of a key is RESUMING, reads use them rather than
// fail (actors/coord's usable).
package antientropy
