package sim

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/check"
)

func checkViolation(c string) check.Violation { return check.Violation{Checker: c} }

var summaryFlag = flag.String("sim.summary", "", "write a campaign summary of TestSwarm's seeds to this file (make sim)")

// campaign gathers TestSwarm's seeds for the summary.
type campaign struct {
	mu       sync.Mutex
	start    time.Time
	seeds    int
	passed   int
	virtual  time.Duration
	events   uint64
	faults   map[string]int      // by kind
	checkers map[string][]string // failing checker -> replay commands
	failures []string            // seeds that failed without a checker (an error)
}

func newCampaign() *campaign {
	return &campaign{start: time.Now(), faults: map[string]int{}, checkers: map[string][]string{}}
}

// add records one seed's run.
func (c *campaign) add(run SwarmRun) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seeds++
	c.virtual += run.Virtual
	c.events += run.Events
	for _, f := range run.Faults {
		c.faults[f.Kind]++
	}
	replay := fmt.Sprintf("go test ./sim -run 'TestSwarm$' -seed=%d -sim.seeds=1 -v", run.Spec.Seed)
	if !failed(run) {
		c.passed++
		return
	}
	if run.Err != nil {
		c.failures = append(c.failures, fmt.Sprintf("seed=%d: %v: %s", run.Spec.Seed, run.Err, replay))
	}
	seen := map[string]bool{}
	for _, v := range run.Result.Violations {
		if !seen[v.Checker] {
			seen[v.Checker] = true
			c.checkers[v.Checker] = append(c.checkers[v.Checker], replay)
		}
	}
}

// write renders the summary as Markdown.
func (c *campaign) write(path string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	wall := time.Since(c.start)
	fmt.Fprintf(&b, "# Simulator campaign\n\nseeds run: %d, passed: %d, failed: %d\n", c.seeds, c.passed, c.seeds-c.passed)
	fmt.Fprintf(&b, "virtual time covered: %s (%d events), wall time %s", c.virtual.Round(time.Second), c.events, wall.Round(time.Second))
	if wall > 0 {
		fmt.Fprintf(&b, ", %.0fx real time over the campaign", float64(c.virtual)/float64(wall))
	}
	b.WriteString("\n\n## Faults injected, by kind\n\n")
	for _, k := range slices.Sorted(maps.Keys(c.faults)) {
		fmt.Fprintf(&b, "- %s: %d\n", k, c.faults[k])
	}
	b.WriteString("\n## Failures by checker\n\n")
	if len(c.checkers) == 0 && len(c.failures) == 0 {
		b.WriteString("none\n")
	}
	for _, k := range slices.Sorted(maps.Keys(c.checkers)) {
		fmt.Fprintf(&b, "- %s (%d seeds):\n", k, len(c.checkers[k]))
		for _, r := range c.checkers[k] {
			fmt.Fprintf(&b, "  - `%s`\n", r)
		}
	}
	for _, f := range c.failures {
		fmt.Fprintf(&b, "- run error: %s\n", f)
	}
	got, names := MarksReached()
	b.WriteString("\n## Coverage marks reached\n\n")
	for _, n := range names {
		fmt.Fprintf(&b, "- %s: %d\n", n, got[n])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// TestCampaignSummary: the summary counts seeds, faults by kind, failures
// by checker with their replay commands.
func TestCampaignSummary(t *testing.T) {
	c := newCampaign()
	ok := SwarmRun{Spec: SwarmSpec{Seed: 1}, Faults: []Fault{{Kind: "crash"}, {Kind: "partition"}}, Virtual: time.Minute, Events: 10}
	ok.Result.Valid = true
	bad := SwarmRun{Spec: SwarmSpec{Seed: 2}, Faults: []Fault{{Kind: "crash"}}, Virtual: time.Minute}
	bad.Result.Violations = append(bad.Result.Violations, checkViolation("settled-reads-complete"), checkViolation("settled-reads-complete"))
	c.add(ok)
	c.add(bad)
	path := t.TempDir() + "/summary.md"
	if err := c.write(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"seeds run: 2, passed: 1, failed: 1", "virtual time covered: 2m0s", "- crash: 2\n", "- partition: 1\n",
		"- settled-reads-complete (1 seeds):\n  - `go test ./sim -run 'TestSwarm$' -seed=2 -sim.seeds=1 -v`"} {
		if !strings.Contains(string(data), want) {
			t.Fatalf("summary lacks %q:\n%s", want, data)
		}
	}
}
