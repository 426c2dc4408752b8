// Package nemesis injects faults into a docker-compose dynonode cluster
// from the host: partitions (docker network disconnect, iptables cuts in a
// node's network namespace: one node from its peers, a whole rack, one way),
// kill -9 and restart, pause, a slow network (tc netem, or a rate limit and
// random loss where the kernel has no netem), clock skew through dynonode's
// --fault-injection admin endpoint, and a datastore restart. Faults run one
// at a time; each is healed before the next starts.
package nemesis

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dynonode/dynonode/jepsen/cluster"
)

// Kinds are the faults, in the order a schedule first cycles through them.
var Kinds = []string{"partition-node", "partition-rack", "partition-one-way", "kill", "pause", "slow-net", "clock-skew", "datastore-restart"}

// Window is one fault as it happened, for the history's report.
type Window struct {
	Kind    string        `json:"kind"`
	Targets []string      `json:"targets"`
	Detail  string        `json:"detail"`
	Start   time.Duration `json:"start"` // since the start of the run
	End     time.Duration `json:"end"`
	Error   string        `json:"error,omitempty"` // the fault could not be applied or healed
}

// Nemesis applies faults to one cluster.
type Nemesis struct {
	C   *cluster.Cluster
	R   *rand.Rand
	Log io.Writer
}

// Apply injects a fault of kind and returns what it did and how to heal it.
func (n *Nemesis) Apply(kind string) (targets []string, detail string, heal func() error, err error) {
	nodes := n.C.Topo.Nodes
	victim := nodes[n.R.IntN(len(nodes))]
	targets = []string{victim.Name}
	switch kind {
	case "partition-node":
		// The node leaves the network: peers and clients lose it.
		net := n.C.Network()
		err = n.C.Docker("network", "disconnect", net, n.C.Container(victim.Name))
		return targets, "docker network disconnect", func() error {
			return n.C.Docker("network", "connect", "--ip", victim.IP, net, n.C.Container(victim.Name))
		}, err
	case "partition-rack", "partition-one-way":
		// iptables in the members' namespaces drop what the others send;
		// clients (from the host, via the bridge gateway) are not cut.
		var inside []cluster.Node
		if kind == "partition-rack" {
			key := victim.DC + "/" + victim.Rack
			targets = n.C.Topo.Racks()[key]
			for _, t := range targets {
				inside = append(inside, n.C.Topo.Node(t))
			}
			detail = "rack " + key + " cut off both ways"
		} else {
			inside = []cluster.Node{victim}
			detail = "peers -> " + victim.Name + " dropped; " + victim.Name + " -> peers delivered"
		}
		var outside []cluster.Node
		for _, o := range nodes {
			if !slices.ContainsFunc(inside, func(i cluster.Node) bool { return i.Name == o.Name }) {
				outside = append(outside, o)
			}
		}
		cut := func(on cluster.Node, from []cluster.Node, flag string) error {
			for _, f := range from {
				if _, err := n.C.InNetns(on.Name, "iptables", flag, "INPUT", "-s", f.IP, "-j", "DROP"); err != nil {
					return err
				}
			}
			return nil
		}
		for _, in := range inside {
			err = cut(in, outside, "-A")
		}
		if kind == "partition-rack" && err == nil {
			for _, out := range outside {
				err = cut(out, inside, "-A")
			}
		}
		return targets, detail, func() error {
			var first error
			for _, x := range nodes {
				if _, err := n.C.InNetns(x.Name, "iptables", "-F", "INPUT"); err != nil && first == nil {
					first = err
				}
			}
			return first
		}, err
	case "kill", "datastore-restart":
		comm, start := "dynonode", syscall.SIGUSR2
		if kind == "datastore-restart" {
			comm, start = "redis-server", syscall.SIGUSR1
		}
		pid, perr := n.C.ChildPid(victim.Name, comm)
		if perr != nil || pid == 0 {
			return targets, "", nil, fmt.Errorf("nemesis: no %s running in %s: %v", comm, victim.Name, perr)
		}
		err = syscall.Kill(pid, syscall.SIGKILL)
		return targets, fmt.Sprintf("kill -9 %s (host pid %d), restarted at heal", comm, pid), func() error {
			init, err := n.C.Pid(victim.Name)
			if err != nil {
				return err
			}
			return syscall.Kill(init, start) // nodeinit starts it again
		}, err
	case "pause":
		err = n.C.Docker("pause", n.C.Container(victim.Name))
		return targets, "docker pause (SIGSTOP-like freeze of dynonode and redis-server)", func() error {
			return n.C.Docker("unpause", n.C.Container(victim.Name))
		}, err
	case "slow-net":
		return n.slow(victim)
	case "clock-skew":
		ms := (60 + n.R.IntN(240)) * 1000
		if n.R.IntN(2) == 0 {
			ms = -ms
		}
		err = adminGet(victim, "/fault/clock_offset/"+strconv.Itoa(ms))
		return targets, fmt.Sprintf("clock offset %+d ms", ms), func() error {
			return adminGet(victim, "/fault/clock_offset/0")
		}, err
	}
	return nil, "", nil, fmt.Errorf("nemesis: unknown fault %q", kind)
}

