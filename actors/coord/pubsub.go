package coord

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/pubsub"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
)

// Pub/sub, RESP2, as Redis 7.0 serves it to one connection: SUBSCRIBE,
// PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE and PUBLISH, their sharded forms
// SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH (shard channels are a namespace of
// their own, delivered as PUBLISH's are), and PUBSUB about this node. The connection's
// subscriptions are kept here (for the replies' counts) and at the node's
// broker (actors/pubsub), which delivers messages to it; PUBLISH goes to
// every node's broker, so a message published through any node reaches
// the subscribers of every node. While it has a subscription a
// connection may only (un)subscribe, PING, QUIT and RESET, as in Redis.

// subscribed reports whether the connection has a subscription.
func (c *Redis) subscribed() bool { return len(c.channels)+len(c.patterns)+len(c.shards) > 0 }

// inSubscribedMode answers a command a subscribed connection may not
// send, as Redis does, and PING in Redis's subscribed form; it reports
// whether it answered.
func (c *Redis) inSubscribedMode(spec *command.Spec, args [][]byte) bool {
	if !c.subscribed() {
		return false
	}
	switch spec.Name {
	case "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "quit", "reset":
		return false
	case "ping":
		var arg []byte
		if len(args) > 1 {
			arg = args[1]
		}
		if len(args) > 2 {
			return false // the arity error
		}
		out := resp.AppendArrayHeader(nil, 2)
		out = resp.AppendBulkString(out, "pong")
		c.p.answer(resp.AppendBulk(out, arg), false)
		return true
	}
	name := spec.Name
	switch _, container := command.ACLCategories(name + "|help"); {
	case name == "pubsub": // a container: its subcommand is checked first, and named
		if bad := pubsubArgsError(args, true); bad != "" {
			c.p.answer(errReply(bad), false)
			return true
		}
		name += "|" + strings.ToLower(string(args[1]))
	case container && len(args) > 1:
		// Redis names the subcommand (CLIENT SETNAME: 'client|setname');
		// one it does not know is refused as unknown before this check,
		// which the command's own handler does.
		sub := name + "|" + strings.ToLower(string(args[1]))
		if _, known := command.ACLCategories(sub); !known {
			return false
		}
		// Its argument count is checked first, as processCommand does.
		if a, ok := command.SubcommandArity(sub); ok && ((a > 0 && len(args) != a) || (a < 0 && len(args) < -a)) {
			c.p.answer(errReply("ERR wrong number of arguments for '"+sub+"' command"), false)
			return true
		}
		name = sub
	}
	c.p.answer(errReply("ERR Can't execute '"+name+"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"), false)
	return true
}

// pubsubCommand serves the PubSub class.
func (c *Redis) pubsubCommand(ctx actors.Context, spec *command.Spec, args [][]byte) {
	switch spec.Name {
	case "subscribe", "psubscribe", "ssubscribe":
		kind := kindOf(spec.Name)
		set := c.subs(kind)
		var added [][]byte
		var out []byte
		for _, name := range args[1:] {
			if _, ok := set[string(name)]; !ok {
				c.subSeq++
				set[string(name)] = c.subSeq
				added = append(added, bytes.Clone(name))
			}
			out = subReply(out, spec.Name, name, c.subCount(kind))
		}
		if len(added) > 0 {
			c.toBroker(ctx, pubsub.Sub{Conn: ctx.Self(), Names: added, Pattern: kind == subPattern, Shard: kind == subShard})
		}
		c.p.answer(out, false)
	case "unsubscribe", "punsubscribe", "sunsubscribe":
		c.p.answer(c.unsubscribe(ctx, spec.Name, kindOf(spec.Name), args[1:]), false)
	case "publish", "spublish":
		c.publish(ctx, args)
	case "pubsub":
		c.introspect(ctx, args)
	}
}

// The kinds of subscription: channels, patterns, shard channels (their
// own namespace: SSUBSCRIBE, SPUBLISH).
const (
	subChannel = iota
	subPattern
	subShard
)

