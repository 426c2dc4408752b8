package store

import (
	"bytes"
	"slices"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/hlc"
)

// Watches are the store's half of blocking pops (BLPOP, BZPOPMIN, BLMOVE...,
// actors/coord/blocking.go). A coordinator whose client waits for a list
// or sorted set to get an element sends each replica of the keys
//
//	DYNO.WATCH key [key ...]
//
// as an Exec that is not answered at once: the store answers it (+OK, the
// Exec's ID) when a write that may add elements to one of the keys reaches
// it, and the coordinator then tries its pop again. DYNO.UNWATCH (Quiet,
// the same ID) withdraws a watch nobody needs any more. A wake is a hint,
// never a promise: the coordinator also tries again on a slow timer, so a
// wake that is lost (a store restarted, a build that does not know
// DYNO.WATCH and answers it with an error) costs latency, not
// correctness.
//
// The watchers of a key are woken first come, first served, as Redis
// serves its blocked clients: as many as the write may have added elements
// (LPUSH k a b wakes two), all of them for the commands whose count is not
// known (a transaction, a script, LMOVE into the key, a read repair's
// restore...). A DYNO.WATCHEVERY watcher is woken by every such write and
// stays registered. Every wake carries the write's version. Neither
// routing nor Redis ever sees these commands.
//
// A watch is a lease: its coordinator renews it with every attempt
// (DYNO.WATCH again under the same ID), and one not renewed within
// WatchLease is forgotten, so that the watches of a coordinator that
// died, or lost track of them, neither take wakes from live ones nor fill
// the store.
type Watches struct {
	byKey map[string][]watcher
	keys  map[watcher]*watch // what each watcher watches, to remove it whole
	n     int                // entries in byKey
}

type watch struct {
	keys  []string
	at    time.Time // when it was registered or renewed
	every bool      // DYNO.WATCHEVERY: woken by every push, and kept
}

// WatchLease is how long a watch lasts without being renewed.
var WatchLease = 10 * time.Second

// watcher is a watch: the coordinator and its Exec's ID.
type watcher struct {
	to actors.Addr
	id uint64
}

// MaxWatches bounds the keys watched at one store; a watch past it is
// answered with an error, and its coordinator polls.
var MaxWatches = 1 << 20

// The internal commands.
var (
	bDynoWatch      = []byte("dyno.watch")
	bDynoWatchEvery = []byte("dyno.watchevery")
	bDynoUnwatch    = []byte("dyno.unwatch")
)

// WatchCommand is the DYNO.WATCH of keys.
func WatchCommand(keys [][]byte) [][]byte { return append([][]byte{bDynoWatch}, keys...) }

// WatchEveryCommand is DYNO.WATCHEVERY of keys: a watch that every push
// to them wakes, whatever the watchers before it, and that stays (until
// withdrawn or its lease ends): a coordinator's watch at the replicas that
// do not decide its pop, which tells it each push that reached them.
func WatchEveryCommand(keys [][]byte) [][]byte { return append([][]byte{bDynoWatchEvery}, keys...) }

// UnwatchCommand is DYNO.UNWATCH.
func UnwatchCommand() [][]byte { return [][]byte{bDynoUnwatch} }

// errTooManyWatches answers a watch past MaxWatches.
const errTooManyWatches = "-ERR dynonode: this store holds too many watches; poll\r\n"

// Handle serves e if it is DYNO.WATCH or DYNO.UNWATCH, and reports whether
// it was.
func (w *Watches) Handle(ctx actors.Context, e Exec) bool {
	if len(e.Args) == 0 {
		return false
	}
	switch name := e.Args[0]; {
	case bytes.EqualFold(name, bDynoWatch) || bytes.EqualFold(name, bDynoWatchEvery):
		who := watcher{ctx.Sender(), e.ID}
		every := bytes.EqualFold(name, bDynoWatchEvery)
		keys := e.Args[1:]
		if len(keys) == 0 {
			w.answer(ctx, e, []byte("-ERR wrong number of arguments for 'dyno.watch' command\r\n"))
			return true
		}
		if old, ok := w.keys[who]; ok && old.every == every && sameKeys(old.keys, keys) {
			old.at = ctx.Now() // a renewal keeps its place in line (and adds nothing)
			return true
		}
		if w.n+len(keys) > MaxWatches {
			if w.expire(ctx.Now()); w.n+len(keys) > MaxWatches {
				w.answer(ctx, e, []byte(errTooManyWatches))
				return true
			}
		}
		w.remove(who) // a watch again under the same ID, of other keys, replaces the first
		if w.byKey == nil {
			w.byKey, w.keys = map[string][]watcher{}, map[watcher]*watch{}
		}
		wt := &watch{at: ctx.Now(), every: every}
		for _, k := range keys {
			name := string(k)
			if slices.Contains(wt.keys, name) {
				continue // BLPOP k k: one entry, or it would take two wakes
			}
			wt.keys = append(wt.keys, name)
			w.byKey[name] = append(w.byKey[name], who)
		}
		w.keys[who] = wt
		w.n += len(wt.keys)
		return true
	case bytes.EqualFold(name, bDynoUnwatch):
		w.remove(watcher{ctx.Sender(), e.ID})
		return true
	}
	return false
}

