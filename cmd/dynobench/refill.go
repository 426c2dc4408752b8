package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// refillCmd measures anti-entropy on a three-rack cluster it starts
// itself (dynonode processes, and a redis-server per rack for -store
// redis) on 127.0.0.NET1..NET3:
//
//  1. loads -keys keys at DC_QUORUM and waits until every rack holds them;
//
//  2. runs a client load (pipelined GETs and SETs through node1) for
//     -window: the healthy throughput;
//
//  3. empties rack3's datastore (redis: its redis-server killed and
//     started again without persistence; embedded: node3 killed and
//     started again) and runs the same load until node3 is NORMAL again:
//     the refill time and the throughput while a rack refills;
//
//  4. on the idle, converged cluster, starts a round on every node and
//     measures what it costs (CPU of every process, bytes sent), and
//     from it an hour of scheduled rounds at the default interval.
//
//     dynobench refill -store redis -keys 1000000 -dynonode bin/dynonode -out results/refill.md
func refillCmd(args []string) error {
	fs := flag.NewFlagSet("refill", flag.ContinueOnError)
	store := fs.String("store", "redis", "redis (a redis-server per rack) or embedded")
	keys := fs.Int("keys", 1000000, "keys loaded before the rack is emptied")
	bin := fs.String("dynonode", "bin/dynonode", "the dynonode binary")
	redisBin := fs.String("redis-server", "redis-server", "the redis-server binary")
	netID := fs.Int("net", 8, "nodes listen on 127.0.0.<net>1..3")
	window := fs.Duration("window", 10*time.Second, "how long the healthy load runs")
	out := fs.String("out", "", "append the markdown table here (default stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *store != "redis" && *store != "embedded" {
		return fmt.Errorf("refill: -store %q: want redis or embedded", *store)
	}
	c := &refillCluster{store: *store, bin: *bin, redisBin: *redisBin, net: *netID}
	defer c.stop()
	if err := c.start(); err != nil {
		return err
	}
	res, err := c.measure(*keys, *window)
	if err != nil {
		return err
	}
	w := io.Writer(os.Stdout)
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	// An hour at the default interval is six scheduled rounds per node.
	// A scheduled round syncs each pair once, from its lower-id node (5
	// scans of a store for 3 nodes, 3 Syncs), the measured on-demand
	// round on every node each pair from both ends (9 scans, 6 Syncs).
	fmt.Fprintf(w, "| %s | %d | %.1f | %.0f | %.0f | %.2f | %.2f | %d | %.0f | %d |\n", *store, *keys, res.refill.Seconds(), res.pulled,
		res.healthy, res.during/res.healthy, res.roundCPU.Seconds(), res.roundBytes,
		res.roundCPU.Seconds()*6*5/9, res.roundBytes*6/2)
	return nil
}

type refillResult struct {
	refill          time.Duration
	pulled          float64 // keys node3 pulled
	healthy, during float64 // client ops/s
	roundCPU        time.Duration
	roundBytes      int64
}

type refillCluster struct {
	store, bin, redisBin string
	net                  int
	dir                  string
	nodes, redis         [3]*exec.Cmd
	confs                [3]string
}

func (c *refillCluster) host(i int) string   { return fmt.Sprintf("127.0.0.%d%d", c.net, i+1) }
func (c *refillCluster) client(i int) string { return c.host(i) + ":17110" }
func (c *refillCluster) admin(i int) string  { return "http://" + c.host(i) + ":17210" }
func (c *refillCluster) redisAddr(i int) string {
	return c.host(i) + ":17010"
}

func (c *refillCluster) start() error {
	dir, err := os.MkdirTemp("", "dynobench-refill-")
	if err != nil {
		return err
	}
	c.dir = dir
	for i := range 3 {
		if c.store == "redis" {
			if err := c.startRedis(i); err != nil {
				return err
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "dyn_o_mite:\n  listen: %s\n  dyn_listen: %s:17111\n  stats_listen: %s:17210\n", c.client(i), c.host(i), c.host(i))
		fmt.Fprintf(&b, "  datacenter: dc1\n  rack: rack%d\n  tokens: '0'\n  hints_dir: %s\n", i+1, filepath.Join(dir, fmt.Sprintf("hints%d", i)))
		if c.store == "redis" {
			fmt.Fprintf(&b, "  data_store: 0\n  servers:\n  - %s:1\n", c.redisAddr(i))
		} else {
			b.WriteString("  data_store: 2\n")
		}
		b.WriteString("  dyn_seeds:\n")
		for j := range 3 {
			if j != i {
				fmt.Fprintf(&b, "  - %s:17111:rack%d:dc1:0\n", c.host(j), j+1)
			}
		}
		c.confs[i] = filepath.Join(dir, fmt.Sprintf("node%d.yml", i))
		if err := os.WriteFile(c.confs[i], []byte(b.String()), 0o644); err != nil {
			return err
		}
		if err := c.startNode(i); err != nil {
			return err
		}
	}
	for i := range 3 {
		if err := waitNormal(c.admin(i), 30*time.Second); err != nil {
			return fmt.Errorf("refill: node%d: %w", i+1, err)
		}
	}
	return nil
}

func (c *refillCluster) startRedis(i int) error {
	cmd := exec.Command(c.redisBin, "--bind", c.host(i), "--port", "17010", "--save", "", "--appendonly", "no",
		"--dir", c.dir, "--protected-mode", "no", "--logfile", "")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("refill: redis-server: %w", err)
	}
	c.redis[i] = cmd
	return waitTCP(c.redisAddr(i), 10*time.Second)
}