// kindOf is the kind a (un)subscribe verb concerns.
func kindOf(verb string) int {
	switch verb {
	case "psubscribe", "punsubscribe":
		return subPattern
	case "ssubscribe", "sunsubscribe":
		return subShard
	}
	return subChannel
}

// subs is the connection's set of one kind, each name with its
// subscription's sequence number.
func (c *Redis) subs(kind int) map[string]uint64 {
	p := &c.channels
	switch kind {
	case subPattern:
		p = &c.patterns
	case subShard:
		p = &c.shards
	}
	if *p == nil {
		*p = map[string]uint64{}
	}
	return *p
}

// subCount is the count a (un)subscribe reply gives: channels and
// patterns together, shard channels apart (Redis 7.0).
func (c *Redis) subCount(kind int) int {
	if kind == subShard {
		return len(c.shards)
	}
	return len(c.channels) + len(c.patterns)
}

// unsubscribe drops names (all, in the order they were subscribed, as
// Redis 7.0 lists patterns, when none is given) and returns the replies:
// one per name, or one with a nil name when there was none.
func (c *Redis) unsubscribe(ctx actors.Context, verb string, kind int, names [][]byte) []byte {
	set := c.subs(kind)
	if len(names) == 0 {
		all := make([]string, 0, len(set))
		for n := range set {
			all = append(all, n)
		}
		slices.SortFunc(all, func(a, b string) int { return cmp.Compare(set[a], set[b]) })
		for _, n := range all {
			names = append(names, []byte(n))
		}
		if len(names) == 0 {
			return subReply(nil, verb, nil, c.subCount(kind))
		}
	}
	var out []byte
	var dropped [][]byte
	for _, name := range names {
		if _, ok := set[string(name)]; ok {
			delete(set, string(name))
			dropped = append(dropped, bytes.Clone(name))
		}
		out = subReply(out, verb, name, c.subCount(kind))
	}
	if len(dropped) > 0 {
		c.toBroker(ctx, pubsub.Unsub{Conn: ctx.Self(), Names: dropped, Pattern: kind == subPattern, Shard: kind == subShard})
	}
	return out
}

// dropSubscriptions forgets every subscription (RESET, the connection's
// end) and tells the broker which they were.
func (c *Redis) dropSubscriptions(ctx actors.Context) {
	if c.subscribed() {
		g := pubsub.Gone{Conn: ctx.Self()}
		for n := range c.channels {
			g.Channels = append(g.Channels, []byte(n))
		}
		for n := range c.patterns {
			g.Patterns = append(g.Patterns, []byte(n))
		}
		for n := range c.shards {
			g.Shards = append(g.Shards, []byte(n))
		}
		c.toBroker(ctx, g) // the order does not show: each is removed alone
	}
	c.channels, c.patterns, c.shards = nil, nil, nil
}

// toBroker sends m to this node's broker after the requests the turn has
// queued so far, so that PUBLISH then SUBSCRIBE in one pipeline reach the
// broker in that order, as in Redis.
func (c *Redis) toBroker(ctx actors.Context, m any) {
	if c.cfg.BrokerName == "" {
		return // a coordinator without a broker (tests of other parts)
	}
	c.p.sendExecs(ctx)
	ctx.Send(c.broker(), m)
}

// subReply appends Redis's *3 [verb, name (nil: none), count].
func subReply(dst []byte, verb string, name []byte, count int) []byte {
	dst = resp.AppendArrayHeader(dst, 3)
	dst = resp.AppendBulkString(dst, verb)
	if name == nil {
		dst = resp.AppendNullBulk(dst)
	} else {
		dst = resp.AppendBulk(dst, name)
	}
	return resp.AppendInt(dst, int64(count))
}

