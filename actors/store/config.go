package store

import (
	"sort"
	"strings"

	"github.com/dynonode/dynonode/actors/resp"
)

// CONFIG GET and SET for the parameters the engine honours: the
// thresholds of Redis's compact encodings (encoding.go), under their
// Redis 7.0 names and their older ziplist aliases. The coordinator sends
// CONFIG SET to every node's engine, as SCRIPT LOAD (actors/coord); the
// other parameters of a redis-server describe or change a server the
// embedded store is not, and are refused with that reason.

type configParam struct {
	name, alias string
	field       func(*Encodings) *int
	memory      bool // a size: digits and a unit (b, k, kb, m, mb, g, gb), as Redis's memtoull reads it
}

var configParams = []configParam{
	{"hash-max-listpack-entries", "hash-max-ziplist-entries", func(c *Encodings) *int { return &c.HashMaxListpackEntries }, false},
	{"hash-max-listpack-value", "hash-max-ziplist-value", func(c *Encodings) *int { return &c.HashMaxListpackValue }, true},
	{"set-max-intset-entries", "", func(c *Encodings) *int { return &c.SetMaxIntsetEntries }, false},
	{"zset-max-listpack-entries", "zset-max-ziplist-entries", func(c *Encodings) *int { return &c.ZSetMaxListpackEntries }, false},
	{"zset-max-listpack-value", "zset-max-ziplist-value", func(c *Encodings) *int { return &c.ZSetMaxListpackValue }, true},
}

func findConfigParam(name string) *configParam {
	for i := range configParams {
		if p := &configParams[i]; p.name == name || p.alias == name {
			return p
		}
	}
	return nil
}

// ConfigParams lists the parameters CONFIG GET and SET serve on the
// embedded store, aliases included, sorted.
func ConfigParams() []string {
	var out []string
	for _, p := range configParams {
		out = append(out, p.name)
		if p.alias != "" {
			out = append(out, p.alias)
		}
	}
	sort.Strings(out)
	return out
}

var configHelp = []string{
	"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
	"HELP",
	"    Prints this help.",
}

// CONFIG GET pattern [pattern ...] | SET name value [name value ...] | HELP.
func (e *Engine) cmdConfig(args [][]byte, dst []byte) []byte {
	sub := strings.ToLower(string(args[1]))
	switch sub {
	case "help":
		if len(args) != 2 {
			return appendArityErr(dst, "config|help")
		}
		dst = resp.AppendArrayHeader(dst, len(configHelp))
		for _, l := range configHelp {
			dst = resp.AppendSimpleString(dst, l)
		}
		return dst
	case "get":
		if len(args) < 3 {
			return appendArityErr(dst, "config|get")
		}
		var pairs []string
		seen := map[string]bool{}
		// A name without glob characters is looked up and answered as
		// typed, as Redis does; patterns match without case (the names are
		// lower case), answered in name order.
		for _, pat := range args[2:] {
			if strings.ContainsAny(string(pat), "*?[") {
				continue
			}
			name := strings.ToLower(string(pat))
			if p := findConfigParam(name); p != nil && !seen[name] {
				seen[name] = true
				pairs = append(pairs, string(pat), formatInt(int64(*p.field(&e.enc))))
			}
		}
		for _, name := range ConfigParams() {
			for _, pat := range args[2:] {
				if !seen[name] && strings.ContainsAny(string(pat), "*?[") && matchGlob([]byte(strings.ToLower(string(pat))), []byte(name)) {
					seen[name] = true
					pairs = append(pairs, name, formatInt(int64(*findConfigParam(name).field(&e.enc))))
					break
				}
			}
		}
		return appendStrings(dst, pairs)
	case "set":
		if len(args) < 4 {
			return appendArityErr(dst, "config|set")
		}
		if len(args)%2 == 1 {
			return appendErr(dst, errSyntax)
		}
		return e.configSet(args[2:], dst)
	case "resetstat", "rewrite":
		return appendErr(dst, "ERR dynonode: 'CONFIG "+strings.ToUpper(sub)+"' is not supported: the embedded store has no config file or statistics of its own (the node's are in /info and /metrics)")
	}
	return appendErr(dst, "ERR unknown subcommand '"+string(args[1][:min(len(args[1]), 128)])+"'. Try CONFIG HELP.")
}

// configSet applies name/value pairs all or none, checking them in
// Redis's order: every name first (unknown, repeated), then every value.
func (e *Engine) configSet(pairs [][]byte, dst []byte) []byte {
	failed := func(name []byte, why string) []byte {
		return appendErr(dst, "ERR CONFIG SET failed (possibly related to argument '"+string(name)+"') - "+why)
	}
	params := make([]*configParam, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		name := strings.ToLower(string(pairs[i]))
		p := findConfigParam(name)
		if p == nil {
			return appendErr(dst, "ERR dynonode: CONFIG SET '"+string(pairs[i])+"' is not supported: the embedded store serves only "+strings.Join(ConfigParams(), ", "))
		}
		for j := 0; j < i; j += 2 {
			if strings.EqualFold(string(pairs[j]), name) {
				return failed(pairs[i], "duplicate parameter")
			}
		}
		params = append(params, p)
	}
	next := e.enc
	for i, p := range params {
		v := pairs[2*i+1]
		var n uint64
		if p.memory {
			var ok bool
			if n, ok = memToUint(v); !ok {
				return failed(pairs[2*i], "argument must be a memory value")
			}
		} else {
			s, ok := resp.ParseInt(v)
			if !ok || !isLongString(v) {
				return failed(pairs[2*i], "argument couldn't be parsed into an integer")
			}
			n = uint64(s) // a negative one fails the range below
		}
		if n > 1<<63-1 {
			return failed(pairs[2*i], "argument must be between 0 and 9223372036854775807 inclusive")
		}
		*p.field(&next) = int(n)
	}
	e.enc = next
	return appendOK(dst)
}

// memToUint reads a size as Redis 7.0's memtoull: decimal digits (none
// reads as 0) and an optional unit of any case, b, k (1000), kb (1024),
// m, mb, g or gb; ok is false for anything else. Too many digits read as
// 2^64-1 and a unit that overflows wraps, as in Redis 7.0.
func memToUint(b []byte) (uint64, bool) {
	s := strings.ToLower(string(b))
	mul := uint64(1)
	for _, u := range []struct {
		suffix string
		mul    uint64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mul = s[:len(s)-len(u.suffix)], u.mul
			break
		}
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<64-1-uint64(c-'0'))/10 {
			n = 1<<64 - 1 // strtoull saturates (ERANGE, which memtoull ignores)
			continue
		}
		n = n*10 + uint64(c-'0')
	}
	return n * mul, true // wraps on overflow, as Redis's multiplication does
}
