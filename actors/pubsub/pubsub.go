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
// SPUBLISH goes the same way to the subscribers of shard channels (a
// namespace of their own: SSUBSCRIBE, Sub.Shard), and PUBSUB, sent to the
// local broker only, is answered about this node's subscriptions.
// Subscriptions live in the broker's memory only: a node that restarts
// has none, as its clients' connections are gone too. Delivery follows
// the order of the subscribers' addresses and the patterns', so a
// simulated run replays exactly.
package pubsub

import (
	"slices"
	"strings"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
)

// Sub subscribes Conn to channels, to patterns (Pattern), or to shard
// channels (Shard: SSUBSCRIBE's, a namespace of their own).
type Sub struct {
	Conn    actors.Addr
	Names   [][]byte
	Pattern bool
	Shard   bool
}

// Unsub unsubscribes Conn from channels, patterns or shard channels.
type Unsub struct {
	Conn    actors.Addr
	Names   [][]byte
	Pattern bool
	Shard   bool
}

// Gone drops the subscriptions of Conn (its connection ended): those
// named, or, with All, every one (a coordinator restarted after a panic
// no longer knows its own).
type Gone struct {
	Conn                       actors.Addr
	Channels, Patterns, Shards [][]byte
	All                        bool
}

// Message is a published message delivered to a subscriber: Pattern is
// the pattern it matched, nil for a channel subscription; Shard says it
// was published with SPUBLISH to a shard channel.
type Message struct {
	Pattern, Channel, Payload []byte
	Shard                     bool
}

// The three kinds of subscription.
const (
	kindChannel = iota
	kindPattern
	kindShard
)

func kindOf(pattern, shard bool) int {
	switch {
	case shard:
		return kindShard
	case pattern:
		return kindPattern
	}
	return kindChannel
}

type broker struct {
	subsOf [3]map[string][]actors.Addr // by kind: name -> subscribers, sorted, without repeats
	order  []string                    // the patterns, sorted
}

// New returns the producer of a node's broker.
func New() actors.Producer {
	return func() actors.Behaviour {
		return &broker{subsOf: [3]map[string][]actors.Addr{{}, {}, {}}}
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
			b.add(kindOf(m.Pattern, m.Shard), string(n), m.Conn)
		}
	case Unsub:
		for _, n := range m.Names {
			b.remove(kindOf(m.Pattern, m.Shard), string(n), m.Conn)
		}
	case Gone:
		if !m.All {
			for kind, names := range [][][]byte{m.Channels, m.Patterns, m.Shards} {
				for _, n := range names {
					b.remove(kind, string(n), m.Conn)
				}
			}
			return
		}
		for kind := range b.subsOf {
			var names []string
			for n, conns := range b.subsOf[kind] {
				if _, found := slices.BinarySearchFunc(conns, m.Conn, addrLess); found {
					names = append(names, n)
				}
			}
			for _, n := range names {
				b.remove(kind, n, m.Conn)
			}
		}
	case store.Exec:
		var reply []byte
		switch name := strings.ToLower(string(m.Args[0])); {
		case (name == "publish" || name == "spublish") && len(m.Args) == 3:
			reply = resp.AppendInt(nil, int64(b.publish(ctx, m.Args[1], m.Args[2], name == "spublish")))
		case name == "pubsub" && len(m.Args) >= 2:
			reply = b.introspect(m.Args[1:])
		default:
			reply = resp.AppendError(nil, "ERR dynonode: the pub/sub broker serves PUBLISH, SPUBLISH and PUBSUB only")
		}
		if !m.Quiet {
			ctx.Send(ctx.Sender(), store.Result{ID: m.ID, Reply: reply})
		}
	case store.Batch:
		for _, e := range m.Execs {
			b.Receive(ctx, e)
		}
	}
}

func (b *broker) add(kind int, name string, conn actors.Addr) {
	set := b.subsOf[kind]
	conns := set[name]
	i, found := slices.BinarySearchFunc(conns, conn, addrLess)
	if found {
		return
	}
	if kind == kindPattern && len(conns) == 0 {
		j, _ := slices.BinarySearch(b.order, name)
		b.order = slices.Insert(b.order, j, name)
	}
	set[name] = slices.Insert(conns, i, conn)
}

func (b *broker) remove(kind int, name string, conn actors.Addr) {
	set := b.subsOf[kind]
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
	if kind == kindPattern {
		if j, ok := slices.BinarySearch(b.order, name); ok {
			b.order = slices.Delete(b.order, j, j+1)
		}
	}
}

// introspect answers PUBSUB's subcommands (args[0] the subcommand, already
// checked by the coordinator) about this node's subscriptions, as Redis
// Cluster answers them about one node's: CHANNELS and SHARDCHANNELS list
// the channels with a subscriber (sorted: Redis lists them in its hash
// table's order) matching an optional pattern; NUMSUB and SHARDNUMSUB give
// each named channel's subscribers; NUMPAT the patterns subscribed to.
func (b *broker) introspect(args [][]byte) []byte {
	sub := strings.ToLower(string(args[0]))
	kind := kindChannel
	if strings.HasPrefix(sub, "shard") {
		kind, sub = kindShard, strings.TrimPrefix(sub, "shard")
	}
	switch sub {
	case "numpat":
		return resp.AppendInt(nil, int64(len(b.subsOf[kindPattern])))
	case "numsub":
		out := resp.AppendArrayHeader(nil, 2*len(args[1:]))
		for _, ch := range args[1:] {
			out = resp.AppendBulk(out, ch)
			out = resp.AppendInt(out, int64(len(b.subsOf[kind][string(ch)])))
		}
		return out
	}
	var names []string // channels
	for n := range b.subsOf[kind] {
		if len(args) < 2 || store.MatchGlob(args[1], []byte(n)) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := resp.AppendArrayHeader(nil, len(names))
	for _, n := range names {
		out = resp.AppendBulkString(out, n)
	}
	return out
}

// publish delivers payload on channel to the local subscribers (shard:
// SPUBLISH's, to the shard channel's) and returns how many deliveries it
// made.
func (b *broker) publish(ctx actors.Context, channel, payload []byte, shard bool) int {
	if shard {
		conns := b.subsOf[kindShard][string(channel)]
		for _, conn := range conns {
			ctx.Send(conn, Message{Channel: channel, Payload: payload, Shard: true})
		}
		return len(conns)
	}
	n := 0
	for _, conn := range b.subsOf[kindChannel][string(channel)] {
		ctx.Send(conn, Message{Channel: channel, Payload: payload})
		n++
	}
	for _, p := range b.order {
		if !store.MatchGlob([]byte(p), channel) {
			continue
		}
		for _, conn := range b.subsOf[kindPattern][p] {
			ctx.Send(conn, Message{Pattern: []byte(p), Channel: channel, Payload: payload})
			n++
		}
	}
	return n
}
