package acl

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dynonode/dynonode/actors/command"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func args(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

// TestRulesInOrder: rules apply in order over categories, commands and
// subcommands; key patterns bound the keys of every command; a user that
// may run everything is Unrestricted (the coordinator skips its checks).
func TestRulesInOrder(t *testing.T) {
	us, err := Parse([]byte("user a on nopass ~cache:* +@read -get +acl|whoami\n\nuser b on nopass ~* +@all -@dangerous\n# comment\n"))
	require.NoError(t, err)
	a := us.Find("a")
	denied := func(u *User, cmd string) string {
		as := args(cmd)
		return u.Denied(command.Lookup(as[0]), as)
	}
	require.Empty(t, denied(a, "mget cache:1 cache:2"))
	require.Equal(t, "NOPERM this user has no permissions to run the 'get' command", denied(a, "get cache:1"))
	require.Equal(t, "NOPERM this user has no permissions to access one of the keys used as arguments", denied(a, "mget cache:1 other"))
	require.Empty(t, denied(a, "acl whoami"))
	require.Equal(t, "NOPERM this user has no permissions to run the 'acl|list' command", denied(a, "acl list"))
	require.Equal(t, "NOPERM this user has no permissions to run the 'set' command", denied(a, "set cache:1 v"))
	b := us.Find("b")
	require.Equal(t, "NOPERM this user has no permissions to run the 'keys' command", denied(b, "keys *"))
	require.False(t, b.Unrestricted())
	require.True(t, us.Find(DefaultUser).Unrestricted(), "an absent default user is Redis's open one")
	require.NotNil(t, us.Initial())
}

// TestParseErrorsKeepPasswords: errors name the line and the rule but
// never a password.
func TestParseErrorsKeepPasswords(t *testing.T) {
	_, err := Parse([]byte("user a on >s3cret <0ther-s3cret ~* +nosuchcommand\nuser b on #abc\nuser a on\nfoo bar\nuser c (~x +get)\n"))
	require.Error(t, err)
	for _, want := range []string{"line 1", "unknown command", "password to remove", "line 2", "64 hexadecimal", "line 3", "defined twice", "line 4", "line 5", "selectors"} {
		require.Contains(t, err.Error(), want)
	}
	require.NotContains(t, err.Error(), "s3cret")
}

// TestAuthenticate: passwords (plain or hashed), users that are off,
// nopass, and the initial user of a connection.
func TestAuthenticate(t *testing.T) {
	us, err := Parse([]byte("user default on >pw ~* +@all\nuser x off >xpw ~* +@all\n" +
		"user h on #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 ~* +@all\n"))
	require.NoError(t, err)
	require.Nil(t, us.Initial(), "default has a password: connections must authenticate")
	require.NotNil(t, us.Authenticate([]byte("default"), []byte("pw")))
	require.Nil(t, us.Authenticate([]byte("default"), []byte("nope")))
	require.Nil(t, us.Authenticate([]byte("x"), []byte("xpw")), "off")
	require.NotNil(t, us.Authenticate([]byte("h"), []byte("password")), "SHA-256 of \"password\"")
	require.Nil(t, us.Authenticate([]byte("nobody"), []byte("pw")))
	require.False(t, us.DefaultNoPass())
	require.Equal(t, []string{"default", "h", "x"}, us.Names())
	require.True(t, Open().DefaultNoPass())
	require.Nil(t, FromRequirePass("pw").Initial())
}

// TestMatch: Redis's glob rules.
func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"cache:*", "cache:1", true}, {"cache:*", "cach", false}, {"a?c", "abc", true},
		{"a?c", "ac", false}, {"[abc]x", "bx", true}, {"[^abc]x", "bx", false}, {"[a-c]x", "cx", true},
		{"[c-a]x", "bx", true}, {`\*`, "*", true}, {`\*`, "a", false}, {"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false}, {"[\\]]", "]", true}, {"**x", "abx", true},
	} {
		require.Equal(t, tc.ok, Match([]byte(tc.p), []byte(tc.s)), "%q ~ %q", tc.p, tc.s)
	}
}

// refMatch is the plain recursive reading of Redis's stringmatchlen (star
// backtracking at every position): exponential on hostile patterns, the
// reference Match must agree with on small inputs.
func refMatch(p, s []byte) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := 0; i <= len(s); i++ {
				if refMatch(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			var ok bool
			if p, ok = matchSet(p[1:], s[0]); !ok {
				return false
			}
			s = s[1:]
			continue
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
	}
	return len(s) == 0
}

// TestMatchAgreesWithTheReference: Match, which backtracks to the last
// star only, answers as the recursive reading on every small pattern and
// string over a few bytes.
func TestMatchAgreesWithTheReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := rapid.SliceOfN(rapid.SampledFrom([]byte("ab*?[]^-\\")), 0, 10).Draw(t, "pattern")
		s := rapid.SliceOfN(rapid.SampledFrom([]byte("ab-]\\")), 0, 10).Draw(t, "string")
		if got, want := Match(p, s), refMatch(p, s); got != want {
			t.Fatalf("Match(%q, %q) = %v, the reference %v", p, s, got, want)
		}
	})
}

// BenchmarkMatchHostile: a pattern of stars against a long key that almost
// matches (the recursive reading takes time to the power of the stars).
func BenchmarkMatchHostile(b *testing.B) {
	p := []byte("x*:*:*:*:meta")
	s := append([]byte("x"), bytes.Repeat([]byte(":"), 8000)...)
	for b.Loop() {
		if Match(p, s) {
			b.Fatal("matched")
		}
	}
}

// TestRestrictedUsersRunNoScripts: a script runs with the node's own
// datastore rights, so a user that may not run everything on every key may
// not run one (Redis would check each redis.call against it); SORT's GET,
// and BY with a pattern, read keys the command does not name: refused to
// users without every key, with Redis's text; the destination of SORT and
// GEORADIUS is the last STORE, as Redis reads it.
func TestRestrictedUsersRunNoScripts(t *testing.T) {
	us, err := Parse([]byte("user e on nopass ~cache:* +@all\nuser f on nopass ~* +@all -flushall\n"))
	require.NoError(t, err)
	denied := func(u *User, cmd string) string {
		as := args(cmd)
		return u.Denied(command.Lookup(as[0]), as)
	}
	e, f := us.Find("e"), us.Find("f")
	require.Contains(t, denied(e, "eval x 0"), "NOPERM dynonode: scripts run with the node's datastore rights")
	require.Contains(t, denied(f, "evalsha abc 1 cache:1"), "NOPERM dynonode: scripts")
	require.Empty(t, us.Find(DefaultUser).Denied(command.Lookup([]byte("eval")), args("eval x 0")), "an unrestricted user may")
	require.Equal(t, "ERR GET option of SORT denied due to insufficient ACL permissions.", denied(e, "sort cache:l get #"))
	require.Equal(t, "ERR BY option of SORT denied due to insufficient ACL permissions.", denied(e, "sort cache:l by w_*"))
	require.Empty(t, denied(e, "sort cache:l by nosort limit 0 1"))
	require.Empty(t, denied(f, "sort cache:l get #"), "every key: allowed")
	require.Contains(t, denied(e, "georadius cache:g 0 0 1 km store cache:x storedist secret"), "access one of the keys")
	require.Contains(t, denied(e, "sort cache:l store cache:d store secret"), "access one of the keys")
	require.Empty(t, denied(e, "sort cache:l by store store cache:d"), "BY's argument is no option")
	_, err = Parse([]byte("user g on nopass allkeys ~x +@all\n"))
	require.ErrorContains(t, err, "adding a pattern after the * pattern")
}
