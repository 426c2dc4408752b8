// Command jepsen runs a Jepsen-style test of dynonode in docker-compose:
// it builds an image FROM scratch, brings a cluster up, runs set, register
// and counter workloads at every consistency level through ports published
// on 127.0.0.1 while a nemesis injects faults, heals, checks liveness, and
// writes the history, the checkers' verdicts, a plot and index.html under
// -store/<run>/. It exits 1 when a checker finds a violation (or the
// harness failed), and removes what it made even on failure or Ctrl-C.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dynonode/dynonode/internal/check"
	"github.com/dynonode/dynonode/jepsen/checker"
	"github.com/dynonode/dynonode/jepsen/cluster"
	"github.com/dynonode/dynonode/jepsen/nemesis"
	"github.com/dynonode/dynonode/jepsen/report"
	"github.com/dynonode/dynonode/jepsen/workload"
)

var levels = []string{check.DCOne, check.DCQuorum, check.DCSafeQuorum, check.DCEachSafeQuorum}

type flags struct {
	total     time.Duration
	topology  string
	store     string
	bin       string
	seed      uint64
	hold, gap time.Duration
	portBase  int
}

const (
	warmup = 5 * time.Second // workload before the first fault
	// settle follows the heal, with no client: the detection bound (10 s)
	// plus replication, hints and anti-entropy rounds (every 5 s in these
	// configs) before the convergence check reads the replicas.
	settle = 20 * time.Second
)

