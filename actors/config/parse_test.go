package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaults checks every default of docs/config.md's key table on a minimal file.
func TestDefaults(t *testing.T) {
	cfg, err := Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n"))
	require.NoError(t, err)
	want := &Config{
		Pool:                    "dyn_o_mite",
		Listen:                  Addr{Host: "127.0.0.1", Port: 8102},
		StatsListen:             Addr{Host: "127.0.0.1", Port: 22222},
		DataStore:               Embedded, // servers omitted
		Datacenter:              "localdc",
		Rack:                    "localrack",
		SeedProvider:            "simple_provider",
		Hash:                    "murmur",
		Timeout:                 5000 * time.Millisecond,
		Preconnect:              true,
		AutoEjectHosts:          true,
		Versions:                true,
		TombstoneTTL:            24 * time.Hour,
		MaxConnectionsPerSource: 10000,
		ClientRequestTimeout:    time.Minute,
		HintedHandoff:           true,
		MaxHintsBytes:           256 << 20,
		MaxHintWindow:           3 * time.Hour,
		HintsReplayRate:         10000,
		HintsSyncInterval:       100 * time.Millisecond,
		AntiEntropy:             true,
		AntiEntropyInterval:     10 * time.Minute,
		AntiEntropyScanRate:     200000,
		AntiEntropyBandwidth:    32 << 20,
		ServerRetryTimeout:      10000 * time.Millisecond,
		ServerFailureLimit:      3,
		Backlog:                 512,
		ReadConsistency:         DCOne,
		WriteConsistency:        DCOne,
		SecureServerOption:      SecureNone,
		PEMKeyFile:              "conf/dynomite.pem",
		ReconKeyFile:            "conf/recon_key.pem",
		ReconIVFile:             "conf/recon_iv.pem",
		GossipInterval:          30000 * time.Millisecond,
		HeartbeatInterval:       time.Second,
		PhiThreshold:            8,
		Env:                     "aws",
		ConnMsgRate:             50000,
		StatsInterval:           30000 * time.Millisecond,
		MbufSize:                16384,
		MaxMsgs:                 200000,
		DatastoreConnections:    1,
		LocalPeerConnections:    1,
		RemotePeerConnections:   1,
	}
	assert.Equal(t, want, cfg)
}

// TestZeroMeansUnset: Dynomite treats 0 as "not set", so defaults apply.
func TestZeroMeansUnset(t *testing.T) {
	cfg, err := Parse([]byte(`dyn_o_mite:
  listen: 127.0.0.1:8102
  timeout: 0
  server_retry_timeout: 0
  server_failure_limit: 0
  gos_interval: 0
  conn_msg_rate: 0
  mbuf_size: 0
  max_msgs: 0
  datastore_connections: 0
`))
	require.NoError(t, err)
	assert.Equal(t, DefaultTimeout, cfg.Timeout)
	assert.Equal(t, DefaultServerRetry, cfg.ServerRetryTimeout)
	assert.Equal(t, 3, cfg.ServerFailureLimit)
	assert.Equal(t, DefaultGossipInterval, cfg.GossipInterval)
	assert.Equal(t, 50000, cfg.ConnMsgRate)
	assert.Equal(t, 16384, cfg.MbufSize)
	assert.Equal(t, 200000, cfg.MaxMsgs)
	assert.Equal(t, 1, cfg.DatastoreConnections)
}

