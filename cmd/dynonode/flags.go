package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors/config"
)

// Options are the command-line flags (Dynomite's, plus --log-format).
type Options struct {
	Help           bool   // -h, -?, --help
	Version        bool   // -V, --version
	TestConf       bool   // -t, --test-conf
	Daemonize      bool   // -d, --daemonize
	DescribeStats  bool   // -D, --describe-stats
	Verbosity      int    // -v, --verbosity: 0..11, default 5
	LogFile        string // -o, --output: "" = stderr
	LogFormat      string // --log-format: text (default) or json
	ConfFile       string // -c, --conf-file: default conf/dynomite.yml
	PidFile        string // -p, --pid-file: "" = none
	MbufSize       int    // -m, --mbuf-size: bytes; 0 = not given
	MaxMsgs        int    // -M, --max-msgs: 0 = not given
	AdminOperation int    // -x, --admin-operation: 0 = normal
	// DrainTimeout (--drain-timeout) bounds how long SIGTERM/SIGINT wait for
	// open client connections' pending replies. 0: the default, 5s.
	DrainTimeout time.Duration
	// Pprof (--pprof) mounts net/http/pprof under /debug/pprof/ on the
	// admin port (stats_listen). Off by default: profiles expose internals.
	Pprof bool
	// FaultInjection (--fault-injection) mounts /fault/... on the admin
	// port (clock skew for the Jepsen harness). Off by default: the
	// endpoints do not exist without it.
	FaultInjection bool
	// RemoteDebug (--remote-debug) allows --pprof and --fault-injection on
	// a stats_listen that is not a loopback address; without it the node
	// refuses to start so.
	RemoteDebug bool
	// Procs (--procs) is how many threads run Go code at once (GOMAXPROCS).
	// 0: the GOMAXPROCS environment variable if set, else half the CPUs
	// the process may use, at least one (see defaultProcs).
	Procs int
	// HeapFloorMiB (--heap-floor) is how many MiB the heap may grow past
	// its live size before Go's collector runs again (see gcfloor.go).
	// 0: the default, 64; -1: off (--heap-floor=0). GOGC in the
	// environment turns it off too.
	HeapFloorMiB int
	// ClientIO (--client-io) is how client connections are served:
	// "loops" (the default on Linux: event loops, one per --procs) or
	// "goroutines" (a read loop goroutine per connection).
	ClientIO string
}

const (
	defaultConfFile  = "conf/dynomite.yml"
	defaultVerbosity = 5
	defaultDrain     = 5 * time.Second // --drain-timeout
	maxVerbosity     = 11
)

// option describes one flag; set is nil for the ones Dynomite declares but
// never implemented, which are refused.
type option struct {
	short  byte // 0 when there is no short form
	long   string
	arg    string // argument name for help; "" for a switch
	help   string
	set    func(o *Options, v string) error
	refuse string // why an unimplemented flag is refused
}

func intArg(dst func(o *Options) *int, check func(int) error) func(*Options, string) error {
	return func(o *Options, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		if err := check(n); err != nil {
			return err
		}
		*dst(o) = n
		return nil
	}
}

