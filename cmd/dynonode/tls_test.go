package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/node"
	"github.com/dynonode/dynonode/internal/testcert"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// redisCLI runs redis-cli with args and returns its output.
func redisCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testproc.Binary(t, "redis-cli"), args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// tlsPing dials addr over TLS with cfg, sends PING and returns the reply and
// the connection's state.
func tlsPing(t *testing.T, addr string, cfg *tls.Config) (string, tls.ConnectionState, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	nc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return "", tls.ConnectionState{}, err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte("PING\r\n")); err != nil {
		return "", nc.ConnectionState(), err
	}
	buf := make([]byte, 64)
	n, err := nc.Read(buf)
	return string(buf[:n]), nc.ConnectionState(), err
}

// TestClientTLS: with client_tls_cert_file and client_tls_key_file the
// client port speaks TLS to redis-cli --tls, python3-redis (ssl=True) and
// Go's crypto/tls, and a plain client gets no answer; with
// client_tls_ca_file a client certificate signed by that CA is required;
// SIGHUP makes new connections see a new certificate.
func TestClientTLS(t *testing.T) {
	ca := testcert.NewCA(t, "test")
	server := ca.Issue(t, "server", "127.0.0.1", "localhost")
	node := startOpNode(t, fmt.Sprintf("  client_tls_cert_file: %s\n  client_tls_key_file: %s\n", server.Cert, server.Key))
	host, port, err := net.SplitHostPort(node.listen)
	require.NoError(t, err)

	out, err := redisCLI(t, "--tls", "--cacert", ca.Cert, "-h", host, "-p", port, "SET", "k", "over-tls")
	require.NoError(t, err, out)
	require.Equal(t, "OK", out)
	out, err = redisCLI(t, "--tls", "--cacert", ca.Cert, "-h", host, "-p", port, "GET", "k")
	require.NoError(t, err, out)
	require.Equal(t, "over-tls", out)

	py := fmt.Sprintf(`import redis
r = redis.Redis(host=%q, port=%s, ssl=True, ssl_ca_certs=%q, socket_timeout=5)
r.set("py", "ssl")
print(r.get("py").decode(), r.get("k").decode())`, host, port, ca.Cert)
	pyOut, err := exec.Command("/usr/bin/python3", "-c", py).CombinedOutput()
	require.NoError(t, err, string(pyOut))
	require.Equal(t, "ssl over-tls", strings.TrimSpace(string(pyOut)))

	roots := x509.NewCertPool()
	pem, err := os.ReadFile(ca.Cert)
	require.NoError(t, err)
	require.True(t, roots.AppendCertsFromPEM(pem))
	reply, st, err := tlsPing(t, node.listen, &tls.Config{RootCAs: roots})
	require.NoError(t, err)
	require.Equal(t, "+PONG\r\n", reply)
	require.Equal(t, uint16(tls.VersionTLS13), st.Version)
	before := st.PeerCertificates[0].SerialNumber

	// A plain client: its bytes are no TLS record, the node closes.
	plain := testproc.DialRESP(t, node.listen)
	plain.Send(testproc.Command("PING"))
	plain.ExpectClosed()
	// A client that does not trust the node's CA fails the handshake.
	_, _, err = tlsPing(t, node.listen, &tls.Config{RootCAs: x509.NewCertPool()})
	require.Error(t, err)

	// SIGHUP: a new certificate for new connections.
	renewed := ca.Issue(t, "server", "127.0.0.1", "localhost") // same file names: overwritten
	require.Equal(t, server, renewed)
	require.NoError(t, node.proc.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool {
		_, st, err := tlsPing(t, node.listen, &tls.Config{RootCAs: roots})
		return err == nil && st.PeerCertificates[0].SerialNumber.Cmp(before) != 0
	}, 5*time.Second, 50*time.Millisecond, "the renewed certificate is served after SIGHUP")

	t.Run("handshake bounded", func(t *testing.T) {
		// A client that connects and never shakes hands is closed after
		// the handshake bound (client_request_timeout when shorter than
		// 10 s), its actors never made.
		quick := startOpNode(t, fmt.Sprintf("  client_tls_cert_file: %s\n  client_tls_key_file: %s\n  client_request_timeout: 500\n",
			server.Cert, server.Key))
		silent := testproc.DialRESP(t, quick.listen)
		silent.ExpectClosed()
		require.Zero(t, infoCount(t, strings.TrimPrefix(quick.admin, "http://"), "client_connections"))
	})

	t.Run("client certificates", func(t *testing.T) {
		client := ca.Issue(t, "client")
		rogue := testcert.NewCA(t, "rogue").Issue(t, "intruder")
		mtls := startOpNode(t, fmt.Sprintf("  client_tls_cert_file: %s\n  client_tls_key_file: %s\n  client_tls_ca_file: %s\n",
			server.Cert, server.Key, ca.Cert))
		host, port, err := net.SplitHostPort(mtls.listen)
		require.NoError(t, err)
		out, err := redisCLI(t, "--tls", "--cacert", ca.Cert, "-h", host, "-p", port, "PING")
		require.False(t, err == nil && out == "PONG", "no client certificate: refused, got %q", out)
		out, err = redisCLI(t, "--tls", "--cacert", ca.Cert, "--cert", rogue.Cert, "--key", rogue.Key, "-h", host, "-p", port, "PING")
		require.False(t, err == nil && out == "PONG", "a certificate of another CA: refused, got %q", out)
		out, err = redisCLI(t, "--tls", "--cacert", ca.Cert, "--cert", client.Cert, "--key", client.Key, "-h", host, "-p", port, "PING")
		require.NoError(t, err, out)
		require.Equal(t, "PONG", out)
	})
}

