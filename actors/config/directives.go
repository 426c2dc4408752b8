package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// directive is one accepted key. set applies one scalar (each entry, for a
// list); its error is reported with the key, value and line.
type directive struct {
	list   bool
	secret bool // its value is never repeated in an error
	set    func(p *parser, v string) error
}

// maxNumber bounds every numeric directive (Dynomite stores them in an int).
const maxNumber = 1<<31 - 1

// number parses a directive's decimal value; 0 means unset.
func number(v string) (int, error) {
	n, err := parseDecimal(v, maxNumber)
	if err != nil {
		return 0, fmt.Errorf("not a non-negative decimal integer (%w)", err)
	}
	return int(n), nil
}

func intKey(field func(*Config) *int, lo, hi int) directive {
	return directive{set: func(p *parser, v string) error {
		n, err := number(v)
		switch {
		case err != nil:
			return err
		case n == 0:
			return nil // unset: keep the default
		case n < lo || n > hi:
			return fmt.Errorf("not in %d..%d", lo, hi)
		}
		*field(p.cfg) = n
		return nil
	}}
}

func msKey(field func(*Config) *time.Duration) directive {
	return directive{set: func(p *parser, v string) error {
		n, err := number(v)
		if err != nil {
			return err
		}
		if n > 0 {
			*field(p.cfg) = time.Duration(n) * time.Millisecond
		}
		return nil
	}}
}

func boolKey(field func(*Config) *bool) directive {
	return directive{set: func(p *parser, v string) error {
		switch v {
		case "true":
			*field(p.cfg) = true
		case "false":
			*field(p.cfg) = false
		default:
			return errors.New(`not "true" or "false"`)
		}
		return nil
	}}
}

func textKey(field func(*Config) *string, check func(string) error) directive {
	return directive{set: func(p *parser, v string) error {
		if err := check(v); err != nil {
			return err
		}
		*field(p.cfg) = v
		return nil
	}}
}

// secretKey is a password: any byte but a control character (a RESP
// bulk string carries it), never repeated in an error.
func secretKey(field func(*Config) *Secret) directive {
	return directive{secret: true, set: func(p *parser, v string) error {
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return errors.New("a control character is not allowed")
			}
		}
		*field(p.cfg) = Secret(v)
		return nil
	}}
}

// checkUsername validates a Redis ACL user name: no spaces or control
// characters (Redis refuses them in ACL SETUSER).
func checkUsername(s string) error {
	for _, r := range s {
		if r <= 0x20 || r == 0x7f {
			return fmt.Errorf("character %q is not allowed in a user name", r)
		}
	}
	return nil
}

// sizeKey is for mbuf_size and max_msgs: 0 stays unset so that finish can
// apply the command-line value or the default.
func sizeKey(field func(*Config) *int, check func(int) error) directive {
	return directive{set: func(p *parser, v string) error {
		n, err := number(v)
		if err != nil || n == 0 {
			return err
		}
		if err := check(n); err != nil {
			return err
		}
		*field(p.cfg) = n
		return nil
	}}
}

// noEffect accepts a number Dynomite parses but never uses.
func noEffect(why string) directive {
	return directive{set: func(p *parser, v string) error {
		if _, err := number(v); err != nil {
			return err
		}
		p.warn("accepted for Dynomite compatibility; %s", why)
		return nil
	}}
}

func deprecated() directive {
	return directive{set: func(p *parser, v string) error {
		p.warn("is deprecated and ignored")
		return nil
	}}
}

