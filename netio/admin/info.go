package admin

import (
	"bytes"
	"encoding/json"
	"github.com/dynonode/dynonode/actors/gossip"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/dynonode/dynonode/actors/antientropy"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/hints"
	"github.com/dynonode/dynonode/actors/stats"
)

// obj is a JSON object that keeps its keys in order, as Dynomite writes
// /info.
type obj []field

type field struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		fail(w, http.StatusInternalServerError, "encode: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(append(data, '\n'))
}

func (s *Server) requests() (stats.Snapshot, bool) {
	if s.opts.Requests == nil {
		return stats.Snapshot{}, false
	}
	snap, err := s.opts.Requests()
	if err != nil {
		s.opts.Logger.Warn("stats actor did not answer", "err", err)
		return stats.Snapshot{}, false
	}
	return snap, true
}

// latencyQuantiles reads /info's latency fields (µs) off a histogram: a
// quantile is the upper bound of the bucket it falls in (the maximum for
// the overflow bucket).
func latencyQuantiles(c *coord.Counts) (maxUS, p999, p99, p95, mean int64) {
	var buckets [coord.NumBuckets]uint64
	var n uint64
	var sum time.Duration
	for cl := range coord.NumClasses {
		for l := range coord.NumLevels {
			for b, v := range c.Latency[cl][l] {
				buckets[b] += v
				n += v
			}
			sum += c.LatencySum[cl][l]
		}
	}
	if n == 0 {
		return 0, 0, 0, 0, 0
	}
	q := func(f float64) int64 {
		rank := uint64(f*float64(n) + 0.5)
		var seen uint64
		for b, v := range buckets {
			seen += v
			if seen >= rank && v > 0 {
				if b < len(coord.LatencyBounds) {
					return min(coord.LatencyBounds[b], c.LatencyMax).Microseconds()
				}
				break
			}
		}
		return c.LatencyMax.Microseconds()
	}
	return c.LatencyMax.Microseconds(), q(0.999), q(0.99), q(0.95), (sum / time.Duration(n)).Microseconds()
}

// maxRSSKB is the process's peak resident set, as Dynomite's dyn_memory.
func maxRSSKB() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss
}

// info is Dynomite's /info: node fields, then the pool with its server.
// Fields dynonode does not measure are 0, so parsers find every key.
func (s *Server) info(w http.ResponseWriter, _ *http.Request) {
	cfg := s.opts.Config
	host, _ := os.Hostname()
	snap, _ := s.requests()
	lmax, l999, l99, l95, lmean := latencyQuantiles(&snap.Window)
	now := time.Now()
	out := obj{
		{"service", "dynonode"}, {"source", host}, {"version", s.opts.Version},
		{"uptime", int64(now.Sub(s.opts.Started).Seconds())}, {"timestamp", now.Unix()},
		{"rack", cfg.Rack}, {"dc", cfg.Datacenter},
		{"latency_max", lmax}, {"latency_999th", l999}, {"latency_99th", l99}, {"latency_95th", l95}, {"latency_mean", lmean},
	}
	for _, k := range []string{"payload_size_max", "payload_size_999th", "payload_size_99th", "payload_size_95th", "payload_size_mean",
		"average_cross_region_rtt", "99_cross_region_rtt", "average_cross_zone_latency", "99_cross_zone_latency",
		"average_server_latency", "99_server_latency", "average_cross_region_queue_wait", "99_cross_region_queue_wait",
		"average_cross_zone_queue_wait", "99_cross_zone_queue_wait", "average_server_queue_wait", "99_server_queue_wait",
		"client_out_queue_99", "server_in_queue_99", "server_out_queue_99", "dnode_client_out_queue_99",
		"peer_in_queue_99", "peer_out_queue_99", "remote_peer_out_queue_99", "remote_peer_in_queue_99",
		"alloc_msgs", "free_msgs", "alloc_mbufs", "free_mbufs"} {
		out = append(out, field{k, 0})
	}
	out = append(out, field{"dyn_memory", maxRSSKB()}, field{cfg.Pool, s.poolInfo(&snap)})
	writeJSON(w, out)
}

