// Command dynobench is the Go half of `make bench` (scripts/bench.sh runs
// the processes and redis-benchmark): it draws the results chart,
// measures what idle client connections cost a node, and measures
// anti-entropy on a cluster of its own (refill.go).
//
//	dynobench chart  -in results/bench.csv -out results/bench.png
//	dynobench idle   -addr 127.0.0.1:17102 -pid 1234 -conns 5000
//	dynobench refill -store redis -keys 1000000 -dynonode bin/dynonode
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dynobench chart|idle|refill [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "chart":
		err = chartCmd(os.Args[2:])
	case "idle":
		err = idleCmd(os.Args[2:])
	case "refill":
		err = refillCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (want chart, idle or refill)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dynobench:", err)
		os.Exit(1)
	}
}
