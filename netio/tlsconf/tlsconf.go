// Package tlsconf holds a node's TLS certificates: a certificate, its
// private key and, optionally, the CA that the other side's certificate
// must be signed by, read from PEM files at start and again on Reload
// (SIGHUP). The tls.Config it makes reads the current ones through
// callbacks, so a reload takes effect for the next handshake and leaves
// open connections alone.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// Files names the PEM files of one TLS identity.
type Files struct {
	// Cert is the certificate chain, leaf first; Key its private key.
	Cert, Key string
	// CA, when set, is the certificate(s) that the other side's
	// certificate must chain to: a server then requires one.
	CA string
}

// Store is a loaded identity, replaced whole by Reload.
type Store struct {
	files Files
	cur   atomic.Pointer[loaded]
}

type loaded struct {
	cert *tls.Certificate
	pool *x509.CertPool // nil without a CA file
}

// Load reads the files; an error names the file and what is wrong with it.
func Load(f Files) (*Store, error) {
	s := &Store{files: f}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the files again. On an error the identity in use stays.
func (s *Store) Reload() error {
	cert, err := tls.LoadX509KeyPair(s.files.Cert, s.files.Key)
	if err != nil {
		return fmt.Errorf("certificate %s with key %s: %w", s.files.Cert, s.files.Key, err)
	}
	l := &loaded{cert: &cert}
	if s.files.CA != "" {
		pem, err := os.ReadFile(s.files.CA)
		if err != nil {
			return fmt.Errorf("CA file: %w", err)
		}
		l.pool = x509.NewCertPool()
		if !l.pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("CA file %s: %w", s.files.CA, errNoCerts)
		}
	}
	s.cur.Store(l)
	return nil
}

var errNoCerts = errors.New("no PEM certificate in it")

// Files returns the files the store reads.
func (s *Store) Files() Files { return s.files }

// ServerConfig is a server's configuration: the current certificate, TLS
// versions from min, and with a CA file a client certificate required and
// verified against it.
func (s *Store) ServerConfig(min uint16) *tls.Config {
	return &tls.Config{
		MinVersion: min,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			l := s.cur.Load()
			c := &tls.Config{MinVersion: min, Certificates: []tls.Certificate{*l.cert}}
			if l.pool != nil {
				c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, l.pool
			}
			return c, nil
		},
	}
}

// ClientConfig is a client's configuration as of now: TLS versions from
// min, this node's certificate presented, the server's verified against
// the CA file (the system's roots without one). The caller sets
// ServerName.
func (s *Store) ClientConfig(min uint16) *tls.Config {
	l := s.cur.Load()
	return &tls.Config{MinVersion: min, Certificates: []tls.Certificate{*l.cert}, RootCAs: l.pool}
}