var options = []option{
	{short: 'h', long: "help", help: "print this help and exit",
		set: func(o *Options, _ string) error { o.Help = true; return nil }},
	{short: 'V', long: "version", help: "print the version and exit",
		set: func(o *Options, _ string) error { o.Version = true; return nil }},
	{short: 't', long: "test-conf", help: "check the configuration file and exit (0 valid, 1 invalid)",
		set: func(o *Options, _ string) error { o.TestConf = true; return nil }},
	{short: 'd', long: "daemonize", help: "run in the background (new session, stdio to /dev/null or the -o file)",
		set: func(o *Options, _ string) error { o.Daemonize = true; return nil }},
	{short: 'D', long: "describe-stats", help: "print the names and meanings of the stats and exit",
		set: func(o *Options, _ string) error { o.DescribeStats = true; return nil }},
	{short: 'v', long: "verbosity", arg: "N", help: "log level 0..11 (default 5): <=3 error, 4 warn, 5-6 info, >=7 debug",
		set: intArg(func(o *Options) *int { return &o.Verbosity }, func(n int) error {
			if n < 0 || n > maxVerbosity {
				return fmt.Errorf("verbosity %d is not in 0..%d", n, maxVerbosity)
			}
			return nil
		})},
	{short: 'o', long: "output", arg: "FILE", help: "append logs to FILE (default stderr)",
		set: func(o *Options, v string) error { o.LogFile = v; return nil }},
	{long: "log-format", arg: "FORMAT", help: "log format: text (default) or json (dynonode only)",
		set: func(o *Options, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("log format %q is not text or json", v)
			}
			o.LogFormat = v
			return nil
		}},
	{long: "drain-timeout", arg: "DURATION", help: "on SIGTERM/SIGINT, wait up to DURATION (e.g. 5s, 500ms; default 5s)\n" +
		strings.Repeat(" ", 31) + "for pending replies before closing clients (dynonode only)",
		set: func(o *Options, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("drain timeout %q is not a duration such as 5s", v)
			}
			o.DrainTimeout = d
			return nil
		}},
	{long: "pprof", help: "serve Go's profiler at /debug/pprof/ on the admin port (dynonode only; see docs/profiling.md)",
		set: func(o *Options, _ string) error { o.Pprof = true; return nil }},
	{long: "procs", arg: "N", help: "threads running dynonode's code at once (default: $GOMAXPROCS if set, else half\n" +
		strings.Repeat(" ", 31) + "the CPUs, at least 1: the rest is the datastore's and the network stack's) (dynonode only)",
		set: intArg(func(o *Options) *int { return &o.Procs }, func(n int) error {
			if n < 1 || n > 1024 {
				return fmt.Errorf("procs %d is not in 1..1024", n)
			}
			return nil
		})},
	{long: "heap-floor", arg: "MIB", help: "let the heap grow by at least MIB MiB between garbage collections (default 64;\n" +
		strings.Repeat(" ", 31) + "0 turns it off; a GOGC environment variable wins) (dynonode only; see docs/profiling.md)",
		set: func(o *Options, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1<<20 {
				return fmt.Errorf("heap floor %q is not a number of MiB in 0..1048576", v)
			}
			o.HeapFloorMiB = n
			if n == 0 {
				o.HeapFloorMiB = -1
			}
			return nil
		}},
	{long: "client-io", arg: "MODE", help: "how client connections are served: loops (default on Linux: one event loop per\n" +
		strings.Repeat(" ", 31) + "--procs, as Redis) or goroutines (a reader per connection) (dynonode only)",
		set: func(o *Options, v string) error {
			if v != "loops" && v != "goroutines" {
				return fmt.Errorf("client io %q is not loops or goroutines", v)
			}
			o.ClientIO = v
			return nil
		}},
	{long: "fault-injection", help: "serve fault-injection endpoints (/fault/clock_offset/MS) on the admin port\n" +
		strings.Repeat(" ", 31) + "for testing only (dynonode only; see jepsen/README.md)",
		set: func(o *Options, _ string) error { o.FaultInjection = true; return nil }},
	{long: "remote-debug", help: "allow --pprof and --fault-injection on a stats_listen that is not a loopback\n" +
		strings.Repeat(" ", 31) + "address (refused without it) (dynonode only; see docs/security.md)",
		set: func(o *Options, _ string) error { o.RemoteDebug = true; return nil }},
	{short: 'c', long: "conf-file", arg: "FILE", help: "configuration file (default " + defaultConfFile + ")",
		set: func(o *Options, v string) error { o.ConfFile = v; return nil }},
	{short: 'p', long: "pid-file", arg: "FILE", help: "write the process id to FILE, removed on exit (default off)",
		set: func(o *Options, v string) error { o.PidFile = v; return nil }},
	{short: 'm', long: "mbuf-size", arg: "N", help: "deprecated, the file's mbuf_size wins: buffer bytes, 512..512000, multiple of 16 (default 16384)",
		set: intArg(func(o *Options) *int { return &o.MbufSize }, config.CheckMbufSize)},
	{short: 'M', long: "max-msgs", arg: "N", help: "deprecated, the file's max_msgs wins: messages in flight, 100000..1000000 (default 200000)",
		set: intArg(func(o *Options) *int { return &o.MaxMsgs }, config.CheckMaxMsgs)},
	{short: 'x', long: "admin-operation", arg: "N", help: "admin mode (default 0): N>0 opens no peer connections; N=1 also runs DEL\n" + strings.Repeat(" ", 31) + "locally, and only if this node owns the key",
		set: intArg(func(o *Options) *int { return &o.AdminOperation }, func(n int) error {
			if n < 0 {
				return fmt.Errorf("admin operation %d is negative", n)
			}
			return nil
		})},
	{short: 'g', long: "gossip", refuse: "Dynomite documents it but never implemented it; use enable_gossip in the configuration file"},
	{short: 's', long: "stats-port", arg: "N", refuse: "Dynomite never implemented it; use stats_listen in the configuration file"},
	{short: 'i', long: "stats-interval", arg: "N", refuse: "Dynomite never implemented it; use stats_interval in the configuration file"},
	{short: 'a', long: "stats-addr", arg: "ADDR", refuse: "Dynomite never implemented it; use stats_listen in the configuration file"},
	{short: 'y', long: "admin-param", arg: "N", refuse: "Dynomite never implemented it"},
}