// TestClientTLSMemcached: the same TLS client port serves memcached's text
// protocol (memcached clients that speak TLS, as memcached 1.6 does).
func TestClientTLSMemcached(t *testing.T) {
	ca := testcert.NewCA(t, "test")
	server := ca.Issue(t, "server", "127.0.0.1")
	mc := testproc.Memcached(t)
	node := startOpNode(t, fmt.Sprintf("  data_store: 1\n  servers:\n  - %s:1\n  client_tls_cert_file: %s\n  client_tls_key_file: %s\n",
		mc.Addr, server.Cert, server.Key))
	roots := x509.NewCertPool()
	pem, err := os.ReadFile(ca.Cert)
	require.NoError(t, err)
	require.True(t, roots.AppendCertsFromPEM(pem))
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", node.listen, &tls.Config{RootCAs: roots})
	require.NoError(t, err)
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = nc.Write([]byte("set a 0 0 1\r\nx\r\nget a\r\n"))
	require.NoError(t, err)
	want := "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n"
	got := make([]byte, 0, len(want))
	buf := make([]byte, 256)
	for len(got) < len(want) {
		n, err := nc.Read(buf)
		require.NoError(t, err, "after %q", got)
		got = append(got, buf[:n]...)
	}
	require.Equal(t, want, string(got))
}

