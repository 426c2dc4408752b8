package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/testproc"
)

// convergeBound is how long after the last fault heals every
// acknowledged write is in every rack's redis and reads back through
// every node, in TestConvergenceAfterFaults: the killed node's restart
// and the emptied redis are each refilled by one anti-entropy session
// (rounds every anti_entropy_interval, 5 s there, and at once for the
// emptied one), hints replay within a few heartbeats, while the writers
// keep running for 20 s of it. About 24 s on an idle two-core machine;
// a refill competes with the writers for the emptied redis, and under
// make test with other test binaries for the cores, so the bound the
// docs state for real processes has room: 60 s.
const convergeBound = 60 * time.Second

// convergeLoad is how long the writers run.
const convergeLoad = 60 * time.Second

// writer writes distinct keys through one node, one at a time, each
// with a deadline, redialling after an error, and keeps what was
// acknowledged and what failed.
type writer struct {
	addr, prefix string
	mu           sync.Mutex
	acked        []string // keys whose SET answered +OK
	failed       []string // keys whose SET answered an error or no reply
}

func (w *writer) run(stop <-chan struct{}) {
	var c net.Conn
	var r *bufio.Reader
	for i := 0; i < 1000000; i++ {
		select {
		case <-stop:
			if c != nil {
				c.Close()
			}
			return
		default:
		}
		if c == nil {
			var err error
			if c, err = net.DialTimeout("tcp", w.addr, time.Second); err != nil {
				c = nil
				time.Sleep(100 * time.Millisecond)
				continue
			}
			r = bufio.NewReader(c)
		}
		key := fmt.Sprintf("%s:%d", w.prefix, i)
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		reply, err := roundTrip(c, r, "SET", key, "v-"+key)
		w.mu.Lock()
		if err == nil && reply == "+OK\r\n" {
			w.acked = append(w.acked, key)
		} else {
			w.failed = append(w.failed, key)
		}
		w.mu.Unlock()
		if err != nil {
			c.Close()
			c = nil
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// roundTrip sends one command and reads one whole reply.
func roundTrip(c net.Conn, r *bufio.Reader, args ...string) (string, error) {
	if _, err := c.Write(testproc.Command(args...)); err != nil {
		return "", err
	}
	var buf []byte
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return "", err
		}
		buf = append(buf, line...)
		if _, n, err := resp.ParseReply(buf); err == nil && n == len(buf) {
			return string(buf), nil
		}
	}
}

// TestConvergenceAfterFaults is issue 21's check on real processes: three
// racks with a redis-server each; a writer at DC_QUORUM through node1 and
// one at DC_ONE through node2 run for convergeLoad while node3 is killed
// (kill -9) and restarted, node2 paused (SIGSTOP) for 8 s, and rack1's
// redis restarted empty (no persistence). Within convergeBound of the
// last fault, every acknowledged write is in every rack's redis, counted
// directly, and reads back through every node; writes reported failed
// are listed apart (one that is present is allowed, an acknowledged one
// missing is not). Read repair is off: nothing but hints and
// anti-entropy copies a write.
func TestConvergenceAfterFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of load")
	}
	nodes := startCluster(t, 200, "  heartbeat_interval: 250\n  timeout: 1000\n  anti_entropy_interval: 5000\n", "dc1/r1", "dc1/r2", "dc1/r3")
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	for _, n := range nodes {
		for _, o := range nodes {
			if o != n {
				eventuallyTrue(t, 10*time.Second, func() bool { up, _ := upAccordingTo(t, n, o.dyn); return up }, "all up at start")
			}
		}
	}
	for n, level := range map[*clusterNode]string{n1: "dc_quorum", n2: "dc_one"} {
		code, _ := httpGet(t, "http://"+n.stats+"/set_consistency/write/"+level)
		require.Equal(t, http.StatusOK, code)
	}
	quorum := &writer{addr: n1.listen, prefix: "q"}
	one := &writer{addr: n2.listen, prefix: "o"}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range []*writer{quorum, one} {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(stop) }()
	}
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	t.Cleanup(halt)

	start := time.Now()
	at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }
	at(8 * time.Second)
	n3.proc.Kill()
	t.Log("node3 killed")
	at(16 * time.Second)
	n3.proc.Restart()
	t.Log("node3 restarted")
	at(24 * time.Second)
	require.NoError(t, n2.proc.Signal(syscall.SIGSTOP))
	t.Log("node2 paused")
	at(32 * time.Second)
	require.NoError(t, n2.proc.Signal(syscall.SIGCONT))
	t.Log("node2 resumed")
	at(40 * time.Second)
	n1.redis.Kill()
	n1.redis.Restart()
	healed := time.Now()
	t.Log("rack1's redis restarted empty")
	at(convergeLoad)
	halt()

	var acked, failed []string
	for _, w := range []*writer{quorum, one} {
		acked = append(acked, w.acked...)
		failed = append(failed, w.failed...)
	}
	t.Logf("%d writes acknowledged (%d at DC_QUORUM, %d at DC_ONE), %d reported failed", len(acked), len(quorum.acked), len(one.acked), len(failed))
	require.Greater(t, len(quorum.acked), 1000, "the DC_QUORUM writer ran")
	require.Greater(t, len(one.acked), 1000, "the DC_ONE writer ran")

	// missingIn lists the acknowledged keys addr (a redis, or a node at
	// DC_ONE) does not answer with their value, by MGET of 500 at a time.
	missingIn := func(addr string, keys []string) []string {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return keys
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var out []string
		for i := 0; i < len(keys); i += 500 {
			batch := keys[i:min(i+500, len(keys))]
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			reply, err := roundTrip(c, r, append([]string{"MGET"}, batch...)...)
			v, _, perr := resp.ParseReply([]byte(reply))
			if err != nil || perr != nil || len(v.Elems) != len(batch) {
				return keys // unreadable: everything counts as missing
			}
			for j, e := range v.Elems {
				if string(e.Str) != "v-"+batch[j] {
					out = append(out, batch[j])
				}
			}
		}
		return out
	}
	var lastMissing map[string][]string
	converged := func() bool {
		lastMissing = map[string][]string{}
		for _, n := range nodes {
			if m := missingIn(n.redis.Addr, acked); len(m) > 0 {
				lastMissing["redis of "+n.rack] = m
			}
		}
		for _, n := range nodes {
			if m := missingIn(n.listen, acked); len(m) > 0 {
				lastMissing["reads through "+n.rack] = m
			}
		}
		return len(lastMissing) == 0
	}
	deadline := healed.Add(convergeBound)
	for !converged() && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	took := time.Since(healed)
	var summary []string
	for where, m := range lastMissing {
		summary = append(summary, fmt.Sprintf("%s misses %d (first %v)", where, len(m), m[:min(5, len(m))]))
	}
	sort.Strings(summary)
	if len(lastMissing) > 0 {
		for _, n := range nodes {
			_, body := httpGet(t, "http://"+n.stats+"/anti_entropy")
			t.Logf("%s's /anti_entropy: %s", n.rack, body)
		}
		t.Fatalf("acknowledged writes missing %s after the last fault:\n%s", convergeBound, strings.Join(summary, "\n"))
	}
	t.Logf("every acknowledged write in every rack's redis and read back through every node %s after the last fault (the writers ran %s past it)",
		took.Round(100*time.Millisecond), convergeLoad-40*time.Second)
	present := len(failed) - len(missingIn(n1.redis.Addr, failed))
	t.Logf("of the %d writes reported failed, %d are present anyway (allowed)", len(failed), present)
	code, body := httpGet(t, "http://"+n1.stats+"/anti_entropy")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"resuming":false`)
	t.Logf("node1's /anti_entropy: %s", body)
}

// TestEmbeddedNodeRefillsAfterRestart: three racks on the embedded store
// (which a process restart empties); 500 keys written at DC_QUORUM; node3
// killed (kill -9) and restarted. It remembers the datastore's marker
// under hints_dir, finds the new store without one, resumes (RESUMING,
// reads from the others) and holds every key again, counted through its
// own DBSIZE, within convergeBound; /anti_entropy reports the refill. A
// new cluster, whose nodes remember no marker, never resumes.
func TestEmbeddedNodeRefillsAfterRestart(t *testing.T) {
	nodes := startVersionedCluster(t, 215, "  heartbeat_interval: 250\n  write_consistency: DC_QUORUM\n")
	for _, n := range nodes {
		_, body := httpGet(t, "http://"+n.adm+"/anti_entropy")
		require.Contains(t, body, `"resumes":0`, "%s: a new cluster's nodes never resume", n.name)
	}
	c := testproc.DialRESP(t, nodes[0].listen)
	const keys = 500
	for i := range keys {
		require.Equal(t, "+OK\r\n", c.Do("SET", fmt.Sprintf("key:%d", i), "v"))
	}
	n3 := nodes[2]
	eventuallyEqual(t, fmt.Sprintf(":%d\r\n", keys), func() string { return testproc.DialRESP(t, n3.listen).Do("DBSIZE") }, "replicated")
	n3.proc.Kill()
	n3.proc.Restart()
	restarted := time.Now()
	eventuallyEqual(t, fmt.Sprintf(":%d\r\n", keys), func() string { return testproc.DialRESP(t, n3.listen).Do("DBSIZE") }, "node3 refilled")
	took := time.Since(restarted)
	require.Less(t, took, convergeBound)
	_, body := httpGet(t, "http://"+n3.adm+"/anti_entropy")
	require.Contains(t, body, `"resumes":1`)
	require.Contains(t, body, `"resuming":false`)
	t.Logf("node3 refilled %s after its restart: %s", took.Round(10*time.Millisecond), body)
}
