// Command dynonode is the dynonode daemon: it reads a Dynomite-style
// configuration file, validates it before binding any port, and serves one
// node of a cluster until SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/dynonode/dynonode/actors/config"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the exit, so its outcome is an exit code.
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "dynonode: %v\nTry 'dynonode --help' for more information.\n", err)
		return 1
	}
	switch {
	case opts.Help:
		fmt.Fprint(stdout, usage())
		return 0
	case opts.Version:
		fmt.Fprintf(stdout, "This is dynonode-%s\n", version)
		return 0
	case opts.DescribeStats:
		describeStats(stdout)
		return 0
	}

	cfg, err := loadConfig(opts)
	var certs *security
	if err == nil {
		certs, err = loadSecurity(cfg)
	}
	if opts.TestConf {
		if err != nil {
			fmt.Fprintf(stderr, "dynonode: configuration file '%s' syntax is invalid\n%v\n", opts.ConfFile, err)
			return 1
		}
		for _, w := range cfg.Warnings {
			fmt.Fprintf(stderr, "dynonode: warning: %s\n", w)
		}
		fmt.Fprintf(stderr, "dynonode: configuration file '%s' syntax is valid\n", opts.ConfFile)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "dynonode: configuration file '%s' is invalid\n%v\n", opts.ConfFile, err)
		return 1
	}

	if opts.Daemonize && os.Getenv(daemonChildEnv) == "" {
		if err := daemonize(args, opts); err != nil {
			fmt.Fprintf(stderr, "dynonode: daemonize: %v\n", err)
			return 1
		}
		return 0
	}

	log, err := newLogger(opts, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "dynonode: %v\n", err)
		return 1
	}
	defer log.close()
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	fail := func(err error) int {
		log.Error("dynonode stopped", "err", err)
		if opts.LogFile != "" {
			fmt.Fprintf(stderr, "dynonode: %v\n", err)
		}
		return 1
	}
	if opts.PidFile != "" {
		if err := writePidFile(opts.PidFile); err != nil {
			return fail(err)
		}
		defer removePidFile(opts.PidFile, log.Logger)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // while draining, a second signal ends the process at once
	go log.limiter.run(ctx)
	sigCtx, stopSignals := context.WithCancel(context.Background())
	defer stopSignals()
	// Registered before the node starts, not in the goroutine: a signal
	// that came before the goroutine ran would take its default action
	// (SIGTTIN and SIGTTOU stop the process).
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU)
	defer signal.Stop(sigs)
	go handleSignals(sigCtx, log, certs, sigs)
	runtime.GOMAXPROCS(procs(opts.Procs, os.Getenv("GOMAXPROCS") != "", runtime.GOMAXPROCS(0)))
	floor := heapFloorBytes(opts.HeapFloorMiB, os.Getenv("GOGC") != "")
	defer startHeapFloor(floor, log.Logger)()
	log.Info("dynonode starting", "version", version, "pid", os.Getpid(), "conf", opts.ConfFile,
		"pool", cfg.Pool, "datastore", cfg.DataStore.String(), "gomaxprocs", runtime.GOMAXPROCS(0), "cpus", runtime.NumCPU(),
		"heap_floor_mib", floor>>20)
	if err := serve(ctx, cfg, opts, certs, log.Logger, log.level); err != nil {
		return fail(err)
	}
	log.Info("dynonode stopped")
	return 0
}

// loadConfig reads and validates the configuration file, with -m/-M as
// fallbacks for mbuf_size/max_msgs.
func loadConfig(opts Options) (*config.Config, error) {
	data, err := os.ReadFile(opts.ConfFile)
	if err != nil {
		return nil, fmt.Errorf("conf: %w", err)
	}
	return config.ParseWithFlags(data, config.FlagDefaults{MbufSize: opts.MbufSize, MaxMsgs: opts.MaxMsgs})
}

// handleSignals serves Dynomite's run-time signals until ctx ends: SIGHUP
// reopens the -o file and reloads the TLS certificates, SIGTTIN raises and
// SIGTTOU lowers the verbosity.
func handleSignals(ctx context.Context, log *logs, certs *security, sigs <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				log.reopen()
				certs.reload(log.Logger)
			case syscall.SIGTTIN:
				log.level.step(+1)
			case syscall.SIGTTOU:
				log.level.step(-1)
			}
		}
	}
}

// procs is the GOMAXPROCS a node runs with: --procs, else the environment's
// GOMAXPROCS (already applied by the runtime, which also follows a
// container's CPU quota: available), else half of what is available, at
// least one. A node shares its machine with the datastore it fronts (one
// Redis thread) and with the kernel's network stack, which does most of a
// proxy's work: under redis-benchmark on two cores, one thread instead of
// two cut dynonode's CPU per request by a third and raised its throughput
// in front of Redis by about a quarter, as runnable goroutines stopped
// waking idle threads (docs/profiling.md).
func procs(flag int, fromEnv bool, available int) int {
	switch {
	case flag > 0:
		return flag
	case fromEnv:
		return available
	}
	return max(1, available/2)
}