// measured are the pool fields dynonode fills; every other Dynomite pool
// field is reported as 0.
func (s *Server) poolInfo(snap *stats.Snapshot) obj {
	t := &snap.Total
	sum := func(cl coord.Class) (n uint64) {
		for _, v := range t.Requests[cl] {
			n += v
		}
		return n
	}
	var clients Clients
	if s.opts.Clients != nil {
		clients = s.opts.Clients()
	}
	var links Links
	if s.opts.Links != nil {
		links = s.opts.Links()
	}
	var ds struct{ ejections uint64 }
	if s.opts.Datastore != nil {
		ds.ejections = s.opts.Datastore().Ejections
	}
	var clientErr uint64
	for cl := range coord.NumClasses {
		clientErr += t.Errors[cl][coord.ErrProtocol]
	}
	measured := map[string]any{
		"client_err":                    clientErr,
		"client_connections":            clients.Active,
		"client_read_requests":          sum(coord.ClassRead),
		"client_write_requests":         sum(coord.ClassWrite),
		"client_non_quorum_w_responses": t.Errors[coord.ClassWrite][coord.ErrQuorum],
		"client_non_quorum_r_responses": t.Errors[coord.ClassRead][coord.ErrQuorum],
		"server_ejects":                 ds.ejections,
		"peer_dropped_requests":         links.Dropped,
		"peer_refused_connections":      links.Refused,
		"client_refused_connections":    clients.Refused,
		"client_stalled_connections":    clients.Stalled,
		"peer_out_queue":                links.Queued,
		"stats_count":                   snap.Reports,
		"read_repairs_sent":             t.RepairsSent,
		"read_repairs_dropped":          t.RepairsDropped,
		"read_repair_stale_replicas":    t.StaleReplicas,
		"read_version_rereads":          t.VersionRereads,
	}
	var hs hints.Status
	if s.opts.Hints != nil {
		hs, _ = s.opts.Hints()
	}
	var pending, pendingBytes, oldest int64
	for _, ts := range hs.Targets {
		pending += int64(ts.Hints)
		pendingBytes += ts.Bytes
		oldest = max(oldest, ts.Oldest.Milliseconds())
	}
	measured["hints_stored"], measured["hints_replayed"], measured["hints_dropped"] = hs.Stored, hs.Replayed, hs.Dropped
	measured["hints_write_errors"], measured["hints_pending"], measured["hints_pending_bytes"] = hs.WriteErrors, pending, pendingBytes
	measured["hints_oldest_ms"] = oldest
	var ae antientropy.Status
	if s.opts.AntiEntropy != nil {
		ae, _ = s.opts.AntiEntropy()
	}
	measured["anti_entropy_rounds"], measured["anti_entropy_sessions"], measured["anti_entropy_keys_pulled"] = ae.Round, ae.Sessions, ae.KeysPulled
	measured["anti_entropy_bytes_pulled"], measured["anti_entropy_keys_scanned"] = ae.BytesPulled, ae.KeysScanned
	measured["anti_entropy_resuming"], measured["anti_entropy_resume_segments"] = b2i(ae.Resuming), ae.ResumeSegments
	measured["anti_entropy_resume_total"] = ae.ResumeTotal
	names := []string{"client_eof", "client_err", "client_connections", "client_read_requests", "client_write_requests",
		"client_dropped_requests", "client_non_quorum_w_responses", "client_non_quorum_r_responses", "server_ejects",
		"dnode_client_eof", "dnode_client_err", "dnode_client_connections", "dnode_client_in_queue", "dnode_client_in_queue_bytes",
		"dnode_client_out_queue", "dnode_client_out_queue_bytes", "peer_dropped_requests", "peer_timedout_requests",
		"remote_peer_dropped_requests", "remote_peer_timedout_requests", "remote_peer_failover_requests",
		"peer_eof", "peer_err", "peer_timedout", "remote_peer_timedout", "peer_connections", "peer_forward_error",
		"peer_requests", "peer_request_bytes", "peer_responses", "peer_response_bytes", "peer_ejected_at", "peer_ejects",
		"peer_in_queue", "peer_in_queue_bytes", "peer_out_queue", "peer_out_queue_bytes",
		"remote_peer_in_queue", "remote_peer_in_queue_bytes", "remote_peer_out_queue", "remote_peer_out_queue_bytes",
		"peer_mismatch_requests", "forward_error", "fragments", "stats_count",
		"read_repairs_sent", "read_repairs_dropped", "read_repair_stale_replicas", "read_version_rereads",
		"hints_stored", "hints_replayed", "hints_dropped", "hints_write_errors", "hints_pending", "hints_pending_bytes",
		"hints_oldest_ms", "anti_entropy_rounds", "anti_entropy_sessions", "anti_entropy_keys_pulled", "anti_entropy_bytes_pulled",
		"anti_entropy_keys_scanned", "anti_entropy_resuming", "anti_entropy_resume_segments", "anti_entropy_resume_total",
		"peer_refused_connections", "client_refused_connections", "client_stalled_connections"}
	out := make(obj, 0, len(names)+1)
	for _, n := range names {
		v, ok := measured[n]
		if !ok {
			v = 0
		}
		out = append(out, field{n, v})
	}
	return append(out, field{s.serverName(), s.serverInfo()})
}