// message writes a delivered message as Redis pushes it in RESP2.
func (c *Redis) message(m pubsub.Message) {
	if !c.subscribed() {
		return // unsubscribed while the message was on its way
	}
	var out []byte
	switch {
	case m.Shard:
		if _, ok := c.shards[string(m.Channel)]; !ok {
			return
		}
		out = resp.AppendArrayHeader(out, 3)
		out = resp.AppendBulkString(out, "smessage")
	case m.Pattern != nil:
		if _, ok := c.patterns[string(m.Pattern)]; !ok {
			return
		}
		out = resp.AppendArrayHeader(out, 4)
		out = resp.AppendBulkString(out, "pmessage")
		out = resp.AppendBulk(out, m.Pattern)
	default:
		if _, ok := c.channels[string(m.Channel)]; !ok {
			return
		}
		out = resp.AppendArrayHeader(out, 3)
		out = resp.AppendBulkString(out, "message")
	}
	out = resp.AppendBulk(out, m.Channel)
	c.p.pushMessage(resp.AppendBulk(out, m.Payload))
}

// broker is this node's pub/sub broker.
func (c *Redis) broker() actors.Addr {
	return actors.Addr{Node: actors.NodeID(c.cfg.Ring.Local().ID), Name: c.cfg.BrokerName}
}

// introspect answers PUBSUB from this node's broker, as Redis Cluster
// answers it for one node, after Redis's checks of its arguments.
func (c *Redis) introspect(ctx actors.Context, args [][]byte) {
	if bad := pubsubArgsError(args, false); bad != "" {
		c.p.answer(errReply(bad), false)
		return
	}
	if strings.EqualFold(string(args[1]), "help") {
		out := resp.AppendArrayHeader(nil, len(pubsubHelp))
		for _, l := range pubsubHelp {
			out = append(append(append(out, '+'), l...), "\r\n"...)
		}
		c.p.answer(out, false)
		return
	}
	s := c.p.single()
	s.pending, s.merge, s.deadline = 1, mergeFirst, ctx.Now().Add(c.cfg.Timeout)
	c.p.sendOpts(ctx, &c.cfg, c.p.push(s), 0, args, localOnly(c.cfg.Ring), config.DCOne, false, sendOpts{to: c.cfg.BrokerName, anyState: true})
}

// pubsubArgsError is Redis's error for PUBSUB's subcommand and its
// arguments, or "". With lookup alone, only the errors Redis finds when
// it looks the subcommand up (an unknown one, a wrong arity): those come
// before anything else, subscribed mode included.
func pubsubArgsError(args [][]byte, lookup bool) string {
	switch sub := strings.ToLower(string(args[1])); sub {
	case "help", "numpat":
		if len(args) != 2 {
			return "ERR wrong number of arguments for 'pubsub|" + sub + "' command"
		}
	case "channels", "shardchannels":
		if len(args) > 3 && !lookup {
			return "ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try PUBSUB HELP."
		}
	case "numsub", "shardnumsub":
	default:
		return "ERR unknown subcommand '" + trunc(string(args[1]), 128) + "'. Try PUBSUB HELP."
	}
	return ""
}

// pubsubHelp is Redis 7.0.15's PUBSUB HELP.
var pubsubHelp = []string{
	"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
	"HELP",
	"    Prints this help.",
}

// publish sends PUBLISH (or SPUBLISH) to the broker of every node of the ring, and
// answers the local broker's count of deliveries (Redis Cluster too counts
// the receivers of the node that served PUBLISH). The local broker is
// asked through the pipeline, whatever state gossip gives the node (a
// broker serves in every state); the others are sent the message without
// an answer, whatever their state: one that is down misses it.
func (c *Redis) publish(ctx actors.Context, args [][]byte) {
	local := localOnly(c.cfg.Ring)
	for _, n := range c.otherNodes() {
		c.p.execs = append(c.p.execs, outExec{
			to:   actors.Addr{Node: actors.NodeID(n.Node), Name: c.cfg.BrokerName},
			exec: store.Exec{Args: args, Quiet: true},
		})
	}
	s := c.p.single()
	s.pending, s.merge, s.deadline = 1, mergeFirst, ctx.Now().Add(c.cfg.Timeout)
	c.p.sendOpts(ctx, &c.cfg, c.p.push(s), 0, args, local, config.DCOne, false, sendOpts{to: c.cfg.BrokerName, anyState: true})
}
