package seeds

import (
	"testing"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewChoosesProviderFromConfigAndEnv(t *testing.T) {
	seed, err := config.ParseSeed("h1:8101:rack1:dc1:100")
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		provider string
		env      map[string]string
		want     Provider
	}{
		{"simple", SimpleName, nil, &Simple{Seeds: []config.Seed{seed}}},
		{"unset means simple", "", nil, &Simple{Seeds: []config.Seed{seed}}},
		{"florida defaults", FloridaName, nil,
			&Florida{Addr: "127.0.0.1:8080", Request: []byte(DefaultFloridaRequest)}},
		{"florida env", FloridaName,
			map[string]string{EnvFloridaIP: "10.0.0.7", EnvFloridaPort: "9090", EnvFloridaRequest: "GET /s HTTP/1.0"},
			&Florida{Addr: "10.0.0.7:9090", Request: []byte("GET /s HTTP/1.0\r\n\r\n")}},
		{"florida ipv6", FloridaName, map[string]string{EnvFloridaIP: "::1"},
			&Florida{Addr: "[::1]:8080", Request: []byte(DefaultFloridaRequest)}},
		{"dns defaults", DNSName, nil, &DNS{Domain: DefaultDNSName}},
		{"dns env", DNSName, map[string]string{EnvDNSName: "_seeds.example.com", EnvDNSType: "TXT"},
			&DNS{Domain: "_seeds.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Config{SeedProvider: tc.provider, Seeds: []config.Seed{seed}}
			p, err := New(cfg, func(k string) string { return tc.env[k] })
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
			if tc.provider != "" {
				assert.Equal(t, tc.provider, p.Name())
			}
		})
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name, provider string
		env            map[string]string
		want           string
	}{
		{"florida port text", FloridaName, map[string]string{EnvFloridaPort: "http"}, `DYNOMITE_FLORIDA_PORT="http": not a port`},
		{"florida port range", FloridaName, map[string]string{EnvFloridaPort: "70000"}, `DYNOMITE_FLORIDA_PORT="70000": not a port`},
		{"dns type A", DNSName, map[string]string{EnvDNSType: "A"}, "DYNOMITE_DNS_TYPE=A: an A record holds only an address"},
		{"dns type other", DNSName, map[string]string{EnvDNSType: "MX"}, `DYNOMITE_DNS_TYPE="MX": want TXT`},
		{"unknown provider", "zk_provider", nil, `unknown dyn_seed_provider "zk_provider"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(&config.Config{SeedProvider: tc.provider}, func(k string) string { return tc.env[k] })
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// Simple hands out copies: a caller editing its list cannot change the
// configured one.
func TestSimpleFetchCopies(t *testing.T) {
	seed, err := config.ParseSeed("h1:8101:rack1:dc1:100")
	require.NoError(t, err)
	s := &Simple{Seeds: []config.Seed{seed}}
	got, err := s.Fetch(t.Context())
	require.NoError(t, err)
	got[0].Rack = "changed"
	assert.Equal(t, "rack1", s.Seeds[0].Rack)
}

func TestFloridaRequest(t *testing.T) {
	for in, want := range map[string]string{
		"GET / HTTP/1.0":                "GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.0\n":              "GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: x\r\n": "GET / HTTP/1.0\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n":        "GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.0\nHost: x\n\n":   "GET / HTTP/1.0\nHost: x\n\n",
	} {
		assert.Equal(t, want, string(FloridaRequest(in)), "%q", in)
	}
}
