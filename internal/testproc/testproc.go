// Package testproc starts the real processes integration tests need
// (redis-server, memcached, dynonode) on loopback ports, and guarantees they
// are ended: each runs in its own process group, which t.Cleanup kills by
// pgid and waits for. No test kills anything by name.
package testproc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ReadyTimeout bounds how long a started process may take to accept TCP.
const ReadyTimeout = 10 * time.Second

// FreeAddr returns host:port for a TCP port on host that was free a moment
// ago. host is a loopback address such as 127.0.0.1 (or 127.0.0.x).
//
// The port is below the kernel's ephemeral range: a port the kernel picked
// (":0") is free only until the kernel hands it out again, as the local
// port of some connection, which happened in CI between this check and the
// process binding it ("bind: address already in use"). Ports below the
// range are never handed out; they are taken in sequence from a random
// start, so tests in one process do not collide and parallel test
// processes rarely do.
func FreeAddr(t testing.TB, host string) string {
	t.Helper()
	lo, hi := 10000, ephemeralLow()-1
	if hi-lo < 1000 {
		lo, hi = 0, 0 // an unusual range: let the kernel choose
	}
	for range 200 {
		port := 0
		if hi > lo {
			port = lo + int(nextPort.Add(1)%uint32(hi-lo+1))
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	t.Fatalf("testproc: no free port on %s", host)
	return ""
}

// nextPort is the sequence FreeAddr draws from, started at random.
var nextPort = func() *atomic.Uint32 {
	var n atomic.Uint32
	n.Store(rand.Uint32())
	return &n
}()

// ephemeralLow is the lowest port the kernel hands out on its own
// (net.ipv4.ip_local_port_range), 32768 when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil || lo <= 0 {
		return 32768
	}
	return lo
}

// Proc is a process a test started.
type Proc struct {
	t    testing.TB
	Name string
	Path string
	Args []string
	// Addr is the TCP address the process serves on.
	Addr string
	// Output collects stdout and stderr.
	Output *SafeBuffer
	tmp    string // the process's TMPDIR

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// SafeBuffer is a bytes.Buffer safe for the process's writers and a reader.
type SafeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SafeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SafeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Binary returns the path of an installed program or fails the test with
// how to get it (`make test` installs everything the tests need).
func Binary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("testproc: %s is not installed (run `make test`, which installs it): %v", name, err)
	}
	return p
}

// Start runs path with args, waits until addr accepts TCP connections, and
// registers cleanup that kills the process group and waits for it.
func Start(t testing.TB, name, path string, args []string, addr string) *Proc {
	t.Helper()
	p := &Proc{t: t, Name: name, Path: path, Args: args, Addr: addr, Output: &SafeBuffer{}}
	// The process's temporary files (a dynonode's default hints_dir) go
	// to the test's own directory, removed with it; a restart (Restart)
	// finds them again.
	p.tmp = t.TempDir()
	p.start()
	t.Cleanup(p.Kill)
	return p
}

func (p *Proc) start() {
	p.t.Helper()
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Stdout, cmd.Stderr = p.Output, p.Output
	if p.tmp != "" {
		cmd.Env = append(os.Environ(), "TMPDIR="+p.tmp)
	}
	// Pdeathsig: a test binary that dies without its cleanups (killed,
	// or its output pipe closed) takes its servers with it instead of
	// leaving them to init.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("testproc: start %s: %v", p.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	if p.Addr == "" {
		return
	}
	if err := WaitTCP(p.Addr, ReadyTimeout, done); err != nil {
		p.Kill()
		p.t.Fatalf("testproc: %s never served %s: %v\noutput:\n%s", p.Name, p.Addr, err, p.Output.String())
	}
}

