package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// binary is the dynonode built once for the tests in this file.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dynonode-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "dynonode")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=1.2.3-test", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build dynonode:", err)
		os.Exit(2)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the binary to completion (bounded) and returns its exit code,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, out.String(), errb.String()
}

// start runs the binary in the background; cleanup kills it by PID.
func start(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errb, &errb
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		_, _ = cmd.Process.Wait()
	})
	return cmd
}

// waitExit waits up to d for cmd to exit and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		require.NoError(t, err)
		return 0
	case <-time.After(d):
		t.Fatalf("dynonode did not exit within %v", d)
		return -1
	}
}

// eventually polls cond every 20ms for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort is a port that is free right now (testproc.FreeAddr: below the
// range the kernel gives connections their local ports from).
func freePort(t *testing.T) int {
	t.Helper()
	return testproc.Port(t, testproc.FreeAddr(t, "127.0.0.1"))
}

// writeConf writes a single-node embedded-store config on free ports.
func writeConf(t *testing.T, listenPort int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node.yml")
	conf := fmt.Sprintf("dyn_o_mite:\n  listen: 127.0.0.1:%d\n  dyn_listen: 127.0.0.1:%d\n  stats_listen: 127.0.0.1:%d\n",
		listenPort, freePort(t), freePort(t))
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
	return path
}

func TestVersionAndHelp(t *testing.T) {
	for _, f := range []string{"-V", "--version"} {
		code, out, _ := runCLI(t, f)
		assert.Equal(t, 0, code)
		assert.Equal(t, "This is dynonode-1.2.3-test\n", out)
	}
	for _, f := range []string{"-h", "--help", "-?"} {
		code, out, _ := runCLI(t, f)
		assert.Equal(t, 0, code)
		assert.Contains(t, out, "Usage: dynonode")
		assert.Contains(t, out, "--conf-file=FILE")
	}
	code, out, _ := runCLI(t, "-D")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "client_connections")
	assert.Contains(t, out, "server stats:")
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-q"}, {"--bogus"}, {"-s", "22222"}, {"-g"}, {"-v", "99"}} {
		code, out, errs := runCLI(t, args...)
		assert.Equal(t, 1, code, args)
		assert.Empty(t, out)
		assert.Contains(t, errs, "Try 'dynonode --help'", args)
	}
}

func TestTestConfExamples(t *testing.T) {
	files, err := filepath.Glob("../../conf/*.yml")
	require.NoError(t, err)
	more, err := filepath.Glob("../../conf/*/*.yml")
	require.NoError(t, err)
	files = append(files, more...)
	require.GreaterOrEqual(t, len(files), 12)
	for _, f := range files {
		code, _, errs := runCLI(t, "-t", "-c", f)
		assert.Equal(t, 0, code, f)
		assert.Equal(t, fmt.Sprintf("dynonode: configuration file '%s' syntax is valid\n", f), errs)
	}
}

func TestTestConfBroken(t *testing.T) {
	const head = "dyn_o_mite:\n  listen: 127.0.0.1:8102\n"
	cases := []struct{ yaml, want string }{
		{head + "  foo: 1\n", `line 3: directive "foo" is unknown`},
		{head + "  tokens: abc\n", `line 3: key "tokens": value "abc"`},
		{head + "  preconnect: True\n", `line 3: key "preconnect"`},
		{head + "  hash: sha1\n", `line 3: key "hash"`},
		{head + "  rack: a\n  rack: b\n", `line 4: key "rack": is a duplicate`},
		{head + "  dyn_seeds: [x]\n", `line 3: key "dyn_seeds"`},
		{"dyn_o_mite:\n  listen: 127.0.0.1:99999\n", `line 2: key "listen"`},
		{head + "  servers:\n  - 127.0.0.1:6379:1\n  - 127.0.0.1:6380:1\n", `line 5: key "servers"`},
		{head + "  read_consistency: ALL\n", `line 3: key "read_consistency"`},
		{"---\n" + head, `line 1: document marker`},
		{head + "  mbuf_size: 100\n", `line 3: key "mbuf_size"`},
	}
	for _, tc := range cases {
		path := filepath.Join(t.TempDir(), "bad.yml")
		require.NoError(t, os.WriteFile(path, []byte(tc.yaml), 0o644))
		code, _, errs := runCLI(t, "--test-conf", "--conf-file="+path)
		assert.Equal(t, 1, code, tc.yaml)
		assert.Contains(t, errs, "syntax is invalid", tc.yaml)
		assert.Contains(t, errs, tc.want, tc.yaml)
	}
	code, _, errs := runCLI(t, "-t", "-c", filepath.Join(t.TempDir(), "missing.yml"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "no such file")
}

func TestInvalidConfigFailsBeforeBinding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yml")
	require.NoError(t, os.WriteFile(path, []byte("dyn_o_mite:\n  listen: 127.0.0.1:1\n  bogus: 1\n"), 0o644))
	code, _, errs := runCLI(t, "-c", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `line 3: directive "bogus" is unknown`)
}

