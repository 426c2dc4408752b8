package coord

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

func fields(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func joined(args [][]byte) string {
	var s []string
	for _, a := range args {
		s = append(s, string(a))
	}
	return strings.Join(s, " ")
}

// expiryCases: a command and what the coordinator sends for it at
// now = 1000 s ("" when it goes unchanged, Redis judging it).
var expiryCases = []struct{ in, out string }{
	{"set k v ex 10", "set k v PXAT 1010000"},
	{"set k v PX 1500", "set k v PXAT 1001500"},
	{"set k v nx get EX 10", "set k v nx get PXAT 1010000"},
	{"set k v ex 10 xx", "set k v PXAT 1010000 xx"},
	{"set k v", ""},
	{"set k v ex 0", ""},
	{"set k v ex -5", ""},
	{"set k v ex abc", ""},
	{"set k v ex 010", ""},
	{"set k v ex +10", ""},
	{"set k v ex 10 px 10", ""},
	{"set k v keepttl ex 10", ""},
	{"set k v ex 10 keepttl", ""},
	{"set k v exat 2000", ""},
	{"set k v pxat 2000000", ""},
	{"set k v ex", ""},
	{"set k v bogus ex 10", ""},
	{"set k v ex 99999999999999999", ""},
	{"setex k 10 v", "set k v PXAT 1010000"},
	{"psetex k 1500 v", "set k v PXAT 1001500"},
	{"setex k 0 v", ""},
	{"setex k -1 v", ""},
	{"psetex k x v", ""},
	{"expire k 10", "pexpireat k 1010000"},
	{"expire k -10", "pexpireat k 990000"},
	{"expire k 0", "pexpireat k 1000000"},
	{"expire k 10 nx", "pexpireat k 1010000 nx"},
	{"expire k 10 GT", "pexpireat k 1010000 GT"},
	{"expire k 10 nx xx", "pexpireat k 1010000 nx xx"},
	{"pexpire k 1500 lt", "pexpireat k 1001500 lt"},
	{"expire k abc", ""},
	{"expire k -0", ""},
	{"expireat k 2000", ""},
	{"pexpireat k 2000000", ""},
	{"getex k ex 10", "getex k PXAT 1010000"},
	{"getex k PX 1500", "getex k PXAT 1001500"},
	{"getex k", ""},
	{"getex k persist", ""},
	{"getex k ex 0", ""},
	{"getex k ex 10 px 10", ""},
	{"getex k exat 2000", ""},
	{"restore k 1500 P", "restore k 1001500 P ABSTTL"},
	{"restore k 1500 P replace", "restore k 1001500 P ABSTTL replace"},
	{"restore k 1500 P FREQ", "restore k 1001500 P ABSTTL FREQ"}, // still a syntax error, as Redis says
	{"restore k 0 P", ""},
	{"restore k 2000000 P absttl", ""},
	{"restore k -1 P", ""},
}

// TestAbsoluteExpiryTable pins the rewriting, and checks it against the
// router's table: each rewritten command is a write of the same key, with
// an arity the router accepts.
func TestAbsoluteExpiryTable(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, c := range expiryCases {
		in := fields(c.in)
		out, ok := absoluteExpiry(strings.ToLower(c.in[:strings.IndexByte(c.in, ' ')]), in, now)
		if c.out == "" {
			require.False(t, ok, "%s became %s", c.in, joined(out))
			continue
		}
		require.True(t, ok, c.in)
		require.Equal(t, c.out, joined(out), c.in)
		require.Equal(t, c.in, joined(in), "the client's arguments are not modified")
		spec, orig := command.Lookup(out[0]), command.Lookup(in[0])
		require.NotNil(t, spec)
		require.True(t, orig.IsWrite(in) && spec.IsWrite(out), "%s: both writes", c.in)
		require.True(t, spec.ArityOK(len(out)), "%s: arity", c.out)
		keys, okk := spec.KeyIndexes(out, nil)
		require.True(t, okk)
		require.Equal(t, []int{1}, keys, "%s: the same one key", c.out)
	}
	// Every command that has relative expiry is covered: the rewriter
	// knows no name the table lacks, and every table write whose name
	// says it sets relative expiry is rewritten.
	rewritten := map[string]bool{}
	for _, c := range expiryCases {
		if c.out != "" {
			rewritten[c.in[:strings.IndexByte(c.in, ' ')]] = true
		}
	}
	require.Equal(t, map[string]bool{"set": true, "setex": true, "psetex": true, "expire": true, "pexpire": true,
		"getex": true, "restore": true}, rewritten)
	for n := range rewritten {
		require.True(t, command.Lookup([]byte(n)).Write, n)
	}
}

// TestAbsoluteExpiryMatchesRedis runs each command and its rewriting on
// two keys of a real redis-server in the same state, and requires the
// same reply, value, type and remaining time to live (within 250 ms: the
// rewriting and the command run at different instants).
func TestAbsoluteExpiryMatchesRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	srv := testproc.Redis(t)
	c := testproc.DialRESP(t, srv.Addr)
	payload := func() string {
		c.Do("SET", "src", "dumped")
		raw := c.Do("DUMP", "src")
		n := strings.Index(raw, "\r\n")
		return raw[n+2 : len(raw)-2]
	}()
	preps := map[string]string{
		"":        "",
		"plain":   "set %k old",
		"ttl":     "set %k old ex 100",
		"list":    "rpush %k a",
		"longttl": "set %k old ex 100000",
	}
	for _, cmd := range expiryCases {
		for _, prep := range []string{"", "plain", "ttl", "list", "longttl"} {
			name := cmd.in + " / " + prep
			var replies, states [2]string
			var ttls [2]int64
			for i, k := range []string{"a", "b"} {
				c.Do("DEL", k)
				if p := preps[prep]; p != "" {
					c.Do(strings.Fields(strings.ReplaceAll(p, "%k", k))...)
				}
				args := fields(strings.Replace(cmd.in, " k ", " "+k+" ", 1))
				if i == 1 {
					if out, ok := absoluteExpiry(strings.ToLower(string(args[0])), args, time.Now()); ok {
						args = out
					}
				}
				var strs []string
				for _, a := range args {
					s := string(a)
					if s == "P" {
						s = payload
					}
					strs = append(strs, s)
				}
				replies[i] = c.Do(strs...)
				states[i] = c.Do("TYPE", k) + c.Do("DUMP", k)
				ttl, err := strconv.ParseInt(strings.TrimSpace(c.Do("PTTL", k)[1:]), 10, 64)
				require.NoError(t, err)
				ttls[i] = ttl
			}
			require.Equal(t, replies[0], replies[1], name)
			require.Equal(t, states[0], states[1], name)
			if ttls[0] < 0 || ttls[1] < 0 {
				require.Equal(t, ttls[0], ttls[1], name)
			} else {
				require.InDelta(t, ttls[0], ttls[1], 250, name)
			}
		}
	}
}
