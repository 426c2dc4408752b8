package config

import (
	"strconv"
	"strings"
	"time"
)

// Format renders c as a Dynomite-style YAML file that Parse reads back to an
// equal Config (Warnings aside). Every directive is written with its
// effective value, defaults included, so the output documents what the node
// runs with.
func Format(c *Config) []byte {
	var b strings.Builder
	b.WriteString(quote(c.Pool) + ":\n")
	kv := func(k, v string) { b.WriteString("  " + k + ": " + v + "\n") }
	list := func(k string, vs []string) {
		b.WriteString("  " + k + ":\n")
		for _, v := range vs {
			b.WriteString("  - " + quote(v) + "\n")
		}
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

	kv("listen", quote(c.Listen.String()))
	if !c.DynListen.IsZero() {
		kv("dyn_listen", quote(c.DynListen.String()))
	}
	kv("stats_listen", quote(c.StatsListen.String()))
	kv("data_store", strconv.Itoa(int(c.DataStore)))
	if c.DataStore != Embedded {
		list("servers", []string{c.Server.String()})
	}
	kv("datacenter", quote(c.Datacenter))
	kv("rack", quote(c.Rack))
	if len(c.Tokens) > 0 {
		kv("tokens", "'"+formatTokens(c.Tokens)+"'")
	}
	kv("dyn_seed_provider", c.SeedProvider)
	if len(c.Seeds) > 0 {
		seeds := make([]string, len(c.Seeds))
		for i, s := range c.Seeds {
			seeds[i] = s.String()
		}
		list("dyn_seeds", seeds)
	}
	kv("hash", c.Hash)
	if c.HashTag != "" {
		kv("hash_tag", quote(c.HashTag))
	}
	kv("timeout", ms(c.Timeout))
	kv("preconnect", strconv.FormatBool(c.Preconnect))
	kv("auto_eject_hosts", strconv.FormatBool(c.AutoEjectHosts))
	kv("server_retry_timeout", ms(c.ServerRetryTimeout))
	kv("server_failure_limit", strconv.Itoa(c.ServerFailureLimit))
	kv("backlog", strconv.Itoa(c.Backlog))
	kv("read_consistency", c.ReadConsistency.String())
	kv("write_consistency", c.WriteConsistency.String())
	kv("read_repairs_enabled", strconv.FormatBool(c.ReadRepairs))
	kv("versions", strconv.FormatBool(c.Versions))
	kv("tombstone_ttl", ms(c.TombstoneTTL))
	kv("max_connections_per_source", strconv.Itoa(c.MaxConnectionsPerSource))
	kv("client_request_timeout", ms(c.ClientRequestTimeout))
	kv("hinted_handoff", strconv.FormatBool(c.HintedHandoff))
	if c.HintsDir != "" {
		kv("hints_dir", quote(c.HintsDir))
	}
	kv("max_hints_bytes", strconv.Itoa(c.MaxHintsBytes))
	kv("max_hint_window", ms(c.MaxHintWindow))
	kv("hints_replay_rate", strconv.Itoa(c.HintsReplayRate))
	kv("hints_sync_interval", ms(c.HintsSyncInterval))
	kv("anti_entropy", strconv.FormatBool(c.AntiEntropy))
	kv("anti_entropy_interval", ms(c.AntiEntropyInterval))
	kv("anti_entropy_scan_rate", strconv.Itoa(c.AntiEntropyScanRate))
	kv("anti_entropy_bandwidth", strconv.Itoa(c.AntiEntropyBandwidth))
	if c.RequirePass != "" {
		kv("requirepass", quote(string(c.RequirePass)))
	}
	if c.ACLFile != "" {
		kv("aclfile", quote(c.ACLFile))
	}
	if c.DatastoreUsername != "" {
		kv("datastore_username", quote(c.DatastoreUsername))
	}
	if c.DatastorePassword != "" {
		kv("datastore_password", quote(string(c.DatastorePassword)))
	}
	for _, f := range []struct{ k, v string }{{"tls_cert_file", c.TLSCertFile}, {"tls_key_file", c.TLSKeyFile},
		{"tls_ca_file", c.TLSCAFile}, {"client_tls_cert_file", c.ClientTLSCertFile},
		{"client_tls_key_file", c.ClientTLSKeyFile}, {"client_tls_ca_file", c.ClientTLSCAFile}} {
		if f.v != "" {
			kv(f.k, quote(f.v))
		}
	}
	kv("secure_server_option", c.SecureServerOption.String())
	kv("pem_key_file", quote(c.PEMKeyFile))
	kv("recon_key_file", quote(c.ReconKeyFile))
	kv("recon_iv_file", quote(c.ReconIVFile))
	kv("enable_gossip", strconv.FormatBool(c.EnableGossip))
	kv("gos_interval", ms(c.GossipInterval))
	kv("heartbeat_interval", ms(c.HeartbeatInterval))
	kv("phi_threshold", strconv.Itoa(c.PhiThreshold))
	kv("env", quote(c.Env))
	kv("conn_msg_rate", strconv.Itoa(c.ConnMsgRate))
	kv("stats_interval", ms(c.StatsInterval))
	kv("mbuf_size", strconv.Itoa(c.MbufSize))
	kv("max_msgs", strconv.Itoa(c.MaxMsgs))
	kv("datastore_connections", strconv.Itoa(c.DatastoreConnections))
	kv("local_peer_connections", strconv.Itoa(c.LocalPeerConnections))
	kv("remote_peer_connections", strconv.Itoa(c.RemotePeerConnections))
	return []byte(b.String())
}

// quote writes s plain when that is unambiguous, else single-quoted (the
// only escape being ” for ').
func quote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune("_./:-[],", r) {
			plain = false
			break
		}
	}
	switch {
	case !plain, strings.ContainsAny(s[:1], "-[],:"), strings.HasSuffix(s, ":"):
	case s == "null" || s == "Null" || s == "NULL":
	default:
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