func (s *Server) serverName() string {
	if s.opts.Config.Server.Addr.IsZero() {
		return "embedded"
	}
	return s.opts.Config.Server.StatsName()
}

// serverInfo is the datastore's section: Dynomite's fields (0 where not
// measured), then dynonode's own adapter counters.
func (s *Server) serverInfo() obj {
	var st struct {
		errors, timeouts, requests, responses, reconnects uint64
		inFlight, connected                               int64
	}
	if s.opts.Datastore != nil {
		d := s.opts.Datastore()
		st.errors, st.timeouts, st.requests, st.responses, st.reconnects = d.Errors, d.Timeouts, d.Requests, d.Responses, d.Reconnects
		st.inFlight, st.connected = d.InFlight, d.Connected
	}
	out := obj{{"server_eof", 0}, {"server_err", st.errors}, {"server_timedout", st.timeouts}, {"server_ejected_at", 0},
		{"server_dropped_requests", 0}, {"server_timedout_requests", st.timeouts}}
	for _, k := range []string{"read_requests", "read_request_bytes", "write_requests", "write_request_bytes",
		"read_responses", "read_response_bytes", "write_responses", "write_response_bytes", "in_queue", "in_queue_bytes"} {
		out = append(out, field{k, 0})
	}
	return append(out, field{"out_queue", st.inFlight}, field{"out_queue_bytes", 0},
		field{"requests", st.requests}, field{"responses", st.responses}, field{"reconnects", st.reconnects},
		field{"connected", st.connected})
}

type describedServer struct {
	Name  string `json:"name"`
	Host  string `json:"host"`
	Port  int    `json:"port"`
	Token uint32 `json:"token"`
	State string `json:"state"`
	// Up is the failure detector's verdict, when gossip runs (dynonode).
	Up *bool `json:"up,omitempty"`
	// Seed tells, when gossip runs (dynonode), whether the node is one of
	// dyn_seeds (false: this node, or a member learned through gossip).
	Seed *bool `json:"seed,omitempty"`
}

type describedRack struct {
	Name    string            `json:"name"`
	Servers []describedServer `json:"servers"`
}

type describedDC struct {
	Name  string          `json:"name"`
	Racks []describedRack `json:"racks"`
}

// describedNode is one server of /cluster_describe with its place.
type describedNode struct {
	dc, rack string
	srv      describedServer
}

