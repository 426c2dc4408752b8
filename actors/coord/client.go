package coord

import (
	"strconv"
	"strings"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/resp"
)

// RedisVersion is the Redis whose commands and replies dynonode serves,
// reported as INFO's redis_version (client libraries check it).
const RedisVersion = "7.0.15"

// The CLIENT subcommands a client sends about its own connection, answered
// by the coordinator as Redis 7.0 answers them (SETINFO and NO-TOUCH as
// Redis 7.2, which newer client libraries send on connect), and LIST and
// KILL, about the node's connections, answered with the node's client
// registry (clients.go); the others, about a Redis server's whole
// traffic or client-side caching, are refused with the reason.

const badClientName = "ERR Client names cannot contain spaces, newlines or special characters."

// validName is Redis's rule for client names (and library names): printable
// ASCII without spaces.
func validName(b []byte) bool {
	for _, c := range b {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// clientServed are the CLIENT subcommands served (their arity is Redis's,
// command.SubcommandArity; SETINFO and NO-TOUCH are Redis 7.2's, which
// 7.0's table lacks).
var clientServed = map[string]bool{"setname": true, "getname": true, "id": true, "info": true, "list": true, "kill": true,
	"setinfo": true, "no-evict": true, "no-touch": true}

// clientArity72 is the arity of the served subcommands Redis 7.0 does not
// know.
var clientArity72 = map[string]int{"setinfo": 4, "no-touch": 3}

// clientRefused are CLIENT subcommands Redis knows that act on a Redis
// server's whole traffic (PAUSE, UNPAUSE, UNBLOCK), on what this
// connection is sent (REPLY), or on client-side caching (TRACKING...).
var clientRefused = map[string]bool{"pause": true, "unpause": true, "reply": true, "tracking": true, "caching": true,
	"getredir": true, "trackinginfo": true, "unblock": true, "help": true}

// client serves CLIENT.
func (c *Redis) client(ctx actors.Context, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	if clientRefused[sub] || (c.cfg.Clients.IsZero() && (sub == "list" || sub == "kill")) {
		why := "it concerns connections other than this one"
		if !clientRefused[sub] {
			why = "this node keeps no registry of its connections"
		}
		c.p.refuse(errReply("ERR dynonode: 'CLIENT "+strings.ToUpper(sub)+"' is not supported: "+why), false, ErrUnsupported)
		return
	}
	if !clientServed[sub] {
		c.p.answer(errReply("ERR unknown subcommand '"+trunc(string(args[1]), 128)+"'. Try CLIENT HELP."), false)
		return
	}
	n, ok := command.SubcommandArity("client|" + sub)
	if !ok {
		n = clientArity72[sub]
	}
	if (n > 0 && len(args) != n) || (n < 0 && len(args) < -n) {
		c.p.answer(errReply("ERR wrong number of arguments for 'client|"+sub+"' command"), false)
		return
	}
	switch sub {
	case "list":
		c.clientList(ctx, args)
		return
	case "kill":
		c.clientKill(ctx, args)
		return
	}
	c.p.answer(c.clientSelf(ctx, sub, args), false)
}

// clientSelf answers the subcommands about this connection alone.
func (c *Redis) clientSelf(ctx actors.Context, sub string, args [][]byte) []byte {
	switch sub {
	case "setname":
		if !validName(args[2]) {
			return errReply(badClientName)
		}
		c.name = string(args[2])
		return okReply
	case "getname":
		if c.name == "" {
			return []byte("$-1\r\n")
		}
		return resp.AppendBulkString(nil, c.name)
	case "id":
		return resp.AppendInt(nil, c.id)
	case "info":
		return c.clientInfo(ctx)
	case "setinfo":
		attr := strings.ToLower(string(args[2]))
		if attr != "lib-name" && attr != "lib-ver" {
			return errReply("ERR Unrecognized option '" + string(args[2]) + "'")
		}
		if !validName(args[3]) {
			return errReply("ERR " + attr + " cannot contain spaces, newlines or special characters.")
		}
		return okReply
	}
	// no-evict, no-touch: nothing is evicted or touched on a node's
	// behalf; NO-EVICT shows as CLIENT LIST's flag e, as in Redis.
	switch on := strings.ToLower(string(args[2])); on {
	case "on", "off":
		if sub == "no-evict" {
			c.noEvict = on == "on"
		}
		return okReply
	}
	return errReply("ERR syntax error")
}

// clientID is the connection's id: the number its edge gave it (the
// coordinator is named "client/<n>"), 0 when it has none.
func clientID(ctx actors.Context) int64 {
	name := ctx.Self().Name
	n, err := strconv.ParseInt(name[strings.LastIndexByte(name, '/')+1:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}
