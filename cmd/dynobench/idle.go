package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// idleCmd opens conns client connections to addr, each after one PING so
// the node has set it up, holds them idle, and reports how much the
// resident memory of process pid grew per connection.
func idleCmd(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:17102", "node's client address")
	pid := fs.Int("pid", 0, "node's process id (its RSS is read from /proc)")
	conns := fs.Int("conns", 5000, "idle connections to open")
	hold := fs.Duration("hold", 0, "keep the connections open this long after measuring (to profile the node)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	before, err := rss(*pid)
	if err != nil {
		return err
	}
	open := make([]net.Conn, 0, *conns)
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	buf := make([]byte, 64)
	for range *conns {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			return fmt.Errorf("connection %d to %s: %w", len(open)+1, *addr, err)
		}
		open = append(open, c)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
			return fmt.Errorf("ping on connection %d: %w", len(open), err)
		}
		if _, err := c.Read(buf); err != nil {
			return fmt.Errorf("pong on connection %d: %w", len(open), err)
		}
	}
	time.Sleep(2 * time.Second) // let the node settle (GC, idle goroutines)
	after, err := rss(*pid)
	if err != nil {
		return err
	}
	fmt.Printf("idle connections: %d, RSS %.1f MiB -> %.1f MiB, %.1f KiB per connection\n",
		*conns, float64(before)/(1<<20), float64(after)/(1<<20), float64(after-before)/1024/float64(*conns))
	time.Sleep(*hold)
	return nil
}

// rss is the resident set size of process pid in bytes.
func rss(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read RSS of process %d: %w", pid, err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("process %d: VmRSS %q: %w", pid, v, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("process %d: no VmRSS in /proc status", pid)
}