func TestPidFileAndSigterm(t *testing.T) {
	dir := t.TempDir()
	pidFile, logFile := filepath.Join(dir, "dynonode.pid"), filepath.Join(dir, "dynonode.log")
	conf := writeConf(t, freePort(t))
	cmd := start(t, "-c", conf, "-p", pidFile, "-o", logFile)
	eventually(t, "pid file", func() bool {
		data, err := os.ReadFile(pidFile)
		return err == nil && strings.TrimSpace(string(data)) == strconv.Itoa(cmd.Process.Pid)
	})
	eventually(t, "node up", func() bool {
		data, _ := os.ReadFile(logFile)
		return strings.Contains(string(data), "dynonode is up")
	})

	// A second node with the same pid file must refuse to start.
	code, _, errs := runCLI(t, "-c", writeConf(t, freePort(t)), "-p", pidFile)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "names running process")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, waitExit(t, cmd, 10*time.Second))
	_, err := os.Stat(pidFile)
	assert.True(t, os.IsNotExist(err), "pid file removed on exit")
	data, err := os.ReadFile(logFile)
	require.NoError(t, err)
	assert.Contains(t, string(data), "dynonode stopped")
}

func TestTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	code, _, errs := runCLI(t, "-c", writeConf(t, port))
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, fmt.Sprintf("cannot bind listen 127.0.0.1:%d", port))
	assert.Contains(t, errs, "address already in use")
}

func TestLogFileAndConnections(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "out.log")
	port := freePort(t)
	cmd := start(t, "-c", writeConf(t, port), "--output", logFile, "-v", "7", "--log-format=json")
	eventually(t, "node up", func() bool {
		data, _ := os.ReadFile(logFile)
		return strings.Contains(string(data), `"msg":"dynonode is up"`)
	})
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = conn.Write([]byte("PING\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\nGET a\r\n"))
	require.NoError(t, err)
	want := "+PONG\r\n+OK\r\n$1\r\n1\r\n"
	got := make([]byte, len(want))
	_, err = io.ReadFull(conn, got)
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "the embedded store serves pipelined RESP and inline commands")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	assert.Equal(t, 0, waitExit(t, cmd, 10*time.Second))
}

func TestDaemonize(t *testing.T) {
	dir := t.TempDir()
	pidFile, logFile := filepath.Join(dir, "d.pid"), filepath.Join(dir, "d.log")
	code, out, errs := runCLI(t, "-d", "-c", writeConf(t, freePort(t)), "-p", pidFile, "-o", logFile)
	require.Equal(t, 0, code, errs)
	assert.Empty(t, out)
	var pid int
	eventually(t, "daemon pid file", func() bool {
		data, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil && pid > 0
	})
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	sid, err := getsid(pid)
	require.NoError(t, err)
	assert.Equal(t, pid, sid, "the daemon leads its own session")
	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	eventually(t, "daemon exit removes pid file", func() bool {
		_, err := os.Stat(pidFile)
		return os.IsNotExist(err)
	})
	data, err := os.ReadFile(logFile)
	require.NoError(t, err)
	assert.Contains(t, string(data), "dynonode stopped")
}

func getsid(pid int) (int, error) {
	sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(sid), nil
}
