package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config is one node's configuration: the directives of the single pool in
// a dynomite.yml, with every default already applied. The YAML key is named
// first in each comment; "Default" is the value dynonode applies when the key
// is absent or (for numbers) 0, which follows Dynomite's code, not its README.
type Config struct {
	// Pool is the top-level key naming the pool, e.g. "dyn_o_mite".
	Pool string

	// Listen (listen) is the client listener: host:port or a unix /path.
	// Required.
	Listen Addr
	// DynListen (dyn_listen) is the peer listener, host:port. Zero when unset:
	// the node then accepts no peers, so dyn_seeds needs it.
	DynListen Addr
	// StatsListen (stats_listen) is the admin/stats HTTP listener.
	// Default 127.0.0.1:22222 (Dynomite: 0.0.0.0:22222; see docs/security.md).
	StatsListen Addr

	// DataStore (data_store) selects the backend. Default Redis (0) when
	// servers is given, Embedded (2, dynonode) when servers is omitted.
	DataStore DataStore
	// Server (servers) is the one datastore this node fronts. Zero for the
	// embedded store.
	Server Server

	// Datacenter (datacenter) names this node's DC. Default "localdc".
	Datacenter string
	// Rack (rack) names this node's rack. Default "localrack".
	Rack string
	// Tokens (tokens) are this node's ring positions, sorted ascending as
	// written. Nil when unset, which only a node without seeds may do.
	Tokens []uint32
	// Seeds (dyn_seeds) are the other nodes of the cluster, in file order.
	Seeds []Seed
	// SeedProvider (dyn_seed_provider) is "simple_provider" (Seeds),
	// "florida_provider" or "dns_provider". Default "simple_provider".
	SeedProvider string

	// Hash (hash) names the key hash function; one of HashNames().
	// Default "murmur".
	Hash string
	// HashTag (hash_tag) is "" or exactly two bytes, e.g. "{}".
	HashTag string

	// Timeout (timeout, ms) bounds a request to the datastore or a peer.
	// Default 5000 ms.
	Timeout time.Duration
	// Preconnect (preconnect) opens datastore connections at start.
	// Default true.
	Preconnect bool
	// AutoEjectHosts (auto_eject_hosts) ejects a failing datastore.
	// Default true.
	AutoEjectHosts bool
	// ServerRetryTimeout (server_retry_timeout, ms) caps the datastore
	// reconnect backoff. Default 10000 ms.
	ServerRetryTimeout time.Duration
	// ServerFailureLimit (server_failure_limit) is the number of consecutive
	// datastore failures before ejection. Default 3.
	ServerFailureLimit int
	// Backlog (backlog) is the listen backlog. Default 512.
	Backlog int

	// ReadConsistency (read_consistency) is the default for new client
	// connections. Default DC_ONE.
	ReadConsistency Consistency
	// WriteConsistency (write_consistency), as ReadConsistency.
	WriteConsistency Consistency
	// ReadRepairs (read_repairs_enabled). Default false.
	ReadRepairs bool
	// Versions (versions; dynonode) gives every write a version, so that
	// the newest write wins on every replica (last-writer-wins, with
	// tombstones for deletes). false: a cluster that behaves exactly
	// like Dynomite, replicas applying writes in arrival order. Every
	// node of a cluster must agree. Default true.
	Versions bool
	// TombstoneTTL (tombstone_ttl, ms; dynonode) is how long a key deleted
	// under a version keeps its tombstone, so that an older write arriving
	// late cannot bring it back (Cassandra's gc_grace). Default 86400000
	// ms (24 h).
	TombstoneTTL time.Duration
	// HintedHandoff (hinted_handoff; dynonode): versioned writes a replica
	// could not take are kept as hints and replayed when it is back.
	// Default true (with versions on, in a cluster).
	HintedHandoff bool
	// HintsDir (hints_dir; dynonode) holds the hint logs, one file per
	// target node. Default "": a directory named after dyn_listen under
	// the system's temporary directory (see the daemon's doc).
	HintsDir string
	// MaxHintsBytes (max_hints_bytes; dynonode) bounds the hints kept for
	// one target; beyond it new hints are dropped and counted. Default
	// 268435456 (256 MiB).
	MaxHintsBytes int
	// MaxHintWindow (max_hint_window, ms; dynonode) is how long a hint is
	// kept for a target that stays away (Cassandra's
	// max_hint_window). Default 10800000 ms (3 h).
	MaxHintWindow time.Duration
	// HintsReplayRate (hints_replay_rate; dynonode) bounds the hints
	// replayed per second. Default 10000.
	HintsReplayRate int
	// HintsSyncInterval (hints_sync_interval, ms; dynonode) is how often
	// the hint logs are fsynced. Default 100 ms.
	HintsSyncInterval time.Duration
	// AntiEntropy (anti_entropy; dynonode): replicas compare what they
	// hold segment by segment on a schedule and copy the newest of what
	// differs, and a node whose datastore comes back empty refills it
	// from replicas (RESUMING) before it serves reads. Default true (with
	// versions on, in a cluster).
	AntiEntropy bool
	// AntiEntropyInterval (anti_entropy_interval, ms; dynonode) is the
	// time between a node's rounds, jittered by ±25%. Default 600000 ms
	// (10 min).
	AntiEntropyInterval time.Duration
	// AntiEntropyScanRate (anti_entropy_scan_rate; dynonode) bounds the
	// keys a node reads from its datastore per second to compare them.
	// Default 200000.
	AntiEntropyScanRate int
	// AntiEntropyBandwidth (anti_entropy_bandwidth, bytes per second;
	// dynonode) bounds the values a node copies in from replicas. Default
	// 33554432 (32 MiB/s).
	AntiEntropyBandwidth int

	// TLSCertFile, TLSKeyFile and TLSCAFile (tls_cert_file, tls_key_file,
	// tls_ca_file; dynonode) are this node's certificate and key for peer
	// links and the CA every peer's certificate must be signed by: mutual
	// TLS 1.3 on the links secure_server_option selects, all three
	// required when it is not none. PEM files, read at start and on SIGHUP.
	TLSCertFile, TLSKeyFile, TLSCAFile string

	// SecureServerOption (secure_server_option) says which peer links are
	// encrypted. Default none; an unknown value is a warning and means none.
	SecureServerOption SecureOption
	// PEMKeyFile (pem_key_file) is the RSA key shared by all nodes.
	// Default "conf/dynomite.pem".
	PEMKeyFile string
	// ReconKeyFile (recon_key_file). Default "conf/recon_key.pem".
	ReconKeyFile string
	// ReconIVFile (recon_iv_file). Default "conf/recon_iv.pem".
	ReconIVFile string

	// EnableGossip (enable_gossip). Default false.
	EnableGossip bool
	// GossipInterval (gos_interval, ms) is how often seed providers are
	// polled (at most every 30 s, as Dynomite). Default 30000 ms.
	GossipInterval time.Duration
	// HeartbeatInterval (heartbeat_interval, ms; dynonode) is the period of
	// heartbeats and membership gossip, which drive failure detection
	// whether or not enable_gossip is set. Default 1000 ms.
	HeartbeatInterval time.Duration
	// PhiThreshold (phi_threshold; dynonode) is the phi-accrual suspicion
	// above which a peer is considered down. Default 8.
	PhiThreshold int
	// Env (env) picks the snitch's environment-variable naming. Default "aws".
	Env string

	// ConnMsgRate (conn_msg_rate, messages/s) throttles each cross-DC peer
	// connection. Default 50000.
	ConnMsgRate int
	// StatsInterval (stats_interval, ms) is the stats aggregation period.
	// Default 30000 ms.
	StatsInterval time.Duration
	// MbufSize (mbuf_size, bytes) is the message buffer size, 512..512000 and
	// a multiple of 16. Default: the -m flag, else 16384.
	MbufSize int
	// MaxMsgs (max_msgs) bounds messages in flight, 100000..1000000.
	// Default: the -M flag, else 200000.
	MaxMsgs int

	// DatastoreConnections (datastore_connections) is the datastore pool
	// size, 1..255. Default 1.
	DatastoreConnections int
	// LocalPeerConnections (local_peer_connections) is the pool size to each
	// peer in this DC, 1..255. Default 1.
	LocalPeerConnections int
	// RemotePeerConnections (remote_peer_connections) is the pool size to
	// each peer in other DCs, 1..255. Default 1.
	RemotePeerConnections int

	// RequirePass (requirepass; dynonode, Redis's meaning) is the password
	// Redis clients must give (AUTH <password>, AUTH default <password>,
	// HELLO 2 AUTH default <password>) before any other command. Default
	// empty: no password, as Redis. Redis clients only: memcached's text
	// protocol has no AUTH.
	RequirePass Secret
	// DatastoreUsername (datastore_username; dynonode) and DatastorePassword
	// (datastore_password; dynonode) are what the node sends to its Redis
	// as AUTH on every connection it opens (AUTH <password> when the name
	// is empty). Default empty: no AUTH.
	// ACLFile (aclfile; dynonode, Redis's meaning) is a file of ACL users in
	// Redis's syntax ("user <name> <rule>..."), read at start: clients
	// authenticate as them and run only what their rules allow. Not with
	// requirepass (give the default user a password in the file).
	ACLFile           string
	DatastoreUsername string
	DatastorePassword Secret
	// MaxConnectionsPerSource (max_connections_per_source; dynonode)
	// bounds the connections one IP address may hold open at once, on the
	// client port and on the peer port each; beyond it a new connection is
	// refused (a client gets Redis's "max number of clients reached").
	// Default 10000.
	MaxConnectionsPerSource int
	// ClientRequestTimeout (client_request_timeout, ms; dynonode) is how
	// long a client may take to send one request once it began: a
	// connection holding part of a request older than this (a stalled or
	// trickling client, slow-loris) is closed. Default 60000.
	ClientRequestTimeout time.Duration
	// ClientTLSCertFile and ClientTLSKeyFile (client_tls_cert_file,
	// client_tls_key_file; dynonode), both set, make the client port speak
	// TLS (1.2 or 1.3) with that certificate; ClientTLSCAFile
	// (client_tls_ca_file) then requires client certificates signed by
	// that CA. PEM files, read at start and again on SIGHUP. Default
	// empty: plain TCP.
	ClientTLSCertFile, ClientTLSKeyFile, ClientTLSCAFile string

	// Warnings are problems that do not stop the node (deprecated keys,
	// keys without effect, an unknown secure_server_option), one line each,
	// in the same "conf: line N: key ..." form as errors. The caller logs them.
	Warnings []string
}

