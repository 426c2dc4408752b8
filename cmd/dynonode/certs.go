package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/acl"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/netio/tlsconf"
	"github.com/dynonode/dynonode/transport"
)

// security is what the node reads from files besides its configuration:
// its TLS identities and its ACL users, loaded with the configuration (so
// -t reports an unreadable certificate or a bad ACL file); certificates
// are reloaded on SIGHUP.
type security struct {
	client *tlsconf.Store // client_tls_*; nil: plain TCP clients
	peer   *tlsconf.Store // tls_*; nil: plain peer links (secure_server_option none)
	users  *acl.Users     // aclfile; nil: requirepass or none
}

// loadSecurity reads the files the configuration names.
func loadSecurity(cfg *config.Config) (*security, error) {
	c := &security{}
	if cfg.ACLFile != "" {
		data, err := os.ReadFile(cfg.ACLFile)
		if err != nil {
			return nil, fmt.Errorf("aclfile: %w", err)
		}
		if c.users, err = acl.Parse(data); err != nil {
			return nil, fmt.Errorf("aclfile %s: %w", cfg.ACLFile, err)
		}
	}
	if cfg.ClientTLSCertFile != "" {
		s, err := tlsconf.Load(tlsconf.Files{Cert: cfg.ClientTLSCertFile, Key: cfg.ClientTLSKeyFile, CA: cfg.ClientTLSCAFile})
		if err != nil {
			return nil, fmt.Errorf("client TLS (client_tls_cert_file, client_tls_key_file, client_tls_ca_file): %w", err)
		}
		c.client = s
	}
	if cfg.SecureServerOption != config.SecureNone {
		s, err := tlsconf.Load(tlsconf.Files{Cert: cfg.TLSCertFile, Key: cfg.TLSKeyFile, CA: cfg.TLSCAFile})
		if err != nil {
			return nil, fmt.Errorf("peer TLS (tls_cert_file, tls_key_file, tls_ca_file): %w", err)
		}
		c.peer = s
	}
	return c, nil
}

// peerTLS is the peer links' TLS (TLS 1.3, certificates required both
// ways) for secure_server_option: all links, or those to another DC
// (datacenter) or another rack (rack); a peer the ring does not know is
// dialled over TLS. Inbound links take plain TCP unless the option is
// all: the dialler decides, as in Dynomite. Nil for none.
func (c *security) peerTLS(opt config.SecureOption, rg *ring.Ring) *transport.PeerTLS {
	if c == nil || c.peer == nil {
		return nil
	}
	local := rg.Local()
	return &transport.PeerTLS{
		Server: c.peer.ServerConfig(tls.VersionTLS13),
		Client: func() *tls.Config { return c.peer.ClientConfig(tls.VersionTLS13) },
		Encrypt: func(peer actors.NodeID) bool {
			n, ok := rg.Node(ring.NodeID(peer))
			switch {
			case !ok || opt == config.SecureAll:
				return true
			case opt == config.SecureDatacenter:
				return n.DC != local.DC
			}
			return n.DC != local.DC || n.Rack != local.Rack
		},
		PlainInbound: opt != config.SecureAll,
	}
}

// clientTLS is the client port's TLS configuration (TLS 1.2 and 1.3, for
// the client libraries that have no 1.3 yet), nil for plain TCP.
func (c *security) clientTLS() *tls.Config {
	if c == nil || c.client == nil {
		return nil
	}
	return c.client.ServerConfig(tls.VersionTLS12)
}

// reload reads every certificate again (SIGHUP); a file that fails keeps
// the identity in use, with an error logged.
func (c *security) reload(log *slog.Logger) {
	if c == nil {
		return
	}
	for _, st := range []struct {
		name string
		s    *tlsconf.Store
	}{{"client", c.client}, {"peer", c.peer}} {
		name, s := st.name, st.s
		if s == nil {
			continue
		}
		if err := s.Reload(); err != nil {
			log.Error("SIGHUP: cannot reload the TLS certificate; still using the previous one", "tls", name, "err", err)
			continue
		}
		log.Info("SIGHUP: TLS certificate reloaded", "tls", name, "cert", s.Files().Cert)
	}
}
