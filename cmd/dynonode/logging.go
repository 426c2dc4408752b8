package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

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

// logLevel is the run-time log level, in Dynomite's verbosity numbers:
// SIGTTIN/SIGTTOU and the admin port move it.
type logLevel struct {
	mu        sync.Mutex
	verbosity int
	level     slog.LevelVar
	log       *slog.Logger // announces changes; set once the logger exists
}

func newLogLevel(verbosity int) *logLevel {
	l := &logLevel{verbosity: verbosity}
	l.level.Set(levelFor(verbosity))
	return l
}

// Verbosity implements admin.LogLevel.
func (l *logLevel) Verbosity() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.verbosity
}

// SetVerbosity implements admin.LogLevel; v is clamped to 0..11. The change
// is logged at the level that is still visible afterwards.
func (l *logLevel) SetVerbosity(v int) {
	v = min(max(v, 0), maxVerbosity)
	l.mu.Lock()
	old := l.verbosity
	l.verbosity = v
	l.level.Set(levelFor(v))
	l.mu.Unlock()
	if l.log != nil {
		l.log.Log(context.Background(), max(levelFor(v), slog.LevelInfo), "log level set",
			"verbosity", v, "was", old, "level", levelFor(v).String())
	}
}

// step moves the verbosity by d (SIGTTIN +1, SIGTTOU -1).
func (l *logLevel) step(d int) { l.SetVerbosity(l.Verbosity() + d) }

// logFile is the -o file. Reopen (on SIGHUP) opens the path again, so a
// file logrotate renamed is left behind and a new one starts.
type logFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func openLogFile(path string) (*logFile, error) {
	l := &logFile{path: path}
	return l, l.Reopen()
}

func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// Reopen switches to a freshly opened file at the path; on error the old
// file stays in use.
func (l *logFile) Reopen() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return nil
}

func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// logs is the daemon's logging: the logger, its level, and the -o file.
type logs struct {
	*slog.Logger
	level   *logLevel
	file    *logFile // nil: stderr
	limiter *limiter
}

// newLogger logs to stderr, or appends to the -o file.
func newLogger(opts Options, stderr io.Writer) (*logs, error) {
	l := &logs{level: newLogLevel(opts.Verbosity)}
	w := stderr
	if opts.LogFile != "" {
		f, err := openLogFile(opts.LogFile)
		if err != nil {
			return nil, err
		}
		l.file, w = f, f
	}
	ho := &slog.HandlerOptions{Level: &l.level.level}
	var h slog.Handler = slog.NewTextHandler(w, ho)
	if opts.LogFormat == "json" {
		h = slog.NewJSONHandler(w, ho)
	}
	l.limiter = &limiter{base: h, perSecond: requestErrorsPerSecond, windows: map[string]*window{}}
	l.Logger = slog.New(limitHandler{Handler: h, l: l.limiter})
	l.level.log = l.Logger
	return l, nil
}

func (l *logs) close() {
	if l.file != nil {
		_ = l.file.Close()
	}
}

// reopen reopens the -o file (SIGHUP); without one there is nothing to do.
func (l *logs) reopen() {
	if l.file == nil {
		l.Info("SIGHUP: logging to stderr, nothing to reopen")
		return
	}
	if err := l.file.Reopen(); err != nil {
		l.Error("SIGHUP: cannot reopen the log file; still writing to the old one", "err", err)
		return
	}
	l.Info("log file reopened", "path", l.file.path)
}

// requestErrorsPerSecond bounds the "request failed" lines logged per
// error kind and second; the rest are counted and summarised.
const requestErrorsPerSecond = 10

// requestFailed is the message coordinators log a failed request with
// (actors/coord); its "kind" attribute keys the rate limit.
const requestFailed = "request failed"

// limiter rate-limits request-error lines across all connections, per
// kind: at most perSecond per one-second window, then one "suppressed"
// summary per window that dropped lines.
type limiter struct {
	base      slog.Handler
	perSecond int

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start      time.Time
	logged     int
	suppressed int
}

// allow reports whether a line of kind at t may be logged, and how many
// lines of that kind a window that just ended suppressed.
func (l *limiter) allow(kind string, t time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[kind]
	if w == nil {
		w = &window{start: t}
		l.windows[kind] = w
	}
	if t.Sub(w.start) >= time.Second {
		suppressed = w.suppressed
		*w = window{start: t}
	}
	if w.logged < l.perSecond {
		w.logged++
		return true, suppressed
	}
	w.suppressed++
	return false, suppressed
}

// flush summarises the windows that ended before now and dropped lines, so
// a flood that stops is still accounted for.
func (l *limiter) flush(now time.Time) {
	l.mu.Lock()
	type due struct {
		kind string
		n    int
	}
	var out []due
	for kind, w := range l.windows {
		if now.Sub(w.start) >= time.Second {
			if w.suppressed > 0 {
				out = append(out, due{kind, w.suppressed})
			}
			delete(l.windows, kind)
		}
	}
	l.mu.Unlock()
	for _, d := range out {
		l.summary(context.Background(), l.base, d.kind, d.n, now)
	}
}

func (l *limiter) summary(ctx context.Context, h slog.Handler, kind string, n int, t time.Time) {
	if !h.Enabled(ctx, slog.LevelWarn) {
		return
	}
	r := slog.NewRecord(t, slog.LevelWarn, "request errors suppressed", 0)
	r.AddAttrs(slog.String("kind", kind), slog.Int("suppressed", n), slog.Int("logged_per_second", l.perSecond))
	_ = h.Handle(ctx, r)
}

// run flushes summaries every second until ctx ends.
func (l *limiter) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.flush(time.Now().Add(time.Second))
			return
		case now := <-t.C:
			l.flush(now)
		}
	}
}

// limitHandler applies the limiter to "request failed" records.
type limitHandler struct {
	slog.Handler
	l *limiter
}

func (h limitHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != requestFailed {
		return h.Handler.Handle(ctx, r)
	}
	kind := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "kind" {
			kind = a.Value.String()
			return false
		}
		return true
	})
	ok, suppressed := h.l.allow(kind, r.Time)
	if suppressed > 0 {
		h.l.summary(ctx, h.l.base, kind, suppressed, r.Time)
	}
	if !ok {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h limitHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return limitHandler{Handler: h.Handler.WithAttrs(as), l: h.l}
}

func (h limitHandler) WithGroup(name string) slog.Handler {
	return limitHandler{Handler: h.Handler.WithGroup(name), l: h.l}
}