// WaitTCP polls addr until it accepts a connection, the timeout passes, or
// exited closes (the process died).
func WaitTCP(addr string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited before accepting connections")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting after %s: %w", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitUnix waits until a unix socket at path accepts a connection.
func WaitUnix(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testproc: nothing accepts on %s after %s: %w", path, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pid is the process id of the current incarnation.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Signal sends sig to the process's group (SIGSTOP, SIGCONT, SIGTERM...).
func (p *Proc) Signal(sig syscall.Signal) error {
	return syscall.Kill(-p.Pid(), sig)
}

// Stop sends SIGSTOP and waits (bounded) until every thread of the process
// is really stopped: the signal is asynchronous, and a test that sends a
// request right after it may otherwise still get an answer (seen in CI: a
// SIGSTOPped node answered a GET sent just after the kill(2) returned).
func (p *Proc) Stop() error {
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	tasks := fmt.Sprintf("/proc/%d/task", p.Pid())
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		stopped, err := allStopped(tasks)
		if err != nil {
			return err
		}
		if stopped {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("testproc: %s not stopped after 5s", p.Name)
}

// allStopped reports whether every thread listed under dir (/proc/PID/task)
// is in the stopped state.
func allStopped(dir string) (bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("testproc: %s: %w", dir, err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/stat")
		if err != nil {
			return false, fmt.Errorf("testproc: %s: %w", dir, err)
		}
		// The state follows the command name in parentheses: "pid (comm) T ...".
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false, nil
		}
	}
	return true, nil
}

// Kill ends the process group with SIGKILL and waits (bounded) for it.
func (p *Proc) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.t.Errorf("testproc: %s (pid %d) did not exit after SIGKILL", p.Name, cmd.Process.Pid)
	}
}

// Wait waits up to timeout for the process to exit by itself.
func (p *Proc) Wait(timeout time.Duration) error {
	p.mu.Lock()
	done, cmd := p.done, p.cmd
	p.mu.Unlock()
	select {
	case <-done:
		if cmd.ProcessState != nil && !cmd.ProcessState.Success() {
			return fmt.Errorf("%s exited: %s", p.Name, cmd.ProcessState)
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s still running after %s", p.Name, timeout)
	}
}

// Restart kills the process and starts it again with the same arguments.
func (p *Proc) Restart() {
	p.t.Helper()
	p.Kill()
	p.start()
}

// Redis starts a redis-server on a free 127.0.0.1 port with persistence off;
// extra arguments are appended to its command line.
func Redis(t testing.TB, extra ...string) *Proc {
	t.Helper()
	return RedisOn(t, FreeAddr(t, "127.0.0.1"), extra...)
}

// RedisOn starts a redis-server listening on addr (host:port); extra
// arguments are appended to its command line.
func RedisOn(t testing.TB, addr string, extra ...string) *Proc {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("testproc: redis address %q: %v", addr, err)
	}
	dir := t.TempDir()
	args := []string{"--bind", host, "--port", port, "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "no", "--daemonize", "no", "--logfile", ""}
	args = append(args, extra...)
	return Start(t, "redis-server "+addr, Binary(t, "redis-server"), args, addr)
}

// Memcached starts memcached on a free 127.0.0.1 port (TCP only).
func Memcached(t testing.TB) *Proc {
	t.Helper()
	return MemcachedOn(t, FreeAddr(t, "127.0.0.1"))
}

// MemcachedOn starts memcached listening on addr (host:port, TCP only).
func MemcachedOn(t testing.TB, addr string) *Proc {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("testproc: memcached address %q: %v", addr, err)
	}
	args := []string{"-l", host, "-p", port, "-U", "0", "-m", "64"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	return Start(t, "memcached "+addr, Binary(t, "memcached"), args, addr)
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Dynonode builds cmd/dynonode once per test binary and returns its path.
func Dynonode(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dynonode-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "dynonode")
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/dynonode")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/dynonode: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("testproc: %v", buildErr)
	}
	return buildPath
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Port returns the numeric port of a host:port address.
func Port(t testing.TB, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("testproc: %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("testproc: %q: %v", addr, err)
	}
	return n
}
