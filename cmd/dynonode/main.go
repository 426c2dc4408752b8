// Command dynonode is the dynonode daemon: it reads a Dynomite-style
// configuration file, validates it before binding any port, and serves one
// node of a cluster until SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
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

	log, closeLog, err := newLogger(opts, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "dynonode: %v\n", err)
		return 1
	}
	defer closeLog()
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
		defer removePidFile(opts.PidFile, log)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("dynonode starting", "version", version, "pid", os.Getpid(), "conf", opts.ConfFile,
		"pool", cfg.Pool, "datastore", cfg.DataStore.String())
	if err := serve(ctx, cfg, opts, log); err != nil {
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

// levelFor maps Dynomite's verbosity 0 (EMERG)..11 (PVERB) onto slog:
// 0-3 error, 4 warn, 5-6 info, 7-11 debug.
func levelFor(verbosity int) slog.Level {
	switch {
	case verbosity <= 3:
		return slog.LevelError
	case verbosity == 4:
		return slog.LevelWarn
	case verbosity <= 6:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// newLogger logs to stderr, or appends to the -o file.
func newLogger(opts Options, stderr io.Writer) (*slog.Logger, func(), error) {
	w, closeFn := stderr, func() {}
	if opts.LogFile != "" {
		f, err := os.OpenFile(opts.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		w, closeFn = f, func() { _ = f.Close() }
	}
	ho := &slog.HandlerOptions{Level: levelFor(opts.Verbosity)}
	var h slog.Handler = slog.NewTextHandler(w, ho)
	if opts.LogFormat == "json" {
		h = slog.NewJSONHandler(w, ho)
	}
	return slog.New(h), closeFn, nil
}
