package coord

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
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

// maxQueued bounds the commands one transaction may queue, and
// maxQueuedBytes their arguments' bytes: the transaction travels to each
// replica as one message, which must stay well within a peer frame
// (msg.DefaultMaxFrame).
const (
	maxQueued      = 100_000
	maxQueuedBytes = msg.DefaultMaxFrame / 2
)

// txState is a connection's open transaction.
type txState struct {
	cmds  [][][]byte
	bytes int
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
	case command.Blocking: // as in Redis, they never block in a transaction
	default:
		if spec.Name != "ping" && spec.Name != "echo" {
			c.txRefuse("ERR dynonode: '" + strings.ToUpper(spec.Name) + "' cannot be part of a transaction")
			return true
		}
	}
	size := 0
	for _, a := range args {
		size += len(a)
	}
	if len(c.tx.cmds) >= maxQueued || c.tx.bytes+size > maxQueuedBytes {
		c.txRefuse("ERR dynonode: a transaction holds at most " + strconv.Itoa(maxQueued) + " commands and " +
			strconv.Itoa(maxQueuedBytes>>20) + " MiB of arguments")
		return true
	}
	c.tx.bytes += size
	c.queue(args)
	return true
}

// queue keeps a copy of args in the open transaction; once a refusal
// doomed it, Redis answers QUEUED but keeps nothing (queueMultiCommand),
// so CLIENT LIST's multi= stops counting there (found by review).
func (c *Redis) queue(args [][]byte) {
	if !c.tx.dirty {
		c.tx.cmds = append(c.tx.cmds, own(args))
	}
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

// exec sends a transaction to its keys' replicas as one DYNO.EXEC. With
// versions, relative expiry becomes absolute here, by EXEC's clock (Redis
// counts EX from EXEC too). A command whose keys cannot be found (MSET
// with an odd count, a bad numkeys) is sent all the same: it names no key
// and its replica answers its error in its place, as Redis does.
func (c *Redis) exec(ctx actors.Context, cmds [][][]byte) {
	if len(cmds) == 0 {
		c.p.answer([]byte("*0\r\n"), false)
		return
	}
	var reps []ring.Replica
	var firstKey []byte
	var written [][]byte
	specs := make([]*command.Spec, len(cmds))
	write := false
	for i, args := range cmds {
		spec := c.lookup(args[0])
		if spec == nil {
			continue
		}
		if c.versioned() && spec.IsWrite(args) {
			if abs, ok := absoluteExpiry(spec.Name, args, ctx.Now()); ok {
				args, spec = abs, c.lookup(abs[0])
				cmds[i] = args
			}
		}
		specs[i] = spec
		isWrite := spec.IsWrite(args)
		write = write || isWrite
		var ok bool
		c.keys, ok = spec.KeyIndexes(args, c.keys[:0])
		if !ok {
			continue
		}
		if isWrite {
			written = writtenKeys(spec, args, c.keys, written)
		}
		for _, i := range c.keys {
			k := args[i]
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
	if c.p.stateRefuses(write) {
		c.p.answer(errReply(stateRefusal), false)
		return
	}
	s := c.p.single()
	s.pending, s.merge, s.deadline = 1, mergeFirst, ctx.Now().Add(c.cfg.Timeout)
	o := c.opts(ctx, write, routing{keyed: true}, hlc.Version{})
	o.canon = canonExec(specs)
	c.p.sendOpts(ctx, &c.cfg, c.p.push(s), 0, tx, reps, c.level(write), write, o)
}

// writtenKeys appends to dst the keys a write command (of keys, its key
// indexes) changes, as the store's families say (store.CommandFamily):
// its key, the keys of DEL or MSET, a multi-key command's destinations;
// the keys it only reads (SUNIONSTORE's sources, COPY's source) are left
// alone, as outside a transaction.
func writtenKeys(spec *command.Spec, args [][]byte, keys []int, dst [][]byte) [][]byte {
	if len(keys) == 0 {
		return dst
	}
	fam, single, written := store.CommandFamily(args)
	switch {
	case fam == store.FamilyMulti:
		return append(dst, written...)
	case fam == store.FamilyWhole || fam == store.FamilyDelete || fam == store.FamilyRMW:
		if single {
			return append(dst, args[keys[0]])
		}
		for _, i := range keys {
			dst = append(dst, args[i])
		}
		return dst
	case spec.Name == "copy":
		return append(dst, args[keys[len(keys)-1]])
	case spec.StoreIndex(args) > 0:
		return append(dst, args[spec.StoreIndex(args)])
	}
	return append(dst, args[keys[0]]) // a write the store has no family for: its first key
}

// canonExec puts EXEC's array in canonical form for comparing replicas'
// answers: each reply of a command whose order Redis leaves unspecified
// (SMEMBERS, HGETALL...) as canonSet or canonPairs does, the others as
// they are.
func canonExec(specs []*command.Spec) func([]byte) []byte {
	unordered := false
	for _, s := range specs {
		unordered = unordered || (s != nil && s.Unordered)
	}
	if !unordered {
		return nil
	}
	return func(reply []byte) []byte {
		if len(reply) == 0 || reply[0] != '*' {
			return reply
		}
		i := bytes.IndexByte(reply, '\n')
		if i < 0 {
			return reply
		}
		out := append([]byte(nil), reply[:i+1]...)
		rest := reply[i+1:]
		for _, s := range specs {
			n, err := resp.ReplyLen(rest)
			if err != nil {
				return reply
			}
			elem := rest[:n]
			rest = rest[n:]
			switch {
			case s != nil && s.Unordered && s.Pairs:
				elem = canonPairs(elem)
			case s != nil && s.Unordered:
				elem = canonSet(elem)
			}
			out = append(out, elem...)
		}
		return append(out, rest...)
	}
}
