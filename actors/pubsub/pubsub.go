// Package pubsub is a node's publish/subscribe broker: the actor that
// knows which of the node's client connections subscribe to which
// channels and patterns, and delivers what is published to them.
//
// A connection's coordinator (actors/coord) sends Sub and Unsub as its
// client subscribes, and Gone when the connection ends. PUBLISH goes, as
// a store.Exec of PUBLISH channel message, to the broker of every node of
// the ring (so a message published through any node reaches subscribers
// on every node); each broker sends a Message to every local subscriber
// of the channel, and one per matching pattern, and answers the number
// of those deliveries (store.Result ":n") unless the Exec is Quiet.
// Subscriptions live in the broker's memory only: a node that restarts
// has none, as its clients' connections are gone too. Delivery follows
// the order of the subscribers' addresses and the patterns', so a
// simulated run replays exactly.
package pubsub

import (
	"bytes"
	"slices"
	"strings"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
)

// Sub subscribes Conn to channels, or to patterns (Pattern).
type Sub struct {
	Conn    actors.Addr
	Names   [][]byte
	Pattern bool
}

// Unsub unsubscribes Conn from channels or patterns.
type Unsub struct {
	Conn    actors.Addr
	Names   [][]byte
	Pattern bool
}

// Gone drops the subscriptions of Conn (its connection ended): those
// named, or, with All, every one (a coordinator restarted after a panic
// no longer knows its own).
type Gone struct {
	Conn               actors.Addr
	Channels, Patterns [][]byte
	All                bool
}

// Message is a published message delivered to a subscriber: Pattern is
// the pattern it matched, nil for a channel subscription.
type Message struct {
	Pattern, Channel, Payload []byte
}

type broker struct {
	channels map[string][]actors.Addr // sorted, without repeats
	patterns map[string][]actors.Addr
	order    []string // the patterns, sorted
}

// New returns the producer of a node's broker.
func New() actors.Producer {
	return func() actors.Behaviour {
		return &broker{channels: map[string][]actors.Addr{}, patterns: map[string][]actors.Addr{}}
	}
}

func addrLess(a, b actors.Addr) int {
	if c := strings.Compare(string(a.Node), string(b.Node)); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// Receive implements actors.Behaviour.
func (b *broker) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case Sub:
		for _, n := range m.Names {
			b.add(m.Pattern, string(n), m.Conn)
		}
	case Unsub:
		for _, n := range m.Names {
			b.remove(m.Pattern, string(n), m.Conn)
		}
	case Gone:
		if !m.All {
			for _, n := range m.Channels {
				b.remove(false, string(n), m.Conn)
			}
			for _, n := range m.Patterns {
				b.remove(true, string(n), m.Conn)
			}
			return
		}
		for _, pattern := range []bool{false, true} {
			var names []string
			for n, conns := range b.subs(pattern) {
				if _, found := slices.BinarySearchFunc(conns, m.Conn, addrLess); found {
					names = append(names, n)
				}
			}
			for _, n := range names {
				b.remove(pattern, n, m.Conn)
			}
		}
	case store.Exec:
		if len(m.Args) != 3 || !bytes.EqualFold(m.Args[0], []byte("publish")) {
			if !m.Quiet {
				ctx.Send(ctx.Sender(), store.Result{ID: m.ID, Reply: resp.AppendError(nil, "ERR dynonode: the pub/sub broker serves PUBLISH channel message only")})
			}
			return
		}
		n := b.publish(ctx, m.Args[1], m.Args[2])
		if !m.Quiet {
			ctx.Send(ctx.Sender(), store.Result{ID: m.ID, Reply: resp.AppendInt(nil, int64(n))})
		}
	case store.Batch:
		for _, e := range m.Execs {
			b.Receive(ctx, e)
		}
	}
}

// subs is the broker's subscriptions to channels, or to patterns.
func (b *broker) subs(pattern bool) map[string][]actors.Addr {
	if pattern {
		return b.patterns
	}
	return b.channels
}

func (b *broker) add(pattern bool, name string, conn actors.Addr) {
	set := b.subs(pattern)
	conns := set[name]
	i, found := slices.BinarySearchFunc(conns, conn, addrLess)
	if found {
		return
	}
	if pattern && len(conns) == 0 {
		j, _ := slices.BinarySearch(b.order, name)
		b.order = slices.Insert(b.order, j, name)
	}
	set[name] = slices.Insert(conns, i, conn)
}

func (b *broker) remove(pattern bool, name string, conn actors.Addr) {
	set := b.subs(pattern)
	conns := set[name]
	i, found := slices.BinarySearchFunc(conns, conn, addrLess)
	if !found {
		return
	}
	conns = slices.Delete(conns, i, i+1)
	if len(conns) > 0 {
		set[name] = conns
		return
	}
	delete(set, name)
	if pattern {
		if j, ok := slices.BinarySearch(b.order, name); ok {
			b.order = slices.Delete(b.order, j, j+1)
		}
	}
}

// publish delivers payload on channel to the local subscribers and
// returns how many deliveries it made.
func (b *broker) publish(ctx actors.Context, channel, payload []byte) int {
	n := 0
	for _, conn := range b.channels[string(channel)] {
		ctx.Send(conn, Message{Channel: channel, Payload: payload})
		n++
	}
	for _, p := range b.order {
		if !store.MatchGlob([]byte(p), channel) {
			continue
		}
		for _, conn := range b.patterns[p] {
			ctx.Send(conn, Message{Pattern: []byte(p), Channel: channel, Payload: payload})
			n++
		}
	}
	return n
}