// infoCount reads one counter of a node's /info (pool dyn_o_mite).
func infoCount(t *testing.T, adm, key string) float64 {
	t.Helper()
	code, body := httpGet(t, "http://"+adm+"/info")
	require.Equal(t, 200, code, body)
	var info struct {
		Pool map[string]any `json:"dyn_o_mite"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &info))
	v, ok := info.Pool[key].(float64)
	require.True(t, ok, "/info has no %s: %s", key, body)
	return v
}

// TestPeerTLS: a 3-rack cluster with secure_server_option: all runs its
// gossip and replication over mutual TLS 1.3; a plain TCP connection to a
// peer port, a TLS client without a certificate and one whose certificate
// another CA signed are refused, counted (peer_refused_connections) and
// logged; openssl s_client sees TLS 1.3 and a request for a client
// certificate.
func TestPeerTLS(t *testing.T) {
	ca := testcert.NewCA(t, "cluster")
	pair := ca.Issue(t, "node", "127.0.0.231", "127.0.0.232", "127.0.0.233")
	nodes := startVersionedCluster(t, 230, fmt.Sprintf("  secure_server_option: all\n  tls_cert_file: %s\n  tls_key_file: %s\n  tls_ca_file: %s\n"+
		"  read_consistency: DC_QUORUM\n  write_consistency: DC_QUORUM\n", pair.Cert, pair.Key, ca.Cert))
	c1 := testproc.DialRESP(t, nodes[0].listen)
	require.Equal(t, "+OK\r\n", c1.Do("SET", "k", "over-mtls"))
	for _, n := range nodes {
		c := testproc.DialRESP(t, n.listen)
		require.Equal(t, bulkReply("over-mtls"), c.Do("GET", "k"), n.name)
	}
	require.Zero(t, infoCount(t, nodes[0].adm, "peer_refused_connections"), "the cluster's own links are not refused")

	dyn := nodes[0].dyn
	plain := testproc.DialRESP(t, dyn)
	plain.Send([]byte("\x00\x00\x00\x05hello"))
	plain.ExpectClosed()
	roots := x509.NewCertPool()
	pem, err := os.ReadFile(ca.Cert)
	require.NoError(t, err)
	require.True(t, roots.AppendCertsFromPEM(pem))
	tryTLS := func(cfg *tls.Config) error {
		nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", dyn, cfg)
		if err != nil {
			return err
		}
		defer nc.Close()
		// TLS 1.3: the server checks the client's certificate after the
		// client's handshake ends; its verdict arrives on the first read.
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = nc.Read(make([]byte, 1))
		return err
	}
	require.Error(t, tryTLS(&tls.Config{RootCAs: roots}), "no client certificate")
	rogue := testcert.NewCA(t, "rogue").Issue(t, "intruder", "127.0.0.1")
	cert, err := tls.LoadX509KeyPair(rogue.Cert, rogue.Key)
	require.NoError(t, err)
	require.Error(t, tryTLS(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}), "a certificate of another CA")
	eventuallyTrue(t, 5*time.Second, func() bool { return infoCount(t, nodes[0].adm, "peer_refused_connections") >= 3 },
		"three refusals counted")
	_, metrics := httpGet(t, "http://"+nodes[0].adm+"/metrics")
	require.Contains(t, metrics, "dynonode_peer_refused_connections_total 3")
	require.Contains(t, nodes[0].proc.Output.String(), "peer connection refused")
	require.Contains(t, nodes[0].proc.Output.String(), "plain TCP where secure_server_option requires TLS")

	// openssl's view: TLS 1.3, and the server asks for a client
	// certificate signed by the cluster's CA.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testproc.Binary(t, "openssl"), "s_client", "-connect", dyn, "-CAfile", ca.Cert,
		"-cert", pair.Cert, "-key", pair.Key)
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	require.Contains(t, string(out), "TLSv1.3", "%s", out)
	require.Contains(t, string(out), "Acceptable client certificate CA names", "%s", out)
	require.Contains(t, string(out), "CN = cluster", "%s", out)
	require.Contains(t, string(out), "Verify return code: 0 (ok)", "%s", out)

	// SIGHUP: node1 serves a renewed certificate to new links, and keeps
	// the links it has (no reconnection, replication goes on).
	own, err := tls.LoadX509KeyPair(pair.Cert, pair.Key)
	require.NoError(t, err)
	serial := func() string {
		nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", dyn,
			&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{own}, ServerName: "127.0.0.231"})
		require.NoError(t, err)
		defer nc.Close()
		return nc.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	connected := strings.Count(nodes[0].proc.Output.String(), "peer link connected")
	require.Equal(t, pair, ca.Issue(t, "node", "127.0.0.231", "127.0.0.232", "127.0.0.233"), "the same files, renewed")
	require.NoError(t, nodes[0].proc.Signal(syscall.SIGHUP))
	eventuallyTrue(t, 5*time.Second, func() bool { return serial() != before }, "node1 serves the renewed certificate")
	require.Equal(t, "+OK\r\n", c1.Do("SET", "k2", "after-reload"))
	require.Equal(t, bulkReply("after-reload"), testproc.DialRESP(t, nodes[2].listen).Do("GET", "k2"))
	require.Equal(t, connected, strings.Count(nodes[0].proc.Output.String(), "peer link connected"), "no link was redialled")
	require.Contains(t, nodes[0].proc.Output.String(), "SIGHUP: TLS certificate reloaded")
}

// TestPeerTLSChoosesLinks: secure_server_option decides which outbound
// links are TLS (all; another DC; another rack or DC), a peer the ring does
// not know is dialled over TLS, and only all refuses plain inbound links.
func TestPeerTLSChoosesLinks(t *testing.T) {
	ca := testcert.NewCA(t, "cluster")
	pair := ca.Issue(t, "node", "127.0.0.1")
	conf := fmt.Sprintf("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  dyn_listen: 127.0.0.1:8101\n  datacenter: dc1\n  rack: r1\n  tokens: '0'\n"+
		"  tls_cert_file: %s\n  tls_key_file: %s\n  tls_ca_file: %s\n  dyn_seeds:\n"+
		"  - 127.0.0.2:8101:r1:dc1:5\n  - 127.0.0.3:8101:r2:dc1:0\n  - 127.0.0.4:8101:r1:dc2:0\n", pair.Cert, pair.Key, ca.Cert)
	for _, tc := range []struct {
		opt   string
		want  [4]bool // same rack, other rack, other DC, unknown
		plain bool
	}{
		{"rack", [4]bool{false, true, true, true}, true},
		{"datacenter", [4]bool{false, false, true, true}, true},
		{"all", [4]bool{true, true, true, true}, false},
	} {
		cfg, err := config.Parse([]byte(conf + "  secure_server_option: " + tc.opt + "\n"))
		require.NoError(t, err)
		asm, err := node.New(cfg, node.Deps{})
		require.NoError(t, err)
		certs, err := loadSecurity(cfg)
		require.NoError(t, err)
		p := certs.peerTLS(cfg.SecureServerOption, asm.Ring())
		var got [4]bool
		for i, peer := range []string{"127.0.0.2:8101", "127.0.0.3:8101", "127.0.0.4:8101", "127.0.0.9:8101"} {
			got[i] = p.Encrypt(actors.NodeID(peer))
		}
		require.Equal(t, tc.want, got, tc.opt)
		require.Equal(t, tc.plain, p.PlainInbound, tc.opt)
		require.Equal(t, uint16(tls.VersionTLS13), p.Client().MinVersion)
	}
	cfg, err := config.Parse([]byte(conf))
	require.NoError(t, err)
	require.Contains(t, strings.Join(cfg.Warnings, "\n"), "secure_server_option is none: peer links stay plain TCP")
	certs, err := loadSecurity(cfg)
	require.NoError(t, err)
	require.Nil(t, certs.peerTLS(cfg.SecureServerOption, nil), "none: plain links")
}
