package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseMistakes feeds one mistake per file and checks that the error
// names the line and the key (or the structural problem) a user must fix.
func TestParseMistakes(t *testing.T) {
	const head = "dyn_o_mite:\n  listen: 127.0.0.1:8102\n" // lines 1-2
	cases := []struct {
		name string
		yaml string
		want []string // substrings of the error, in any order
	}{
		{"unknown key", head + "  foo: 1\n", []string{"line 3", `directive "foo" is unknown`}},
		{"typo suggests", head + "  tokns: '1'\n", []string{"line 3", `"tokns"`, `did you mean "tokens"`}},
		{"duplicate key", head + "  rack: a\n  rack: b\n", []string{"line 4", `key "rack"`, "duplicate", "line 3"}},
		{"bad token", head + "  tokens: abc\n", []string{`line 3: key "tokens": value "abc": not an unsigned 32-bit integer`}},
		{"token too big", head + "  tokens: '4294967296'\n", []string{"line 3", `key "tokens"`, "4294967296"}},
		{"token list bad entry", head + "  tokens: '1,x'\n", []string{"line 3", `key "tokens"`, `token "x"`}},
		{"bool not exact", head + "  preconnect: yes\n", []string{"line 3", `key "preconnect"`, `value "yes"`, `"true" or "false"`}},
		{"negative number", head + "  timeout: -5\n", []string{"line 3", `key "timeout"`, `value "-5"`}},
		{"bad hash", head + "  hash: sha1\n", []string{"line 3", `key "hash"`, `value "sha1"`, "murmur"}},
		{"hash_tag length", head + "  hash_tag: '{'\n", []string{"line 3", `key "hash_tag"`, "two characters"}},
		{"bad consistency", head + "  read_consistency: DC_TWO\n", []string{"line 3", `key "read_consistency"`, "DC_TWO"}},
		{"bad port", "dyn_o_mite:\n  listen: 127.0.0.1:70000\n", []string{"line 2", `key "listen"`, "1..65535"}},
		{"ipv6 without brackets", "dyn_o_mite:\n  listen: ::1:8102\n", []string{"line 2", `key "listen"`, "[brackets]"}},
		{"missing listen", "dyn_o_mite:\n  rack: r\n", []string{"line 1", `key "listen"`, "required"}},
		{"two servers", head + "  servers:\n  - 127.0.0.1:6379:1\n  - 127.0.0.1:6380:1\n", []string{"line 5", `key "servers"`, "exactly one datastore"}},
		{"bad server line", head + "  servers:\n  - 127.0.0.1:6379\n", []string{"line 4", `key "servers"`, "weight"}},
		{"bad seed line", head + "  dyn_listen: 127.0.0.1:8101\n  tokens: '1'\n  dyn_seeds:\n  - 127.0.0.2:8101:rack1:1\n",
			[]string{"line 6", `key "dyn_seeds"`, "host:port:rack:dc:tokens"}},
		{"data_store out of range", head + "  data_store: 3\n", []string{"line 3", `key "data_store"`, `value "3"`}},
		{"redis without servers", head + "  data_store: 0\n", []string{"line 3", `key "data_store"`, "needs a servers entry"}},
		{"mbuf not multiple of 16", head + "  mbuf_size: 1000\n", []string{"line 3", `key "mbuf_size"`, "multiple of 16"}},
		{"max_msgs too small", head + "  max_msgs: 10\n", []string{"line 3", `key "max_msgs"`, "100000"}},
		{"pool size too big", head + "  datastore_connections: 256\n", []string{"line 3", `key "datastore_connections"`, "1..255"}},
		{"flow list", head + "  dyn_seeds: [a]\n", []string{"line 3", `key "dyn_seeds"`, "flow"}},
		{"flow mapping root", "dyn_o_mite: {listen: 127.0.0.1:1}\n", []string{"line 1", "flow"}},
		{"anchor", head + "  rack: &r r1\n", []string{"line 3", `key "rack"`, "anchor"}},
		{"alias", head + "  rack: &r r1\n  datacenter: *r\n", []string{"line 3", "anchor"}},
		{"tag", head + "  rack: !!str r1\n", []string{"line 3", `key "rack"`, "tag"}},
		{"document marker", "---\n" + head, []string{"line 1", "---"}},
		{"two documents", head + "...\n", []string{"line 3", "..."}},
		{"directive", "%YAML 1.1\n" + head, []string{"line 1", "directives"}},
		{"two pools", head + "other:\n  listen: 127.0.0.1:1\n", []string{"line 3", `"other"`, "exactly one pool"}},
		{"nested map", head + "  rack:\n    name: r\n", []string{"line 4", `key "rack"`, "nested too deep"}},
		{"list for scalar key", head + "  rack:\n  - r\n", []string{"line 4", `key "rack"`, "not a list"}},
		{"empty value", head + "  rack:\n", []string{"line 3", `key "rack"`, "empty"}},
		{"pool not a map", "dyn_o_mite: 1\n", []string{"line 1", "mapping of directives"}},
		{"top level list", "- a\n", []string{"line 1", "pool name"}},
		{"rack with colon", head + "  rack: a:b\n", []string{"line 3", `key "rack"`}},
		{"seeds without dyn_listen", head + "  tokens: '1'\n  dyn_seeds:\n  - 127.0.0.2:8101:r:d:1\n", []string{"line 4", `key "dyn_seeds"`, "dyn_listen"}},
		{"seeds without tokens", head + "  dyn_listen: 127.0.0.1:8101\n  dyn_seeds:\n  - 127.0.0.2:8101:r:d:1\n", []string{"line 4", `key "dyn_seeds"`, "tokens"}},
		{"yaml syntax", head + "  rack: [\n", []string{"line"}},
		{"bad seed provider", head + "  dyn_seed_provider: zk\n", []string{"line 3", `key "dyn_seed_provider"`, "florida_provider"}},
		{"stats unix path", head + "  stats_listen: /tmp/s\n", []string{"line 3", `key "stats_listen"`, "unix"}},
	}
	require.GreaterOrEqual(t, len(cases), 15)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml))
			require.Error(t, err, "config:\n%s", tc.yaml)
			assert.Nil(t, cfg)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "conf: "), err.Error())
		})
	}
}