var directives = map[string]directive{
	"listen": {set: func(p *parser, v string) (err error) {
		p.cfg.Listen, err = parseListen(v, true)
		return err
	}},
	"dyn_listen": {set: func(p *parser, v string) (err error) {
		p.cfg.DynListen, err = parseListen(v, false)
		return err
	}},
	"stats_listen": {set: func(p *parser, v string) (err error) {
		p.cfg.StatsListen, err = parseListen(v, false)
		return err
	}},
	"servers": {list: true, set: func(p *parser, v string) error {
		if !p.cfg.Server.Addr.IsZero() {
			return errors.New("a second server: a node fronts exactly one datastore (as in Dynomite)")
		}
		s, err := ParseServer(v)
		p.cfg.Server = s
		return err
	}},
	"data_store": {set: func(p *parser, v string) error {
		n, err := number(v)
		if err != nil {
			return err
		}
		if n > int(Embedded) {
			return errors.New("not 0 (redis), 1 (memcached) or 2 (embedded store)")
		}
		p.cfg.DataStore, p.dataStoreSet = DataStore(n), true
		return nil
	}},
	"datacenter": textKey(func(c *Config) *string { return &c.Datacenter }, checkName),
	"rack":       textKey(func(c *Config) *string { return &c.Rack }, checkName),
	"tokens": {set: func(p *parser, v string) (err error) {
		p.cfg.Tokens, err = ParseTokens(v)
		return err
	}},
	"dyn_seeds": {list: true, set: func(p *parser, v string) error {
		s, err := ParseSeed(v)
		if err != nil {
			return err
		}
		p.cfg.Seeds = append(p.cfg.Seeds, s)
		p.seedLines = append(p.seedLines, p.line)
		return nil
	}},
	"dyn_seed_provider": {set: func(p *parser, v string) error {
		for _, name := range seedProviders {
			if strings.HasPrefix(v, name) {
				p.cfg.SeedProvider = name
				return nil
			}
		}
		return fmt.Errorf("not one of %s", strings.Join(seedProviders, ", "))
	}},
	"hash": {set: func(p *parser, v string) error {
		if !slices.Contains(hashNames, v) {
			return fmt.Errorf("not a valid hash; one of %s", strings.Join(hashNames, ", "))
		}
		p.cfg.Hash = v
		return nil
	}},
	"hash_tag": {set: func(p *parser, v string) error {
		if len(v) != 2 {
			return errors.New(`not a valid hash tag: exactly two characters, e.g. "{}"`)
		}
		p.cfg.HashTag = v
		return nil
	}},
	"timeout":                    msKey(func(c *Config) *time.Duration { return &c.Timeout }),
	"server_retry_timeout":       msKey(func(c *Config) *time.Duration { return &c.ServerRetryTimeout }),
	"gos_interval":               msKey(func(c *Config) *time.Duration { return &c.GossipInterval }),
	"heartbeat_interval":         msKey(func(c *Config) *time.Duration { return &c.HeartbeatInterval }),
	"phi_threshold":              intKey(func(c *Config) *int { return &c.PhiThreshold }, 1, 100),
	"stats_interval":             msKey(func(c *Config) *time.Duration { return &c.StatsInterval }),
	"preconnect":                 boolKey(func(c *Config) *bool { return &c.Preconnect }),
	"auto_eject_hosts":           boolKey(func(c *Config) *bool { return &c.AutoEjectHosts }),
	"read_repairs_enabled":       boolKey(func(c *Config) *bool { return &c.ReadRepairs }),
	"versions":                   boolKey(func(c *Config) *bool { return &c.Versions }),
	"tombstone_ttl":              msKey(func(c *Config) *time.Duration { return &c.TombstoneTTL }),
	"max_connections_per_source": intKey(func(c *Config) *int { return &c.MaxConnectionsPerSource }, 1, maxNumber),
	"client_request_timeout":     msKey(func(c *Config) *time.Duration { return &c.ClientRequestTimeout }),
	"hinted_handoff":             boolKey(func(c *Config) *bool { return &c.HintedHandoff }),
	"max_hints_bytes":            intKey(func(c *Config) *int { return &c.MaxHintsBytes }, 1, maxNumber),
	"max_hint_window":            msKey(func(c *Config) *time.Duration { return &c.MaxHintWindow }),
	"hints_replay_rate":          intKey(func(c *Config) *int { return &c.HintsReplayRate }, 1, maxNumber),
	"hints_sync_interval":        msKey(func(c *Config) *time.Duration { return &c.HintsSyncInterval }),
	"anti_entropy":               boolKey(func(c *Config) *bool { return &c.AntiEntropy }),
	"anti_entropy_interval":      msKey(func(c *Config) *time.Duration { return &c.AntiEntropyInterval }),
	"anti_entropy_scan_rate":     intKey(func(c *Config) *int { return &c.AntiEntropyScanRate }, 1, maxNumber),
	"anti_entropy_bandwidth":     intKey(func(c *Config) *int { return &c.AntiEntropyBandwidth }, 1, maxNumber),
	"enable_gossip":              boolKey(func(c *Config) *bool { return &c.EnableGossip }),
	"server_failure_limit":       intKey(func(c *Config) *int { return &c.ServerFailureLimit }, 1, maxNumber),
	"backlog":                    intKey(func(c *Config) *int { return &c.Backlog }, 1, maxNumber),
	"conn_msg_rate":              intKey(func(c *Config) *int { return &c.ConnMsgRate }, 1, maxNumber),
	"datastore_connections":      intKey(func(c *Config) *int { return &c.DatastoreConnections }, 1, 255),
	"local_peer_connections":     intKey(func(c *Config) *int { return &c.LocalPeerConnections }, 1, 255),
	"remote_peer_connections":    intKey(func(c *Config) *int { return &c.RemotePeerConnections }, 1, 255),
	"mbuf_size":                  sizeKey(func(c *Config) *int { return &c.MbufSize }, CheckMbufSize),
	"max_msgs":                   sizeKey(func(c *Config) *int { return &c.MaxMsgs }, CheckMaxMsgs),
	"read_consistency": {set: func(p *parser, v string) (err error) {
		p.cfg.ReadConsistency, err = ParseConsistency(v)
		return err
	}},
	"write_consistency": {set: func(p *parser, v string) (err error) {
		p.cfg.WriteConsistency, err = ParseConsistency(v)
		return err
	}},
	"secure_server_option": {set: func(p *parser, v string) error {
		o, err := ParseSecureOption(v)
		if err != nil {
			// Dynomite only logs this and runs unencrypted.
			p.warn("%v; using none", err)
		}
		p.cfg.SecureServerOption = o
		return nil
	}},
	"requirepass":          secretKey(func(c *Config) *Secret { return &c.RequirePass }),
	"datastore_password":   secretKey(func(c *Config) *Secret { return &c.DatastorePassword }),
	"aclfile":              textKey(func(c *Config) *string { return &c.ACLFile }, checkText),
	"datastore_username":   textKey(func(c *Config) *string { return &c.DatastoreUsername }, checkUsername),
	"tls_cert_file":        textKey(func(c *Config) *string { return &c.TLSCertFile }, checkText),
	"tls_key_file":         textKey(func(c *Config) *string { return &c.TLSKeyFile }, checkText),
	"tls_ca_file":          textKey(func(c *Config) *string { return &c.TLSCAFile }, checkText),
	"client_tls_cert_file": textKey(func(c *Config) *string { return &c.ClientTLSCertFile }, checkText),
	"client_tls_key_file":  textKey(func(c *Config) *string { return &c.ClientTLSKeyFile }, checkText),
	"client_tls_ca_file":   textKey(func(c *Config) *string { return &c.ClientTLSCAFile }, checkText),
	"pem_key_file":         textKey(func(c *Config) *string { return &c.PEMKeyFile }, checkText),
	"hints_dir":            textKey(func(c *Config) *string { return &c.HintsDir }, checkText),
	"recon_key_file":       textKey(func(c *Config) *string { return &c.ReconKeyFile }, checkText),
	"recon_iv_file":        textKey(func(c *Config) *string { return &c.ReconIVFile }, checkText),
	"env":                  textKey(func(c *Config) *string { return &c.Env }, checkText),
	"client_connections":   noEffect("Dynomite forces it to 0 (no limit)"),
	"dyn_read_timeout":     noEffect("it has no effect"),
	"dyn_write_timeout":    noEffect("it has no effect"),
	"dyn_connections":      noEffect("it has no effect; see local_peer_connections"),
	"dyn_port":             noEffect("it has no effect; see dyn_listen"),
	"distribution":         deprecated(),
	"server_connections":   deprecated(),
}

// sortedKeys lists every accepted directive, sorted.
func sortedKeys() []string {
	keys := make([]string, 0, len(directives))
	for k := range directives {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Keys lists every directive Parse accepts, sorted.
func Keys() []string { return sortedKeys() }
