// Command dynobench is the Go half of `make bench` (scripts/bench.sh runs
// the processes and redis-benchmark): it draws the results chart and
// measures what idle client connections cost a node.
//
//	dynobench chart  -in results/bench.csv -out results/bench.png
//	dynobench idle   -addr 127.0.0.1:17102 -pid 1234 -conns 5000
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dynobench chart|idle [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "chart":
		err = chartCmd(os.Args[2:])
	case "idle":
		err = idleCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (want chart or idle)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dynobench:", err)
		os.Exit(1)
	}
}