func firstToken(t []uint32) uint32 {
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

// clusterDescribe lists the cluster by DC and rack (sorted by name,
// servers by token). With a gossiper it is the live membership, as
// Dynomite's is its gossip table: this node, its seeds, and every member
// learned through gossip (enable_gossip), each with its state and whether
// it is up; members that left are not listed. Without one it is this node
// and its seeds from the configuration, with the states recorded by /peer.
func (s *Server) clusterDescribe(w http.ResponseWriter, _ *http.Request) {
	nodes := s.configuredNodes()
	if s.opts.Members != nil {
		if members, err := s.opts.Members(); err == nil {
			nodes = s.liveNodes(nodes, members)
		} else {
			s.opts.Logger.Warn("gossiper did not answer: describing the configuration", "err", err)
		}
	}
	sort.SliceStable(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if a.dc != b.dc {
			return a.dc < b.dc
		}
		if a.rack != b.rack {
			return a.rack < b.rack
		}
		return a.srv.Token < b.srv.Token
	})
	var dcs []describedDC
	for _, n := range nodes {
		if len(dcs) == 0 || dcs[len(dcs)-1].Name != n.dc {
			dcs = append(dcs, describedDC{Name: n.dc})
		}
		dc := &dcs[len(dcs)-1]
		if len(dc.Racks) == 0 || dc.Racks[len(dc.Racks)-1].Name != n.rack {
			dc.Racks = append(dc.Racks, describedRack{Name: n.rack})
		}
		r := &dc.Racks[len(dc.Racks)-1]
		r.Servers = append(r.Servers, n.srv)
	}
	writeJSON(w, map[string]any{"dcs": dcs})
}

// configuredNodes is this node (first) and its seeds, as the configuration
// states them.
func (s *Server) configuredNodes() []describedNode {
	cfg := s.opts.Config
	self := cfg.DynListen
	if self.IsZero() {
		self = cfg.Listen
	}
	nodes := []describedNode{{cfg.Datacenter, cfg.Rack, describedServer{Name: self.Host, Host: self.Host, Port: self.Port,
		Token: firstToken(cfg.Tokens), State: s.State().String()}}}
	for _, sd := range cfg.Seeds {
		nodes = append(nodes, describedNode{sd.Datacenter, sd.Rack, describedServer{Name: sd.PeerName(), Host: sd.Addr.Host,
			Port: sd.Addr.Port, Token: firstToken(sd.Tokens), State: s.PeerState(sd.PeerName()).String()}})
	}
	return nodes
}

// liveNodes folds the gossiper's membership into the configured nodes and
// adds the members learned through gossip. "up" is the failure detector's
// verdict and "state" the state the node declares, or DOWN when it is not
// up; a state an operator set with /peer/... still wins, as in Dynomite.
// Configured seeds stay listed whatever the gossiper says.
func (s *Server) liveNodes(nodes []describedNode, members []gossip.MemberView) []describedNode {
	byAddr := map[string]int{}
	for i := range nodes {
		byAddr[net.JoinHostPort(nodes[i].srv.Host, strconv.Itoa(nodes[i].srv.Port))] = i
		seed := i > 0
		nodes[i].srv.Seed = &seed
	}
	for _, m := range members {
		i, known := byAddr[m.ID]
		if !known {
			if m.Left {
				continue
			}
			host, port := m.ID, 0
			if h, p, err := net.SplitHostPort(m.ID); err == nil {
				host = h
				port, _ = strconv.Atoi(p)
			}
			seed := false
			nodes = append(nodes, describedNode{m.DC, m.Rack, describedServer{Name: host, Host: host, Port: port,
				Token: firstToken(m.Tokens), State: gossip.Normal.String(), Seed: &seed}})
			i = len(nodes) - 1
			byAddr[m.ID] = i
		}
		n := &nodes[i]
		up := m.Up
		n.srv.Up = &up
		if m.ID == s.opts.NodeID || s.peerOverridden(n.srv.Name) {
			continue
		}
		switch {
		case !up:
			n.srv.State = gossip.Down.String()
		case m.State != gossip.Unknown:
			n.srv.State = m.State.String()
		}
	}
	return nodes
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
