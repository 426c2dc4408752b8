package admin

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynonode/dynonode/actors/antientropy"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/hints"
	"github.com/dynonode/dynonode/actors/stats"
	"github.com/dynonode/dynonode/netio/datastore"
	"github.com/prometheus/client_golang/prometheus"
)

// LogLevel is the daemon's run-time log level, in Dynomite's verbosity
// numbers (0 EMERG .. 11 PVERB).
type LogLevel interface {
	Verbosity() int
	SetVerbosity(v int)
}

// Links are the peer-link counters of the node's runtime.
type Links struct {
	Sent, Received, Dropped, BadFrames, DeadLetters, Panics uint64
	// Refused counts inbound peer connections refused at the handshake
	// (no valid certificate, or plain TCP where TLS is required).
	Refused uint64
	Queued  int64 // messages waiting for peers now
}

// Clients are the client listener's counters.
type Clients struct {
	Accepted int64 // connections accepted since start
	Active   int64 // connections open now
	InFlight int64 // requests read and not yet answered
	Refused  int64 // connections refused: too many from one source
	Stalled  int64 // connections closed: a request took longer than client_request_timeout
}

// Options wire the server to the node. Functions may be nil where the node
// has no such part; their metrics are then absent (or 0 in /info).
type Options struct {
	// Config is the node's configuration: names, topology, initial levels.
	Config *config.Config
	// NodeID is this node's id in the ring (its dyn_listen address).
	NodeID  string
	Version string
	// Started is when the node started (uptime).
	Started time.Time
	// Requests asks the stats actor for its snapshot.
	Requests func() (stats.Snapshot, error)
	// ResetHistograms clears the stats actor's latency window.
	ResetHistograms func() error
	Links           func() Links
	Clients         func() Clients
	// Datastore reads the datastore adapter's counters; nil for the
	// embedded store.
	Datastore func() datastore.Stats
	Log       LogLevel
	// OnState, when set, is told every node state an operator sets (the
	// gossiper enforces and spreads it).
	OnState func(gossip.State)
	// Members, when set, is the gossiper's live membership: cluster
	// descriptions then show who is up.
	Members func() ([]gossip.MemberView, error)
	// Hints reads the hint manager's status; DropHints drops one target's
	// hints and returns the status after. Nil where the node keeps no
	// hints (hinted_handoff off, versions off, a node alone).
	Hints     func() (hints.Status, error)
	DropHints func(target string) (hints.Status, error)
	// AntiEntropy reads anti-entropy's status; StartRepair starts a round
	// now and returns the status after. Nil where the node runs none
	// (anti_entropy off, versions off, a node alone).
	AntiEntropy func() (antientropy.Status, error)
	StartRepair func() (antientropy.Status, error)
	// Logger receives a line per setting changed.
	Logger *slog.Logger
}

// Server serves the admin port. Its settings are safe for concurrent use.
type Server struct {
	opts  Options
	mux   *http.ServeMux
	reg   *prometheus.Registry
	read  atomic.Uint32 // config.Consistency
	write atomic.Uint32
	// factor multiplies the request timeout of new client connections.
	factor      atomic.Int32
	state       atomic.Uint32 // gossip.State
	readRepairs atomic.Bool

	mu    sync.Mutex
	peers map[string]gossip.State // by peer host; absent: NORMAL
}

// MaxTimeoutFactor bounds /set_timeout_factor, as Dynomite does.
const MaxTimeoutFactor = 10

// New builds the server from the configuration's initial settings.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Started.IsZero() {
		opts.Started = time.Now()
	}
	s := &Server{opts: opts, peers: map[string]gossip.State{}}
	s.read.Store(uint32(opts.Config.ReadConsistency))
	s.write.Store(uint32(opts.Config.WriteConsistency))
	s.factor.Store(1)
	s.state.Store(uint32(gossip.Normal))
	s.readRepairs.Store(opts.Config.ReadRepairs)
	s.reg = newRegistry(s)
	s.mux = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Consistency is the read and write level for new client connections.
func (s *Server) Consistency() (read, write config.Consistency) {
	return config.Consistency(s.read.Load()), config.Consistency(s.write.Load())
}

// TimeoutFactor multiplies the request timeout of new client connections.
func (s *Server) TimeoutFactor() int { return int(s.factor.Load()) }

// State is the node state an operator set (NORMAL at start).
func (s *Server) State() gossip.State { return gossip.State(s.state.Load()) }

