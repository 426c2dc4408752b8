package seeds

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"

	"github.com/dynonode/dynonode/actors/config"
)

// Provider yields the current seed list: the other nodes of the cluster.
type Provider interface {
	// Name is the dyn_seed_provider value the provider implements.
	Name() string
	// Fetch returns the seed list now. A malformed or empty payload from a
	// remote source is an error, so a caller never replaces a good list
	// with a broken one.
	Fetch(ctx context.Context) ([]config.Seed, error)
}

// Environment variables Dynomite's providers read, with their defaults.
const (
	EnvFloridaIP      = "DYNOMITE_FLORIDA_IP"
	EnvFloridaPort    = "DYNOMITE_FLORIDA_PORT"
	EnvFloridaRequest = "DYNOMITE_FLORIDA_REQUEST"
	EnvDNSName        = "DYNOMITE_DNS_NAME"
	EnvDNSType        = "DYNOMITE_DNS_TYPE"

	DefaultFloridaIP   = "127.0.0.1"
	DefaultFloridaPort = 8080
	// DefaultFloridaRequest is byte for byte what Dynomite sends.
	DefaultFloridaRequest = "GET /REST/v1/admin/get_seeds HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: HTMLGET 1.0\r\n\r\n"
	DefaultDNSName        = "_dynomite.ec2-internal"
)

// Provider names, as config.Config.SeedProvider holds them.
const (
	SimpleName  = "simple_provider"
	FloridaName = "florida_provider"
	DNSName     = "dns_provider"
)

// New builds the provider cfg.SeedProvider names, reading its settings
// through getenv (os.Getenv when nil). An empty variable counts as unset.
func New(cfg *config.Config, getenv func(string) string) (Provider, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	switch cfg.SeedProvider {
	case SimpleName, "":
		return &Simple{Seeds: cfg.Seeds}, nil
	case FloridaName:
		portText := env(EnvFloridaPort, strconv.Itoa(DefaultFloridaPort))
		port, err := strconv.Atoi(portText)
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("seeds: %s=%q: not a port 1..65535", EnvFloridaPort, portText)
		}
		return &Florida{
			Addr:    net.JoinHostPort(env(EnvFloridaIP, DefaultFloridaIP), strconv.Itoa(port)),
			Request: FloridaRequest(env(EnvFloridaRequest, DefaultFloridaRequest)),
		}, nil
	case DNSName:
		switch t := getenv(EnvDNSType); t {
		case "", "TXT":
		case "A":
			// Dynomite's A mode reads each 4-byte address as a
			// length-prefixed string (first octet = length, which must be
			// < 4), so it can never yield a "host:port:rack:dc:tokens" seed.
			return nil, fmt.Errorf("seeds: %s=A: an A record holds only an address, not host:port:rack:dc:tokens "+
				"(Dynomite misreads the address bytes as text and never gets a seed from it); publish a TXT record", EnvDNSType)
		default:
			return nil, fmt.Errorf("seeds: %s=%q: want TXT (default)", EnvDNSType, t)
		}
		return &DNS{Domain: env(EnvDNSName, DefaultDNSName)}, nil
	}
	return nil, fmt.Errorf("seeds: unknown dyn_seed_provider %q", cfg.SeedProvider)
}

// Simple is simple_provider: the static dyn_seeds list of the config.
type Simple struct {
	Seeds []config.Seed
}

// Name implements Provider.
func (*Simple) Name() string { return SimpleName }

// Fetch returns a copy of the configured seeds; it never fails.
func (s *Simple) Fetch(context.Context) ([]config.Seed, error) {
	return slices.Clone(s.Seeds), nil
}