func TestParseCollectsEveryError(t *testing.T) {
	_, err := Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:1\n  foo: 1\n  tokens: x\n  hash: nope\n"))
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 3, err.Error())
	var ce *Error
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, 3, ce.Line)
}

func TestDuplicateTokenInRack(t *testing.T) {
	base := "dyn_o_mite:\n  listen: 127.0.0.1:8102\n  dyn_listen: 127.0.0.1:8101\n  datacenter: dc1\n  rack: r1\n  tokens: '5,9'\n  dyn_seeds:\n"
	_, err := Parse([]byte(base + "  - 127.0.0.2:8101:r1:dc1:9\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "token 9")
	assert.Contains(t, err.Error(), "this node (tokens) (line 6)")
	assert.Contains(t, err.Error(), "seed 127.0.0.2:8101 (line 8)")

	_, err = Parse([]byte(base + "  - 127.0.0.2:8101:r2:dc1:7\n  - 127.0.0.3:8101:r2:dc1:7\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "seed 127.0.0.2:8101 (line 8) and seed 127.0.0.3:8101 (line 9)")

	cfg, err := Parse([]byte(base + "  - 127.0.0.2:8101:r2:dc1:9\n  - 127.0.0.3:8101:r1:dc2:9\n"))
	require.NoError(t, err, "same token in another rack or DC is how replicas work")
	assert.Len(t, cfg.Seeds, 2)

	_, err = Parse([]byte(base + "  - 127.0.0.2:8101:r2:dc1:1\n  - 127.0.0.2:8101:r3:dc1:2\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listed twice (first on line 8)")
}

func TestSelfInSeeds(t *testing.T) {
	base := "dyn_o_mite:\n  listen: 127.0.0.1:8102\n  dyn_listen: 127.0.0.1:8101\n  datacenter: dc1\n  rack: r1\n  tokens: '5'\n  dyn_seeds:\n"
	cfg, err := Parse([]byte(base + "  - 127.0.0.1:8101:r1:dc1:5\n  - 127.0.0.2:8101:r2:dc1:5\n"))
	require.NoError(t, err)
	require.Len(t, cfg.Seeds, 1, "this node's own entry is dropped")
	assert.Equal(t, "127.0.0.2:8101:r2:dc1:5", cfg.Seeds[0].String())
	require.Len(t, cfg.Warnings, 1)
	assert.Contains(t, cfg.Warnings[0], "line 8")
	assert.Contains(t, cfg.Warnings[0], "is this node")

	_, err = Parse([]byte(base + "  - 127.0.0.1:8101:r2:dc1:5\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "this node's dyn_listen address but a different")
}
