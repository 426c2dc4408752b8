package coord

import (
	"strings"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/config"
)

// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key and MEMORY USAGE key
// [SAMPLES n] describe how one replica holds a key: they go to one owner
// of the key (the local rack's, at DC_ONE whatever the connection's
// level: replicas would disagree on an access time), and OBJECT HELP and
// MEMORY HELP to the local datastore. MEMORY's other subcommands describe
// a whole datastore, not the cluster, and are refused; so is MEMORY on
// the embedded store, which models Redis's encodings (OBJECT ENCODING:
// actors/store/encoding.go) but not its allocator.
func (c *Redis) ownerCommand(ctx actors.Context, spec *command.Spec, args [][]byte) {
	name := spec.Name
	if c.cfg.EmbeddedStore && name == "memory" {
		c.p.refuse(errReply("ERR dynonode: 'MEMORY' is not supported: the embedded store does not model Redis's memory layout (a node in front of redis-server serves it)"), false, ErrUnsupported)
		return
	}
	sub := strings.ToLower(string(args[1]))
	keyed := false
	switch {
	case name == "object" && (sub == "encoding" || sub == "freq" || sub == "idletime" || sub == "refcount"):
		if len(args) != 3 {
			c.p.answer(errReply("ERR wrong number of arguments for 'object|"+sub+"' command"), false)
			return
		}
		keyed = true
	case name == "memory" && sub == "usage":
		if len(args) < 3 {
			c.p.answer(errReply("ERR wrong number of arguments for 'memory|usage' command"), false)
			return
		}
		keyed = true
	case sub == "help":
		if len(args) != 2 {
			c.p.answer(errReply("ERR wrong number of arguments for '"+name+"|help' command"), false)
			return
		}
	case name == "memory" && (sub == "doctor" || sub == "stats" || sub == "malloc-stats" || sub == "purge"):
		c.p.refuse(errReply("ERR dynonode: 'MEMORY "+strings.ToUpper(sub)+"' is not supported: it describes one datastore behind one node, not the cluster"), false, ErrUnsupported)
		return
	default:
		c.p.answer(errReply("ERR unknown subcommand '"+trunc(string(args[1]), 128)+"'. Try "+strings.ToUpper(name)+" HELP."), false)
		return
	}
	reps := localOnly(c.cfg.Ring)
	if keyed {
		reps = c.cfg.Ring.Replicas(args[2], c.reps[:0])
	}
	s := c.p.single()
	s.pending, s.merge, s.deadline = 1, mergeFirst, ctx.Now().Add(c.cfg.Timeout)
	c.p.sendOpts(ctx, &c.cfg, c.p.push(s), 0, args, reps, config.DCOne, false, sendOpts{})
}
