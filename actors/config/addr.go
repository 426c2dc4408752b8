package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Addr is a TCP host:port or a unix socket path. Host names are kept as
// written, not resolved; an IPv6 host is stored without its brackets.
type Addr struct {
	Host string // DNS name, IPv4 or IPv6 literal; "" for a unix socket
	Port int    // 1..65535; 0 for a unix socket
	Path string // unix socket path starting with '/'; "" for TCP
}

// IsZero reports whether a is unset.
func (a Addr) IsZero() bool { return a == Addr{} }

// IsUnix reports whether a is a unix socket path.
func (a Addr) IsUnix() bool { return a.Path != "" }

// Network is "unix" or "tcp", as package net names them.
func (a Addr) Network() string {
	if a.IsUnix() {
		return "unix"
	}
	return "tcp"
}

// String renders a as it is written in a config: host:port, [v6]:port or
// the path. The zero Addr renders as "".
func (a Addr) String() string {
	switch {
	case a.IsUnix():
		return a.Path
	case a.IsZero():
		return ""
	case strings.Contains(a.Host, ":"):
		return "[" + a.Host + "]:" + strconv.Itoa(a.Port)
	}
	return a.Host + ":" + strconv.Itoa(a.Port)
}

// ParseAddr parses a TCP address "host:port" or "[ipv6]:port".
func ParseAddr(s string) (Addr, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Addr{}, errors.New(`not in "host:port" form`)
	}
	host, err := parseHost(s[:i])
	if err != nil {
		return Addr{}, err
	}
	port, err := parsePort(s[i+1:])
	if err != nil {
		return Addr{}, err
	}
	return Addr{Host: host, Port: port}, nil
}

// parseListen parses listen's value: a TCP address, or a unix path when
// unix is allowed (Dynomite takes any value starting with '/' as a path).
func parseListen(s string, unix bool) (Addr, error) {
	if strings.HasPrefix(s, "/") {
		if !unix {
			return Addr{}, errors.New(`a unix socket path is not allowed here; use "host:port"`)
		}
		if err := checkText(s); err != nil {
			return Addr{}, err
		}
		return Addr{Path: s}, nil
	}
	return ParseAddr(s)
}

// parseHost checks a host: non-empty, IPv6 only inside brackets, no
// characters that cannot appear in a DNS name or IP literal.
func parseHost(h string) (string, error) {
	if h == "" {
		return "", errors.New("host is empty")
	}
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") || len(h) < 3 {
			return "", fmt.Errorf("host %q: unbalanced [brackets]", h)
		}
		in := h[1 : len(h)-1]
		if !strings.Contains(in, ":") {
			return "", fmt.Errorf("host %q: only IPv6 addresses go in [brackets]", h)
		}
		for _, r := range in {
			if !isHex(r) && r != ':' && r != '.' && r != '%' && !isAlnum(r) {
				return "", fmt.Errorf("host %q: %q is not allowed in an IPv6 address", h, r)
			}
		}
		return in, nil
	}
	if strings.Contains(h, ":") {
		return "", fmt.Errorf("host %q: an IPv6 address must be written in [brackets]", h)
	}
	for _, r := range h {
		if !isAlnum(r) && r != '.' && r != '-' && r != '_' {
			return "", fmt.Errorf("host %q: %q is not allowed in a host name", h, r)
		}
	}
	return h, nil
}

func parsePort(s string) (int, error) {
	n, err := parseDecimal(s, 65535)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("port %q is not in 1..65535", s)
	}
	return int(n), nil
}

// parseDecimal accepts only ASCII digits (no sign, no spaces), like
// Dynomite's dn_atoi, and values up to max.
func parseDecimal(s string, max uint64) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, fmt.Errorf("larger than %d", max)
	}
	return n, nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func isHex(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}

// checkText rejects control characters, which have no business in a name or
// path and would corrupt logs and seed lines.
func checkText(s string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("control character %q is not allowed", r)
		}
	}
	return nil
}

// checkName validates a rack or DC name: it travels in ':'-separated seed
// lines and '|'-joined seed lists, so it may not contain those, spaces or
// control characters.
func checkName(s string) error {
	if s == "" {
		return errors.New("name is empty")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == ':' || r == '|' {
			return fmt.Errorf("%q may not contain %q", s, r)
		}
	}
	return nil
}

// ParseTokens parses a comma-separated list of unsigned 32-bit tokens
// ("1,2", no spaces), as tokens and seed lines carry them. Duplicates are an
// error.
func ParseTokens(s string) ([]uint32, error) {
	parts := strings.Split(s, ",")
	out := make([]uint32, 0, len(parts))
	seen := make(map[uint32]bool, len(parts))
	for _, p := range parts {
		n, err := parseDecimal(p, 1<<32-1)
		if err != nil && len(parts) == 1 {
			return nil, errors.New("not an unsigned 32-bit integer")
		}
		if err != nil {
			return nil, fmt.Errorf("token %q is not an unsigned 32-bit integer", p)
		}
		if seen[uint32(n)] {
			return nil, fmt.Errorf("token %d is listed twice", n)
		}
		seen[uint32(n)] = true
		out = append(out, uint32(n))
	}
	return out, nil
}

