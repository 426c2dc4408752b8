package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// roundTrip checks that Format renders cfg into a file that parses back to
// an equal Config.
func roundTrip(t require.TestingT, cfg *Config) {
	out := Format(cfg)
	again, err := Parse(out)
	require.NoError(t, err, "Format output does not parse:\n%s", out)
	want := *cfg
	want.Warnings = nil
	again.Warnings = nil
	require.Equal(t, &want, again, "Format output:\n%s", out)
}

// TestConfExamples parses every example in conf/ and round-trips it.
func TestConfExamples(t *testing.T) {
	var files []string
	err := filepath.WalkDir("../../conf", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yml") {
			files = append(files, path)
		}
		return err
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 12)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			cfg, err := Parse(data)
			require.NoError(t, err)
			require.Empty(t, cfg.Warnings, "examples should be warning-free")
			roundTrip(t, cfg)
		})
	}
}

// TestRoundTripProperty builds random valid files, parses them and checks
// Format/Parse gives back the same Config.
func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.StringMatching(`[a-z_][a-z0-9_]{0,8}`).Draw(t, "pool")
		hostPort := func(label string) string {
			host := rapid.SampledFrom([]string{"127.0.0.1", "localhost", "[::1]", "node-1.dc", "null", "0.0.0.0"}).Draw(t, label+"host")
			return fmt.Sprintf("%s:%d", host, rapid.IntRange(1, 65535).Draw(t, label+"port"))
		}
		word := func(label string) string {
			return rapid.StringMatching(`[A-Za-z0-9_.\-#'"!{}]{1,8}`).Draw(t, label)
		}
		q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
		var b strings.Builder
		fmt.Fprintf(&b, "%s:\n  listen: %s\n", q(name), q(hostPort("listen")))
		b.WriteString("  dyn_listen: " + q(hostPort("dyn")) + "\n")
		rack, dc := word("rack"), word("dc")
		fmt.Fprintf(&b, "  rack: %s\n  datacenter: %s\n", q(rack), q(dc))
		fmt.Fprintf(&b, "  tokens: '%d'\n", rapid.Uint32().Draw(t, "token"))
		if rapid.Bool().Draw(t, "servers") {
			fmt.Fprintf(&b, "  data_store: %d\n  servers:\n  - %s\n", rapid.IntRange(0, 1).Draw(t, "ds"), q(hostPort("srv")+":1"))
		}
		if n := rapid.IntRange(0, 3).Draw(t, "seeds"); n > 0 {
			b.WriteString("  dyn_seeds:\n")
			for i := range n {
				// distinct ports and racks keep addresses and tokens unique
				b.WriteString("  - " + q(fmt.Sprintf("10.0.0.%d:%d:r%d:%s:%d", i+1, 9000+i, i, dc, rapid.Uint32().Draw(t, "seedtoken"))) + "\n")
			}
		}
		fmt.Fprintf(&b, "  hash: %s\n", rapid.SampledFrom(hashNames).Draw(t, "hash"))
		if rapid.Bool().Draw(t, "hashtag") {
			fmt.Fprintf(&b, "  hash_tag: %s\n", q(rapid.StringMatching(`[{}:#'\[\]a-z]{2}`).Draw(t, "tag")))
		}
		fmt.Fprintf(&b, "  timeout: %d\n", rapid.IntRange(0, 100000).Draw(t, "timeout"))
		fmt.Fprintf(&b, "  versions: %v\n", rapid.Bool().Draw(t, "versions"))
		fmt.Fprintf(&b, "  tombstone_ttl: %d\n", rapid.IntRange(0, 1_000_000_000).Draw(t, "tombstone_ttl"))
		fmt.Fprintf(&b, "  read_consistency: %s\n", rapid.SampledFrom(consistencyNames[:]).Draw(t, "rc"))
		fmt.Fprintf(&b, "  env: %s\n", q(word("env")))
		fmt.Fprintf(&b, "  pem_key_file: %s\n", q(rapid.StringMatching(`[ -~]{1,12}`).Draw(t, "pem")))
		fmt.Fprintf(&b, "  mbuf_size: %d\n", 16*rapid.IntRange(32, 32000).Draw(t, "mbuf"))
		cfg, err := Parse([]byte(b.String()))
		if err != nil {
			t.Fatalf("generated config does not parse: %v\n%s", err, b.String())
		}
		roundTrip(t, cfg)
	})
}
