package doccheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const root = "../.."

// TestDocs checks every Markdown file and doc.go of the repository.
func TestDocs(t *testing.T) {
	r, err := Load(root)
	require.NoError(t, err)
	docs := r.Docs()
	require.Contains(t, docs, "README.md")
	require.Contains(t, docs, "docs/config.md")
	require.Contains(t, docs, "transport/doc.go")
	require.Contains(t, docs, "transport/cell.go")
	for _, d := range docs {
		fs, err := r.Check(d)
		require.NoError(t, err)
		for _, f := range fs {
			t.Error(f)
		}
	}
}

// TestConfigDefaults compares docs/config.md's key table with actors/config.
func TestConfigDefaults(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(root, "docs", "config.md"))
	require.NoError(t, err)
	for _, f := range CheckConfigDefaults("docs/config.md", md) {
		t.Error(f)
	}
}

// TestCheckerCatchesPlanted runs the checks on planted documents: each
// wrong citation is found, and the right ones beside them are not.
func TestCheckerCatchesPlanted(t *testing.T) {
	r, err := Load(root)
	require.NoError(t, err)
	md := strings.Join([]string{
		"Right: `sim/swarm.go`, `docs/faults.md`, `scenarios/az-loss.yaml`, `serve.go`, [faults](faults.md), `TestSwarmDeterminism`.",
		"Wrong path: `sim/swarms.go`.",
		"Wrong file name: `severe.go`.",
		"Wrong link: [gone](nowhere.md).",
		"Wrong test: `TestSwarmDeterminisn`, and unquoted TestNoSuchThing.",
		"Right: `stats_listen`, default `127.0.0.1:22222`; `BenchmarkCoord*`. Wrong: `timeout` (default `500`), `BenchmarkCord*`.",
		"```sh",
		"go test ./sim -run TestSeededRun   # right",
		"go test ./sim -run 'TestSeededRum$'   # wrong test",
		"bin/dynonode -c conf/no_such.yml   # wrong path",
		"```",
	}, "\n")
	got := r.CheckMarkdown("docs/planted.md", []byte(md))
	var msgs []string
	for _, f := range got {
		msgs = append(msgs, f.String())
	}
	want := []string{
		"docs/planted.md:2: path sim/swarms.go does not exist",
		"docs/planted.md:3: file severe.go: no file of that name in the repository",
		"docs/planted.md:4: link target nowhere.md (docs/nowhere.md) does not exist",
		"docs/planted.md:5: test TestSwarmDeterminisn is not declared by any _test.go file",
		"docs/planted.md:5: test TestNoSuchThing is not declared by any _test.go file",
		"docs/planted.md:6: test BenchmarkCord* is not declared by any _test.go file",
		"docs/planted.md:6: key timeout: documented default \"500\", but actors/config applies \"5000\"",
		"docs/planted.md:9: test TestSeededRum is not declared by any _test.go file",
		"docs/planted.md:10: path conf/no_such.yml does not exist",
	}
	require.Equal(t, want, msgs)

	goDoc := "// Package x lives beside actors/ring and transport/cell.go; see\n" +
		"// actors/rings and transport/cells.go, checked by TestNoSuchTest.\n" +
		"// More in ../shared/LIBRARIES.md and ../actors/ring/hash.go.\npackage x\n"
	msgs = nil
	for _, f := range r.CheckGoDoc("x/doc.go", []byte(goDoc)) {
		msgs = append(msgs, f.String())
	}
	require.Equal(t, []string{
		"x/doc.go:2: test TestNoSuchTest is not declared by any _test.go file",
		"x/doc.go:2: path actors/rings does not exist",
		"x/doc.go:2: path transport/cells.go does not exist",
		"x/doc.go:3: path ../shared/LIBRARIES.md does not exist in the repository",
	}, msgs)
}

// TestConfigCheckCatchesPlanted plants wrong defaults and a missing and an
// unknown key in a copy of docs/config.md.
func TestConfigCheckCatchesPlanted(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "config.md"))
	require.NoError(t, err)
	md := string(b)
	require.Empty(t, CheckConfigDefaults("docs/config.md", b))
	plant := func(old, new string) {
		t.Helper()
		require.Contains(t, md, old)
		md = strings.Replace(md, old, new, 1)
	}
	plant("| `stats_listen` | host:port | `127.0.0.1:22222` |", "| `stats_listen` | host:port | `0.0.0.0:22222` |")
	plant("| `timeout` | ms | 5000 |", "| `timeout` | ms | 500 |")
	plant("| `preconnect` | bool | true |", "| `preconnect` | bool | false |")
	plant("`conf/recon_key.pem`, `conf/recon_iv.pem`", "`conf/recon_iv.pem`, `conf/recon_key.pem`")
	plant("`-M` or 200000", "`-M` or 100000")
	plant("0 with `servers`, 2 without", "1 with `servers`, 2 without")
	plant("| `hash_tag` | exactly 2 characters | none |", "| `hash_tag` | exactly 2 characters | `{}` |")
	plant("| `backlog` | int | 512 | |\n", "| `backlogs` | int | 512 | |\n")
	var msgs []string
	for _, f := range CheckConfigDefaults("docs/config.md", []byte(md)) {
		_, msg, _ := strings.Cut(f.String(), ": ")
		msgs = append(msgs, msg)
	}
	require.ElementsMatch(t, []string{
		`key stats_listen: documented default "0.0.0.0:22222", but actors/config applies "127.0.0.1:22222"`,
		`key timeout: documented default "500", but actors/config applies "5000"`,
		`key preconnect: documented default "false", but actors/config applies "true"`,
		`key recon_key_file: documented default "conf/recon_iv.pem", but actors/config applies "conf/recon_key.pem"`,
		`key recon_iv_file: documented default "conf/recon_key.pem", but actors/config applies "conf/recon_iv.pem"`,
		`key max_msgs: documented default "100000", but actors/config applies "200000"`,
		`key data_store with servers: documented default 1, but actors/config applies "0"`,
		`key hash_tag: documented default "{}", but actors/config leaves it unset`,
		`key backlogs is not a key actors/config knows`,
		`key backlogs: documented default "512", but actors/config leaves it unset`,
		`key backlog (actors/config) is missing from the table`,
	}, msgs)
}

// TestReadmeLayout checks that README.md's Layout block names every Go
// package under actors/, netio/, internal/ and cmd/ (by its directory name).
func TestReadmeLayout(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(b), "## Layout\n")
	require.True(t, ok, "README.md has no Layout section")
	_, block, ok := strings.Cut(after, "```\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	for _, top := range []string{"actors", "netio", "internal", "cmd"} {
		dirs, err := os.ReadDir(filepath.Join(root, top))
		require.NoError(t, err)
		for _, d := range dirs {
			if !d.IsDir() || d.Name() == "testdata" {
				continue
			}
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(d.Name()) + `\b`).MatchString(block) {
				t.Errorf("README.md's Layout does not name %s/%s", top, d.Name())
			}
		}
	}
}
