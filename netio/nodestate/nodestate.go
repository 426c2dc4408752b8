// Package nodestate is the daemon's node state: what a node remembers on
// its own disk, beside its datastore (actors/antientropy's GetMark and
// SaveMark): the data marker it last saw in the datastore, in one small
// file under a directory (hints_dir). A datastore found without a marker
// at start on a node whose file holds one lost its data (a redis-server
// restarted without persistence while the node was down, or the
// embedded store of a restarted process): the node resumes from its
// replicas. A missing file is a new node.
package nodestate

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/antientropy"
)

// FileName is the marker's file under the directory: the marker on its
// first line, then "resuming" on the second while the node refills its
// datastore.
const FileName = "datastore.mark"

// New returns the producer of the node-state actor over dir.
func New(dir string, log *slog.Logger) actors.Producer {
	if log == nil {
		log = slog.Default()
	}
	return func() actors.Behaviour { return &State{dir: dir, log: log} }
}

// State is the actor. Its file outlives it: a new incarnation reads it.
type State struct {
	dir string
	log *slog.Logger
}

// Receive implements actors.Behaviour.
func (s *State) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case antientropy.GetMark:
		mark, resuming, err := Read(s.dir)
		st := antientropy.MarkState{Mark: mark, Resuming: resuming}
		if err != nil {
			st.Err = err.Error()
		}
		ctx.Send(ctx.Sender(), st)
	case antientropy.SaveMark:
		if err := Write(s.dir, m.Mark, m.Resuming); err != nil {
			s.log.Warn("the datastore's marker cannot be saved: if the datastore is emptied while this node is down, the node will take it as new", "err", err)
		}
	}
}

// Read returns the marker saved under dir ("" when there is none) and
// whether the node was refilling its datastore.
func Read(dir string) (mark string, resuming bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("node state: %w", err)
	}
	mark, rest, _ := strings.Cut(string(b), "\n")
	return mark, strings.TrimSpace(rest) == "resuming", nil
}

// Write saves mark (and resuming) under dir, atomically: a temporary
// file, fsynced, renamed over the old one, then the directory fsynced.
func Write(dir, mark string, resuming bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("node state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, FileName+".*")
	if err != nil {
		return fmt.Errorf("node state: %w", err)
	}
	content := mark + "\n"
	if resuming {
		content += "resuming\n"
	}
	_, werr := tmp.WriteString(content)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("node state: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, FileName)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("node state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("node state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("node state: sync %s: %w", dir, err)
	}
	return nil
}
