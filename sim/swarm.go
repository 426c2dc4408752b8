package sim

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/internal/check"
)

// Fault is one step of a fault schedule: at virtual time At, do Kind to
// Nodes (or to DC/Rack), undone after For when it has an end.
type Fault struct {
	At    time.Duration
	For   time.Duration
	Kind  string
	Nodes []string
	DC    string
	Rack  string
	Value float64 // ppm for drift, seconds for a clock jump, probability for loss
}

func (f Fault) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "at %s %s", f.At, f.Kind)
	if len(f.Nodes) > 0 {
		fmt.Fprintf(&b, " %s", strings.Join(f.Nodes, ","))
	}
	if f.DC != "" {
		fmt.Fprintf(&b, " %s/%s", f.DC, f.Rack)
	}
	if f.Value != 0 {
		fmt.Fprintf(&b, " value=%g", f.Value)
	}
	if f.For > 0 {
		fmt.Fprintf(&b, " for %s", f.For)
	}
	return b.String()
}

// FaultKinds are the faults a swarm may draw, with what they do.
var FaultKinds = []string{
	"partition-rack",   // isolate one rack
	"partition-dc",     // isolate one DC
	"partition-oneway", // cut one node's outbound links to another
	"partition-half",   // split the nodes into two random halves
	"bridge",           // two halves that only one node can reach both sides of
	"crash",            // crash a node, restart it after For (datastore kept)
	"crash-wipe",       // crash a node and lose its datastore (cold restart)
	"pause",            // stop-the-world a node for For
	"clock-jump",       // jump a node's clock by Value seconds (either way)
	"clock-drift",      // drift a node's clock by Value ppm
	"lossy-net",        // drop, duplicate and reorder with probability Value, for For
	"slow-net",         // latency spike for For
	"slow-store",       // a node's datastore answers late, for For
	"failing-store",    // a node's datastore fails every request, for For
}

