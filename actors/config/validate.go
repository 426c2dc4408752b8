package config

import (
	"fmt"
	"slices"
	"strings"
)

// finish applies the defaults that depend on other keys or flags and runs
// the checks that span several directives.
func (p *parser) finish(flags FlagDefaults) {
	c := p.cfg
	if _, ok := p.seen["listen"]; !ok {
		p.errorf(p.poolLine, "listen", "", "is required: the client listener, e.g. 127.0.0.1:8102")
	}
	p.finishStore()
	p.finishAuth()
	if c.MbufSize == 0 {
		c.MbufSize = orDefault(flags.MbufSize, DefaultMbufSize)
	}
	if c.MaxMsgs == 0 {
		c.MaxMsgs = orDefault(flags.MaxMsgs, DefaultMaxMsgs)
	}
	if c.ReadRepairs && (c.ReadConsistency == DCOne || c.WriteConsistency == DCOne) {
		p.key, p.line = "read_repairs_enabled", p.seen["read_repairs_enabled"]
		p.warn("read repairs only happen when read_consistency and write_consistency are both above DC_ONE")
	}
	p.finishSeeds()
}

// orDefault returns the first non-zero value.
func orDefault(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// finishStore settles data_store against servers: the embedded store takes
// no servers entry, Redis and Memcached need one. Leaving out both selects
// the embedded store (dynonode); Dynomite required servers.
func (p *parser) finishStore() {
	c := p.cfg
	_, hasServers := p.seen["servers"]
	dsLine := p.seen["data_store"]
	switch {
	case !hasServers && !p.dataStoreSet:
		c.DataStore = Embedded
	case !hasServers && c.DataStore != Embedded:
		p.errorf(dsLine, "data_store", "", "%d (%s) needs a servers entry, e.g. 127.0.0.1:6379:1; leave out both for the embedded store", c.DataStore, c.DataStore)
	case hasServers && c.DataStore == Embedded:
		p.errorf(dsLine, "data_store", "", "2 (embedded store) takes no servers entry")
	}
}

// tokenOwner names who claims a token in a rack, for error messages.
type tokenOwner struct {
	who  string
	line int
}

// finishSeeds checks the peers against this node: dyn_listen and tokens are
// needed to join, a seed with this node's address is this node (dropped with
// a warning when it agrees, else an error), and no two nodes of one rack may
// share an address or a token.
func (p *parser) finishSeeds() {
	c := p.cfg
	if len(c.Seeds) == 0 {
		return
	}
	seedsLine := p.seen["dyn_seeds"]
	if _, ok := p.seen["dyn_listen"]; !ok {
		p.errorf(seedsLine, "dyn_seeds", "", "needs dyn_listen, the address the other nodes connect to")
	}
	if _, ok := p.seen["tokens"]; !ok {
		p.errorf(seedsLine, "dyn_seeds", "", "needs tokens for this node, e.g. tokens: '0'")
	}
	owners := map[string]tokenOwner{}
	claim := func(dc, rack string, tokens []uint32, o tokenOwner) {
		for _, t := range tokens {
			k := fmt.Sprintf("%s\x00%s\x00%d", dc, rack, t)
			if prev, dup := owners[k]; dup {
				p.errorf(o.line, "dyn_seeds", "", "token %d in rack %q of dc %q is claimed by both %s (line %d) and %s (line %d)",
					t, rack, dc, prev.who, prev.line, o.who, o.line)
				continue
			}
			owners[k] = o
		}
	}
	claim(c.Datacenter, c.Rack, c.Tokens, tokenOwner{"this node (tokens)", p.seen["tokens"]})
	addrs := map[Addr]int{}
	kept, keptLines := c.Seeds[:0], p.seedLines[:0]
	for i, s := range c.Seeds {
		line := p.seedLines[i]
		if !c.DynListen.IsZero() && s.Addr == c.DynListen {
			if s.Datacenter == c.Datacenter && s.Rack == c.Rack && slices.Equal(s.Tokens, c.Tokens) {
				p.key, p.line = "dyn_seeds", line
				p.warn("seed %s is this node (its dyn_listen); ignored", s.Addr)
				continue
			}
			p.errorf(line, "dyn_seeds", s.String(), "has this node's dyn_listen address but a different dc, rack or tokens")
			continue
		}
		if first, dup := addrs[s.Addr]; dup {
			p.errorf(line, "dyn_seeds", s.String(), "address %s is listed twice (first on line %d)", s.Addr, first)
			continue
		}
		addrs[s.Addr] = line
		claim(s.Datacenter, s.Rack, s.Tokens, tokenOwner{"seed " + s.Addr.String(), line})
		kept, keptLines = append(kept, s), append(keptLines, line)
	}
	c.Seeds, p.seedLines = kept, keptLines
	if len(c.Seeds) == 0 {
		c.Seeds = nil
	}
}

// finishAuth checks the passwords against the datastore: requirepass is
// for Redis clients (memcached's text protocol has no AUTH), the
// datastore's credentials for a Redis behind the node.
func (p *parser) finishAuth() {
	c := p.cfg
	for _, key := range []string{"requirepass", "aclfile"} {
		if line, ok := p.seen[key]; ok && c.DataStore == Memcached {
			p.errorf(line, key, "", "applies to Redis clients; memcached's text protocol has no AUTH (data_store: 1)")
		}
	}
	if line, ok := p.seen["aclfile"]; ok && c.RequirePass != "" {
		p.errorf(line, "aclfile", "", "and requirepass are exclusive: give the default user a password in the ACL file (user default on >password ~* &* +@all)")
	}
	for _, key := range []string{"datastore_password", "datastore_username"} {
		if line, ok := p.seen[key]; ok && c.DataStore != Redis {
			p.errorf(line, key, "", "is sent to a Redis datastore (data_store: 0), not to %s", c.DataStore)
		}
	}
	if line, ok := p.seen["datastore_username"]; ok && c.DatastorePassword == "" {
		p.errorf(line, "datastore_username", "", "needs datastore_password")
	}
	// Client TLS: a certificate and its key, or neither; a CA only with them.
	cert, hasCert := p.seen["client_tls_cert_file"]
	key, hasKey := p.seen["client_tls_key_file"]
	switch {
	case hasCert && !hasKey:
		p.errorf(cert, "client_tls_cert_file", "", "needs client_tls_key_file, the certificate's private key")
	case hasKey && !hasCert:
		p.errorf(key, "client_tls_key_file", "", "needs client_tls_cert_file, the certificate it belongs to")
	}
	p.finishPeerTLS()
	if line, ok := p.seen["client_tls_ca_file"]; ok && !hasCert {
		p.errorf(line, "client_tls_ca_file", "", "needs client_tls_cert_file and client_tls_key_file: client certificates are asked for over TLS")
	}
}

// finishPeerTLS checks the peer TLS files against secure_server_option:
// encrypted links need all three (a cluster that asked for encryption
// must not run without it); Dynomite's pem_key_file is accepted and
// unused.
func (p *parser) finishPeerTLS() {
	c := p.cfg
	files := []string{"tls_cert_file", "tls_key_file", "tls_ca_file"}
	var missing []string
	for _, k := range files {
		if _, ok := p.seen[k]; !ok {
			missing = append(missing, k)
		}
	}
	if c.SecureServerOption != SecureNone && len(missing) > 0 {
		line := p.seen["secure_server_option"]
		p.errorf(line, "secure_server_option", c.SecureServerOption.String(),
			"encrypts peer links with mutual TLS and needs %s (the node's certificate, its key, the CA that signs every peer's); Dynomite's pem_key_file scheme is not used", strings.Join(missing, ", "))
	}
	if c.SecureServerOption == SecureNone && len(missing) < len(files) {
		line := p.seen[files[0]]
		for _, k := range files {
			if l, ok := p.seen[k]; ok {
				line = l
				break
			}
		}
		p.key, p.line = "tls_cert_file", line
		p.warn("peer TLS files are set but secure_server_option is none: peer links stay plain TCP")
	}
	if line, ok := p.seen["pem_key_file"]; ok && c.SecureServerOption != SecureNone && len(missing) == 0 {
		p.key, p.line = "pem_key_file", line
		p.warn("is not used: dynonode encrypts peer links with mutual TLS (tls_cert_file, tls_key_file, tls_ca_file), not Dynomite's RSA and AES scheme")
	}
}