func (c *refillCluster) startNode(i int) error {
	logf, err := os.Create(filepath.Join(c.dir, fmt.Sprintf("node%d.log", i)))
	if err != nil {
		return err
	}
	cmd := exec.Command(c.bin, "-c", c.confs[i], "-v", "5")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("refill: dynonode: %w", err)
	}
	c.nodes[i] = cmd
	return waitTCP(c.client(i), 10*time.Second)
}

// stop kills every process it started, by PID, and removes its files.
func (c *refillCluster) stop() {
	for _, cmd := range append(c.nodes[:], c.redis[:]...) {
		if cmd != nil && cmd.Process != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

func (c *refillCluster) measure(keys int, window time.Duration) (refillResult, error) {
	var res refillResult
	if _, err := httpBody(c.admin(0) + "/set_consistency/write/dc_quorum"); err != nil {
		return res, err
	}
	if err := load(c.client(0), keys); err != nil {
		return res, err
	}
	for i := range 3 {
		if err := waitKeys(c, i, keys, 60*time.Second); err != nil {
			return res, err
		}
	}
	if _, err := httpBody(c.admin(0) + "/set_consistency/write/dc_one"); err != nil {
		return res, err
	}
	time.Sleep(5 * time.Second) // replication of the load done, the cluster quiet
	res.healthy = traffic(c.client(0), keys, func(start time.Time) bool { return time.Since(start) >= window })

	// Empty rack3's datastore.
	before, err := aeStatus(c.admin(2))
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	if c.store == "redis" {
		_ = c.redis[2].Process.Kill()
		_ = c.redis[2].Wait()
		if err := c.startRedis(2); err != nil {
			return res, err
		}
	} else {
		_ = c.nodes[2].Process.Kill()
		_ = c.nodes[2].Wait()
		if err := c.startNode(2); err != nil {
			return res, err
		}
	}
	var refilled time.Time
	resumed := false
	res.during = traffic(c.client(0), keys, func(start time.Time) bool {
		st, err := aeStatus(c.admin(2))
		if err == nil && st.Resuming {
			resumed = true
		}
		if err == nil && resumed && !st.Resuming && st.LastResumeMs > before.LastResumeMs {
			refilled = time.Now()
			return true
		}
		return time.Since(start) > 10*time.Minute
	})
	if refilled.IsZero() {
		return res, errors.New("refill: node3 never came back from RESUMING within 10 minutes")
	}
	res.refill = refilled.Sub(t0)
	st, _ := aeStatus(c.admin(2))
	res.pulled = float64(st.LastResumeKeys)
	if err := waitKeys(c, 2, keys, 60*time.Second); err != nil {
		return res, fmt.Errorf("after the refill: %w", err)
	}

	// One idle round on every node: CPU of every process, bytes sent.
	time.Sleep(2 * time.Second)
	cpu0 := c.cpu()
	var sent0 int64
	for i := range 3 {
		st, err := aeStatus(c.admin(i))
		if err != nil {
			return res, err
		}
		sent0 += st.BytesSent
		if _, err := httpBody(c.admin(i) + "/anti_entropy/start"); err != nil {
			return res, err
		}
	}
	for i := range 3 {
		deadline := time.Now().Add(5 * time.Minute)
		for {
			st, err := aeStatus(c.admin(i))
			if err == nil && st.State == "idle" && st.RoundPeersLeft == 0 {
				break
			}
			if time.Now().After(deadline) {
				return res, fmt.Errorf("refill: node%d's round did not end", i+1)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	res.roundCPU = c.cpu() - cpu0
	for i := range 3 {
		st, _ := aeStatus(c.admin(i))
		res.roundBytes += st.BytesSent
		body, _ := httpBody(c.admin(i) + "/anti_entropy")
		fmt.Fprintf(os.Stderr, "refill: node%d after the idle round: %s\n", i+1, body)
	}
	res.roundBytes -= sent0
	// Per node and on-demand round (refillCmd turns them into an hour of
	// scheduled rounds).
	res.roundCPU /= 3
	res.roundBytes /= 3
	return res, nil
}

// cpu is the user and system time of every process of the cluster.
func (c *refillCluster) cpu() time.Duration {
	var total time.Duration
	for _, cmd := range append(c.nodes[:], c.redis[:]...) {
		if cmd == nil || cmd.Process == nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			total += time.Duration(u+s) * 10 * time.Millisecond // USER_HZ 100
		}
	}
	return total
}

type aeJSON struct {
	State          string `json:"state"`
	Resuming       bool   `json:"resuming"`
	RoundPeersLeft int    `json:"round_peers_left"`
	BytesSent      int64  `json:"bytes_sent"`
	LastResumeMs   int64  `json:"last_resume_ms"`
	LastResumeKeys int64  `json:"last_resume_keys"`
}

func aeStatus(admin string) (aeJSON, error) {
	var st aeJSON
	body, err := httpBody(admin + "/anti_entropy")
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(body), &st)
}

func httpBody(url string) (string, error) {
	hc := http.Client{Timeout: 5 * time.Second}
	res, err := hc.Get(url)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, res.Status)
	}
	return string(b), err
}

func waitTCP(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not listening after %s", addr, d)
}

// waitNormal waits until the node answers on its admin port, is not
// resuming and its gossip sees the other two up (/cluster_describe).
func waitNormal(admin string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		st, err := aeStatus(admin)
		body, derr := httpBody(admin + "/cluster_describe")
		if err == nil && derr == nil && !st.Resuming && strings.Count(body, `"up":true`) == 3 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not NORMAL with its peers up after %s", d)
}

// load SETs key:0..n-1 (16-byte values) through addr, pipelined 1000 at a
// time over 8 connections.
func load(addr string, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			r := bufio.NewReaderSize(c, 1<<16)
			var buf []byte
			for lo := w * 1000; lo < n; lo += 8 * 1000 {
				buf = buf[:0]
				hi := min(lo+1000, n)
				for k := lo; k < hi; k++ {
					buf = appendCmd(buf, "SET", "key:"+strconv.Itoa(k), "value-0123456789")
				}
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := c.Write(buf); err != nil {
					errs <- err
					return
				}
				for k := lo; k < hi; k++ {
					line, err := r.ReadString('\n')
					if err != nil {
						errs <- err
						return
					}
					if line != "+OK\r\n" {
						errs <- fmt.Errorf("load: SET answered %q", line)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// traffic runs pipelined GETs and SETs (one in four) of random loaded
// keys through addr over 8 connections, 16 deep, until done says so
// (asked every 100 ms), and returns the operations per second.
func traffic(addr string, n int, done func(start time.Time) bool) float64 {
	var ops atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			r := bufio.NewReaderSize(c, 1<<16)
			seed := uint64(w)*0x9e3779b97f4a7c15 + 1
			var buf []byte
			for i := 0; i < 100000000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				buf = buf[:0]
				for j := range 16 {
					seed ^= seed << 13
					seed ^= seed >> 7
					seed ^= seed << 17
					k := "key:" + strconv.Itoa(int(seed%uint64(n)))
					if j%4 == 0 {
						buf = appendCmd(buf, "SET", k, "value-0123456789")
					} else {
						buf = appendCmd(buf, "GET", k)
					}
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write(buf); err != nil {
					return
				}
				for range 16 {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if strings.HasPrefix(line, "$") && line != "$-1\r\n" {
						if _, err := r.ReadString('\n'); err != nil {
							return
						}
					}
				}
				ops.Add(16)
			}
		}()
	}
	start := time.Now()
	for !done(start) {
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)
	close(stop)
	wg.Wait()
	return float64(ops.Load()) / took.Seconds()
}

// waitKeys waits until node i's datastore holds n keys (DBSIZE: of its
// redis minus the companion keys; of the embedded node itself).
func waitKeys(c *refillCluster, i, n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	var got int
	for time.Now().Before(deadline) {
		addr := c.client(i)
		if c.store == "redis" {
			addr = c.redisAddr(i)
		}
		got = dbsize(addr)
		if c.store == "redis" {
			got -= companions(addr) // __dyno:v, __dyno:t, __dyno:m: not keys
		}
		if got >= n {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("refill: node%d's datastore holds %d keys, want %d", i+1, got, n)
}

func dbsize(addr string) int {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return -1
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(appendCmd(nil, "DBSIZE")); err != nil {
		return -1
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, ":") {
		return -1
	}
	v, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	return v
}

// companions counts the versions' companion keys a redis holds.
func companions(addr string) int {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return 0
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(appendCmd(nil, "EXISTS", "__dyno:v", "__dyno:t", "__dyno:m")); err != nil {
		return 0
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, ":") {
		return 0
	}
	v, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	return v
}

func appendCmd(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}