func main() {
	var f flags
	secs := flag.Int("time", 120, "seconds of workload (faults phase = time - 20s); the run takes about a minute more")
	flag.StringVar(&f.topology, "topology", "3racks", "cluster: 3racks (1 DC x 3 racks) or 2dc (2 DCs x 3 racks)")
	flag.StringVar(&f.store, "store", "jepsen/store", "where runs are written")
	flag.StringVar(&f.bin, "bin", "bin/jepsen", "directory holding static dynonode and nodeinit binaries")
	flag.Uint64Var(&f.seed, "seed", 0, "seed for the nemesis schedule and workloads (0: random)")
	flag.DurationVar(&f.hold, "hold", 8*time.Second, "how long each fault lasts")
	flag.DurationVar(&f.gap, "gap", 5*time.Second, "quiet time between faults")
	flag.IntVar(&f.portBase, "port-base", 28100, "node i publishes 127.0.0.1:port-base+10i+2 (RESP) and +3 (admin)")
	flag.Parse()
	f.total = time.Duration(*secs) * time.Second
	if f.seed == 0 {
		f.seed = rand.Uint64() % 1_000_000_000
	}
	ok, err := run(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "jepsen:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(f flags) (bool, error) {
	topo, err := cluster.Preset(f.topology, f.portBase)
	if err != nil {
		return false, err
	}
	name := time.Now().UTC().Format("20060102T150405Z")
	dir := filepath.Join(f.store, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	logf, err := os.Create(filepath.Join(dir, "nemesis.log"))
	if err != nil {
		return false, err
	}
	defer logf.Close()
	log := io.MultiWriter(logf, prefixed{os.Stdout})
	fmt.Fprintf(log, "run %s: topology %s, seed %d, %s of workload; store %s\n", name, f.topology, f.seed, f.total, dir)

	c, err := cluster.New(topo, filepath.Join(dir, "cluster"), "dynojepsen-node:"+strings.ToLower(name), logf)
	if err != nil {
		return false, err
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	rep := report.Run{Name: name, Topology: f.topology, Seed: f.seed, HarnessOK: true}
	for _, n := range topo.Nodes {
		rep.Nodes = append(rep.Nodes, n.Name)
	}
	rec := workload.NewRecorder()
	var replicas []check.Replica
	herr := func() (err error) {
		defer func() {
			fmt.Fprintln(log, "tearing down: containers, network, image")
			if derr := c.Down(); derr != nil {
				err = errors.Join(err, fmt.Errorf("teardown: %w", derr))
			}
		}()
		fmt.Fprintln(log, "building image", c.Image, "FROM scratch")
		if err := c.BuildImage(f.bin); err != nil {
			return err
		}
		if err := c.Up(); err != nil {
			return err
		}
		if err := waitReady(ctx, topo); err != nil {
			return err
		}
		fmt.Fprintln(log, "cluster up; letting failure detection settle")
		sleep(ctx, 5*time.Second)
		rec = workload.NewRecorder()
		var rerr error
		rep.Windows, rep.Phases, replicas, rerr = exercise(ctx, f, c, rec, log)
		return errors.Join(ctx.Err(), rerr)
	}()
	rep.Duration = rec.Now()
	if herr != nil {
		rep.HarnessOK, rep.Error = false, herr.Error()
		fmt.Fprintln(log, "harness error:", herr)
	}
	for _, w := range rep.Windows {
		if w.Error != "" {
			rep.HarnessOK = false
			rep.Error = strings.TrimSpace(rep.Error + " nemesis " + w.Kind + ": " + w.Error)
		}
	}
	h := rec.History()
	rep.Verdicts = judge(h, replicas, len(rep.Windows) == 0)
	rep.Ops = len(h) / 2
	if err := write(dir, h, rep); err != nil {
		return false, err
	}
	for _, v := range rep.Verdicts {
		fmt.Fprintf(log, "%-9s %-8s %s\n", v.Workload, v.Checker, v.Result.String())
	}
	verdict := "VALID"
	if !rep.Valid() {
		verdict = "INVALID"
	}
	fmt.Fprintf(log, "%s; report: %s\n", verdict, filepath.Join(dir, "index.html"))
	return rep.Valid(), nil
}

// exercise runs the workloads under the nemesis, heals, lets the cluster
// settle, reads every replica of the register keys directly, reads each
// of them through a node at a level (every node and level in turn) and
// runs the liveness phase. It returns the nemesis windows, the phases
// after them (settle, converge, liveness) and what the replicas held.
func exercise(ctx context.Context, f flags, c *cluster.Cluster, rec *workload.Recorder, log io.Writer) (windows, phases []nemesis.Window, replicas []check.Replica, err error) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	procs := processes(c.Topo, f.seed)
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.Run(rec, stop) }()
	}
	fmt.Fprintf(log, "%d client processes started\n", len(procs))
	sleep(ctx, warmup)
	faults := max(f.total-warmup-settle, 10*time.Second)
	nemStop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(faults):
		}
		close(nemStop)
	}()
	n := &nemesis.Nemesis{C: c, R: rand.New(rand.NewPCG(f.seed, 7)), Log: log}
	windows = n.Run(nemStop, f.hold, f.gap, rec.Now)
	close(stop)
	wg.Wait()
	if ctx.Err() != nil {
		return windows, nil, nil, nil
	}
	healed := rec.Now()
	fmt.Fprintf(log, "%8.1fs all faults healed; settling %s\n", healed.Seconds(), settle)
	sleep(ctx, settle)

	// Convergence: every key a register writer wrote, read from each
	// replica's redis, then once through a node at a level.
	rec.SetPhase("converge")
	conv := rec.Now()
	keys := writtenKeys(rec.History())
	if replicas, err = workload.ReadReplicas(c.Topo, keys); err != nil {
		return windows, nil, nil, fmt.Errorf("convergence check: %w", err)
	}
	fmt.Fprintf(log, "%8.1fs convergence: %d keys read from every replica's redis; reading each through the nodes\n", rec.Now().Seconds(), len(keys))
	var readers []*workload.Process
	id := len(procs) + 1
	slots := len(c.Topo.Nodes) * len(levels)
	for s := range slots {
		var mine []string
		for i := s; i < len(keys); i += slots {
			mine = append(mine, keys[i])
		}
		if len(mine) == 0 {
			continue
		}
		readers = append(readers, &workload.Process{ID: id, Node: c.Topo.Nodes[s/len(levels)], Level: levels[s%len(levels)],
			Next: workload.ReadEach(mine), Ops: len(mine), Think: 2 * time.Millisecond, Seed: f.seed})
		id++
	}
	never := make(chan struct{})
	for _, p := range readers {
		wg.Add(1)
		go func() { defer wg.Done(); p.Run(rec, never) }()
	}
	wg.Wait()

	rec.SetPhase("liveness")
	start := rec.Now()
	fmt.Fprintf(log, "%8.1fs liveness phase: every level through every node\n", start.Seconds())
	live := liveness(c.Topo, id, f.seed)
	for _, p := range live {
		wg.Add(1)
		go func() { defer wg.Done(); p.Run(rec, never) }()
	}
	wg.Wait()
	return windows, []nemesis.Window{{Kind: "settle", Start: healed, End: conv}, {Kind: "converge", Start: conv, End: start},
		{Kind: "liveness", Start: start, End: rec.Now()}}, replicas, nil
}

