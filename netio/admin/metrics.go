package admin

import (
	"net/http"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const ns = "dynonode"

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(ns+"_"+name, help, labels, nil)
}

// Metric descriptions. Request metrics come from the stats actor; the rest
// are read from the runtime, the client listener and the datastore adapter
// at scrape time.
var (
	descInfo     = desc("build_info", "Always 1: the node's version, pool, datacenter and rack.", "version", "pool", "dc", "rack")
	descState    = desc("node_state", "1 for the state an operator set on this node (/state/...).", "state")
	descRequests = desc("requests_total", "Client requests answered, by command class (read, write, other) and consistency level (none for other).", "class", "consistency")
	descErrors   = desc("request_errors_total", "Client requests answered with an error, by class and kind (protocol, datastore, peer, timeout, quorum, unsupported, error_reply).", "class", "kind")
	descLatency  = desc("request_duration_seconds", "Time from a request's arrival to its reply leaving for the client.", "class", "consistency")
	descReports  = desc("stats_reports_total", "Statistics reports the coordinators sent to the stats actor.")
	descStatsUp  = desc("stats_up", "1 when the stats actor answered this scrape; request metrics are absent when 0.")

	descRepairsSent    = desc("read_repairs_sent_total", "Read repair writes (DYNO.RESTORE, DYNO.DEL) sent to stale replicas, synchronous and background.")
	descRepairsDropped = desc("read_repairs_dropped_total", "Background read repairs dropped because the coordinator had its maximum in flight.")
	descStaleReplicas  = desc("read_repair_stale_replicas_total", "Replicas that answered a read with an older version than another replica.")
	descHintsStored    = desc("hints_stored_total", "Writes kept as hints for a replica that could not take them.")
	descHintsReplayed  = desc("hints_replayed_total", "Hints delivered to their target.")
	descHintsDropped   = desc("hints_dropped_total", "Hints dropped (max_hints_bytes, max_hint_window, or an operator): anti-entropy must repair their target.")
	descHintsErrors    = desc("hints_write_errors_total", "Hints the hint log could not write (kept in memory only).")
	descHintsPending   = desc("hints_pending", "Hints waiting for a target.", "target")
	descHintsBytes     = desc("hints_pending_bytes", "Bytes of the hints waiting for a target.", "target")
	descHintsOldest    = desc("hints_oldest_seconds", "Age of the oldest hint waiting for a target.", "target")
	descAERounds       = desc("anti_entropy_rounds_total", "Anti-entropy rounds started (one scan of the datastore, then a session with each replica sharing a segment).")
	descAESessions     = desc("anti_entropy_sessions_total", "Anti-entropy sessions completed.")
	descAEAborted      = desc("anti_entropy_sessions_aborted_total", "Anti-entropy sessions aborted (a busy or unreachable peer, a timeout, a ring that differs).")
	descAEScanned      = desc("anti_entropy_keys_scanned_total", "Keys read from the datastore by anti-entropy's scans.")
	descAEPulled       = desc("anti_entropy_keys_pulled_total", "Keys copied in from a replica that held them newer.")
	descAEBytes        = desc("anti_entropy_bytes_pulled_total", "Bytes of the values copied in from replicas.")
	descAESent         = desc("anti_entropy_bytes_sent_total", "Bytes of digests, differing buckets and key listings sent to replicas (payload).")
	descAEErrors       = desc("anti_entropy_pull_errors_total", "Copies from replicas that failed.")
	descAEResuming     = desc("anti_entropy_resuming", "1 while the node refills an emptied datastore (RESUMING).")
	descVersionRereads = desc("read_version_rereads_total", "Versioned reads asked again with versions because their replicas answered differently without.")

	descAccepted = desc("client_connections_accepted_total", "Client connections accepted.")
	descCRefused = desc("client_connections_refused_total", "Client connections refused: too many from one source (max_connections_per_source).")
	descStalled  = desc("client_connections_stalled_total", "Client connections closed because a request took longer than client_request_timeout to arrive.")
	descActive   = desc("client_connections", "Client connections open now.")
	descInFlight = desc("client_requests_in_flight", "Client requests read and not yet answered (the reply not yet written to the socket).")

	descSent        = desc("peer_messages_sent_total", "Envelopes written to peer links.")
	descReceived    = desc("peer_messages_received_total", "Envelopes read from peer links.")
	descDropped     = desc("peer_messages_dropped_total", "Messages to peers dropped: queue full, encode error or link down (requests bounce back as failures).")
	descBadFrames   = desc("peer_bad_frames_total", "Inbound peer frames that failed to decode (the link was closed).")
	descRefused     = desc("peer_refused_connections_total", "Inbound peer connections refused: no valid certificate, plain TCP where secure_server_option requires TLS, or too many from one source.")
	descQueued      = desc("peer_queued_messages", "Messages waiting for peer links now.")
	descDeadLetters = desc("dead_letters_total", "Messages for actors that do not exist.")
	descPanics      = desc("actor_panics_total", "Actor panics recovered (the actor restarted).")

	descDSRequests   = desc("datastore_requests_total", "Requests sent to the datastore adapter.")
	descDSResponses  = desc("datastore_responses_total", "Datastore replies (error replies included).")
	descDSTimeouts   = desc("datastore_timeouts_total", "Datastore requests that timed out.")
	descDSErrors     = desc("datastore_errors_total", "Datastore requests that failed without a reply, timeouts included.")
	descDSEjections  = desc("datastore_ejections_total", "Times the datastore was ejected (auto_eject_hosts).")
	descDSReconnects = desc("datastore_reconnects_total", "Datastore redials after a lost or refused connection.")
	descDSQueueFull  = desc("datastore_queue_full_total", "Datastore requests refused because every connection had its maximum queued (counted in datastore_errors_total too).")
	descGateWaits    = desc("admission_waits_total", "Reads of peer links and client connections held at the admission gate while a datastore connection's queue was past half its maximum.")
	descDSInFlight   = desc("datastore_requests_in_flight", "Datastore requests queued or awaiting a reply now.")
	descDSConnected  = desc("datastore_connections", "Datastore connections up now.")
)