func TestEveryKey(t *testing.T) {
	cfg, err := Parse([]byte(`dyn_o_mite:
  listen: /tmp/dyn.sock
  dyn_listen: '[::1]:8101'
  stats_listen: 127.0.0.1:22223
  data_store: 1
  servers:
  - 127.0.0.1:11211:1 mc1
  datacenter: us-east-1
  rack: us-east-1c
  tokens: 3,1,2
  dyn_seed_provider: florida_provider
  dyn_seeds:
  - '[::2]:8101:us-east-1c:us-east-1:10,20 peer2'
  - host-b.example:8101:us-east-1d:us-east-1:3
  hash: fnv1a_64
  hash_tag: '{}'
  timeout: 150
  preconnect: false
  auto_eject_hosts: false
  server_retry_timeout: 200
  server_failure_limit: 5
  backlog: 1024
  client_connections: 7
  read_consistency: dc_safe_quorum
  write_consistency: Dc_Quorum
  read_repairs_enabled: true
  secure_server_option: all
  tls_cert_file: /etc/dyn/node.pem
  tls_key_file: /etc/dyn/node-key.pem
  tls_ca_file: /etc/dyn/ca.pem
  pem_key_file: /etc/dyn.pem
  recon_key_file: /etc/k.pem
  recon_iv_file: /etc/iv.pem
  enable_gossip: true
  gos_interval: 1000
  env: network
  conn_msg_rate: 10
  stats_interval: 60000
  mbuf_size: 1024
  max_msgs: 300000
  datastore_connections: 4
  local_peer_connections: 5
  remote_peer_connections: 255
  dyn_read_timeout: 1
  dyn_write_timeout: 1
  dyn_connections: 1
  dyn_port: 8101
  distribution: vnode
  server_connections: 2
`))
	require.NoError(t, err)
	assert.Equal(t, Addr{Path: "/tmp/dyn.sock"}, cfg.Listen)
	assert.Equal(t, "unix", cfg.Listen.Network())
	assert.Equal(t, Addr{Host: "::1", Port: 8101}, cfg.DynListen)
	assert.Equal(t, "[::1]:8101", cfg.DynListen.String())
	assert.Equal(t, Memcached, cfg.DataStore)
	assert.Equal(t, Server{Addr: Addr{Host: "127.0.0.1", Port: 11211}, Weight: 1, Name: "mc1"}, cfg.Server)
	assert.Equal(t, []uint32{3, 1, 2}, cfg.Tokens)
	assert.Equal(t, "florida_provider", cfg.SeedProvider)
	require.Len(t, cfg.Seeds, 2)
	assert.Equal(t, Seed{Addr: Addr{Host: "::2", Port: 8101}, Rack: "us-east-1c", Datacenter: "us-east-1", Tokens: []uint32{10, 20}, Name: "peer2"}, cfg.Seeds[0])
	assert.Equal(t, "host-b.example", cfg.Seeds[1].PeerName())
	assert.Equal(t, "fnv1a_64", cfg.Hash)
	assert.Equal(t, "{}", cfg.HashTag)
	assert.Equal(t, 150*time.Millisecond, cfg.Timeout)
	assert.False(t, cfg.Preconnect)
	assert.False(t, cfg.AutoEjectHosts)
	assert.Equal(t, 5, cfg.ServerFailureLimit)
	assert.Equal(t, DCSafeQuorum, cfg.ReadConsistency)
	assert.Equal(t, DCQuorum, cfg.WriteConsistency)
	assert.Equal(t, SecureAll, cfg.SecureServerOption)
	assert.Equal(t, time.Second, cfg.GossipInterval)
	assert.Equal(t, 1024, cfg.MbufSize)
	assert.Equal(t, 300000, cfg.MaxMsgs)
	assert.Equal(t, 255, cfg.RemotePeerConnections)
	assert.Equal(t, "/etc/dyn/ca.pem", cfg.TLSCAFile)
	// client_connections, dyn_* (no effect), pem_key_file (unused) and
	// distribution, server_connections (deprecated) are accepted with a
	// warning each.
	assert.Len(t, cfg.Warnings, 8)
	assert.Contains(t, cfg.Warnings[len(cfg.Warnings)-2], `key "server_connections": is deprecated and ignored`)
	assert.Contains(t, cfg.Warnings[len(cfg.Warnings)-1], `key "pem_key_file": is not used`)
}

func TestSecureOptionInvalidIsWarning(t *testing.T) {
	cfg, err := Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  secure_server_option: everything\n"))
	require.NoError(t, err)
	assert.Equal(t, SecureNone, cfg.SecureServerOption)
	require.Len(t, cfg.Warnings, 1)
	assert.Contains(t, cfg.Warnings[0], `line 3: key "secure_server_option"`)
}

