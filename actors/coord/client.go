package coord

import (
	"strconv"
	"strings"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/resp"
)

// RedisVersion is the Redis whose commands and replies dynonode serves,
// reported as INFO's redis_version (client libraries check it).
const RedisVersion = "7.0.15"

// The CLIENT subcommands a client sends about its own connection, answered
// by the coordinator as Redis 7.0 answers them (SETINFO and NO-TOUCH as
// Redis 7.2, which newer client libraries send on connect); the ones about
// other connections are refused with the reason.

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

// clientArity is the arity of each CLIENT subcommand served (Redis's, the
// name counted as two arguments: CLIENT SETNAME name is 3).
var clientArity = map[string]int{"setname": 3, "getname": 2, "id": 2, "info": 2, "setinfo": 4, "no-evict": 3, "no-touch": 3}

// clientRefused are CLIENT subcommands Redis knows that need every
// connection of the node (or the datastore's), not this one.
var clientRefused = map[string]bool{"list": true, "kill": true, "pause": true, "unpause": true, "reply": true,
	"tracking": true, "caching": true, "getredir": true, "trackinginfo": true, "unblock": true, "help": true}

func (c *Redis) client(ctx actors.Context, args [][]byte) []byte {
	sub := strings.ToLower(string(args[1]))
	n, served := clientArity[sub]
	switch {
	case clientRefused[sub]:
		return errReply("ERR dynonode: 'CLIENT " + strings.ToUpper(sub) + "' is not supported: it concerns connections other than this one")
	case !served:
		return errReply("ERR unknown subcommand '" + trunc(string(args[1]), 128) + "'. Try CLIENT HELP.")
	case len(args) != n:
		return errReply("ERR wrong number of arguments for 'client|" + sub + "' command")
	}
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
		return resp.AppendInt(nil, clientID(ctx))
	case "info":
		user := "default"
		if c.user != nil {
			user = c.user.Name
		}
		line := "id=" + strconv.FormatInt(clientID(ctx), 10) + " name=" + c.name + " db=0 multi=-1 cmd=client|info user=" + user + " resp=2\n"
		return resp.AppendBulkString(nil, line)
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
	// no-evict, no-touch: nothing is evicted or touched on a node's behalf
	switch strings.ToLower(string(args[2])) {
	case "on", "off":
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
