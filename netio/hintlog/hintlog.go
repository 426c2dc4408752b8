// Package hintlog is the daemon's hint log: actors/hints' log protocol
// over files, one append-only file per target node under a directory
// (hints_dir). Appends are written at once (the kernel's page cache) and
// made durable by an fsync of every file written since the last one,
// every SyncInterval, and the directory whenever a file is made or
// removed: a node killed with kill -9 loses nothing it wrote (the page
// cache survives the process), a machine that loses power loses at most
// the last interval, cut anywhere (the manager then finds a damaged tail
// and cuts the file at its last good record). A write that fails half
// way (a full disk) is cut back at once, so later records are not lost
// behind a torn one.
package hintlog

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hints"
)

// Options configures a Log.
type Options struct {
	// Dir holds the files; created (with its parents) if missing.
	Dir string
	// SyncInterval is how often written files are fsynced. Zero: 100 ms.
	SyncInterval time.Duration
	Log          *slog.Logger
}

// suffix ends every hint file's name.
const suffix = ".hints"

// New returns the producer of the log actor. Its files outlive the
// actor: a new incarnation (a restart) loads them.
func New(opts Options) actors.Producer {
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = 100 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return func() actors.Behaviour { return &Log{opts: opts} }
}

// Log is the actor. Receive runs on the actor's turn; the syncer
// goroutine shares the open files under mu.
type Log struct {
	opts  Options
	mu    sync.Mutex
	files map[string]*os.File // by target
	sizes map[string]int64    // each open file's length: what a failed write is cut back to
	dirty map[string]bool
	stop  chan struct{}
	done  chan struct{}
}

// Receive implements actors.Behaviour.
func (l *Log) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		l.files, l.sizes, l.dirty = map[string]*os.File{}, map[string]int64{}, map[string]bool{}
		if err := os.MkdirAll(l.opts.Dir, 0o755); err != nil {
			l.opts.Log.Error("cannot create hints_dir: hints will fail to be written", "hints_dir", l.opts.Dir, "err", err)
		}
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.syncer()
	case hints.Append:
		if err := l.append(m.Target, m.Data); err != nil {
			ctx.Send(ctx.Sender(), hints.AppendFailed{Target: m.Target, Err: err.Error()})
		}
	case hints.Clear:
		l.remove(m.Target)
	case hints.Cut:
		if err := l.cut(m.Target, m.Len); err != nil {
			l.opts.Log.Error("cannot cut a damaged hint log", "target", m.Target, "err", err)
		}
	case hints.Load:
		logs, err := l.load()
		if err != nil {
			l.opts.Log.Error("cannot read hints_dir: hints from before the restart are not replayed", "hints_dir", l.opts.Dir, "err", err)
		}
		ctx.Send(ctx.Sender(), hints.Loaded{Logs: logs})
	case actors.Stopping:
		close(l.stop)
		<-l.done
		l.mu.Lock()
		for t, f := range l.files {
			_ = f.Sync()
			_ = f.Close()
			delete(l.files, t)
		}
		l.mu.Unlock()
	}
}

// fileName is target's file: the target's id with every byte but letters,
// digits, '.', '-' and '_' escaped as %XX (a node id holds a ':').
func fileName(target string) string {
	var b strings.Builder
	for i := 0; i < len(target); i++ {
		c := target[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String() + suffix
}

// targetOf inverts fileName; false for a name it did not make.
func targetOf(name string) (string, bool) {
	base, ok := strings.CutSuffix(name, suffix)
	if !ok || base == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(base); i++ {
		if base[i] != '%' {
			b.WriteByte(base[i])
			continue
		}
		if i+2 >= len(base) {
			return "", false
		}
		var c byte
		if _, err := fmt.Sscanf(base[i+1:i+3], "%02X", &c); err != nil {
			return "", false
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), fileName(b.String()) == name
}

func (l *Log) path(target string) string { return filepath.Join(l.opts.Dir, fileName(target)) }

func (l *Log) append(target string, data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.files[target]
	if f == nil {
		var err error
		f, err = os.OpenFile(l.path(target), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("hint log: open: %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("hint log: stat: %w", err)
		}
		l.files[target], l.sizes[target] = f, st.Size()
		// The new file's name must survive a power loss too.
		l.syncDir()
	}
	if _, err := f.Write(data); err != nil {
		// A short write leaves a torn record, behind which every later
		// record would be lost at the next load: cut it off now. If that
		// fails too, the file is closed and the next load cuts it.
		if terr := f.Truncate(l.sizes[target]); terr != nil {
			_ = f.Close()
			delete(l.files, target)
			delete(l.sizes, target)
			return fmt.Errorf("hint log: write %s: %w (and cutting the torn record: %w)", f.Name(), err, terr)
		}
		return fmt.Errorf("hint log: write %s: %w", f.Name(), err)
	}
	l.sizes[target] += int64(len(data))
	l.dirty[target] = true
	return nil
}

// syncDir makes the directory's entries (a file made or removed) durable.
func (l *Log) syncDir() {
	d, err := os.Open(l.opts.Dir)
	if err == nil {
		err = d.Sync()
		_ = d.Close()
	}
	if err != nil {
		l.opts.Log.Warn("hint log: cannot sync hints_dir", "hints_dir", l.opts.Dir, "err", err)
	}
}

func (l *Log) remove(target string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.files[target]; f != nil {
		_ = f.Close()
		delete(l.files, target)
		delete(l.sizes, target)
	}
	delete(l.dirty, target)
	if err := os.Remove(l.path(target)); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			l.opts.Log.Warn("cannot remove a delivered hint log", "target", target, "err", err)
		}
		return
	}
	l.syncDir()
}

func (l *Log) cut(target string, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.Truncate(l.path(target), int64(n)); err != nil {
		return fmt.Errorf("hint log: truncate: %w", err)
	}
	if _, open := l.sizes[target]; open {
		l.sizes[target] = int64(n)
	}
	return nil
}

// load reads every hint file of the directory, sorted by target.
func (l *Log) load() ([]hints.Log, error) {
	entries, err := os.ReadDir(l.opts.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("hint log: %w", err)
	}
	var out []hints.Log
	var errs []error
	for _, e := range entries {
		target, ok := targetOf(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(l.opts.Dir, e.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("hint log %s: %w", e.Name(), err))
			continue
		}
		out = append(out, hints.Log{Target: target, Data: data})
	}
	slices.SortFunc(out, func(a, b hints.Log) int { return strings.Compare(a.Target, b.Target) })
	return out, errors.Join(errs...)
}

// syncer fsyncs the files written since its last round, every
// SyncInterval, until the actor stops.
func (l *Log) syncer() {
	defer close(l.done)
	t := time.NewTicker(l.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		var files []*os.File
		for target := range l.dirty {
			if f := l.files[target]; f != nil {
				files = append(files, f)
			}
		}
		clear(l.dirty)
		// Sync under the lock: a file is not closed (Clear) mid-sync.
		for _, f := range files {
			if err := f.Sync(); err != nil {
				l.opts.Log.Warn("hint log fsync failed", "file", f.Name(), "err", err)
			}
		}
		l.mu.Unlock()
	}
}