func TestFlagDefaults(t *testing.T) {
	minimal := []byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n")
	cfg, err := ParseWithFlags(minimal, FlagDefaults{MbufSize: 4096, MaxMsgs: 500000})
	require.NoError(t, err)
	assert.Equal(t, 4096, cfg.MbufSize)
	assert.Equal(t, 500000, cfg.MaxMsgs)

	cfg, err = ParseWithFlags([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  mbuf_size: 512\n"), FlagDefaults{MbufSize: 4096})
	require.NoError(t, err)
	assert.Equal(t, 512, cfg.MbufSize, "the file wins over -m")

	_, err = ParseWithFlags(minimal, FlagDefaults{MbufSize: 100, MaxMsgs: 5})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-m/--mbuf-size")
	assert.Contains(t, err.Error(), "-M/--max-msgs")
}

func TestDataStoreSelection(t *testing.T) {
	head := "dyn_o_mite:\n  listen: 127.0.0.1:8102\n"
	for _, tc := range []struct {
		body string
		want DataStore
		err  string
	}{
		{"", Embedded, ""},
		{"  data_store: 2\n", Embedded, ""},
		{"  servers:\n  - 127.0.0.1:6379:1\n", Redis, ""},
		{"  data_store: 1\n  servers:\n  - /tmp/mc.sock:1\n", Memcached, ""},
		{"  data_store: 1\n", 0, "needs a servers entry"},
		{"  data_store: 2\n  servers:\n  - 127.0.0.1:6379:1\n", 0, "takes no servers entry"},
	} {
		cfg, err := Parse([]byte(head + tc.body))
		if tc.err != "" {
			require.Error(t, err, tc.body)
			assert.Contains(t, err.Error(), tc.err)
			continue
		}
		require.NoError(t, err, tc.body)
		assert.Equal(t, tc.want, cfg.DataStore, tc.body)
	}
}

func TestParseSeed(t *testing.T) {
	s, err := ParseSeed("127.0.0.1:8101:rack1:dc1:1383429731")
	require.NoError(t, err)
	assert.Equal(t, Seed{Addr: Addr{Host: "127.0.0.1", Port: 8101}, Rack: "rack1", Datacenter: "dc1", Tokens: []uint32{1383429731}}, s)
	assert.Equal(t, "127.0.0.1:8101:rack1:dc1:1383429731", s.String())

	for _, bad := range []string{
		"", "127.0.0.1:8101:rack1:dc1", "127.0.0.1:8101:rack1:dc1:x", "::1:8101:r:d:1",
		":8101:r:d:1", "h:0:r:d:1", "h:8101::d:1", "h:8101:r::1", "h:8101:r:d:", "h:8101:r:d:1,1",
		"h:8101:r:d:1  n", "/tmp/s:r:d:1", "h h:8101:r:d:1 n",
	} {
		_, err := ParseSeed(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseSeedList(t *testing.T) {
	seeds, err := ParseSeedList("10.0.0.1:8101:r1:dc1:0|10.0.0.2:8101:r2:dc1:0\n")
	require.NoError(t, err)
	require.Len(t, seeds, 2)
	assert.Equal(t, "10.0.0.2", seeds[1].PeerName())

	seeds, err = ParseSeedList(" \n")
	require.NoError(t, err)
	assert.Empty(t, seeds)

	_, err = ParseSeedList("10.0.0.1:8101:r1:dc1:0|junk")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `seed 2 "junk"`)
}

func TestParseServer(t *testing.T) {
	s, err := ParseServer("127.0.0.1:11211:1")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", s.StatsName(), "port 11211 drops the port, as libmemcached")
	s, err = ParseServer("127.0.0.1:6379:1")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:6379", s.StatsName())
	s, err = ParseServer("/var/run/redis.sock:1 local")
	require.NoError(t, err)
	assert.Equal(t, Server{Addr: Addr{Path: "/var/run/redis.sock"}, Weight: 1, Name: "local"}, s)
	assert.Equal(t, "local", s.StatsName())
	for _, bad := range []string{"", "127.0.0.1:6379", "127.0.0.1:x:1", "h:6379:-1", "[::1:6379:1", "a b:1:1 c"} {
		_, err := ParseServer(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]Addr{
		"127.0.0.1:1":         {Host: "127.0.0.1", Port: 1},
		"localhost:65535":     {Host: "localhost", Port: 65535},
		"[fe80::1%eth0]:8101": {Host: "fe80::1%eth0", Port: 8101},
		"my_host-1.local:80":  {Host: "my_host-1.local", Port: 80},
	} {
		got, err := ParseAddr(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, in, got.String())
	}
	for _, bad := range []string{"", "host", ":80", "h:", "h:0", "h:65536", "h:+1", "[127.0.0.1]:1", "[::1:1", "a/b:1", "h o:1", "::1:1"} {
		_, err := ParseAddr(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseConsistency(t *testing.T) {
	for _, c := range []Consistency{DCOne, DCQuorum, DCSafeQuorum, DCEachSafeQuorum} {
		got, err := ParseConsistency(c.String())
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
	got, err := ParseConsistency("dc_each_safe_quorum")
	require.NoError(t, err)
	assert.Equal(t, DCEachSafeQuorum, got)
	_, err = ParseConsistency("quorum")
	assert.Error(t, err)
}

func TestHashNamesMatchDynomite(t *testing.T) {
	assert.Len(t, HashNames(), 13)
	for _, h := range HashNames() {
		cfg, err := Parse([]byte("p:\n  listen: 127.0.0.1:1\n  hash: " + h + "\n"))
		require.NoError(t, err, h)
		assert.Equal(t, h, cfg.Hash)
	}
}

// TestVersionKeys: versions and tombstone_ttl parse, 0 means the default,
// and Format writes them back.
func TestVersionKeys(t *testing.T) {
	cfg, err := Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n"))
	require.NoError(t, err)
	assert.True(t, cfg.Versions)
	assert.Equal(t, 24*time.Hour, cfg.TombstoneTTL)
	cfg, err = Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  versions: false\n  tombstone_ttl: 3600000\n"))
	require.NoError(t, err)
	assert.False(t, cfg.Versions)
	assert.Equal(t, time.Hour, cfg.TombstoneTTL)
	out := string(Format(cfg))
	assert.Contains(t, out, "  versions: false\n")
	assert.Contains(t, out, "  tombstone_ttl: 3600000\n")
	cfg, err = Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  tombstone_ttl: 0\n"))
	require.NoError(t, err)
	assert.Equal(t, DefaultTombstoneTTL, cfg.TombstoneTTL)
	_, err = Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  versions: maybe\n"))
	require.ErrorContains(t, err, `key "versions"`)
	_, err = Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  tombstone_ttl: -5\n"))
	require.ErrorContains(t, err, `key "tombstone_ttl"`)
}

func TestFailureDetectorKeys(t *testing.T) {
	cfg, err := Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  heartbeat_interval: 250\n  phi_threshold: 12\n"))
	require.NoError(t, err)
	assert.Equal(t, 250*time.Millisecond, cfg.HeartbeatInterval)
	assert.Equal(t, 12, cfg.PhiThreshold)
	_, err = Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  phi_threshold: 101\n"))
	require.ErrorContains(t, err, `line 3: key "phi_threshold": value "101": not in 1..100`)
}

// TestHintKeys: the hinted handoff keys parse, keep their defaults when
// absent or 0, come back from Format, and bad values name their key.
func TestHintKeys(t *testing.T) {
	cfg, err := Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n"))
	require.NoError(t, err)
	assert.True(t, cfg.HintedHandoff)
	assert.Equal(t, "", cfg.HintsDir)
	assert.Equal(t, DefaultMaxHintsBytes, cfg.MaxHintsBytes)
	assert.Equal(t, 3*time.Hour, cfg.MaxHintWindow)
	assert.Equal(t, DefaultHintsReplayRate, cfg.HintsReplayRate)
	assert.Equal(t, 100*time.Millisecond, cfg.HintsSyncInterval)
	cfg, err = Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  hinted_handoff: false\n  hints_dir: /var/lib/dynonode/hints\n" +
		"  max_hints_bytes: 1048576\n  max_hint_window: 60000\n  hints_replay_rate: 50\n  hints_sync_interval: 20\n"))
	require.NoError(t, err)
	assert.False(t, cfg.HintedHandoff)
	assert.Equal(t, "/var/lib/dynonode/hints", cfg.HintsDir)
	assert.Equal(t, 1<<20, cfg.MaxHintsBytes)
	assert.Equal(t, time.Minute, cfg.MaxHintWindow)
	assert.Equal(t, 50, cfg.HintsReplayRate)
	assert.Equal(t, 20*time.Millisecond, cfg.HintsSyncInterval)
	out := string(Format(cfg))
	for _, line := range []string{"  hinted_handoff: false\n", "  hints_dir: /var/lib/dynonode/hints\n", "  max_hints_bytes: 1048576\n",
		"  max_hint_window: 60000\n", "  hints_replay_rate: 50\n", "  hints_sync_interval: 20\n"} {
		assert.Contains(t, out, line)
	}
	for key, bad := range map[string]string{"hinted_handoff": "yes", "max_hints_bytes": "-1", "max_hint_window": "soon",
		"hints_replay_rate": "3000000000", "hints_sync_interval": "-10"} {
		_, err = Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  " + key + ": " + bad + "\n"))
		require.ErrorContains(t, err, `key "`+key+`"`, "%s: %s", key, bad)
	}
}

// TestAntiEntropyKeys: the anti-entropy keys parse, keep their defaults
// when absent, come back from Format, and bad values name their key.
func TestAntiEntropyKeys(t *testing.T) {
	cfg, err := Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n"))
	require.NoError(t, err)
	assert.True(t, cfg.AntiEntropy)
	assert.Equal(t, 10*time.Minute, cfg.AntiEntropyInterval)
	assert.Equal(t, DefaultAEScanRate, cfg.AntiEntropyScanRate)
	assert.Equal(t, DefaultAEBandwidth, cfg.AntiEntropyBandwidth)
	cfg, err = Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  anti_entropy: false\n  anti_entropy_interval: 5000\n" +
		"  anti_entropy_scan_rate: 1000\n  anti_entropy_bandwidth: 1048576\n"))
	require.NoError(t, err)
	assert.False(t, cfg.AntiEntropy)
	assert.Equal(t, 5*time.Second, cfg.AntiEntropyInterval)
	assert.Equal(t, 1000, cfg.AntiEntropyScanRate)
	assert.Equal(t, 1<<20, cfg.AntiEntropyBandwidth)
	out := string(Format(cfg))
	for _, line := range []string{"  anti_entropy: false\n", "  anti_entropy_interval: 5000\n", "  anti_entropy_scan_rate: 1000\n",
		"  anti_entropy_bandwidth: 1048576\n"} {
		assert.Contains(t, out, line)
	}
	for key, bad := range map[string]string{"anti_entropy": "maybe", "anti_entropy_interval": "often",
		"anti_entropy_scan_rate": "-5", "anti_entropy_bandwidth": "-1"} {
		_, err = Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  " + key + ": " + bad + "\n"))
		require.ErrorContains(t, err, `key "`+key+`"`, "%s: %s", key, bad)
	}
}

// TestAuthKeys: requirepass, datastore_password and datastore_username
// parse (Redis only), come back from Format, and a password is never
// repeated: not in an error about its own value, not when the Config is
// printed whole or logged.
func TestAuthKeys(t *testing.T) {
	cfg, err := Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n"))
	require.NoError(t, err)
	assert.Empty(t, cfg.RequirePass)
	assert.Empty(t, cfg.DatastorePassword)
	const base = "dyn_o_mite:\n  listen: 127.0.0.1:8102\n  servers:\n  - 127.0.0.1:6379:1\n  data_store: 0\n"
	cfg, err = Parse([]byte(base + "  requirepass: 'pa ss:#1'\n  datastore_username: app\n  datastore_password: st0re\n"))
	require.NoError(t, err)
	assert.Equal(t, Secret("pa ss:#1"), cfg.RequirePass)
	assert.Equal(t, "app", cfg.DatastoreUsername)
	assert.Equal(t, Secret("st0re"), cfg.DatastorePassword)
	again, err := Parse(Format(cfg))
	require.NoError(t, err)
	assert.Equal(t, cfg, again)

	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", cfg, "pass", cfg.RequirePass)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg, "pass", cfg.RequirePass)
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	buf.Write(js)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v %s %q %x", cfg.RequirePass,
		cfg.DatastorePassword, cfg.RequirePass, cfg.DatastorePassword), buf.String()} {
		assert.NotContains(t, s, "pa ss")
		assert.NotContains(t, s, "st0re")
		assert.Contains(t, s, "[redacted]")
	}

	for conf, want := range map[string]string{
		base + "  requirepass: \"se\\x01cret\"\n":                                                                            `key "requirepass"`,
		base + "  datastore_password: \"se\\x7fcret\"\n":                                                                     `key "datastore_password"`,
		base + "  datastore_username: 'a b'\n  datastore_password: x\n":                                                      `key "datastore_username"`,
		base + "  datastore_username: app\n":                                                                                 "needs datastore_password",
		"dyn_o_mite:\n  listen: 127.0.0.1:8102\n  datastore_password: secret\n":                                              "not to embedded",
		"dyn_o_mite:\n  listen: 127.0.0.1:8102\n  data_store: 1\n  servers:\n  - 127.0.0.1:11211:1\n  requirepass: secret\n": "memcached's text protocol has no AUTH",
	} {
		_, err := Parse([]byte(conf))
		require.ErrorContains(t, err, want, conf)
		assert.NotContains(t, err.Error(), "cret", conf)
	}
}