// peerOverridden reports whether an operator set host's state.
func (s *Server) peerOverridden(host string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.peers[host]
	return ok
}

// PeerState is the state recorded for the peer at host (NORMAL unless an
// operator set another).
func (s *Server) PeerState(host string) gossip.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.peers[host]; ok {
		return st
	}
	return gossip.Normal
}

// ReadRepairs reports whether read repairs are enabled.
func (s *Server) ReadRepairs() bool { return s.readRepairs.Load() }

func text(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

func ok(w http.ResponseWriter) { text(w, "OK\r\n") }

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	http.Error(w, "dynonode: "+fmt.Sprintf(format, args...), code)
}

// endpoint is one route, listed by /help.
type endpoint struct {
	pattern, help string
	h             http.HandlerFunc
}

func (s *Server) endpoints() []endpoint {
	return []endpoint{
		{"/info", "node statistics as Dynomite's JSON (also /)", s.info},
		{"/help", "this list", s.help},
		{"/ping", "OK", func(w http.ResponseWriter, _ *http.Request) { ok(w) }},
		{"/metrics", "Prometheus metrics", s.metrics},
		{"/cluster_describe", "datacenters, racks and nodes (name, host, port, token, state) as JSON", s.clusterDescribe},
		{"/get_consistency", "read and write consistency of new client connections", s.getConsistency},
		{"/set_consistency/{op}/{level}", "op read|write, level dc_one|dc_quorum|dc_safe_quorum|dc_each_safe_quorum; new connections only", s.setConsistency},
		{"/get_timeout_factor", "the factor request timeouts are multiplied by", s.getTimeoutFactor},
		{"/set_timeout_factor/{n}", "set it, clamped to 1..10; new connections only", s.setTimeoutFactor},
		{"/setloglevel/{n}", "log verbosity 0..11 (<=3 error, 4 warn, 5-6 info, >=7 debug)", s.setLogLevel},
		{"/loglevelup", "one verbosity level more (as SIGTTIN)", s.logLevelStep(+1)},
		{"/logleveldown", "one verbosity level less (as SIGTTOU)", s.logLevelStep(-1)},
		{"/historeset", "clear the latency histograms behind /info's percentiles (Prometheus counters keep growing)", s.histoReset},
		{"/state/get_state", "this node's state", s.getState},
		{"/state/{state}", "set this node's state: standby|writes_only|normal|resuming (recorded and reported; " +
			"the coordinator enforces it once gossip is on)", s.setState},
		{"/peer/{verb}/{host}", "verb up|down|reset, host a peer's host or all: record the peer's state " +
			"(NORMAL, DOWN, RESET), shown by /cluster_describe; routing does not use it", s.setPeer},
		{"/read_repairs/{verb}", "enable|disable: background read repair of DC_QUORUM reads (versions on); new connections only", s.setReadRepairs},
		{"/hints", "hinted handoff: hints stored, replayed, dropped, and per target node the hints waiting, their bytes and the oldest's age, as JSON", s.getHints},
		{"/hints/drop/{target}", "drop every hint waiting for target (a node id, as /hints lists it); anti-entropy must then repair it", s.dropHints},
		{"/anti_entropy", "anti-entropy: rounds, sessions, keys compared and copied in, bytes, and a refill's progress while the node is RESUMING, as JSON", s.getAE},
		{"/anti_entropy/start", "start an anti-entropy round now, with every replica that shares a segment with this node (unless one runs); answers /anti_entropy's JSON, whose round and state show its progress", s.startAE},
	}
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, e := range s.endpoints() {
		mux.HandleFunc("GET "+e.pattern, e.h)
	}
	mux.HandleFunc("GET /{$}", s.info)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			fail(w, http.StatusMethodNotAllowed, "only GET is served; see /help")
			return
		}
		fail(w, http.StatusNotFound, "unknown admin path %s; see /help", r.URL.Path)
	})
	return mux
}

func (s *Server) help(w http.ResponseWriter, _ *http.Request) {
	var b strings.Builder
	b.WriteString("dynonode admin endpoints (GET):\n")
	for _, e := range s.endpoints() {
		fmt.Fprintf(&b, "  %-32s %s\n", e.pattern, e.help)
	}
	b.WriteString("Unknown paths and bad arguments answer 4xx with a one-line reason (Dynomite answers OK).\n")
	text(w, b.String())
}