func formatTokens(ts []uint32) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = strconv.FormatUint(uint64(t), 10)
	}
	return strings.Join(parts, ",")
}

// splitName splits the optional " name" suffix off a servers or dyn_seeds
// line; like Dynomite, the name starts after the last space.
func splitName(line string) (rest, name string, err error) {
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		return line, "", nil
	}
	rest, name = line[:i], line[i+1:]
	if name == "" || strings.ContainsAny(rest, " \t") {
		return "", "", errors.New("only one space is allowed, before the optional name")
	}
	return rest, name, checkText(name)
}

// Server is the datastore a node fronts: one servers entry.
type Server struct {
	Addr   Addr   // host:port or unix path
	Weight int    // parsed for compatibility; ignored
	Name   string // optional name after the address; "" when omitted
}

// String renders s as a servers line.
func (s Server) String() string {
	line := s.Addr.String() + ":" + strconv.Itoa(s.Weight)
	if s.Name != "" {
		line += " " + s.Name
	}
	return line
}

// StatsName is the name Dynomite reports the server under: its name if
// given, else host:port, or the bare host for port 11211 (libmemcached
// compatibility) and the path for a unix socket.
func (s Server) StatsName() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.Addr.Port == 11211:
		return s.Addr.Host
	}
	return s.Addr.String()
}

// ParseServer parses a servers line: "host:port:weight[ name]" or
// "/path:weight[ name]".
func ParseServer(line string) (Server, error) {
	const form = `"host:port:weight[ name]" or "/path:weight[ name]"`
	rest, name, err := splitName(line)
	if err != nil {
		return Server{}, fmt.Errorf("not in %s form: %w", form, err)
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return Server{}, fmt.Errorf("not in %s form", form)
	}
	w, err := parseDecimal(rest[i+1:], 1<<31-1)
	if err != nil {
		return Server{}, fmt.Errorf("weight %q is not a number", rest[i+1:])
	}
	addr, err := parseListen(rest[:i], true)
	if err != nil {
		return Server{}, fmt.Errorf("%w; expected %s", err, form)
	}
	return Server{Addr: addr, Weight: int(w), Name: name}, nil
}

// Seed is one dyn_seeds entry: another node of the cluster.
type Seed struct {
	Addr       Addr     // the peer's dyn_listen address (TCP)
	Rack       string   // its rack
	Datacenter string   // its DC
	Tokens     []uint32 // its tokens, as written
	Name       string   // optional name after the line; "" when omitted
}

// PeerName is the name Dynomite's admin endpoints use for the peer: its host.
func (s Seed) PeerName() string { return s.Addr.Host }

// String renders s as a dyn_seeds line.
func (s Seed) String() string {
	line := s.Addr.String() + ":" + s.Rack + ":" + s.Datacenter + ":" + formatTokens(s.Tokens)
	if s.Name != "" {
		line += " " + s.Name
	}
	return line
}

// ParseSeed parses "host:port:rack:dc:tokens[ name]" right to left on ':',
// as Dynomite does. The host may contain ':' only as a bracketed IPv6
// address ("[::1]:8101:rack1:dc1:0"); unix paths are not peers.
func ParseSeed(line string) (Seed, error) {
	const form = `"host:port:rack:dc:tokens[ name]"`
	rest, name, err := splitName(line)
	if err != nil {
		return Seed{}, fmt.Errorf("not in %s form: %w", form, err)
	}
	var f [4]string // tokens, dc, rack, port
	for k := range f {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			return Seed{}, fmt.Errorf("not in %s form", form)
		}
		f[k], rest = rest[i+1:], rest[:i]
	}
	host, err := parseHost(rest)
	if err != nil {
		return Seed{}, err
	}
	port, err := parsePort(f[3])
	if err != nil {
		return Seed{}, err
	}
	if err := checkName(f[2]); err != nil {
		return Seed{}, fmt.Errorf("rack: %w", err)
	}
	if err := checkName(f[1]); err != nil {
		return Seed{}, fmt.Errorf("dc: %w", err)
	}
	tokens, err := ParseTokens(f[0])
	if err != nil {
		return Seed{}, fmt.Errorf("tokens: %w", err)
	}
	return Seed{Addr: Addr{Host: host, Port: port}, Rack: f[2], Datacenter: f[1], Tokens: tokens, Name: name}, nil
}

// ParseSeedList parses the florida/dns provider payload: seed lines joined
// by '|'. Space around entries (a trailing newline) is trimmed and empty
// entries are skipped, so an empty payload is an empty list. An error names
// the 1-based entry.
func ParseSeedList(payload string) ([]Seed, error) {
	var seeds []Seed
	for i, entry := range strings.Split(payload, "|") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		s, err := ParseSeed(entry)
		if err != nil {
			return nil, fmt.Errorf("seed %d %q: %w", i+1, entry, err)
		}
		seeds = append(seeds, s)
	}
	return seeds, nil
}