// writtenKeys lists, sorted, the register keys a write was invoked for
// (reg-* and cv-*).
func writtenKeys(h check.History) []string {
	seen := map[string]bool{}
	var out []string
	for _, op := range h {
		if op.Type == check.Invoke && op.F == "write" && !seen[op.Key] && (strings.HasPrefix(op.Key, "reg-") || strings.HasPrefix(op.Key, "cv-")) {
			seen[op.Key] = true
			out = append(out, op.Key)
		}
	}
	sort.Strings(out)
	return out
}

// processes are the workload clients: on every node, a set client at every
// level; one writer per register (quorum levels) and readers at DC_ONE and
// DC_SAFE_QUORUM on every node; an incrementer and a counter reader per
// node at rotating levels.
func processes(t cluster.Topology, seed uint64) []*workload.Process {
	var out []*workload.Process
	id := 0
	add := func(n cluster.Node, level string, think time.Duration, next func(int) workload.Next) {
		id++
		out = append(out, &workload.Process{ID: id, Node: n, Level: level, Next: next(id), Think: think, Seed: seed})
	}
	setKeys := []string{"set-1", "set-2", "set-3"}
	regKeys := []string{"reg-1", "reg-2", "reg-3"}
	for _, n := range t.Nodes {
		for _, l := range levels {
			add(n, l, 150*time.Millisecond, func(id int) workload.Next { return workload.SetOps(id, setKeys, 0.4) })
		}
	}
	for i, k := range regKeys {
		add(t.Nodes[i%len(t.Nodes)], levels[1+i%3], 150*time.Millisecond, func(int) workload.Next { return workload.RegisterWriter(k) })
	}
	for _, n := range t.Nodes { // keys written once, for the convergence check
		for _, l := range levels[:2] {
			add(n, l, 150*time.Millisecond, func(id int) workload.Next { return workload.FreshWriter(id) })
		}
	}
	for i, n := range t.Nodes {
		add(n, check.DCOne, 200*time.Millisecond, func(int) workload.Next { return workload.Reader(regKeys) })
		add(n, check.DCSafeQuorum, 200*time.Millisecond, func(int) workload.Next { return workload.Reader(regKeys) })
		add(n, levels[i%4], 200*time.Millisecond, func(int) workload.Next { return workload.Incrementer("ctr-1") })
		add(n, levels[(i+1)%4], 300*time.Millisecond, func(int) workload.Next { return workload.Reader([]string{"ctr-1"}) })
	}
	return out
}

