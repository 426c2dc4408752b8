package sim

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors/config"
	"gopkg.in/yaml.v3"
)

// Scenario is an outage replay: a topology, a workload, a timeline of
// faults at virtual times and what must hold. See scenarios/README.md for
// the format.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Seed        int64  `yaml:"seed"`
	Topology    struct {
		Racks   []int `yaml:"racks"`
		PerRack int   `yaml:"per_rack"`
		// Config holds dynomite.yml keys for every node, NodeConfig for
		// one node by id, over the simulator's own (the same keys and
		// parser as the daemon).
		Config     map[string]any            `yaml:"config"`
		NodeConfig map[string]map[string]any `yaml:"node_config"`
	} `yaml:"topology"`
	Workload struct {
		// Kind is "sets" (grow-only sets, the default, check.CheckSet)
		// or "registers" (overwrites, deletes and keys written once,
		// check.CheckLWW and check.CheckConvergence).
		Kind    string   `yaml:"kind"`
		Clients int      `yaml:"clients"`
		Levels  []string `yaml:"levels"`
		Reads   float64  `yaml:"reads"`
		Phase   string   `yaml:"phase"`
	} `yaml:"workload"`
	Faults []struct {
		At    string   `yaml:"at"`
		For   string   `yaml:"for"`
		Kind  string   `yaml:"kind"`
		Nodes []string `yaml:"nodes"`
		DC    string   `yaml:"dc"`
		Rack  string   `yaml:"rack"`
		Value float64  `yaml:"value"`
	} `yaml:"faults"`
	Expect struct {
		// OKRate: the least share of fault-phase operations per level that
		// must succeed (the availability the level claims under these faults).
		OKRate map[string]float64 `yaml:"ok_rate"`
		// DatastoreLoss declares that the scenario loses a datastore, which
		// lifts the durability promises the checkers otherwise hold.
		DatastoreLoss bool `yaml:"datastore_loss"`
		// ConvergeWithin (registers): how long after the heal, with no
		// read, every replica of every key must hold the same value and
		// version, and every acknowledged write (or a newer one) be read
		// through every node at every level. Default sim.ConvergeWithin.
		ConvergeWithin string `yaml:"converge_within"`
		// Marks: coverage marks (actors.Mark) the run must reach: the rare
		// path the scenario is about ran, rather than passing by missing it.
		Marks []string `yaml:"marks"`
	} `yaml:"expect"`
}

// LoadScenario reads and validates a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	var s Scenario
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	if _, err := s.spec(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return &s, nil
}

func parseDur(field, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration like 10s: %w", field, v, err)
	}
	return d, nil
}

// spec turns the scenario into a swarm run with a fixed fault schedule.
func (s *Scenario) spec() (SwarmSpec, error) {
	if len(s.Topology.Racks) == 0 {
		return SwarmSpec{}, fmt.Errorf("topology.racks: at least one DC")
	}
	spec := SwarmSpec{Seed: s.Seed, Racks: s.Topology.Racks, PerRack: s.Topology.PerRack,
		Clients: s.Workload.Clients, Reads: s.Workload.Reads, Faults: []Fault{},
		Config: s.Topology.Config, NodeConfig: s.Topology.NodeConfig}
	if spec.Seed == 0 {
		spec.Seed = 1
	}
	var err error
	if spec.Phase, err = parseDur("workload.phase", s.Workload.Phase); err != nil {
		return spec, err
	}
	switch s.Workload.Kind {
	case "", "sets", "registers":
	default:
		return spec, fmt.Errorf("workload.kind: %q is not sets or registers", s.Workload.Kind)
	}
	if spec.ConvergeWithin, err = parseDur("expect.converge_within", s.Expect.ConvergeWithin); err != nil {
		return spec, err
	}
	if spec.ConvergeWithin != 0 && s.Workload.Kind != "registers" {
		// Sets modified in place are not judged for convergence: register
		// clients run beside them, as in the swarm, and are.
		spec.Registers = 4
	}
	for _, l := range s.Workload.Levels {
		c, err := config.ParseConsistency(l)
		if err != nil {
			return spec, fmt.Errorf("workload.levels: %w", err)
		}
		spec.Levels = append(spec.Levels, c)
	}
	known := map[string]bool{}
	for _, k := range FaultKinds {
		known[k] = true
	}
	for i, f := range s.Faults {
		if !known[f.Kind] {
			return spec, fmt.Errorf("faults[%d].kind: %q is not one of %s", i, f.Kind, strings.Join(FaultKinds, ", "))
		}
		at, err := parseDur(fmt.Sprintf("faults[%d].at", i), f.At)
		if err != nil {
			return spec, err
		}
		dur, err := parseDur(fmt.Sprintf("faults[%d].for", i), f.For)
		if err != nil {
			return spec, err
		}
		spec.Faults = append(spec.Faults, Fault{At: at, For: dur, Kind: f.Kind, Nodes: f.Nodes, DC: f.DC, Rack: f.Rack, Value: f.Value})
	}
	for l := range s.Expect.OKRate {
		if _, err := config.ParseConsistency(l); err != nil {
			return spec, fmt.Errorf("expect.ok_rate: %w", err)
		}
	}
	for _, m := range s.Expect.Marks {
		if !strings.Contains(m, "/") {
			return spec, fmt.Errorf("expect.marks: %q is not a mark name like gossip/generation-moved", m)
		}
	}
	// Build the nodes' configs once here, so a bad key fails at load.
	if _, err := NewCluster(spec.cluster()); err != nil {
		return spec, fmt.Errorf("topology: %w", err)
	}
	return spec, nil
}