// Defaults that Parse applies; exported so the daemon and docs share them.
const (
	DefaultStatsListen             = "127.0.0.1:22222"
	DefaultDatacenter              = "localdc"
	DefaultRack                    = "localrack"
	DefaultSeedProvider            = "simple_provider"
	DefaultHash                    = "murmur"
	DefaultTimeout                 = 5000 * time.Millisecond
	DefaultServerRetry             = 10000 * time.Millisecond
	DefaultFailureLimit            = 3
	DefaultBacklog                 = 512
	DefaultPEMKeyFile              = "conf/dynomite.pem"
	DefaultReconKeyFile            = "conf/recon_key.pem"
	DefaultReconIVFile             = "conf/recon_iv.pem"
	DefaultGossipInterval          = 30000 * time.Millisecond
	DefaultHeartbeat               = 1000 * time.Millisecond
	DefaultTombstoneTTL            = 86400000 * time.Millisecond
	DefaultMaxConnectionsPerSource = 10000
	DefaultClientRequestTimeout    = 60000 * time.Millisecond
	DefaultMaxHintsBytes           = 256 << 20
	DefaultMaxHintWindow           = 10800000 * time.Millisecond
	DefaultHintsReplayRate         = 10000
	DefaultHintsSync               = 100 * time.Millisecond
	DefaultAEInterval              = 600000 * time.Millisecond
	DefaultAEScanRate              = 200000
	DefaultAEBandwidth             = 32 << 20
	DefaultPhiThreshold            = 8
	DefaultEnv                     = "aws"
	DefaultConnMsgRate             = 50000
	DefaultStatsInterval           = 30000 * time.Millisecond
	DefaultMbufSize                = 16384
	DefaultMaxMsgs                 = 200000
	DefaultPoolConnections         = 1
)

