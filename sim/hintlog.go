package sim

import (
	"maps"
	"slices"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hints"
)

// HintLog is the simulator's hint log (actors/hints' log protocol): the
// daemon's files under hints_dir as a durable actor, so it survives a
// crash of its node unless the node is wiped. What was appended since its
// last sync (every hintSync) may be lost in a crash, cut anywhere (a torn
// write): the manager then finds a damaged tail, as after a real crash.
// SetHintLogMode fills its disk.
type HintLog struct {
	logs   map[string][]byte
	synced map[string]int
	full   bool
	armed  bool
	booted bool
}

// SetHintLogMode sets a node's hint log's faults (inject to "hintlog").
type SetHintLogMode struct {
	// Full makes every Append fail, as on a full disk.
	Full bool
}

// hintSync is how often the simulated log syncs.
const hintSync = 100 * time.Millisecond

type hintSyncTick struct{}

// NewHintLog is the producer the simulated nodes' assemblies use.
func NewHintLog() actors.Behaviour { return &HintLog{} }

// Receive implements actors.Behaviour.
func (h *HintLog) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		if h.logs == nil {
			h.logs, h.synced = map[string][]byte{}, map[string]int{}
		}
		if h.booted {
			h.tear(ctx)
		}
		h.booted, h.armed = true, false
	case hints.Append:
		if h.full {
			ctx.Send(ctx.Sender(), hints.AppendFailed{Target: m.Target, Err: "no space left on device (simulated)"})
			return
		}
		h.logs[m.Target] = append(h.logs[m.Target], m.Data...)
		if !h.armed {
			h.armed = true
			ctx.After(hintSync, hintSyncTick{})
		}
	case hintSyncTick:
		h.armed = false
		for t, b := range h.logs {
			h.synced[t] = len(b)
		}
	case hints.Clear:
		delete(h.logs, m.Target)
		delete(h.synced, m.Target)
	case hints.Cut:
		if b, ok := h.logs[m.Target]; ok && m.Len <= len(b) {
			h.logs[m.Target] = b[:m.Len]
			h.synced[m.Target] = min(h.synced[m.Target], m.Len)
		}
	case hints.Load:
		var out hints.Loaded
		for _, t := range slices.Sorted(maps.Keys(h.logs)) {
			out.Logs = append(out.Logs, hints.Log{Target: t, Data: slices.Clone(h.logs[t])})
		}
		ctx.Send(ctx.Sender(), out)
	case SetHintLogMode:
		h.full = m.Full
	}
}

// tear loses, after a crash, a random part of what each log appended
// since its last sync.
func (h *HintLog) tear(ctx actors.Context) {
	for _, t := range slices.Sorted(maps.Keys(h.logs)) {
		b, s := h.logs[t], h.synced[t]
		if len(b) > s {
			h.logs[t] = b[:s+ctx.Rand().IntN(len(b)-s+1)]
		}
	}
}