// slow delays the node's traffic with netem; kernels without netem get a
// rate limit (tbf) and 10% random inbound loss (iptables statistic), which
// TCP turns into retransmission delays.
func (n *Nemesis) slow(victim cluster.Node) ([]string, string, func() error, error) {
	targets := []string{victim.Name}
	dev, err := n.C.Iface(victim.Name)
	if err != nil {
		return targets, "", nil, err
	}
	undoQdisc := func() error {
		_, err := n.C.InNetns(victim.Name, "tc", "qdisc", "del", "dev", dev, "root")
		return err
	}
	out, err := n.C.InNetns(victim.Name, "tc", "qdisc", "add", "dev", dev, "root", "netem", "delay", "150ms", "50ms")
	if err == nil {
		return targets, "tc netem delay 150ms ±50ms on " + dev, undoQdisc, nil
	}
	if !strings.Contains(out, "unknown") {
		return targets, "", nil, err
	}
	if _, err := n.C.InNetns(victim.Name, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", "256kbit", "burst", "4kb", "latency", "400ms"); err != nil {
		return targets, "", nil, err
	}
	_, err = n.C.InNetns(victim.Name, "iptables", "-A", "INPUT", "-i", dev, "-m", "statistic", "--mode", "random", "--probability", "0.1", "-j", "DROP")
	return targets, "no netem in this kernel: tc tbf 256kbit on " + dev + " + 10% inbound loss", func() error {
		err := undoQdisc()
		if _, ferr := n.C.InNetns(victim.Name, "iptables", "-F", "INPUT"); ferr != nil && err == nil {
			err = ferr
		}
		return err
	}, err
}

func adminGet(node cluster.Node, path string) error {
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(node.AdminURL() + path)
	if err != nil {
		return fmt.Errorf("nemesis: %s%s: %w", node.Name, path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("nemesis: %s%s: %s: %s", node.Name, path, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// Run applies faults until stop closes: a fault is held for hold, healed,
// then the cluster gets gap to recover. The schedule cycles through Kinds in
// a seeded shuffled order. now is the run's clock. Windows are returned in
// order; a fault that could not be applied is recorded with its error.
func (n *Nemesis) Run(stop <-chan struct{}, hold, gap time.Duration, now func() time.Duration) []Window {
	var out []Window
	order := slices.Clone(Kinds)
	for i := 0; ; i++ {
		if i%len(order) == 0 {
			n.R.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		}
		kind := order[i%len(order)]
		w := Window{Kind: kind, Start: now()}
		targets, detail, heal, err := n.Apply(kind)
		w.Targets, w.Detail = targets, detail
		fmt.Fprintf(n.Log, "%8.1fs nemesis %s %v: %s\n", w.Start.Seconds(), kind, targets, detail)
		if err != nil {
			w.Error = err.Error()
			fmt.Fprintf(n.Log, "          nemesis error: %v\n", err)
		}
		stopped := false
		select {
		case <-stop:
			stopped = true
		case <-time.After(hold):
		}
		if heal != nil {
			if herr := heal(); herr != nil {
				w.Error = strings.TrimSpace(w.Error + "; heal: " + herr.Error())
				fmt.Fprintf(n.Log, "          heal error: %v\n", herr)
			}
		}
		w.End = now()
		fmt.Fprintf(n.Log, "%8.1fs healed %s\n", w.End.Seconds(), kind)
		out = append(out, w)
		if stopped {
			return out
		}
		select {
		case <-stop:
			return out
		case <-time.After(gap):
		}
	}
}
