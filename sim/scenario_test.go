package sim

import (
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
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
			var rates []string
			for _, l := range []string{"DC_ONE", "DC_QUORUM", "DC_SAFE_QUORUM", "DC_EACH_SAFE_QUORUM"} {
				if r, n := run.OKRate(l); n > 0 {
					rates = append(rates, fmt.Sprintf("%s %.2f of %d", l, r, n))
				}
			}
			sort.Strings(rates)
			t.Logf("%s: %s; fault-phase ok rates: %s; %s", s.Name, s.Description, strings.Join(rates, ", "), run.Result)
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
	} {
		path := filepath.Join(t.TempDir(), "s.yaml")
		writeFile(t, path, bad.yaml)
		_, err := LoadScenario(path)
		if err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("%q: error %v, want it to mention %q", bad.yaml, err, bad.err)
		}
	}
}