// Claims lists, for a run of the scenario, each expectation it states
// beside what the run measured: the fault-phase success rate per level
// (claim: at least), convergence after the heal (claim: within), and the
// checkers' verdict.
func (s *Scenario) Claims(run SwarmRun) []string {
	var out []string
	for _, l := range []string{"DC_ONE", "DC_QUORUM", "DC_SAFE_QUORUM", "DC_EACH_SAFE_QUORUM"} {
		got, n := run.OKRate(l)
		want, claimed := 0.0, false
		for k, v := range s.Expect.OKRate {
			if strings.EqualFold(k, l) {
				want, claimed = v, true
			}
		}
		switch {
		case claimed:
			out = append(out, fmt.Sprintf("  %s ok rate: %.3f of %d fault-phase operations (claim: at least %.2f)", l, got, n, want))
		case n > 0:
			out = append(out, fmt.Sprintf("  %s ok rate: %.3f of %d fault-phase operations (no claim)", l, got, n))
		}
	}
	if s.Expect.ConvergeWithin != "" {
		verdict := "converged"
		for _, v := range run.Result.Violations {
			if v.Checker == "converged" || v.Checker == "survived" || v.Checker == "readable" {
				verdict = "did NOT converge (" + v.Checker + ")"
				break
			}
		}
		out = append(out, fmt.Sprintf("  replicas after the heal, no reads: %s (claim: within %s); %v", verdict, s.Expect.ConvergeWithin, convergenceStats(run.Result.Stats)))
	}
	for _, m := range s.Expect.Marks {
		out = append(out, fmt.Sprintf("  mark %s: reached %d times (claim: at least once)", m, run.Marks[m]))
	}
	out = append(out, "  checkers: "+run.Result.String())
	return out
}

// convergenceStats picks the convergence checker's counts out of stats.
func convergenceStats(stats map[string]int) string {
	var keys []string
	for k := range stats {
		if strings.HasPrefix(k, "converge") || strings.HasPrefix(k, "keys") || k == "replicas" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, stats[k]))
	}
	return strings.Join(parts, " ")
}

// Run replays the scenario and reports every expectation that failed.
func (s *Scenario) Run() (SwarmRun, []string) {
	spec, _ := s.spec()
	var run SwarmRun
	if s.Workload.Kind == "registers" {
		run = RunLWWSwarm(spec).SwarmRun
	} else {
		run = RunSwarm(spec)
	}
	var failures []string
	if run.Err != nil {
		failures = append(failures, "run failed: "+run.Err.Error())
	}
	if run.Wiped && !s.Expect.DatastoreLoss {
		failures = append(failures, "a fault lost a datastore but expect.datastore_loss is not set")
	}
	if !run.Result.Valid {
		failures = append(failures, "checkers: "+run.Result.String())
	}
	levels := make([]string, 0, len(s.Expect.OKRate))
	for l := range s.Expect.OKRate {
		levels = append(levels, l)
	}
	sort.Strings(levels)
	for _, l := range levels {
		want := s.Expect.OKRate[l]
		got, n := run.OKRate(strings.ToUpper(l))
		if n == 0 || got < want {
			failures = append(failures, fmt.Sprintf("%s: %.2f of %d fault-phase operations succeeded, want at least %.2f", strings.ToUpper(l), got, n, want))
		}
	}
	for _, m := range s.Expect.Marks {
		if run.Marks[m] == 0 {
			failures = append(failures, fmt.Sprintf("coverage mark %s was not reached", m))
		}
	}
	return run, failures
}
