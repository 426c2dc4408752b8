package coord

import (
	"strconv"
	"strings"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/ring"
)

// Transactions: MULTI, EXEC, DISCARD, UNWATCH; WATCH is refused.
//
// Between MULTI and EXEC the coordinator queues the connection's commands
// itself, answering +QUEUED, or the error that refuses one (unknown
// command, wrong arity, ACL denial, a command a transaction cannot hold),
// which makes EXEC answer EXECABORT, as Redis does. At EXEC every key of
// every queued command must have the same replicas (a common hash tag);
// the transaction then goes to those replicas as one internal request,
// DYNO.EXEC, a write at write_consistency if any command writes, else a
// read at read_consistency, and each replica's datastore runs it whole:
// Redis as MULTI ... EXEC on the adapter's connection, the embedded store
// in one turn of its actor. The client gets EXEC's array. With versions
// the transaction carries one version, and every key its writes name is
// left at the newer of its version and the transaction's (as a script's).
//
// DYNO.EXEC's arguments: the number K of keys written, those keys, the
// number N of commands, then each command as its argument count followed
// by its arguments.

// maxQueued bounds the commands one transaction may queue.
const maxQueued = 100_000

// txState is a connection's open transaction.
type txState struct {
	cmds  [][][]byte
	dirty bool // a command was refused while queued: EXEC aborts
}

// cmdDynoExec names the internal request of a transaction.
var cmdDynoExec = []byte("DYNO.EXEC")

// transaction serves MULTI, EXEC, DISCARD, WATCH and UNWATCH.
func (c *Redis) transaction(ctx actors.Context, spec *command.Spec, args [][]byte) {
	switch spec.Name {
	case "multi":
		if c.tx != nil {
			c.p.answer(errReply("ERR MULTI calls can not be nested"), false)
			return
		}
		c.tx = &txState{}
		c.p.answer(replyOK, false)
	case "discard":
		if c.tx == nil {
			c.p.answer(errReply("ERR DISCARD without MULTI"), false)
			return
		}
		c.tx = nil
		c.p.answer(replyOK, false)
	case "unwatch":
		if c.tx != nil {
			c.queue(args)
			return
		}
		c.p.answer(replyOK, false) // nothing is ever watched
	case "watch":
		if c.tx != nil {
			c.p.answer(errReply("ERR WATCH inside MULTI is not allowed"), false)
			return
		}
		c.p.refuse(errReply("ERR dynonode: 'WATCH' is not supported: a key's replicas each take writes on their own, so no one of them can tell that a watched key changed; use a script (EVAL) for check-and-set"), false, ErrUnsupported)
	case "exec":
		if c.tx == nil {
			c.p.answer(errReply("ERR EXEC without MULTI"), false)
			return
		}
		tx := c.tx
		c.tx = nil
		if tx.dirty {
			c.p.answer(errReply("EXECABORT Transaction discarded because of previous errors."), false)
			return
		}
		c.exec(ctx, tx.cmds)
	}
}

var replyOK = []byte("+OK\r\n")

// inTx handles a command sent between MULTI and EXEC (other than the
// transaction commands): queued if a transaction can hold it, else
// refused, which dooms the transaction. It reports whether it took the
// command.
func (c *Redis) inTx(spec *command.Spec, args [][]byte) bool {
	if c.tx == nil {
		return false
	}
	switch spec.Name {
	case "quit":
		return false // closes the connection, as in Redis
	case "reset":
		c.tx = nil // RESET discards the transaction, then resets
		return false
	}
	switch spec.Class {
	case command.SingleKey, command.MultiKey, command.SameOwner:
	default:
		if spec.Name != "ping" && spec.Name != "echo" {
			c.txRefuse("ERR dynonode: '" + strings.ToUpper(spec.Name) + "' cannot be part of a transaction")
			return true
		}
	}
	if len(c.tx.cmds) >= maxQueued {
		c.txRefuse("ERR dynonode: a transaction holds at most " + strconv.Itoa(maxQueued) + " commands")
		return true
	}
	c.queue(args)
	return true
}

// queue keeps a copy of args in the open transaction.
func (c *Redis) queue(args [][]byte) {
	size := 0
	for _, a := range args {
		size += len(a)
	}
	buf := make([]byte, 0, size)
	own := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		own[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	c.tx.cmds = append(c.tx.cmds, own)
	c.p.answer([]byte("+QUEUED\r\n"), false)
}

// doom marks the open transaction, if any, to abort at EXEC: a command
// was refused before it could be queued.
func (c *Redis) doom() {
	if c.tx != nil {
		c.tx.dirty = true
	}
}

// txRefuse answers a command refused inside a transaction and dooms it.
func (c *Redis) txRefuse(msg string) {
	c.tx.dirty = true
	c.p.answer(errReply(msg), false)
}

// exec sends a transaction to its keys' replicas as one DYNO.EXEC.
func (c *Redis) exec(ctx actors.Context, cmds [][][]byte) {
	if len(cmds) == 0 {
		c.p.answer([]byte("*0\r\n"), false)
		return
	}
	var reps []ring.Replica
	var firstKey []byte
	var written [][]byte
	write := false
	for _, args := range cmds {
		spec := c.lookup(args[0])
		if spec == nil { // UNWATCH, PING, ECHO are known; nothing else is queued unknown
			continue
		}
		isWrite := spec.IsWrite(args)
		write = write || isWrite
		var ok bool
		c.keys, ok = spec.KeyIndexes(args, c.keys[:0])
		if !ok {
			c.p.answer(errReply(badKeys(spec, args)), false)
			return
		}
		for _, i := range c.keys {
			k := args[i]
			if isWrite {
				written = append(written, k)
			}
			if reps == nil {
				reps, firstKey = c.cfg.Ring.Replicas(k, nil), k
				continue
			}
			c.reps = c.cfg.Ring.Replicas(k, c.reps[:0])
			if !sameNodes(reps, c.reps) {
				c.p.answer(errReply("ERR dynonode: the keys of a transaction must live on the same nodes; give them a common hash tag: '"+
					string(firstKey)+"' and '"+string(k)+"' do not"), false)
				return
			}
		}
	}
	if reps == nil {
		reps = localOnly(c.cfg.Ring) // no key: PING, ECHO
	}
	n := 3 + len(written)
	for _, args := range cmds {
		n += 1 + len(args)
	}
	tx := make([][]byte, 0, n)
	tx = append(tx, cmdDynoExec, []byte(strconv.Itoa(len(written))))
	tx = append(tx, written...)
	tx = append(tx, []byte(strconv.Itoa(len(cmds))))
	for _, args := range cmds {
		tx = append(tx, []byte(strconv.Itoa(len(args))))
		tx = append(tx, args...)
	}
	c.single(ctx, tx, reps, write, ctx.Now(), routing{keyed: true})
}
