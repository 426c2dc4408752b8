// Package seeds owns where a node learns its seeds (the other nodes of the
// cluster) and how that list is kept current: the three Dynomite seed
// providers behind one Provider interface, and Poll, which asks a provider
// periodically and hands a changed list to the caller. It does network I/O
// (a TCP request to Florida, DNS lookups) and keeps time; it does not decide
// what a new seed means for the ring or gossip: that is apply's caller.
//
// Providers (dyn_seed_provider), configured as Dynomite does by environment
// variables, read through New's getenv so tests never touch the process
// environment:
//   - simple_provider: the static dyn_seeds list.
//   - florida_provider: a raw HTTP request (DYNOMITE_FLORIDA_REQUEST) to
//     DYNOMITE_FLORIDA_IP:DYNOMITE_FLORIDA_PORT; the reply must have status
//     "200 OK" and its body is "host:port:rack:dc:tokens" entries joined by
//     '|'. Bounded by a timeout and a maximum response size.
//   - dns_provider: the TXT records of DYNOMITE_DNS_NAME in the same format.
//     DYNOMITE_DNS_TYPE=A is refused by New: an A record cannot carry a
//     seed, and Dynomite's A mode never produces one.
//
// A failing provider never stops the node. Poll logs every failure with its
// cause (log/slog, level WARN), keeps the last good list in effect, and
// retries with jittered exponential backoff from PollOptions.RetryMin up to
// the poll period. A malformed or empty payload counts as a failure, so a
// broken Florida or DNS record cannot empty the cluster's membership. A
// panic inside a provider is recovered and treated as a failure too.
package seeds