func (w *Watches) answer(ctx actors.Context, e Exec, reply []byte) {
	if !e.Quiet {
		ctx.Send(ctx.Sender(), Result{ID: e.ID, Reply: reply})
	}
}

// sameKeys reports whether names (deduplicated) are keys.
func sameKeys(names []string, keys [][]byte) bool {
	for _, k := range keys {
		if !slices.Contains(names, string(k)) {
			return false
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(keys, func(k []byte) bool { return string(k) == n }) {
			return false
		}
	}
	return true
}

// remove drops every entry of who.
func (w *Watches) remove(who watcher) {
	wt, ok := w.keys[who]
	if !ok {
		return
	}
	delete(w.keys, who)
	for _, k := range wt.keys {
		ws := w.byKey[k]
		for i := range ws {
			if ws[i] == who {
				ws = append(ws[:i], ws[i+1:]...)
				w.n--
				break
			}
		}
		if len(ws) == 0 {
			delete(w.byKey, k)
		} else {
			w.byKey[k] = ws
		}
	}
}

// expired reports whether who's lease has run out at now.
func (w *Watches) expired(who watcher, now time.Time) bool {
	wt, ok := w.keys[who]
	return ok && now.Sub(wt.at) > WatchLease
}

// expire forgets every watch whose lease has run out.
func (w *Watches) expire(now time.Time) {
	var gone []watcher
	for who := range w.keys {
		if w.expired(who, now) {
			gone = append(gone, who)
		}
	}
	for _, who := range gone { // removal sends nothing: its order is moot
		w.remove(who)
	}
}

// Len is the number of keys watched (each watch counts its keys).
func (w *Watches) Len() int { return w.n }

var wokenReply = []byte("+OK\r\n")

// Touched wakes the watchers of the keys write args may have added
// elements to (args[0] the command, any case), given its reply when the
// store knows it (nil: not yet, as the Redis adapter, which queues the
// command): a reply that is an error, a null or 0 added nothing. The wakes
// carry ver, the write's version, which tells a coordinator which push
// reached which replica. It costs nothing while nothing is watched.
func (w *Watches) Touched(ctx actors.Context, args [][]byte, reply []byte, ver hlc.Version) {
	if w.n == 0 || len(args) < 2 {
		return
	}
	if reply != nil && (len(reply) == 0 || reply[0] == '-' || string(reply) == "$-1\r\n" ||
		string(reply) == "*-1\r\n" || string(reply) == ":0\r\n") {
		return
	}
	var buf [24]byte
	name := args[0]
	if len(name) > len(buf) {
		return
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(name)]) {
	case "lpush", "rpush", "lpushx", "rpushx":
		w.wake(ctx, args[1], len(args)-2, ver)
	case "zadd":
		w.wake(ctx, args[1], (len(args)-2)/2, ver)
	case "geoadd":
		w.wake(ctx, args[1], (len(args)-2)/3, ver)
	case "lmove", "rpoplpush":
		// Only the destination gains an element (a blocked LMOVE's own
		// attempts must not wake the waiters on its source), and not when
		// it is the source (a rotation adds nothing).
		if len(args) > 2 && !bytes.Equal(args[1], args[2]) {
			w.wake(ctx, args[2], 1, ver)
		}
	case "linsert", "zincrby", "zunionstore", "zinterstore", "zdiffstore",
		"zrangestore", "georadius", "georadiusbymember", "geosearchstore", "sort", "rename",
		"renamenx", "copy", "restore", "dyno.restore", "dyno.exec", "eval", "evalsha":
		for _, a := range args[1:] {
			w.wake(ctx, a, -1, ver)
		}
	}
}

// wake answers up to n watchers of key (all of them for n < 0), first
// come first served, and every DYNO.WATCHEVERY watcher, which stays.
func (w *Watches) wake(ctx actors.Context, key []byte, n int, ver hlc.Version) {
	ws, ok := w.byKey[string(key)]
	if !ok || n == 0 {
		return
	}
	now := ctx.Now()
	var woken, kept, gone []watcher
	for _, who := range ws {
		switch {
		case w.expired(who, now):
			gone = append(gone, who)
		case w.keys[who].every:
			kept = append(kept, who)
		case n < 0 || len(woken) < n:
			woken = append(woken, who)
		}
	}
	for _, who := range gone {
		w.remove(who)
	}
	for _, who := range woken {
		w.remove(who)
		ctx.Send(who.to, Result{ID: who.id, Reply: wokenReply, Version: ver})
	}
	for _, who := range kept {
		ctx.Send(who.to, Result{ID: who.id, Reply: wokenReply, Version: ver})
	}
}