// Ranges Dynomite enforces on buffer sizing (config keys and -m/-M flags).
const (
	MinMbufSize = 512
	MaxMbufSize = 512000
	MinMaxMsgs  = 100000
	MaxMaxMsgs  = 1000000
)

// defaults returns a Config holding every default; Parse overwrites what the
// file sets.
func defaults() *Config {
	stats, _ := ParseAddr(DefaultStatsListen)
	return &Config{
		StatsListen:             stats,
		Datacenter:              DefaultDatacenter,
		Rack:                    DefaultRack,
		SeedProvider:            DefaultSeedProvider,
		Hash:                    DefaultHash,
		Timeout:                 DefaultTimeout,
		Preconnect:              true,
		AutoEjectHosts:          true,
		Versions:                true,
		TombstoneTTL:            DefaultTombstoneTTL,
		MaxConnectionsPerSource: DefaultMaxConnectionsPerSource,
		ClientRequestTimeout:    DefaultClientRequestTimeout,
		HintedHandoff:           true,
		MaxHintsBytes:           DefaultMaxHintsBytes,
		MaxHintWindow:           DefaultMaxHintWindow,
		HintsReplayRate:         DefaultHintsReplayRate,
		HintsSyncInterval:       DefaultHintsSync,
		AntiEntropy:             true,
		AntiEntropyInterval:     DefaultAEInterval,
		AntiEntropyScanRate:     DefaultAEScanRate,
		AntiEntropyBandwidth:    DefaultAEBandwidth,
		ServerRetryTimeout:      DefaultServerRetry,
		ServerFailureLimit:      DefaultFailureLimit,
		Backlog:                 DefaultBacklog,
		PEMKeyFile:              DefaultPEMKeyFile,
		ReconKeyFile:            DefaultReconKeyFile,
		ReconIVFile:             DefaultReconIVFile,
		GossipInterval:          DefaultGossipInterval,
		HeartbeatInterval:       DefaultHeartbeat,
		PhiThreshold:            DefaultPhiThreshold,
		Env:                     DefaultEnv,
		ConnMsgRate:             DefaultConnMsgRate,
		StatsInterval:           DefaultStatsInterval,
		DatastoreConnections:    DefaultPoolConnections,
		LocalPeerConnections:    DefaultPoolConnections,
		RemotePeerConnections:   DefaultPoolConnections,
	}
}