// PlanFaults draws a fault schedule for a seed: which kinds are on and how
// often (swarm testing), over the fault phase.
func PlanFaults(seed int64, nodes []Node, phase time.Duration) []Fault {
	r := actors.Stream(seed, "swarm")
	var on []string
	for _, k := range FaultKinds {
		if r.IntN(2) == 0 {
			on = append(on, k)
		}
	}
	if len(on) == 0 {
		on = append(on, FaultKinds[r.IntN(len(FaultKinds))])
	}
	n := 3 + r.IntN(8)
	var out []Fault
	for range n {
		kind := on[r.IntN(len(on))]
		f := Fault{Kind: kind, At: time.Duration(r.Int64N(int64(phase * 3 / 4))), For: time.Duration(1+r.IntN(15)) * time.Second}
		victim := nodes[r.IntN(len(nodes))]
		switch kind {
		case "partition-rack":
			f.DC, f.Rack = victim.DC, victim.Rack
		case "partition-dc":
			f.DC = victim.DC
		case "partition-oneway":
			other := nodes[r.IntN(len(nodes))]
			f.Nodes = []string{victim.ID, other.ID}
		case "partition-half", "bridge":
			perm := r.Perm(len(nodes))
			for _, i := range perm[:len(nodes)/2] {
				f.Nodes = append(f.Nodes, nodes[i].ID)
			}
			sort.Strings(f.Nodes)
		case "clock-jump":
			f.Nodes, f.Value, f.For = []string{victim.ID}, float64(r.IntN(600)-300), 0
		case "clock-drift":
			f.Nodes, f.Value, f.For = []string{victim.ID}, float64(r.IntN(2000)-1000), 0
		case "lossy-net":
			f.Value = 0.05 + 0.25*r.Float64()
		case "slow-net":
		default:
			f.Nodes = []string{victim.ID}
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// Node is a node of a Cluster, as a swarm sees it.
type Node struct{ ID, DC, Rack string }

// apply schedules a fault (and its undoing) on the cluster.
func (c *Cluster) apply(f Fault) {
	w := c.W
	ids := func(ss []string) []actors.NodeID {
		out := make([]actors.NodeID, len(ss))
		for i, s := range ss {
			out[i] = actors.NodeID(s)
		}
		return out
	}
	others := func(in []string) []actors.NodeID {
		set := map[string]bool{}
		for _, s := range in {
			set[s] = true
		}
		var out []actors.NodeID
		for _, n := range c.Nodes {
			if !set[n.ID] {
				out = append(out, actors.NodeID(n.ID))
			}
		}
		return out
	}
	storeAddr := func(n string) actors.Addr { return actors.Addr{Node: actors.NodeID(n), Name: "store"} }
	end := func(fn func()) { w.At(f.At+f.For, fn) }
	w.At(f.At, func() {
		switch f.Kind {
		case "partition-rack":
			w.IsolateRack(f.DC, f.Rack)
			end(w.Heal)
		case "partition-dc":
			w.IsolateDC(f.DC)
			end(w.Heal)
		case "partition-oneway":
			w.PartitionOneWay(ids(f.Nodes[:1]), ids(f.Nodes[1:]))
			end(w.Heal)
		case "partition-half":
			w.Partition(ids(f.Nodes), others(f.Nodes))
			end(w.Heal)
		case "bridge":
			// The first node of the other half talks to both halves.
			rest := others(f.Nodes)
			if len(rest) > 1 {
				w.Partition(ids(f.Nodes), rest[1:])
			}
			end(w.Heal)
		case "crash":
			w.Crash(actors.NodeID(f.Nodes[0]))
			end(func() { w.Restart(actors.NodeID(f.Nodes[0])) })
		case "crash-wipe":
			w.CrashWipe(actors.NodeID(f.Nodes[0]))
			end(func() { w.Restart(actors.NodeID(f.Nodes[0])) })
		case "pause":
			w.Pause(actors.NodeID(f.Nodes[0]))
			end(func() { w.Resume(actors.NodeID(f.Nodes[0])) })
		case "clock-jump":
			w.JumpClock(actors.NodeID(f.Nodes[0]), time.Duration(f.Value*float64(time.Second)))
		case "clock-drift":
			w.SetDrift(actors.NodeID(f.Nodes[0]), f.Value)
		case "lossy-net":
			base := c.Spec.Net
			l := base
			l.Drop, l.Duplicate, l.Reorder = f.Value, f.Value/2, f.Value
			w.SetNet(l)
			end(func() { w.SetNet(base) })
		case "slow-net":
			base := c.Spec.Net
			l := base
			l.Latency, l.Jitter = 50*time.Millisecond, 200*time.Millisecond
			w.SetNet(l)
			end(func() { w.SetNet(base) })
		case "slow-store":
			w.Inject(actors.Addr{}, storeAddr(f.Nodes[0]), SetStoreMode{Mode: StoreMode{Slow: 300 * time.Millisecond}})
			end(func() { w.Inject(actors.Addr{}, storeAddr(f.Nodes[0]), SetStoreMode{}) })
		case "failing-store":
			w.Inject(actors.Addr{}, storeAddr(f.Nodes[0]), SetStoreMode{Mode: StoreMode{Failing: true}})
			end(func() { w.Inject(actors.Addr{}, storeAddr(f.Nodes[0]), SetStoreMode{}) })
		}
	})
}

// SwarmSpec describes one swarm run.
type SwarmSpec struct {
	Seed      int64
	Racks     []int
	PerRack   int
	Faults    []Fault // the schedule; PlanFaults(Seed, ...) when nil
	Phase     time.Duration
	Clients   int
	WrapStore func(node string, p actors.Producer) actors.Producer
	// Levels the clients use (spread over them in turn); all four when nil.
	Levels []config.Consistency
	// Reads is the clients' share of reads. Default 0.4.
	Reads float64
	// Config and NodeConfig are dynomite.yml keys for every node and for
	// one node (ClusterSpec).
	Config     map[string]any
	NodeConfig map[string]map[string]any
	// NoConvergence leaves the convergence check out of a register
	// swarm's verdict (RunLWWSwarm): runs that turn anti-entropy off on
	// purpose judge the rest.
	NoConvergence bool
	// Log, when set, receives every actor's log (debugging a seed).
	Log slog.Handler
	// ConvergeWithin is a register swarm's settle time before the
	// convergence check; zero: the package's ConvergeWithin.
	ConvergeWithin time.Duration
	// Registers adds register clients (overwrites, deletes, keys written
	// once) to a set swarm (RunSwarm), and ends its run with the
	// convergence check on their keys before the liveness phase.
	Registers int
}

// withDefaults fills what a swarm run leaves unset.
func (spec SwarmSpec) withDefaults() SwarmSpec {
	if spec.Phase == 0 {
		spec.Phase = 60 * time.Second
	}
	if spec.Clients == 0 {
		spec.Clients = 8
	}
	if spec.PerRack == 0 {
		spec.PerRack = 1
	}
	return spec
}

// NewSwarmCluster boots spec's cluster and lists its nodes as a swarm
// sees them.
func NewSwarmCluster(spec SwarmSpec) (*Cluster, []Node, error) {
	c, err := NewCluster(spec.cluster())
	if err != nil {
		return nil, nil, err
	}
	var nodes []Node
	for _, n := range c.Nodes {
		nodes = append(nodes, Node{ID: n.ID, DC: n.DC, Rack: n.Rack})
	}
	return c, nodes, nil
}

// schedule is spec's fault schedule, or one drawn from its seed.
func (spec SwarmSpec) schedule(nodes []Node) []Fault {
	if spec.Faults != nil {
		return spec.Faults
	}
	return PlanFaults(spec.Seed, nodes, spec.Phase)
}

// place draws client i's level and node; with spec.Levels, scenarios
// place clients evenly instead: every node, every level.
func (spec SwarmSpec) place(i int, nodes []Node, r *rand.Rand) (config.Consistency, string) {
	level := levels[r.IntN(len(levels))]
	node := nodes[r.IntN(len(nodes))].ID
	if spec.Levels != nil {
		level, node = spec.Levels[i%len(spec.Levels)], nodes[(i/len(spec.Levels))%len(nodes)].ID
	}
	return level, node
}

// lostDatastore reports whether a fault of the schedule empties a
// datastore.
func lostDatastore(faults []Fault) bool { return lostDatastores(faults) > 0 }

// lostDatastores counts the distinct nodes whose datastore a fault of the
// schedule empties.
func lostDatastores(faults []Fault) int {
	var lost []string
	for _, f := range faults {
		if f.Kind == "crash-wipe" && !slices.Contains(lost, f.Nodes[0]) {
			lost = append(lost, f.Nodes[0])
		}
	}
	return len(lost)
}

// faultPhase lets gossip settle, then applies the schedule from now on
// and runs the fault phase.
func (c *Cluster) faultPhase(faults []Fault, phase time.Duration) error {
	w := c.W
	c.faults = faults
	if err := w.RunFor(5 * time.Second); err != nil { // gossip settles before faults
		return err
	}
	start := w.Now()
	for _, f := range faults {
		f.At += start
		c.apply(f)
	}
	return w.Run(start + phase)
}

// DataStore is the data_store the spec's config gives its nodes: the
// embedded store unless it says otherwise.
func (spec SwarmSpec) DataStore() config.DataStore {
	if ds, ok := spec.Config["data_store"].(int); ok {
		return config.DataStore(ds)
	}
	return config.Embedded
}

// cluster is the simulated cluster a swarm run boots: the spec's topology
// and configs, every store behind the swarm's fault switch.
func (spec SwarmSpec) cluster() ClusterSpec {
	wrap := func(node string, p actors.Producer) actors.Producer {
		if spec.WrapStore != nil {
			p = spec.WrapStore(node, p)
		}
		return FaultyStore(p)
	}
	perRack := spec.PerRack
	if perRack == 0 {
		perRack = 1
	}
	return ClusterSpec{Seed: spec.Seed, Racks: spec.Racks, PerRack: perRack, Config: spec.Config, NodeConfig: spec.NodeConfig,
		Net: Link{Latency: time.Millisecond, Jitter: 2 * time.Millisecond}, WrapStore: wrap, Log: spec.Log}
}

// SwarmRun is what a swarm run produced.
type SwarmRun struct {
	Spec    SwarmSpec
	Faults  []Fault
	History check.History
	Result  check.Result
	Digest  string
	Events  uint64
	Virtual time.Duration
	Err     error
	Wiped   bool              // a fault lost a datastore
	Marks   map[string]uint64 // coverage marks reached (actors.Mark)
}

// OKRate is the share of operations at level, completed during the fault
// phase, that succeeded.
func (r SwarmRun) OKRate(level string) (rate float64, n int) {
	ok := 0
	for _, op := range r.History {
		if op.Type == check.Invoke || op.Level != level || op.Phase != "faults" {
			continue
		}
		n++
		if op.Type == check.OK {
			ok++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(ok) / float64(n), n
}

var levels = []config.Consistency{config.DCOne, config.DCQuorum, config.DCSafeQuorum, config.DCEachSafeQuorum}

// swarmStart is how every swarm runner begins: the cluster (built from
// cluster, spec with the runner's datastore), its nodes, spec's fault
// schedule, a recorder, and the workload's random source, made in that
// order (the trace digest depends on it).
type swarmStart struct {
	c      *Cluster
	nodes  []Node
	faults []Fault
	w      *World
	rec    *Recorder
	r      *rand.Rand
}

func startSwarm(spec, cluster SwarmSpec, workload string) (swarmStart, error) {
	c, nodes, err := NewSwarmCluster(cluster)
	if err != nil {
		return swarmStart{}, err
	}
	st := swarmStart{c: c, nodes: nodes, faults: spec.schedule(nodes), w: c.W}
	st.rec = NewRecorder(st.w)
	st.r = st.w.Rand(workload)
	return st, nil
}

// RunSwarm runs a workload under the fault schedule (fault phase), then
// heals everything, waits for the cluster to settle and checks every level
// serves through every node (liveness phase); the checkers judge the whole
// history.
func RunSwarm(spec SwarmSpec) SwarmRun {
	if spec.DataStore() == config.Memcached {
		return RunMemcachedSwarm(spec).SwarmRun
	}
	spec = spec.withDefaults()
	run := SwarmRun{Spec: spec}
	st, err := startSwarm(spec, spec, "workload")
	if err != nil {
		run.Err = err
		return run
	}
	c, nodes, w, rec, r := st.c, st.nodes, st.w, st.rec, st.r
	run.Faults = st.faults
	keys := []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10"}
	var clients []*SetClient
	reads := spec.Reads
	if reads == 0 {
		reads = 0.4
	}
	for i := range spec.Clients {
		level, node := spec.place(i, nodes, r)
		sc := &SetClient{ID: i + 1, Node: node, Level: level, Keys: keys, Reads: reads, Think: 200 * time.Millisecond}
		clients = append(clients, sc)
		c.StartSetClient(rec, sc)
	}
	// Register clients, when asked for, draw from a stream of their own:
	// the set clients' placement stays what it was without them.
	regKeys := []string{"r1", "r2", "r3", "r4"}
	var regs []*LWWClient
	rr := w.Rand("swarm-registers")
	for i := range spec.Registers {
		level, node := spec.place(i, nodes, rr)
		lc := &LWWClient{ID: 10000 + i, Node: node, Level: level, Keys: regKeys, Reads: 0.4, Deletes: 0.1, Fresh: 0.3, Think: 200 * time.Millisecond}
		regs = append(regs, lc)
		c.StartLWWClient(rec, lc)
	}
	wiped := lostDatastore(run.Faults)
	run.Err = c.faultPhase(run.Faults, spec.Phase)
	var conv check.Result
	if run.Err == nil {
		run.Err = c.liveness(rec, clients, keys, nodes, r, func() error {
			if len(regs) == 0 {
				return nil
			}
			for _, lc := range regs {
				lc.Stop()
			}
			var err error
			conv, _, _, err = c.converge(spec, rec, regKeys, regs, nodes, 20000)
			return err
		})
	}
	run.History = rec.H
	run.Wiped = wiped
	var members check.Result
	if run.Err == nil {
		members, run.Err = c.membership(nodes)
	}
	run.Result = check.CheckSet(setOps(rec.H, keys), check.Options{DatastoreLoss: wiped, Settled: len(run.Faults) == 0})
	if len(regs) > 0 && run.Err == nil {
		run.Result = mergeResults(run.Result, conv)
	}
	if run.Err == nil {
		run.Result = mergeResults(run.Result, members)
	}
	run.Digest, run.Events, run.Virtual, run.Marks = w.Digest(), w.Stats().Events, w.Now(), w.Marks()
	return run
}

// setOps is the part of h on set keys: keys and the liveness phase's.
// When every operation is one (no register clients), h itself.
func setOps(h check.History, keys []string) check.History {
	isSet := func(op *check.Op) bool { return slices.Contains(keys, op.Key) || strings.HasPrefix(op.Key, "live-") }
	n := 0
	for i := range h {
		if isSet(&h[i]) {
			n++
		}
	}
	if n == len(h) {
		return h
	}
	out := make(check.History, 0, n)
	for i := range h {
		if isSet(&h[i]) {
			out = append(out, h[i])
		}
	}
	return out
}

// liveness heals every fault, waits for gossip to see every node again,
// runs afterHeal (the convergence check of a swarm with registers), then
// runs fresh operations at every level through every node.
func (c *Cluster) liveness(rec *Recorder, clients []*SetClient, keys []string, nodes []Node, r *rand.Rand, afterHeal func() error) error {
	for _, sc := range clients {
		sc.Stop()
	}
	if err := c.healAll(nodes); err != nil {
		return err
	}
	if err := afterHeal(); err != nil {
		return err
	}
	rec.Phase = "liveness"
	id := len(clients) + 1
	tag := r.IntN(1 << 30)
	for _, n := range nodes {
		for _, level := range levels {
			// A key of its own, added then read at one level: every level
			// must serve through every node. (Concurrent writers of one key
			// may legitimately make a safe read see disagreeing replicas.)
			c.StartSetClient(rec, &SetClient{ID: id, Node: n.ID, Level: level, Keys: []string{fmt.Sprintf("live-%d-%d", tag, id)},
				AddThenRead: true, Think: 50 * time.Millisecond, Ops: 2})
			id++
		}
		for _, level := range levels[:2] {
			// Keys written during the faults: DC_ONE and DC_QUORUM reads
			// must answer even where replicas diverged (sets modified in
			// place are not merged).
			c.StartSetClient(rec, &SetClient{ID: id, Node: n.ID, Level: level, Keys: keys, Reads: 1, Think: 50 * time.Millisecond, Ops: 2})
			id++
		}
	}
	return c.W.RunFor(10 * time.Second)
}

// healAll ends every fault: heals the network, restarts crashed nodes,
// resumes paused ones, puts every store back to normal, then waits for
// gossip to see every node again.
func (c *Cluster) healAll(nodes []Node) error {
	w := c.W
	w.Heal()
	w.SetNet(c.Spec.Net)
	for _, n := range nodes {
		id := actors.NodeID(n.ID)
		if !w.Up(id) {
			w.Restart(id)
		}
		w.Resume(id)
		w.Inject(actors.Addr{}, actors.Addr{Node: id, Name: "store"}, SetStoreMode{})
	}
	return w.RunFor(20 * time.Second) // detection bound 10s, plus replication
}

// Shrink removes faults from a failing schedule, one at a time, while the
// run still fails; it returns the smallest failing schedule it found.
func Shrink(spec SwarmSpec, faults []Fault, fails func(SwarmRun) bool) []Fault {
	cur := append([]Fault(nil), faults...)
	for i := 0; i < len(cur); {
		try := append(append([]Fault(nil), cur[:i]...), cur[i+1:]...)
		s := spec
		s.Faults = try
		if fails(RunSwarm(s)) {
			cur = try
			continue
		}
		i++
	}
	return cur
}