// liveness: through every node at every level, a fresh set key is added to
// then read; DC_ONE and DC_QUORUM reads of the keys written under faults
// must answer too (set replicas may differ: values modified in place are
// not merged).
func liveness(t cluster.Topology, id int, seed uint64) []*workload.Process {
	var out []*workload.Process
	for _, n := range t.Nodes {
		for _, l := range levels {
			key := fmt.Sprintf("set-live-%s-%s", n.Name, strings.ToLower(l))
			out = append(out, &workload.Process{ID: id, Node: n, Level: l, Next: workload.AddThenRead(id, key), Ops: 2, Think: 50 * time.Millisecond, Seed: seed})
			id++
		}
		for _, l := range levels[:2] {
			out = append(out, &workload.Process{ID: id, Node: n, Level: l, Next: workload.SetOps(id, []string{"set-1", "set-2", "set-3"}, 1), Ops: 2, Think: 50 * time.Millisecond, Seed: seed})
			id++
		}
	}
	return out
}

// judge runs each workload's checker on its part of the history, and the
// convergence check on the register keys and what their replicas held.
func judge(h check.History, replicas []check.Replica, faultFree bool) []report.Verdict {
	part := func(prefix string) check.History {
		var out check.History
		for _, op := range h {
			if strings.HasPrefix(op.Key, prefix) {
				out = append(out, op)
			}
		}
		return out
	}
	// No fault loses a datastore: redis keeps an append-only file across
	// its restarts, and a killed dynonode leaves its redis-server running.
	opts := check.Options{Settled: faultFree}
	return []report.Verdict{
		{Workload: "set", Checker: "check.CheckSet", Result: check.CheckSet(part("set-"), opts)},
		{Workload: "register", Checker: "checker.Register", Result: checker.Register(part("reg-"), opts)},
		// Versions (on by default) promise more: quorum reads return the
		// newest write, whatever the clocks, and no deleted or overwritten
		// value comes back; two heartbeats (1 s each) order two writes.
		{Workload: "register", Checker: "check.CheckLWW", Result: check.CheckLWW(part("reg-"), nil,
			check.LWWOptions{Options: opts, Margin: 2 * time.Second})},
		{Workload: "counter", Checker: "checker.Counter", Result: checker.Counter(part("ctr-"), opts)},
		// After the heal and the settle time, with no read: every replica
		// of every register key holds the same value and version, every
		// acknowledged write (or a newer one) is what they hold, and a
		// read through a node at a level (each in turn) returns it.
		{Workload: "register", Checker: "check.CheckConvergence", Result: check.CheckConvergence(append(part("reg-"), part("cv-")...), replicas,
			check.ConvergenceOptions{LWWOptions: check.LWWOptions{Options: opts, Margin: 2 * time.Second}})},
	}
}

func write(dir string, h check.History, rep report.Run) error {
	hf, err := os.Create(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		return err
	}
	if err := h.WriteJSONLines(hf); err != nil {
		hf.Close()
		return err
	}
	if err := hf.Close(); err != nil {
		return err
	}
	res, err := json.MarshalIndent(struct {
		Valid    bool             `json:"valid"`
		Seed     uint64           `json:"seed"`
		Error    string           `json:"error,omitempty"`
		Verdicts []report.Verdict `json:"verdicts"`
		Windows  []nemesis.Window `json:"nemesis"`
	}{rep.Valid(), rep.Seed, rep.Error, rep.Verdicts, rep.Windows}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), res, 0o644); err != nil {
		return err
	}
	if err := report.Plot(h, rep.Windows, rep.Phases, filepath.Join(dir, "plot.png")); err != nil {
		return err
	}
	return report.WriteIndex(dir, rep)
}

// waitReady waits until every node answers PING through its published port.
func waitReady(ctx context.Context, t cluster.Topology) error {
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range t.Nodes {
		for {
			c, err := workload.Dial(n, check.DCOne)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("node %s not ready: %w", n.Name, err)
			}
			sleep(ctx, 500*time.Millisecond)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// prefixed writes the harness log to stdout, skipping docker's output.
type prefixed struct{ w io.Writer }

func (p prefixed) Write(b []byte) (int, error) {
	_, err := p.w.Write(append([]byte("jepsen: "), b...))
	return len(b), err
}
