package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseArgsForms(t *testing.T) {
	for _, args := range [][]string{
		{"-c", "x.yml"}, {"-cx.yml"}, {"--conf-file=x.yml"}, {"--conf-file", "x.yml"},
	} {
		o, err := parseArgs(args)
		require.NoError(t, err, args)
		assert.Equal(t, "x.yml", o.ConfFile, args)
	}
	o, err := parseArgs([]string{"-dt", "-v7", "-o", "log", "-p", "pid", "-m", "1024", "--max-msgs=300000", "-x", "1", "--log-format", "json"})
	require.NoError(t, err)
	assert.Equal(t, Options{Daemonize: true, TestConf: true, Verbosity: 7, LogFile: "log", PidFile: "pid",
		MbufSize: 1024, MaxMsgs: 300000, AdminOperation: 1, LogFormat: "json", ConfFile: defaultConfFile}, o)

	o, err = parseArgs([]string{"-tc", "f.yml"})
	require.NoError(t, err, "a switch may precede an option with an argument in one group")
	assert.True(t, o.TestConf)
	assert.Equal(t, "f.yml", o.ConfFile)

	o, err = parseArgs(nil)
	require.NoError(t, err)
	assert.Equal(t, Options{Verbosity: 5, ConfFile: "conf/dynomite.yml", LogFormat: "text"}, o)

	o, err = parseArgs([]string{"--procs", "3"})
	require.NoError(t, err)
	assert.Equal(t, 3, o.Procs)

	o, err = parseArgs([]string{"-?"})
	require.NoError(t, err)
	assert.True(t, o.Help)
}

func TestParseArgsErrors(t *testing.T) {
	for args, want := range map[string]string{
		"-q":                    "invalid option -- 'q'",
		"--nope":                "unrecognized option '--nope'",
		"-c":                    "requires an argument",
		"--conf-file":           "requires an argument",
		"--help=yes":            "doesn't allow an argument",
		"-v 12":                 "not in 0..11",
		"-v x":                  "not a number",
		"-m 1000":               "multiple of 16",
		"-M 5":                  "100000..1000000",
		"-x -1":                 "negative",
		"--log-format=xml":      "text or json",
		"-g":                    "not implemented",
		"-s 22222":              "not implemented",
		"-i 30":                 "not implemented",
		"-a 0.0.0.0":            "not implemented",
		"-y 1":                  "not implemented",
		"--gossip":              "not implemented",
		"stray":                 "unexpected argument",
		"-- stray":              "unexpected argument",
		"--admin-operation=abc": "not a number",
		"--procs=0":             "not in 1..1024",
		"--procs x":             "not a number",
	} {
		_, err := parseArgs(strings.Fields(args))
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), want, args)
	}
}

func TestVerbosityLevels(t *testing.T) {
	want := map[int]slog.Level{0: slog.LevelError, 3: slog.LevelError, 4: slog.LevelWarn, 5: slog.LevelInfo,
		6: slog.LevelInfo, 7: slog.LevelDebug, 11: slog.LevelDebug}
	for v, l := range want {
		assert.Equal(t, l, levelFor(v), v)
	}
}

func TestUsageListsEveryFlag(t *testing.T) {
	u := usage()
	for _, opt := range options {
		assert.Contains(t, u, "--"+opt.long)
	}
}

func TestProcs(t *testing.T) {
	assert.Equal(t, 3, procs(3, false, 8), "--procs wins")
	assert.Equal(t, 3, procs(3, true, 8), "--procs wins over GOMAXPROCS")
	assert.Equal(t, 8, procs(0, true, 8), "GOMAXPROCS from the environment is kept")
	assert.Equal(t, 4, procs(0, false, 8), "half the CPUs")
	assert.Equal(t, 1, procs(0, false, 2))
	assert.Equal(t, 1, procs(0, false, 1), "at least one")
}

// A connection that stopped reading waits for its replies at least 10 s,
// the drain's grace, and the longest a request may take.
func TestStoppedConnWait(t *testing.T) {
	assert.Equal(t, 51*time.Second, stoppedConnWait(5*time.Second, 5*time.Second), "timeout 5 s at factor 10, plus a second")
	assert.Equal(t, 10*time.Second, stoppedConnWait(100*time.Millisecond, 5*time.Second))
	assert.Equal(t, 30*time.Second, stoppedConnWait(100*time.Millisecond, 30*time.Second), "--drain-timeout 30s")
}