func findShort(c byte) *option {
	for i := range options {
		if options[i].short == c {
			return &options[i]
		}
	}
	return nil
}

func findLong(name string) *option {
	for i := range options {
		if options[i].long == name {
			return &options[i]
		}
	}
	return nil
}

// parseArgs reads getopt-style arguments: -c file, -cfile, --conf-file=file,
// --conf-file file, and grouped switches such as -dt.
func parseArgs(args []string) (Options, error) {
	o := Options{Verbosity: defaultVerbosity, ConfFile: defaultConfFile, LogFormat: "text"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func(name string) (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s requires an argument", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "--":
			if i+1 < len(args) {
				return o, fmt.Errorf("unexpected argument %q", args[i+1])
			}
			return o, nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			opt := findLong(name)
			if opt == nil {
				return o, fmt.Errorf("unrecognized option '--%s'", name)
			}
			if err := refused(opt, "--"+name); err != nil {
				return o, err
			}
			if opt.arg == "" && hasVal {
				return o, fmt.Errorf("option '--%s' doesn't allow an argument", name)
			}
			if opt.arg != "" && !hasVal {
				v, err := next("'--" + name + "'")
				if err != nil {
					return o, err
				}
				val = v
			}
			if err := opt.set(&o, val); err != nil {
				return o, fmt.Errorf("option '--%s': %w", name, err)
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				c := a[j]
				if c == '?' {
					o.Help = true
					continue
				}
				opt := findShort(c)
				if opt == nil {
					return o, fmt.Errorf("invalid option -- '%c'", c)
				}
				if err := refused(opt, "-"+string(c)); err != nil {
					return o, err
				}
				val := ""
				if opt.arg != "" {
					if j+1 < len(a) {
						val = a[j+1:]
					} else {
						v, err := next("-- '" + string(c) + "'")
						if err != nil {
							return o, err
						}
						val = v
					}
					j = len(a)
				}
				if err := opt.set(&o, val); err != nil {
					return o, fmt.Errorf("option -%c: %w", c, err)
				}
			}
		default:
			return o, fmt.Errorf("unexpected argument %q", a)
		}
	}
	return o, nil
}

func refused(opt *option, name string) error {
	if opt.refuse == "" {
		return nil
	}
	return fmt.Errorf("invalid option %s: not implemented (%s)", name, opt.refuse)
}

// usage is the --help text.
func usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, `This is dynonode-%s

dynonode turns one Redis, Memcached or embedded store per node into a
replicated cluster of datacenters and racks, reached with the store's own
protocol. It reads Netflix Dynomite's dynomite.yml and accepts its flags.

Usage: dynonode [-?hVdDt] [-v level] [-o file] [-c conf] [-p pidfile]
                [-m mbuf] [-M msgs] [-x op] [--log-format text|json]
                [--drain-timeout duration] [--procs n] [--heap-floor MiB]
                [--pprof] [--fault-injection]

Options:
`, version)
	for _, opt := range options {
		if opt.refuse != "" {
			continue
		}
		flag := "    "
		if opt.short != 0 {
			flag = "-" + string(opt.short) + ", "
		}
		flag += "--" + opt.long
		if opt.arg != "" {
			flag += "=" + opt.arg
		}
		fmt.Fprintf(&b, "  %-28s %s\n", flag, opt.help)
	}
	var refused []string
	for _, opt := range options {
		if opt.refuse != "" {
			refused = append(refused, "-"+string(opt.short)+"/--"+opt.long)
		}
	}
	fmt.Fprintf(&b, `
Refused with exit 1, as in Dynomite, which lists but never implemented them:
  %s
Their settings live in the configuration file.
`, strings.Join(refused, ", "))
	b.WriteString(`
Values: -c file, -cfile, --conf-file=file and --conf-file file are the same;
switches group (-dt).

Signals: SIGINT/SIGTERM stop accepting clients, wait up to --drain-timeout
for pending replies, then exit 0 (a second signal exits at once); SIGHUP
reopens the -o file (for logrotate); SIGTTIN/SIGTTOU raise/lower the log
verbosity by one.

Examples:
  dynonode -t -c conf/dynonode.yml     check a configuration file
  dynonode -c conf/dynonode.yml -v 7   run in the foreground with debug logs
  dynonode -d -c conf/redis_single.yml -o /var/log/dynonode.log -p /run/dynonode.pid

Configuration keys: docs/config.md.
`)
	return b.String()
}
