package main

import (
	"fmt"
	"io"
)

// stat is one metric of the /info JSON, as -D describes it.
type stat struct {
	name, kind, desc string
}

// poolStats and serverStats follow Dynomite's /info names (its dyn_stats.h)
// so dashboards built for Dynomite keep working. The stats subsystem will
// own this table once it exists.
var poolStats = []stat{
	{"client_eof", "counter", "eof on client connections"},
	{"client_err", "counter", "errors on client connections"},
	{"client_connections", "gauge", "active client connections"},
	{"client_read_requests", "counter", "read requests from clients"},
	{"client_write_requests", "counter", "write requests from clients"},
	{"client_dropped_requests", "counter", "client requests dropped"},
	{"client_non_quorum_w_responses", "counter", "writes answered without a quorum"},
	{"client_non_quorum_r_responses", "counter", "reads answered without a quorum"},
	{"server_ejects", "counter", "times the datastore was ejected"},
	{"dnode_client_eof", "counter", "eof on peer (dnode) client connections"},
	{"dnode_client_err", "counter", "errors on peer (dnode) client connections"},
	{"dnode_client_connections", "gauge", "active peer (dnode) client connections"},
	{"dnode_client_in_queue", "gauge", "requests in the dnode client incoming queue"},
	{"dnode_client_in_queue_bytes", "gauge", "bytes in the dnode client incoming queue"},
	{"dnode_client_out_queue", "gauge", "requests in the dnode client outgoing queue"},
	{"dnode_client_out_queue_bytes", "gauge", "bytes in the dnode client outgoing queue"},
	{"peer_dropped_requests", "counter", "requests to local-DC peers dropped"},
	{"peer_timedout_requests", "counter", "requests to local-DC peers timed out"},
	{"remote_peer_dropped_requests", "counter", "requests to remote-DC peers dropped"},
	{"remote_peer_timedout_requests", "counter", "requests to remote-DC peers timed out"},
	{"remote_peer_failover_requests", "counter", "remote-DC requests failed over to another rack"},
	{"peer_eof", "counter", "eof on peer connections"},
	{"peer_err", "counter", "errors on peer connections"},
	{"peer_timedout", "counter", "timeouts on local-DC peer connections"},
	{"remote_peer_timedout", "counter", "timeouts on remote-DC peer connections"},
	{"peer_connections", "gauge", "active peer connections"},
	{"peer_forward_error", "counter", "errors forwarding to peers"},
	{"peer_requests", "counter", "requests sent to peers"},
	{"peer_request_bytes", "counter", "request bytes sent to peers"},
	{"peer_responses", "counter", "responses received from peers"},
	{"peer_response_bytes", "counter", "response bytes received from peers"},
	{"peer_ejected_at", "timestamp", "when a peer was last ejected"},
	{"peer_ejects", "counter", "times a peer was ejected"},
	{"peer_in_queue", "gauge", "requests in local-DC peer incoming queues"},
	{"peer_in_queue_bytes", "gauge", "bytes in local-DC peer incoming queues"},
	{"peer_out_queue", "gauge", "requests in local-DC peer outgoing queues"},
	{"peer_out_queue_bytes", "gauge", "bytes in local-DC peer outgoing queues"},
	{"remote_peer_in_queue", "gauge", "requests in remote-DC peer incoming queues"},
	{"remote_peer_in_queue_bytes", "gauge", "bytes in remote-DC peer incoming queues"},
	{"remote_peer_out_queue", "gauge", "requests in remote-DC peer outgoing queues"},
	{"remote_peer_out_queue_bytes", "gauge", "bytes in remote-DC peer outgoing queues"},
	{"peer_mismatch_requests", "counter", "quorum replies whose checksums disagreed"},
	{"forward_error", "counter", "errors forwarding requests"},
	{"fragments", "counter", "fragments created from multi-key requests"},
	{"stats_count", "counter", "stats snapshots taken"},
}

var serverStats = []stat{
	{"server_eof", "counter", "eof on datastore connections"},
	{"server_err", "counter", "errors on datastore connections"},
	{"server_timedout", "counter", "timeouts on datastore connections"},
	{"server_ejected_at", "timestamp", "when the datastore was last ejected"},
	{"server_dropped_requests", "counter", "datastore requests dropped"},
	{"server_timedout_requests", "counter", "datastore requests timed out"},
	{"read_requests", "counter", "read requests sent to the datastore"},
	{"read_request_bytes", "counter", "read request bytes sent to the datastore"},
	{"write_requests", "counter", "write requests sent to the datastore"},
	{"write_request_bytes", "counter", "write request bytes sent to the datastore"},
	{"read_responses", "counter", "read responses from the datastore"},
	{"read_response_bytes", "counter", "read response bytes from the datastore"},
	{"write_responses", "counter", "write responses from the datastore"},
	{"write_response_bytes", "counter", "write response bytes from the datastore"},
	{"in_queue", "gauge", "requests in the datastore incoming queue"},
	{"in_queue_bytes", "gauge", "bytes in the datastore incoming queue"},
	{"out_queue", "gauge", "requests in the datastore outgoing queue"},
	{"out_queue_bytes", "gauge", "bytes in the datastore outgoing queue"},
}

// describeStats prints the table for -D, in Dynomite's layout.
func describeStats(w io.Writer) {
	for _, section := range []struct {
		title string
		stats []stat
	}{{"pool stats:", poolStats}, {"server stats:", serverStats}} {
		fmt.Fprintln(w, section.title)
		for _, s := range section.stats {
			fmt.Fprintf(w, "  %-32s %-10s %q\n", s.name, s.kind, s.desc)
		}
		fmt.Fprintln(w)
	}
}