// collector reads the node's counters at scrape time.
type collector struct{ s *Server }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInfo, descState, descRequests, descErrors, descLatency, descReports, descStatsUp,
		descRepairsSent, descRepairsDropped, descStaleReplicas, descVersionRereads,
		descHintsStored, descHintsReplayed, descHintsDropped, descHintsErrors, descHintsPending, descHintsBytes, descHintsOldest,
		descAERounds, descAESessions, descAEAborted, descAEScanned, descAEPulled, descAEBytes, descAESent, descAEErrors, descAEResuming,
		descAccepted, descCRefused, descStalled, descActive, descInFlight, descSent, descReceived, descDropped, descBadFrames, descRefused, descQueued,
		descDeadLetters, descPanics, descDSRequests, descDSResponses, descDSTimeouts, descDSErrors, descDSEjections,
		descDSReconnects, descDSQueueFull, descGateWaits, descDSInFlight, descDSConnected} {
		ch <- d
	}
}

func levelLabel(cl coord.Class, l int) string {
	if cl == coord.ClassOther {
		return "none"
	}
	return config.Consistency(l).String()
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	cfg := s.opts.Config
	gauge(descInfo, 1, s.opts.Version, cfg.Pool, cfg.Datacenter, cfg.Rack)
	for _, st := range []gossip.State{gossip.Standby, gossip.WritesOnly, gossip.Resuming, gossip.Normal} {
		v := int64(0)
		if s.State() == st {
			v = 1
		}
		gauge(descState, v, st.String())
	}
	if snap, up := s.requests(); up {
		gauge(descStatsUp, 1)
		counter(descReports, snap.Reports)
		t := &snap.Total
		counter(descRepairsSent, t.RepairsSent)
		counter(descRepairsDropped, t.RepairsDropped)
		counter(descStaleReplicas, t.StaleReplicas)
		counter(descVersionRereads, t.VersionRereads)
		for cl := range coord.NumClasses {
			for l := range coord.NumLevels {
				if cl == coord.ClassOther && l > 0 {
					break
				}
				counter(descRequests, t.Requests[cl][l], cl.String(), levelLabel(cl, l))
				buckets := make(map[float64]uint64, len(coord.LatencyBounds))
				var cum uint64
				for b, bound := range coord.LatencyBounds {
					cum += t.Latency[cl][l][b]
					buckets[bound.Seconds()] = cum
				}
				ch <- prometheus.MustNewConstHistogram(descLatency, t.Requests[cl][l], t.LatencySum[cl][l].Seconds(), buckets,
					cl.String(), levelLabel(cl, l))
			}
			for k := range coord.NumErrKinds {
				counter(descErrors, t.Errors[cl][k], cl.String(), k.String())
			}
		}
	} else {
		gauge(descStatsUp, 0)
	}
	if s.opts.Hints != nil {
		if hs, err := s.opts.Hints(); err == nil {
			counter(descHintsStored, hs.Stored)
			counter(descHintsReplayed, hs.Replayed)
			counter(descHintsDropped, hs.Dropped)
			counter(descHintsErrors, hs.WriteErrors)
			for _, t := range hs.Targets {
				gauge(descHintsPending, int64(t.Hints), t.Target)
				gauge(descHintsBytes, t.Bytes, t.Target)
				ch <- prometheus.MustNewConstMetric(descHintsOldest, prometheus.GaugeValue, t.Oldest.Seconds(), t.Target)
			}
		}
	}
	if s.opts.AntiEntropy != nil {
		if ae, err := s.opts.AntiEntropy(); err == nil {
			counter(descAERounds, ae.Round)
			counter(descAESessions, ae.Sessions)
			counter(descAEAborted, ae.Aborted)
			counter(descAEScanned, ae.KeysScanned)
			counter(descAEPulled, ae.KeysPulled)
			counter(descAEBytes, ae.BytesPulled)
			counter(descAESent, ae.BytesSent)
			counter(descAEErrors, ae.PullErrors)
			gauge(descAEResuming, int64(b2i(ae.Resuming)))
		}
	}
	if s.opts.Clients != nil {
		cs := s.opts.Clients()
		counter(descAccepted, uint64(cs.Accepted))
		counter(descCRefused, uint64(cs.Refused))
		counter(descStalled, uint64(cs.Stalled))
		gauge(descActive, cs.Active)
		gauge(descInFlight, cs.InFlight)
	}
	if s.opts.Links != nil {
		l := s.opts.Links()
		counter(descSent, l.Sent)
		counter(descReceived, l.Received)
		counter(descDropped, l.Dropped)
		counter(descBadFrames, l.BadFrames)
		counter(descRefused, l.Refused)
		gauge(descQueued, l.Queued)
		counter(descDeadLetters, l.DeadLetters)
		counter(descPanics, l.Panics)
	}
	if s.opts.Datastore != nil {
		d := s.opts.Datastore()
		counter(descDSRequests, d.Requests)
		counter(descDSResponses, d.Responses)
		counter(descDSTimeouts, d.Timeouts)
		counter(descDSErrors, d.Errors)
		counter(descDSEjections, d.Ejections)
		counter(descDSReconnects, d.Reconnects)
		counter(descDSQueueFull, d.QueueFull)
		counter(descGateWaits, d.GateWaits)
		gauge(descDSInFlight, d.InFlight)
		gauge(descDSConnected, d.Connected)
	}
}

// newRegistry registers the node's collector with Go runtime and process
// metrics.
func newRegistry(s *Server) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{s}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: nil}).ServeHTTP(w, r)
}