// CheckMbufSize reports whether n is a valid mbuf_size / -m value.
func CheckMbufSize(n int) error {
	if n < MinMbufSize || n > MaxMbufSize || n%16 != 0 {
		return fmt.Errorf("mbuf size %d is not a multiple of 16 in %d..%d", n, MinMbufSize, MaxMbufSize)
	}
	return nil
}

// CheckMaxMsgs reports whether n is a valid max_msgs / -M value.
func CheckMaxMsgs(n int) error {
	if n < MinMaxMsgs || n > MaxMaxMsgs {
		return fmt.Errorf("max msgs %d is not in %d..%d", n, MinMaxMsgs, MaxMaxMsgs)
	}
	return nil
}

// DataStore is the kind of store a node fronts (data_store).
type DataStore uint8

const (
	Redis     DataStore = 0 // data_store: 0
	Memcached DataStore = 1 // data_store: 1
	Embedded  DataStore = 2 // data_store: 2, dynonode's own store
)

func (d DataStore) String() string {
	switch d {
	case Redis:
		return "redis"
	case Memcached:
		return "memcached"
	case Embedded:
		return "embedded"
	}
	return fmt.Sprintf("DataStore(%d)", uint8(d))
}

// Consistency is a Dynomite consistency level. The zero value is DCOne,
// Dynomite's default.
type Consistency uint8

const (
	DCOne            Consistency = iota // local-rack owner only
	DCQuorum                            // quorum of the local DC's racks
	DCSafeQuorum                        // quorum whose replies must agree
	DCEachSafeQuorum                    // a safe quorum in every DC
)

var consistencyNames = [...]string{"DC_ONE", "DC_QUORUM", "DC_SAFE_QUORUM", "DC_EACH_SAFE_QUORUM"}

func (c Consistency) String() string {
	if int(c) < len(consistencyNames) {
		return consistencyNames[c]
	}
	return fmt.Sprintf("Consistency(%d)", uint8(c))
}

// ParseConsistency parses a level name in any case ("dc_quorum",
// "DC_QUORUM").
func ParseConsistency(s string) (Consistency, error) {
	for i, name := range consistencyNames {
		if strings.EqualFold(s, name) {
			return Consistency(i), nil
		}
	}
	return DCOne, fmt.Errorf("consistency %q is not one of %s", s, strings.Join(consistencyNames[:], ", "))
}

// SecureOption says which peer links are encrypted (secure_server_option).
type SecureOption uint8

const (
	SecureNone       SecureOption = iota // never
	SecureRack                           // when rack or DC differ
	SecureDatacenter                     // between DCs only
	SecureAll                            // always
)

var secureNames = [...]string{"none", "rack", "datacenter", "all"}

func (s SecureOption) String() string {
	if int(s) < len(secureNames) {
		return secureNames[s]
	}
	return fmt.Sprintf("SecureOption(%d)", uint8(s))
}

// ParseSecureOption parses none, rack, datacenter or all; like Dynomite the
// match is exact (lower case).
func ParseSecureOption(s string) (SecureOption, error) {
	for i, name := range secureNames {
		if s == name {
			return SecureOption(i), nil
		}
	}
	return SecureNone, fmt.Errorf("secure option %q is not one of %s", s, strings.Join(secureNames[:], ", "))
}

// hashNames are Dynomite's hash functions, in its order.
var hashNames = []string{
	"one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64", "fnv1a_64",
	"fnv1_32", "fnv1a_32", "hsieh", "murmur", "jenkins", "murmur3",
}

// HashNames lists the values hash accepts, in Dynomite's order.
func HashNames() []string { return append([]string(nil), hashNames...) }

// seedProviders are the dyn_seed_provider values; Dynomite matches them by
// prefix, so "florida_provider_v2" selects florida.
var seedProviders = []string{"simple_provider", "florida_provider", "dns_provider"}

// Secret is a configured password: it prints as "[redacted]" through fmt
// (every verb), log/slog (text and JSON) and encoding/json, so a Config
// logged, formatted or marshalled whole shows none; string(s) is the
// value.
type Secret string

const redacted = "[redacted]"

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler: encoding/json and
// slog's JSON handler, which ignore String and LogValue on a field of a
// struct, see "[redacted]" too.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
