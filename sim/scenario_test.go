package sim

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var scenarioFlag = flag.String("scenario", "", "replay one scenario file (default: every scenarios/*.yaml)")

// TestScenarios replays outage scenarios and checks what each says must
// hold: `go test ./sim -run TestScenarios -scenario=scenarios/NAME.yaml -v`.
func TestScenarios(t *testing.T) {
	files := []string{*scenarioFlag}
	if *scenarioFlag == "" {
		var err error
		files, err = filepath.Glob("../scenarios/*.yaml")
		if err != nil || len(files) == 0 {
			t.Fatalf("no scenarios found: %v", err)
		}
	} else if !filepath.IsAbs(files[0]) && !strings.HasPrefix(files[0], "..") {
		files[0] = filepath.Join("..", files[0]) // paths are given from the repository root
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			s, err := LoadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			run, failures := s.Run()
			t.Logf("%s: %s\n%s", s.Name, s.Description, strings.Join(s.Claims(run), "\n"))
			for _, msg := range failures {
				t.Errorf("%s: %s", s.Name, msg)
			}
			if len(failures) > 0 {
				t.Logf("replay: go test ./sim -run TestScenarios -scenario=%s -v", strings.TrimPrefix(f, "../"))
			}
		})
	}
}

func TestScenarioValidation(t *testing.T) {
	for _, bad := range []struct{ yaml, err string }{
		{"topology: {racks: []}", "topology.racks"},
		{"topology: {racks: [3]}\nfaults: [{kind: meteor, at: 1s}]", `"meteor" is not one of`},
		{"topology: {racks: [3]}\nfaults: [{kind: pause, at: soon}]", "faults[0].at"},
		{"topology: {racks: [3]}\nworkload: {levels: [DC_MAYBE]}", "workload.levels"},
		{"topology: {racks: [3]}\nsurprise: 1", "field surprise not found"},
		{"topology: {racks: [3], config: {no_such_key: 1}}", "no_such_key"},
		{"topology: {racks: [3], config: {timeout: soon}}", "timeout"},
		{"topology: {racks: [3], node_config: {dc9-r1-n1: {timeout: 100}}}", `"dc9-r1-n1", which is not a node`},
		{"topology: {racks: [3]}\nworkload: {kind: queues}", "workload.kind"},
		{"topology: {racks: [3]}\nexpect: {marks: [generation]}", "expect.marks"},
		{"topology: {racks: [3]}\nworkload: {kind: registers}\nexpect: {converge_within: later}", "expect.converge_within"},
	} {
		path := filepath.Join(t.TempDir(), "s.yaml")
		writeFile(t, path, bad.yaml)
		_, err := LoadScenario(path)
		if err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("%q: error %v, want it to mention %q", bad.yaml, err, bad.err)
		}
	}
}

// TestScenarioStatesNodeConfig: a scenario's config keys reach every
// node's assembly through the daemon's own parser, node_config over them.
func TestScenarioStatesNodeConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	writeFile(t, path, `topology:
  racks: [3]
  config: {hash: fnv1a_64, hash_tag: "{}", read_consistency: DC_QUORUM, enable_gossip: true}
  node_config: {dc1-r2-n1: {timeout: 900}}
`)
	s, err := LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := s.spec()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCluster(spec.cluster())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range c.NodeIDs() {
		cfg := c.Assembly(id).Config()
		if cfg.Hash != "fnv1a_64" || cfg.HashTag != "{}" || cfg.ReadConsistency.String() != "DC_QUORUM" || !cfg.EnableGossip {
			t.Errorf("%s: hash %q, hash_tag %q, read %s, enable_gossip %v: the scenario's config did not reach it",
				id, cfg.Hash, cfg.HashTag, cfg.ReadConsistency, cfg.EnableGossip)
		}
		want := 500 * time.Millisecond
		if id == "dc1-r2-n1" {
			want = 900 * time.Millisecond
		}
		if cfg.Timeout != want {
			t.Errorf("%s: timeout %s, want %s", id, cfg.Timeout, want)
		}
		if got := c.Assembly(id).Ring().Hash().String(); got != "fnv1a_64" {
			t.Errorf("%s: ring hashes with %s, want fnv1a_64", id, got)
		}
	}
}

// TestScenarioConvergeWithinCatchesNoAntiEntropy: cold-restart.yaml's
// converge_within claim fails when its nodes run without anti-entropy
// (the planted bug): the emptied replica stays behind.
func TestScenarioConvergeWithinCatchesNoAntiEntropy(t *testing.T) {
	s, err := LoadScenario("../scenarios/cold-restart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.Topology.Config = map[string]any{"anti_entropy": false}
	_, failures := s.Run()
	joined := strings.Join(failures, "\n")
	if !strings.Contains(joined, "converged:") && !strings.Contains(joined, "survived:") {
		t.Fatalf("without anti-entropy the convergence claim still held: %v", failures)
	}
	t.Logf("caught: %.300s", joined)
}