func (s *Server) getConsistency(w http.ResponseWriter, _ *http.Request) {
	read, write := s.Consistency()
	text(w, fmt.Sprintf("Read Consistency: %s\r\nWrite Consistency: %s\r\n", read, write))
}

func (s *Server) setConsistency(w http.ResponseWriter, r *http.Request) {
	level, err := config.ParseConsistency(r.PathValue("level"))
	if err != nil {
		fail(w, http.StatusBadRequest, "set_consistency: %v", err)
		return
	}
	switch op := r.PathValue("op"); op {
	case "read":
		s.read.Store(uint32(level))
	case "write":
		s.write.Store(uint32(level))
	default:
		fail(w, http.StatusBadRequest, "set_consistency: the operation must be read or write, not %q", op)
		return
	}
	s.opts.Logger.Info("consistency set", "op", r.PathValue("op"), "level", level.String())
	ok(w)
}

func (s *Server) getTimeoutFactor(w http.ResponseWriter, _ *http.Request) {
	text(w, fmt.Sprintf("Timeout factor: %d\n", s.TimeoutFactor()))
}

func (s *Server) setTimeoutFactor(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		fail(w, http.StatusBadRequest, "set_timeout_factor: %q is not a whole number", r.PathValue("n"))
		return
	}
	n = min(max(n, 1), MaxTimeoutFactor)
	s.factor.Store(int32(n))
	s.opts.Logger.Info("timeout factor set", "factor", n)
	ok(w)
}

func (s *Server) setLogLevel(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n > 11 {
		fail(w, http.StatusBadRequest, "setloglevel: %q is not a verbosity in 0..11", r.PathValue("n"))
		return
	}
	if s.opts.Log == nil {
		fail(w, http.StatusNotImplemented, "setloglevel: the log level is fixed")
		return
	}
	s.opts.Log.SetVerbosity(n)
	ok(w)
}

func (s *Server) logLevelStep(d int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if s.opts.Log == nil {
			fail(w, http.StatusNotImplemented, "the log level is fixed")
			return
		}
		s.opts.Log.SetVerbosity(min(max(s.opts.Log.Verbosity()+d, 0), 11))
		ok(w)
	}
}

func (s *Server) histoReset(w http.ResponseWriter, _ *http.Request) {
	if s.opts.ResetHistograms == nil {
		ok(w)
		return
	}
	if err := s.opts.ResetHistograms(); err != nil {
		fail(w, http.StatusServiceUnavailable, "historeset: %v", err)
		return
	}
	ok(w)
}

func (s *Server) getState(w http.ResponseWriter, _ *http.Request) {
	text(w, "State: "+s.State().String()+"\n")
}

// settable are the states an operator may set, as Dynomite allows.
var settable = map[string]gossip.State{
	"standby": gossip.Standby, "writes_only": gossip.WritesOnly, "normal": gossip.Normal, "resuming": gossip.Resuming,
}

func (s *Server) setState(w http.ResponseWriter, r *http.Request) {
	st, found := settable[strings.ToLower(r.PathValue("state"))]
	if !found {
		fail(w, http.StatusBadRequest, "state: %q is not get_state, standby, writes_only, normal or resuming", r.PathValue("state"))
		return
	}
	s.state.Store(uint32(st))
	s.opts.Logger.Info("node state set", "state", st.String())
	if s.opts.OnState != nil {
		s.opts.OnState(st)
	}
	ok(w)
}

var peerVerbs = map[string]gossip.State{"up": gossip.Normal, "down": gossip.Down, "reset": gossip.Reset}

// peerHosts are the hosts of this node's seeds, sorted.
func (s *Server) peerHosts() []string {
	var out []string
	for _, sd := range s.opts.Config.Seeds {
		out = append(out, sd.PeerName())
	}
	sort.Strings(out)
	return out
}

func (s *Server) setPeer(w http.ResponseWriter, r *http.Request) {
	st, found := peerVerbs[r.PathValue("verb")]
	if !found {
		fail(w, http.StatusBadRequest, "peer: the verb must be up, down or reset, not %q", r.PathValue("verb"))
		return
	}
	host := r.PathValue("host")
	hosts := s.peerHosts()
	if host != "all" {
		i := sort.SearchStrings(hosts, host)
		if i == len(hosts) || hosts[i] != host {
			fail(w, http.StatusNotFound, "peer: no peer has host %q", host)
			return
		}
		hosts = []string{host}
	}
	s.mu.Lock()
	for _, h := range hosts {
		s.peers[h] = st
	}
	s.mu.Unlock()
	s.opts.Logger.Info("peer state set", "peer", host, "state", st.String())
	ok(w)
}

