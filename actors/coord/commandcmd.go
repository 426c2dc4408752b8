package coord

import (
	"sort"
	"strings"

	"github.com/dynonode/dynonode/actors/acl"
	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/resp"
)

// COMMAND [COUNT | LIST [FILTERBY ...] | INFO [name ...] | DOCS [name ...]
// | GETKEYS cmd ... | HELP], answered by the node with redis-server
// 7.0.15's own metadata (actors/command's redis_command_*.resp) for the
// commands the node serves: a refused command is absent, as an unknown
// one, so a client library that reads COMMAND learns what it can send.
// GETKEYS finds keys as the router does (the keys a request is routed
// by); GETKEYSANDFLAGS is refused (the router knows no access flags).

var commandHelp = []string{
	"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
	"HELP",
	"    Prints this help.",
}

// servedCommands are the commands COMMAND lists: every one the router
// serves (with or without a rule) that Redis 7.0 knows, sorted.
func servedCommands() []string {
	var out []string
	for _, n := range command.Names() {
		spec := command.Lookup([]byte(n))
		if spec.Class == command.Unsupported || spec.Class == command.Unknown {
			continue
		}
		if _, ok := command.RedisInfo(n); ok {
			out = append(out, n)
		}
	}
	return out
}

// served reports whether COMMAND lists name (a command, or a subcommand
// "name|sub" of a served command).
func served(name string) bool {
	base, _, _ := strings.Cut(name, "|")
	spec := command.Lookup([]byte(base))
	if spec == nil || spec.Class == command.Unsupported || spec.Class == command.Unknown {
		return false
	}
	_, ok := command.RedisInfo(name)
	return ok
}

func (c *Redis) commandCommand(args [][]byte) []byte {
	if len(args) == 1 {
		return appendInfos(nil, servedCommands())
	}
	sub := strings.ToLower(string(args[1]))
	if a, ok := command.SubcommandArity("command|" + sub); ok && ((a > 0 && len(args) != a) || (a < 0 && len(args) < -a)) {
		return errReply("ERR wrong number of arguments for 'command|" + sub + "' command")
	}
	switch sub {
	case "count":
		return resp.AppendInt(nil, int64(len(servedCommands())))
	case "help":
		out := resp.AppendArrayHeader(nil, len(commandHelp))
		for _, l := range commandHelp {
			out = resp.AppendSimpleString(out, l)
		}
		return out
	case "info":
		if len(args) == 2 {
			return appendInfos(nil, servedCommands())
		}
		out := resp.AppendArrayHeader(nil, len(args)-2)
		for _, a := range args[2:] {
			name := strings.ToLower(string(a))
			info, ok := command.RedisInfo(name)
			if !ok || !served(name) {
				out = append(out, "$-1\r\n"...)
				continue
			}
			out = append(out, info...)
		}
		return out
	case "docs":
		names := servedCommands()
		if len(args) > 2 {
			names = names[:0]
			for _, a := range args[2:] {
				if name := strings.ToLower(string(a)); served(name) && !strings.Contains(name, "|") {
					names = append(names, name)
				}
			}
		}
		out := resp.AppendArrayHeader(nil, 2*len(names))
		for _, n := range names {
			doc, _ := command.RedisDocs(n)
			out = append(resp.AppendBulkString(out, n), doc...)
		}
		return out
	case "list":
		return commandList(args[2:])
	case "getkeys":
		return getKeys(args[2:])
	case "getkeysandflags":
		return errReply("ERR dynonode: 'COMMAND GETKEYSANDFLAGS' is not supported: the router knows which arguments are keys, not their access flags (COMMAND GETKEYS is served)")
	}
	return errReply("ERR unknown subcommand '" + trunc(string(args[1]), 128) + "'. Try COMMAND HELP.")
}

func appendInfos(out []byte, names []string) []byte {
	out = resp.AppendArrayHeader(out, len(names))
	for _, n := range names {
		info, _ := command.RedisInfo(n)
		out = append(out, info...)
	}
	return out
}

// commandList is COMMAND LIST [FILTERBY MODULE name | ACLCAT cat |
// PATTERN pattern]: the served commands and their subcommands, sorted.
func commandList(opts [][]byte) []byte {
	var names []string
	for _, n := range servedCommands() {
		names = append(names, n)
		names = append(names, command.RedisSubcommands(n)...)
	}
	keep := func(string) bool { return true }
	switch {
	case len(opts) == 0:
	case len(opts) == 3 && strings.EqualFold(string(opts[0]), "filterby"):
		arg := opts[2]
		switch strings.ToLower(string(opts[1])) {
		case "module":
			keep = func(string) bool { return false } // no modules
		case "aclcat":
			keep = func(n string) bool {
				cats, _ := command.ACLCategories(n)
				for _, c := range cats {
					if strings.EqualFold(c, string(arg)) {
						return true
					}
				}
				return false
			}
		case "pattern":
			keep = func(n string) bool { return acl.Match(arg, []byte(n)) }
		default:
			return errReply("ERR syntax error")
		}
	default:
		return errReply("ERR syntax error")
	}
	var out []string
	for _, n := range names {
		if keep(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	reply := resp.AppendArrayHeader(nil, len(out))
	for _, n := range out {
		reply = resp.AppendBulkString(reply, n)
	}
	return reply
}

// getKeys is COMMAND GETKEYS cmd arg...: the keys the router finds in the
// request, with Redis's errors.
func getKeys(req [][]byte) []byte {
	spec := command.Lookup(req[0])
	if spec == nil || spec.Class == command.Unknown {
		return errReply("ERR Invalid command specified")
	}
	if !spec.ArityOK(len(req)) {
		return errReply("ERR Invalid number of arguments specified for command")
	}
	if spec.First == 0 && spec.NumKeysAt == 0 && spec.StoreFrom == 0 {
		return errReply("ERR The command has no key arguments")
	}
	idx, ok := spec.KeyIndexes(req, nil)
	if !ok {
		return errReply("ERR Invalid arguments specified for command")
	}
	out := resp.AppendArrayHeader(nil, len(idx))
	for _, i := range idx {
		out = resp.AppendBulk(out, req[i])
	}
	return out
}
