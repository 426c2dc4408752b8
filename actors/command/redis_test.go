package command_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// notWriteInRedis lists the commands the router marks as writes although
// Redis does not flag them "write", with why.
var notWriteInRedis = map[string]string{
	"eval":    "a script may write: the router replicates it to every rack",
	"evalsha": "a script may write: the router replicates it to every rack",
}

// writeInRedis lists the commands Redis flags "write" that the router
// serves as reads, with why.
var writeInRedis = map[string]string{
	"sort":              "a write only with STORE: Spec.IsWrite looks at the arguments",
	"georadius":         "a write only with STORE or STOREDIST: Spec.IsWrite looks at the arguments",
	"georadiusbymember": "a write only with STORE or STOREDIST: Spec.IsWrite looks at the arguments",
}

// TestTableMatchesRedis compares the router's table with a real
// redis-server's COMMAND INFO, command by command, for every command the
// router serves: arity, the first/last/step key positions and whether it
// writes. The router decides from this table which requests it refuses,
// where it sends them and whether it replicates them; the embedded
// engine's arities are compared with the router's in actors/store
// (TestCommandTablesAgree).
func TestTableMatchesRedis(t *testing.T) {
	srv := testproc.Redis(t)
	c := testproc.DialRESP(t, srv.Addr)
	var names []string
	for _, n := range command.Names() {
		if command.Lookup([]byte(n)).Class != command.Unsupported {
			names = append(names, n)
		}
	}
	raw := c.Do(append([]string{"COMMAND", "INFO"}, names...)...)
	v, _, err := resp.ParseReply([]byte(raw))
	require.NoError(t, err)
	require.Equal(t, resp.Array, v.Type, raw)
	require.Len(t, v.Elems, len(names))
	for i, n := range names {
		info := v.Elems[i]
		if !assert.False(t, info.Null, "redis-server does not know %s", n) {
			continue
		}
		require.GreaterOrEqual(t, len(info.Elems), 6, n)
		s := command.Lookup([]byte(n))
		assert.Equal(t, info.Elems[1].Int, int64(s.Arity), "arity of %s", n)
		var flags []string
		for _, f := range info.Elems[2].Elems {
			flags = append(flags, string(f.Str))
		}
		redisWrite := slices.Contains(flags, "write")
		switch {
		case notWriteInRedis[n] != "":
			assert.True(t, s.Write && !redisWrite, "%s is listed in notWriteInRedis", n)
		case writeInRedis[n] != "":
			assert.True(t, !s.Write && redisWrite, "%s is listed in writeInRedis", n)
		default:
			assert.Equal(t, redisWrite, s.Write, "write flag of %s (redis flags %v)", n, flags)
		}
		first, last, step := info.Elems[3].Int, info.Elems[4].Int, info.Elems[5].Int
		assert.Equal(t, [3]int64{first, last, step}, [3]int64{int64(s.First), int64(s.Last), int64(s.Step)},
			"first, last, step key of %s", n)
	}
}

// TestACLCategoriesMatchRedis compares the ACL categories the table holds
// (aclcats.go, what actors/acl decides +@category rules from) with a real
// redis-server's COMMAND INFO, for every command of the table and every
// subcommand Redis lists: a category rule must cover exactly the commands
// it covers in Redis.
func TestACLCategoriesMatchRedis(t *testing.T) {
	srv := testproc.Redis(t)
	c := testproc.DialRESP(t, srv.Addr)
	names := command.Names()
	raw := c.Do(append([]string{"COMMAND", "INFO"}, names...)...)
	v, _, err := resp.ParseReply([]byte(raw))
	require.NoError(t, err)
	seen := map[string]bool{}
	var check func(name string, info resp.Value)
	check = func(name string, info resp.Value) {
		var want []string
		for _, e := range info.Elems[6].Elems {
			want = append(want, strings.TrimPrefix(string(e.Str), "@"))
		}
		slices.Sort(want)
		got, ok := command.ACLCategories(name)
		assert.True(t, ok, "%s has no categories in the table", name)
		assert.Equal(t, want, got, "ACL categories of %s", name)
		seen[name] = true
		if len(info.Elems) > 9 {
			for _, sub := range info.Elems[9].Elems {
				check(string(sub.Elems[0].Str), sub)
			}
		}
	}
	for i, n := range names {
		if !v.Elems[i].Null {
			check(n, v.Elems[i])
		}
	}
	for _, n := range command.ACLNames() {
		assert.True(t, seen[n], "%s is in the table's categories but not in redis-server's COMMAND INFO", n)
	}
}

// TestSubcommandAritiesMatchRedis checks the generated subcommand arities
// (subarity.go: what subscribed mode checks before naming a subcommand)
// with a real redis-server: every subcommand of every container it lists,
// and nothing else.
func TestSubcommandAritiesMatchRedis(t *testing.T) {
	srv := testproc.Redis(t)
	c := testproc.DialRESP(t, srv.Addr)
	v, _, err := resp.ParseReply([]byte(c.Do("COMMAND")))
	require.NoError(t, err)
	n := 0
	for _, info := range v.Elems {
		if len(info.Elems) <= 9 {
			continue
		}
		for _, sub := range info.Elems[9].Elems {
			name := string(sub.Elems[0].Str)
			got, ok := command.SubcommandArity(name)
			assert.True(t, ok, "%s has no arity in subarity.go", name)
			assert.Equal(t, sub.Elems[1].Int, int64(got), "arity of %s", name)
			n++
		}
	}
	_, unknown := command.SubcommandArity("client|nosuch")
	assert.False(t, unknown)
	assert.Equal(t, 126, n, "subcommands redis-server 7.0.15 lists")
}