func (s *Server) setReadRepairs(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("verb") {
	case "enable":
		s.readRepairs.Store(true)
	case "disable":
		s.readRepairs.Store(false)
	default:
		fail(w, http.StatusBadRequest, "read_repairs: the verb must be enable or disable, not %q", r.PathValue("verb"))
		return
	}
	state := "DISABLED"
	if s.ReadRepairs() {
		state = "ENABLED"
	}
	text(w, "Read Repairs: "+state+"\r\n")
}

// aeJSON is an antientropy.Status as /anti_entropy shows it.
func aeJSON(st antientropy.Status) obj {
	ms := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixMilli()
	}
	return obj{{"state", st.State}, {"resuming", st.Resuming}, {"resume_segments", st.ResumeSegments}, {"resume_total", st.ResumeTotal},
		{"round", st.Round}, {"round_peers_left", st.RoundPeers}, {"peer", st.Peer}, {"sessions", st.Sessions}, {"in_sync", st.InSync},
		{"aborted", st.Aborted}, {"keys_scanned", st.KeysScanned}, {"keys_listed", st.KeysListed}, {"keys_compared", st.KeysCompared},
		{"keys_pulled", st.KeysPulled}, {"bytes_pulled", st.BytesPulled}, {"bytes_sent", st.BytesSent}, {"pull_errors", st.PullErrors}, {"resumes", st.Resumes},
		{"last_round_ms", ms(st.LastRound)}, {"last_round_took_ms", st.LastRoundTook.Milliseconds()}, {"next_round_ms", ms(st.NextRound)},
		{"last_resume_ms", ms(st.LastResume)}, {"last_resume_keys", st.LastResumeKeys}, {"last_resume_bytes", st.LastResumeBytes},
		{"last_resume_took_ms", st.LastResumeTook.Milliseconds()}}
}

func (s *Server) getAE(w http.ResponseWriter, _ *http.Request) {
	s.serveAE(w, s.opts.AntiEntropy)
}

func (s *Server) startAE(w http.ResponseWriter, _ *http.Request) {
	s.serveAE(w, s.opts.StartRepair)
	if s.opts.StartRepair != nil {
		s.opts.Logger.Info("anti-entropy round started by the operator")
	}
}

func (s *Server) serveAE(w http.ResponseWriter, get func() (antientropy.Status, error)) {
	if get == nil {
		fail(w, http.StatusNotFound, "this node runs no anti-entropy (anti_entropy off, versions off, or no peers)")
		return
	}
	st, err := get()
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "anti-entropy: %v", err)
		return
	}
	writeJSON(w, aeJSON(st))
}

// hintsJSON is a hints.Status as /hints shows it.
func hintsJSON(st hints.Status) obj {
	targets := make([]obj, 0, len(st.Targets))
	for _, t := range st.Targets {
		targets = append(targets, obj{{"target", t.Target}, {"hints", t.Hints}, {"bytes", t.Bytes}, {"oldest_ms", t.Oldest.Milliseconds()}})
	}
	return obj{{"stored", st.Stored}, {"replayed", st.Replayed}, {"dropped", st.Dropped}, {"write_errors", st.WriteErrors},
		{"targets", targets}}
}

func (s *Server) getHints(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Hints == nil {
		fail(w, http.StatusNotFound, "this node keeps no hints (hinted_handoff off, versions off, or no peers)")
		return
	}
	st, err := s.opts.Hints()
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "hint manager: %v", err)
		return
	}
	writeJSON(w, hintsJSON(st))
}

func (s *Server) dropHints(w http.ResponseWriter, r *http.Request) {
	if s.opts.DropHints == nil {
		fail(w, http.StatusNotFound, "this node keeps no hints (hinted_handoff off, versions off, or no peers)")
		return
	}
	target := r.PathValue("target")
	st, err := s.opts.DropHints(target)
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "hint manager: %v", err)
		return
	}
	s.opts.Logger.Warn("hints dropped by the operator: anti-entropy must repair the target", "target", target)
	writeJSON(w, hintsJSON(st))
}
