// Command nodeinit is PID 1 of a Jepsen node container (an image FROM
// scratch, with no shell): it starts redis-server, waits until it accepts
// connections, then starts dynonode. It restarts nothing by itself, so the
// harness's kill -9 of either child stays down until the harness says so:
//
//	SIGUSR1  start redis-server if it is not running
//	SIGUSR2  start dynonode if it is not running
//	SIGTERM, SIGINT  stop both children and exit
//
// Usage: nodeinit -- REDIS-ARGS... -- DYNONODE-ARGS...
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

// child is one supervised program.
type child struct {
	name string
	argv []string
	cmd  *exec.Cmd // nil when not running
}

type exited struct {
	c   *child
	cmd *exec.Cmd
	err error
}

func main() {
	args := os.Args[1:]
	if len(args) < 1 || args[0] != "--" {
		fail("usage: nodeinit -- REDIS-ARGS... -- DYNONODE-ARGS...")
	}
	i := slices.Index(args[1:], "--")
	if i < 1 || i+2 >= len(args) {
		fail("usage: nodeinit -- REDIS-ARGS... -- DYNONODE-ARGS...")
	}
	redis := &child{name: "redis-server", argv: args[1 : i+1]}
	dyno := &child{name: "dynonode", argv: args[i+2:]}

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan exited, 4)
	start(redis, done)
	waitTCP("127.0.0.1:6379", 10*time.Second)
	start(dyno, done)
	for {
		select {
		case e := <-done:
			if e.c.cmd == e.cmd {
				e.c.cmd = nil
			}
			logf("%s exited: %v", e.c.name, e.err)
		case s := <-sigs:
			switch s {
			case syscall.SIGUSR1:
				start(redis, done)
			case syscall.SIGUSR2:
				start(dyno, done)
			default:
				stop(done, dyno, redis)
				os.Exit(0)
			}
		}
	}
}

func start(c *child, done chan<- exited) {
	if c.cmd != nil {
		logf("%s already running (pid %d)", c.name, c.cmd.Process.Pid)
		return
	}
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		logf("cannot start %s: %v", c.name, err)
		return
	}
	c.cmd = cmd
	logf("started %s (pid %d)", c.name, cmd.Process.Pid)
	go func() { done <- exited{c, cmd, cmd.Wait()} }()
}

// stop sends SIGTERM to the running children and waits up to 5s for them.
func stop(done <-chan exited, cs ...*child) {
	running := 0
	for _, c := range cs {
		if c.cmd != nil {
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
			running++
		}
	}
	deadline := time.After(5 * time.Second)
	for running > 0 {
		select {
		case <-done:
			running--
		case <-deadline:
			return
		}
	}
}

func waitTCP(addr string, limit time.Duration) {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
	}
	logf("%s did not accept connections within %s; starting dynonode anyway", addr, limit)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "nodeinit: "+format+"\n", args...)
}

func fail(msg string) {
	logf("%s", msg)
	os.Exit(2)
}
