package datastore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/netio/admit"
)

// Protocol is the datastore's wire protocol, numbered as dynomite.yml's
// data_store.
type Protocol int

const (
	// Redis is data_store: 0, RESP2.
	Redis Protocol = 0
	// Memcached is data_store: 1, the memcached text protocol.
	Memcached Protocol = 1
)

func (p Protocol) String() string {
	switch p {
	case Redis:
		return "redis"
	case Memcached:
		return "memcached"
	}
	return fmt.Sprintf("protocol(%d)", int(p))
}

// Defaults for zero Options fields (Dynomite's code defaults where it has one).
const (
	DefaultConnections    = 1
	DefaultTimeout        = 5 * time.Second
	DefaultFailureLimit   = 3
	DefaultRetryTimeout   = 10 * time.Second
	DefaultInitialBackoff = time.Second
	DefaultMaxInFlight    = 8192
)

// Options configures a store adapter. Zero fields take the defaults above.
type Options struct {
	// Addr is the datastore: host:port, or the path of a unix socket (any
	// address containing '/'). Required.
	Addr string
	// Protocol is Redis or Memcached.
	Protocol Protocol
	// Username and Password, when Password is set, are sent to a Redis as
	// AUTH on every connection before it serves requests
	// (datastore_username, datastore_password); a refusal is a refused
	// dial (retried after the backoff), its reply logged, the password
	// never. Memcached: unused.
	Username, Password string
	// Connections is the pool size (datastore_connections). Default 1.
	Connections int
	// Timeout bounds every request from Exec to Result, and each dial
	// (timeout, ms in dynomite.yml). Default 5s.
	Timeout time.Duration
	// Preconnect dials every connection when the actor starts instead of on
	// first use (preconnect). Either way a refused dial is retried in the
	// background (see InitialBackoff): the adapter starts whether or not
	// the datastore is up.
	Preconnect bool
	// AutoEject ejects the server for RetryTimeout after FailureLimit
	// consecutive failures; requests then fail fast (auto_eject_hosts).
	AutoEject bool
	// FailureLimit is the consecutive failures (refused dial, timeout, lost
	// connection) that eject the server (server_failure_limit). Default 3.
	FailureLimit int
	// RetryTimeout is the longest reconnect backoff and how long an
	// ejection lasts (server_retry_timeout). Default 10s.
	RetryTimeout time.Duration
	// InitialBackoff is the first reconnect backoff after a refused dial; it
	// doubles per consecutive refusal up to RetryTimeout, and the
	// connection redials after each backoff by itself, with or without
	// requests, until a dial succeeds. Default 1s (tests shorten it).
	InitialBackoff time.Duration
	// Gate, when not nil, is the node's admission gate: a connection holds
	// it while its queue is past half of MaxInFlight (see conn.admitLocked).
	Gate *admit.Gate
	// MaxInFlight bounds the requests queued or awaiting a reply on one
	// connection; beyond it Exec fails fast with FailQueueFull. Default 8192.
	MaxInFlight int
	// Counters receives the adapter's statistics; the admin/metrics code
	// keeps it to read them. Nil: the adapter allocates its own (still
	// readable with a GetStats message).
	Counters *Counters
	// Versions says the node keeps versions (versions.go): the adapter
	// loads its Lua scripts on connect, hides the companions (the two
	// hashes and the data marker) from KEYS, SCAN, DBSIZE and RANDOMKEY,
	// refuses commands that name them, purges the hashes, and serves
	// DYNO.* commands without a version. Execs with a Version are
	// versioned either way.
	Versions bool
	// TombstoneTTL is how long a key deleted under a version keeps its
	// tombstone (tombstone_ttl). Default DefaultTombstoneTTL (24h).
	TombstoneTTL time.Duration
	// Log receives the adapter's logs. Nil: the actor's logger.
	Log *slog.Logger
	// Deliver hands a message from a socket goroutine into the actor system
	// (the daemon passes transport.Node.Send). Required.
	Deliver func(from, to actors.Addr, m any)
}

func (o Options) withDefaults() Options {
	if o.Connections <= 0 {
		o.Connections = DefaultConnections
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.FailureLimit <= 0 {
		o.FailureLimit = DefaultFailureLimit
	}
	if o.RetryTimeout <= 0 {
		o.RetryTimeout = DefaultRetryTimeout
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	o.InitialBackoff = min(o.InitialBackoff, o.RetryTimeout)
	if o.TombstoneTTL <= 0 {
		o.TombstoneTTL = DefaultTombstoneTTL
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	return o
}

// Validate reports options the adapter cannot run with. An adapter started
// with them fails every Exec with FailMisconfigured.
func (o Options) Validate() error {
	var errs []error
	if o.Addr == "" {
		errs = append(errs, errors.New("datastore address is empty"))
	}
	if o.Protocol != Redis && o.Protocol != Memcached {
		errs = append(errs, fmt.Errorf("data_store %d is neither 0 (redis) nor 1 (memcached)", int(o.Protocol)))
	}
	if o.Deliver == nil {
		errs = append(errs, errors.New("option Deliver is nil"))
	}
	if o.Connections > 255 {
		errs = append(errs, fmt.Errorf("datastore_connections %d is over 255", o.Connections))
	}
	return errors.Join(errs...)
}

// network is the dial network for addr: unix for a socket path.
func network(addr string) string {
	if strings.Contains(addr, "/") {
		return "unix"
	}
	return "tcp"
}
