package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// daemonChildEnv marks the re-executed background process, so that it runs
// the node instead of forking again.
const daemonChildEnv = "DYNONODE_DAEMON_CHILD"

// daemonize re-executes this binary with the same arguments in a new
// session (no controlling terminal), stdin from /dev/null and stdout/stderr
// to the -o file or /dev/null, and returns once it has started. The working
// directory is kept so relative paths (pem_key_file, -p) mean the same.
// Errors after the start (a taken port) are in the -o log, not the exit code.
func daemonize(args []string, opts Options) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	out := null
	if opts.LogFile != "" {
		f, err := os.OpenFile(opts.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("log file: %w", err)
		}
		defer f.Close()
		out = f
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), daemonChildEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// writePidFile writes this process's id to path, refusing when the file
// names another process that is still alive.
func writePidFile(path string) error {
	if data, err := os.ReadFile(path); err == nil {
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err == nil && pid > 0 && pid != os.Getpid() && alive(pid) {
			return fmt.Errorf("pid file %s names running process %d: is another dynonode running?", path, pid)
		}
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// removePidFile removes path if it still holds this process's id.
func removePidFile(path string, log *slog.Logger) {
	data, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(os.Getpid()) {
		return
	}
	if err := os.Remove(path); err != nil {
		log.Warn("cannot remove pid file", "path", path, "err", err)
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
