package coord

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/acl"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/pubsub"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
)

// Config is what a connection's coordinator needs to know about its node.
type Config struct {
	// Sink receives the connection's Replies (the edge writer).
	Sink actors.Addr
	// Ring places keys. Its node ids are the actors.NodeIDs of the nodes.
	Ring *ring.Ring
	// StoreName is the name of the store adapter actor on every node.
	StoreName string
	// EmbeddedStore says the nodes' datastore is the embedded engine
	// (data_store: 2), which models Redis's encodings (OBJECT) but not its
	// memory layout: MEMORY is refused with that reason.
	EmbeddedStore bool
	// Timeout bounds a request from arrival to reply (Dynomite's `timeout`).
	Timeout time.Duration
	// AdminMode is Dynomite's -x 1: the node works on its own datastore
	// only. DEL deletes a key here, without replication, when this node owns
	// it in its rack, and is refused otherwise; FLUSHALL/FLUSHDB run on the
	// local datastore.
	AdminMode bool
	// Read and Write are the connection's consistency levels.
	Read, Write config.Consistency
	// Gossip is this node's gossiper; zero means a static membership (the
	// ring above, every node usable).
	Gossip actors.Addr
	// Stats receives the coordinator's StatsDelta reports, at most every
	// StatsInterval and when it stops; zero: no reports.
	Stats actors.Addr
	// Version is reported by INFO, HELLO and memcached's version.
	Version string
	// Versions turns versioned values on (the `versions` config key): each
	// write gets one version (hlc.Version from ctx.HLC()) sent to every
	// replica, relative expiry becomes absolute, multi-key commands are
	// split per key, and single-key reads at the quorum levels answer with
	// the newest version among the replicas' answers, repairing stale
	// replicas (see repair.go). Off: exactly the unversioned behaviour.
	Versions bool
	// ReadRepairs (read_repairs_enabled, or the admin port's setting when
	// the connection opened) turns the background read repairs of
	// DC_QUORUM reads on. The synchronous repairs of the safe levels run
	// whenever Versions is on.
	ReadRepairs bool
	// BrokerName is the name of the pub/sub broker actor (actors/pubsub)
	// on every node.
	BrokerName string
	// Hints is this node's hint manager (actors/hints): versioned writes a
	// replica could not take are handed to it (see handoff.go). Zero:
	// hinted handoff off.
	Hints actors.Addr
	// Users, when not nil, are the users clients authenticate as (AUTH,
	// HELLO AUTH) and what each may run (aclfile, or requirepass's
	// default user; Redis's rules and replies, auth.go). Nil: every
	// connection is Redis's default user, unrestricted, without password.
	Users *acl.Users
	// Clients is this node's registry of client connections
	// (actors/clients): the coordinator registers its connection there,
	// and CLIENT LIST and KILL are answered with it. Zero: no registry,
	// CLIENT LIST and KILL are refused.
	Clients actors.Addr
	// Socket is the connection's socket as the edge knows it (CLIENT
	// LIST's addr, laddr and fd).
	Socket clients.Conn
	// RepairsInFlight bounds the background repairs a connection awaits
	// at once; beyond it they are dropped and counted. Zero:
	// DefaultRepairsInFlight.
	RepairsInFlight int

	// plantFirstWins is a planted bug for the tests: versioned reads take
	// the first reply of a quorum, ignoring the versions.
	plantFirstWins bool
}

// Redis is the coordinator of one RESP client connection.
type Redis struct {
	cfg  Config
	p    pipeline
	keys []int
	reps []ring.Replica
	// The last command name looked up, and its spec: a pipeline repeats
	// one command, and the table lookup hashes the name.
	lastName [16]byte
	lastLen  int
	lastSpec *command.Spec
	// name is the connection's name (CLIENT SETNAME, HELLO SETNAME).
	name string
	// id is the connection's (clientID); opened is when it started; cmd
	// the full name of its last command ("" before any, or after an
	// unknown one); noEvict CLIENT NO-EVICT's setting; sent what the
	// client registry was last told, after batch toldBatch (clients.go).
	id        int64
	opened    time.Time
	cmd       string
	noEvict   bool
	sent      rareState
	toldBatch uint64
	// user is who the connection is (Config.Users): nil until it
	// authenticates; restricted says the user may not run everything.
	user       *acl.User
	restricted bool
	started    bool // user was set from Users.Initial
	// tx is the open transaction, between MULTI and EXEC (tx.go).
	tx *txState
	// channels and patterns are the connection's subscriptions, by their
	// sequence numbers (pubsub.go).
	channels, patterns, shards map[string]uint64
	subSeq                     uint64
	// others caches otherNodes for the ring othersOf.
	others   []ring.Replica
	othersOf *ring.Ring
	// blk is the blocking pop the connection waits for (blocking.go);
	// blockNo numbers them, blockTimer their retry timers (never repeated
	// on a connection, so a late wake or timer of one pop is never taken
	// for the next one's).
	blk        *blocked
	blockNo    uint64
	blockTimer uint64
}

// NewRedis returns a producer of Redis connection coordinators.
func NewRedis(cfg Config) actors.Producer {
	return func() actors.Behaviour {
		return &Redis{cfg: cfg, p: newPipeline(cfg.Timeout, "Storage: request timed out after "+cfg.Timeout.String())}
	}
}

// Receive implements actors.Behaviour. It lists every message the
// coordinator handles; any other is ignored. A message that can make a
// reply ready ends with endTurn (Execs sent, replies written, timers
// armed).
func (c *Redis) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		// Pop numbers start from the clock, so that an incarnation started
		// after a panic never takes its predecessor's late wakes for its
		// own (Unix ms stay far below the 2^52 the IDs leave them).
		c.blockNo = uint64(ctx.Now().UnixMilli())
		c.blockTimer = c.blockNo
		c.p.start(ctx, &c.cfg)
		c.register(ctx)
	case actors.Restarted:
		c.blockNo = uint64(ctx.Now().UnixMilli())
		c.blockTimer = c.blockNo
		// The incarnation that panicked may have subscribed: the broker
		// drops whatever this address holds.
		c.toBroker(ctx, pubsub.Gone{Conn: ctx.Self(), All: true})
		c.p.refuse(errReply("ERR "+lostState), true, ErrReply)
		c.endTurn(ctx)
	case actors.Stopping:
		c.unwatch(ctx)
		c.dropSubscriptions(ctx)
		c.p.stop(ctx, &c.cfg)
		c.leave(ctx)
	case pubsub.Message:
		c.message(m)
		c.endTurn(ctx)
	case gossip.View:
		for _, early := range c.p.follow(&c.cfg, m) {
			c.Receive(ctx, early)
		}
	case Requests:
		if c.p.hold(&c.cfg, m) {
			return
		}
		c.requests(ctx, m)
		c.endTurn(ctx)
	case store.Result:
		c.p.result(ctx, &c.cfg, m)
		c.endTurn(ctx)
	case store.Results:
		c.p.results(ctx, &c.cfg, m)
		c.endTurn(ctx)
	case store.Acks:
		c.p.acks(ctx, &c.cfg, m)
		c.endTurn(ctx)
	case tick:
		c.p.sweep(ctx.Now())
		c.p.expireHandoffs(ctx, &c.cfg, ctx.Now(), false)
		c.endTurn(ctx)
	case blockRetry:
		c.retry(ctx, m)
		c.endTurn(ctx)
	case statsTick:
		c.p.sendStats(ctx, c.cfg.Stats)
	case clients.Ask:
		ctx.Send(c.cfg.Clients, clients.Report{Round: m.Round, Entry: c.entry()})
	case clients.Close:
		c.killed(ctx)
	}
}

// endTurn is the pipeline's, after moving the blocked pop on: again
// while that answers one, since the commands held behind it may start
// another whose first attempt is already decided (its replicas down).
func (c *Redis) endTurn(ctx actors.Context) {
	for c.advanceBlock(ctx) {
	}
	c.p.endTurn(ctx, &c.cfg)
	c.tell(ctx)
}

// requests handles one batch of client commands, in order.
func (c *Redis) requests(ctx actors.Context, m Requests) {
	c.p.now = ctx.Now()
	c.p.batch++
	for _, args := range m.Cmds {
		if c.p.closing {
			break
		}
		if c.blk != nil { // a blocking pop waits: the rest run after it
			c.blk.held = append(c.blk.held, own(args))
			continue
		}
		c.handle(ctx, args)
	}
	if m.ProtocolError != nil && !c.p.closing {
		if c.blk != nil {
			c.blk.heldProt = append([]byte(nil), m.ProtocolError...)
			return
		}
		c.p.refuse(m.ProtocolError, true, ErrProtocol)
	}
}

// localOnly is the replica list of commands that run on this node's
// datastore alone (KEYS, SCAN, DBSIZE, admin FLUSHALL, keyless EVAL).
func localOnly(r *ring.Ring) []ring.Replica {
	l := r.Local()
	return []ring.Replica{{DC: l.DC, Rack: l.Rack, Node: l.ID, LocalDC: true}}
}

func errReply(msg string) []byte { return resp.AppendError(nil, msg) }

// lostState is what a coordinator restarted after a panic answers before
// it closes the connection: the fresh incarnation does not know which
// requests its predecessor had in flight, and a pipelined protocol cannot
// skip a reply, so the client gets this in place of its first unanswered
// reply, then the end of the connection, and reconnects (without it the
// client would wait forever for replies nobody owes any more).
const lostState = "dynonode: internal error, this connection lost its pending requests; reconnect"

// lookup is command.Lookup, remembering the last name.
func (c *Redis) lookup(name []byte) *command.Spec {
	if c.lastSpec != nil && len(name) == c.lastLen && string(name) == string(c.lastName[:c.lastLen]) {
		return c.lastSpec
	}
	spec := command.Lookup(name)
	if spec != nil && len(name) <= len(c.lastName) {
		c.lastLen = copy(c.lastName[:], name)
		c.lastSpec = spec
	}
	return spec
}

func (c *Redis) handle(ctx actors.Context, args [][]byte) {
	spec := c.lookup(args[0])
	if spec == nil {
		c.cmd = ""
		c.doom()
		c.p.refuse(errReply(unknownCommand(args)), false, ErrUnsupported)
		return
	}
	c.cmd = command.FullName(spec, args)
	if !spec.ArityOK(len(args)) {
		c.doom()
		c.p.answer(errReply("ERR wrong number of arguments for '"+spec.Name+"' command"), false)
		return
	}
	if c.cfg.Users != nil {
		if !c.started {
			c.started = true
			c.setUser(c.cfg.Users.Initial())
		}
		if c.user == nil && !noAuth(spec.Name) {
			c.doom()
			c.p.answer(errReply(noAuthErr), false)
			return
		}
		if c.restricted && !noAuth(spec.Name) {
			if denied := c.user.Denied(spec, args); denied != "" {
				c.doom()
				c.p.answer(errReply(denied), false)
				return
			}
		}
	}
	if c.inSubscribedMode(spec, args) {
		return
	}
	if spec.Class == command.Transaction {
		c.transaction(ctx, spec, args)
		return
	}
	if c.inTx(spec, args) {
		return // queued as sent: EXEC makes relative expiry absolute
	}
	if c.versioned() && spec.IsWrite(args) && spec.Class != command.Admin {
		if abs, ok := absoluteExpiry(spec.Name, args, ctx.Now()); ok {
			args, spec = abs, c.lookup(abs[0])
		}
	}
	switch spec.Class {
	case command.PubSub:
		c.pubsubCommand(ctx, spec, args)
	case command.Blocking:
		c.blockingCommand(ctx, spec, args)
	case command.Owner:
		c.ownerCommand(ctx, spec, args)
	case command.Node:
		if spec.Name == "client" {
			c.client(ctx, args)
			return
		}
		reply, closeConn := c.nodeCommand(ctx, spec, args)
		c.p.answer(reply, closeConn)
	case command.Unsupported:
		if spec.Name == "config" && c.cfg.EmbeddedStore {
			c.config(ctx, args)
			return
		}
		c.p.refuse(errReply("ERR dynonode: '"+strings.ToUpper(spec.Name)+"' is not supported: "+spec.Why), false, ErrUnsupported)
	case command.Admin:
		if !c.cfg.AdminMode {
			c.p.refuse(errReply("ERR dynonode: '"+strings.ToUpper(spec.Name)+"' is refused unless the node runs in admin mode (-x 1)"), false, ErrUnsupported)
			return
		}
		c.single(ctx, args, localOnly(c.cfg.Ring), spec.IsWrite(args), ctx.Now(), routing{})
	case command.LocalStore:
		if spec.Name == "script" {
			c.script(ctx, args)
			return
		}
		c.single(ctx, args, localOnly(c.cfg.Ring), false, ctx.Now(), routing{})
	case command.MultiKey:
		if c.cfg.AdminMode && spec.Name == "del" {
			c.adminDel(ctx, args)
			return
		}
		c.multiKey(ctx, spec, args)
	default: // SingleKey, SameOwner
		c.keyed(ctx, spec, args)
	}
}

// adminDel is DEL in admin mode: local only, and only for keys this node
// owns in its rack (Dynomite's -x 1).
func (c *Redis) adminDel(ctx actors.Context, args [][]byte) {
	local := c.cfg.Ring.Local().ID
	for _, k := range args[1:] {
		if c.cfg.Ring.LocalOwner(k) != local {
			c.p.answer(errReply("ERR Dynomite: Invalid request in Dynomite's admin mode"), false)
			return
		}
	}
	c.single(ctx, args, localOnly(c.cfg.Ring), false, ctx.Now(), routing{})
}

// keyed routes a command whose keys must all live on the same nodes.
func (c *Redis) keyed(ctx actors.Context, spec *command.Spec, args [][]byte) {
	if ends, ok := mpopEnds[spec.Name]; ok {
		// Redis's errors for LMPOP's and ZMPOP's arguments, before their
		// keys are routed (a bad numkeys would otherwise read as none).
		if _, _, _, bad := store.ParseMPop(args, ends); bad != "" {
			c.p.answer(errReply(bad), false)
			return
		}
	}
	var ok bool
	c.keys, ok = spec.KeyIndexes(args, c.keys[:0])
	if !ok {
		c.p.answer(errReply(badKeys(spec, args)), false)
		return
	}
	if len(c.keys) == 0 { // EVAL with no keys: Dynomite runs it locally
		c.single(ctx, args, localOnly(c.cfg.Ring), spec.IsWrite(args), ctx.Now(), routing{})
		return
	}
	c.reps = c.cfg.Ring.Replicas(args[c.keys[0]], c.reps[:0])
	if len(c.keys) == 1 { // the tally copies the replicas it keeps
		c.single(ctx, args, c.reps, spec.IsWrite(args), ctx.Now(), routing{keyed: true, key: stringReadKey(args, c.keys[0])})
		return
	}
	first := append([]ring.Replica(nil), c.reps...)
	for _, k := range c.keys[1:] {
		c.reps = c.cfg.Ring.Replicas(args[k], c.reps[:0])
		if !sameNodes(first, c.reps) {
			msg := "ERR dynonode: the keys of '" + strings.ToUpper(spec.Name) + "' live on different nodes; give them a common hash tag"
			if strings.HasPrefix(spec.Name, "eval") {
				msg = "ERR Dynomite: Keys in the script cannot span multiple nodes"
			}
			c.p.answer(errReply(msg), false)
			return
		}
	}
	c.single(ctx, args, first, spec.IsWrite(args), ctx.Now(), routing{keyed: true})
}

// mpopEnds are the two ends LMPOP and ZMPOP pop from.
var mpopEnds = map[string][2]string{"lmpop": {"LEFT", "RIGHT"}, "zmpop": {"MIN", "MAX"}}

// script serves SCRIPT. LOAD and FLUSH go to the datastore of every node
// of the ring, every DC (Dynomite broadcasts them too), so that EVALSHA
// finds the script on whichever replicas its keys have: the client is
// answered with the local datastore's reply (another node's when the
// local one cannot serve), the others are sent the command without
// awaiting theirs (a node that is down misses it; past maxReplicas nodes
// the rest are not sent it). EXISTS, KILL and HELP ask the local
// datastore; DEBUG is refused.
func (c *Redis) script(ctx actors.Context, args [][]byte) {
	sub := args[1]
	if bytes.EqualFold(sub, []byte("debug")) {
		c.p.refuse(errReply("ERR dynonode: 'SCRIPT DEBUG' is not supported: the debugger would take over a datastore connection every client shares"), false, ErrUnsupported)
		return
	}
	if !bytes.EqualFold(sub, []byte("load")) && !bytes.EqualFold(sub, []byte("flush")) {
		c.single(ctx, args, localOnly(c.cfg.Ring), false, ctx.Now(), routing{})
		return
	}
	c.broadcast(ctx, args)
}

// config serves CONFIG on embedded-store nodes, whose engines honour the
// encoding thresholds (actors/store/config.go): SET goes to every node's
// engine, as SCRIPT LOAD does, once and best effort (a node down then keeps
// its thresholds: docs/cluster.md), answered by the first reply; GET and
// the rest to the local one. (In front of
// redis-server CONFIG stays refused: it would change the datastore.)
func (c *Redis) config(ctx actors.Context, args [][]byte) {
	if len(args) < 2 {
		c.p.answer(errReply("ERR wrong number of arguments for 'config' command"), false)
		return
	}
	if !bytes.EqualFold(args[1], []byte("set")) {
		c.single(ctx, args, localOnly(c.cfg.Ring), false, ctx.Now(), routing{})
		return
	}
	c.broadcast(ctx, args)
}

// broadcast sends args to this node's datastore and every other node's,
// once, answered by the first reply (SCRIPT LOAD/FLUSH, CONFIG SET on
// embedded nodes).
func (c *Redis) broadcast(ctx actors.Context, args [][]byte) {
	reps := append(localOnly(c.cfg.Ring), c.otherNodes()...)
	reps = reps[:min(len(reps), maxReplicas)]
	if c.p.stateRefuses(true) {
		c.p.answer(errReply(stateRefusal), false)
		return
	}
	s := c.p.single()
	s.pending, s.merge, s.deadline = 1, mergeFirst, ctx.Now().Add(c.cfg.Timeout)
	c.p.sendOpts(ctx, &c.cfg, c.p.push(s), 0, args, reps, config.DCOne, true, sendOpts{})
}

// badKeys is the error for a command whose keys cannot be found: for the
// EVAL family Redis's words about numkeys, else a syntax error.
func badKeys(spec *command.Spec, args [][]byte) string {
	if !strings.HasPrefix(spec.Name, "eval") || len(args) < 3 {
		return "ERR syntax error"
	}
	switch n, ok := resp.ParseInt(args[2]); {
	case !ok:
		return "ERR value is not an integer or out of range"
	case n < 0:
		return "ERR Number of keys can't be negative"
	}
	return "ERR Number of keys can't be greater than number of args"
}

// otherNodes is every node of the ring but this one, sorted by ID, as
// replicas (the targets of a broadcast: SCRIPT LOAD, PUBLISH); made again
// only when gossip brings another ring.
func (c *Redis) otherNodes() []ring.Replica {
	if c.othersOf != c.cfg.Ring {
		c.othersOf = c.cfg.Ring
		local := c.cfg.Ring.Local()
		c.others = []ring.Replica{}
		for _, n := range c.cfg.Ring.Nodes() {
			if n.ID != local.ID {
				c.others = append(c.others, ring.Replica{DC: n.DC, Rack: n.Rack, Node: n.ID, LocalDC: n.DC == local.DC})
			}
		}
	}
	return c.others
}

func sameNodes(a, b []ring.Replica) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Node != b[i].Node {
			return false
		}
	}
	return true
}

// stringReadKey is args[i], the key of a read that compares versions:
// one that reads a string value (GET, MGET's parts, GETRANGE, SUBSTR,
// STRLEN); nil for every other command. Collections are modified in
// place on each replica (SADD, HSET, LPUSH...), so replicas that missed
// different writes each hold elements the other lacks: a whole-value
// repair would drop the elements the older copy alone holds, so reads of
// collections keep the unversioned comparison and no repair.
func stringReadKey(args [][]byte, i int) []byte {
	if i >= len(args) {
		return nil
	}
	for _, name := range stringReads {
		if bytes.EqualFold(args[0], name) {
			return args[i]
		}
	}
	return nil
}

var stringReads = [][]byte{[]byte("get"), []byte("mget"), []byte("getrange"), []byte("substr"), []byte("strlen")}

// versioned reports whether requests carry versions now: with versions on
// and a ring of more than one rack. A node without replicas has nothing to
// reconcile, so it pays nothing for them; keys it wrote before replicas
// joined have no version, which every versioned write supersedes.
func (c *Redis) versioned() bool { return c.cfg.Versions && c.cfg.Ring.NumRacks() > 1 }

// routing says how a request names its keys, for versions.
type routing struct {
	keyed bool   // routed by key (not local-only): a write is versioned
	key   []byte // its one key, if it has exactly one: a read is versioned
}

// opts are the send options of a request: with versions on, a keyed
// write's version, or a single-key read's key.
func (c *Redis) opts(ctx actors.Context, write bool, rt routing, v hlc.Version) sendOpts {
	if !c.versioned() || !rt.keyed {
		return sendOpts{}
	}
	if write {
		if v.IsZero() {
			v = stamp(ctx)
		}
		return sendOpts{version: v}
	}
	if rt.key == nil {
		return sendOpts{}
	}
	return sendOpts{key: rt.key}
}

// single sends one request to its replicas at the connection's level.
func (c *Redis) single(ctx actors.Context, args [][]byte, reps []ring.Replica, write bool, now time.Time, rt routing) {
	if c.p.stateRefuses(write) {
		c.p.answer(errReply(stateRefusal), false)
		return
	}
	s := c.p.single()
	s.pending, s.merge, s.deadline = 1, mergeFirst, now.Add(c.cfg.Timeout)
	var canon func([]byte) []byte
	unordered := 0
	if spec := c.lookup(args[0]); spec != nil && spec.Unordered {
		canon, unordered = canonSet, 1
		if spec.Pairs {
			canon, unordered = canonPairs, 2
		}
	}
	o := c.opts(ctx, write, rt, hlc.Version{})
	o.canon, o.unordered = canon, unordered
	c.p.sendOpts(ctx, &c.cfg, c.p.push(s), 0, args, reps, c.level(write), write, o)
}

var canonSet, canonPairs = canonicalUnordered(false), canonicalUnordered(true)

// level is the consistency a request runs at. A command only the local node
// serves has one replica, so every level reduces to its answer.
func (c *Redis) level(write bool) config.Consistency {
	if write {
		return c.cfg.Write
	}
	return c.cfg.Read
}

// multiKey splits MGET/MSET/DEL/EXISTS/UNLINK/TOUCH per key unless every key
// lives on the same nodes, in which case the command goes through whole.
// With versions on it always splits, so that each part names one key: a
// write's parts share the command's one version, a read's parts are
// versioned reads. The client's reply is the same either way.
func (c *Redis) multiKey(ctx actors.Context, spec *command.Spec, args [][]byte) {
	var ok bool
	c.keys, ok = spec.KeyIndexes(args, c.keys[:0])
	if !ok {
		c.p.answer(errReply("ERR wrong number of arguments for '"+spec.Name+"' command"), false)
		return
	}
	now := ctx.Now()
	write := spec.IsWrite(args)
	groups := make([][]ring.Replica, len(c.keys))
	together := true
	for i, k := range c.keys {
		groups[i] = c.cfg.Ring.Replicas(args[k], nil)
		if i > 0 && !sameNodes(groups[0], groups[i]) {
			together = false
		}
	}
	if together && !c.versioned() {
		c.single(ctx, args, groups[0], write, now, routing{keyed: true})
		return
	}
	if c.p.stateRefuses(write) {
		c.p.answer(errReply(stateRefusal), false)
		return
	}
	s := &slot{parts: make([]part, len(c.keys)), pending: len(c.keys), deadline: now.Add(c.cfg.Timeout)}
	s.merge = mergerFor(spec.Merge)
	seq := c.p.push(s)
	var v hlc.Version
	if c.versioned() && write {
		v = stamp(ctx)
	}
	for i, k := range c.keys {
		var sub [][]byte
		switch spec.Merge {
		case command.MergeArray:
			sub = [][]byte{[]byte("get"), args[k]}
		case command.MergeOK:
			sub = [][]byte{[]byte("set"), args[k], args[k+1]}
		default:
			sub = [][]byte{args[0], args[k]}
		}
		c.p.sendOpts(ctx, &c.cfg, seq, i, sub, groups[i], c.level(write), write, c.opts(ctx, write, routing{keyed: true, key: stringReadKey(sub, 1)}, v))
	}
}

// nodeCommand answers the commands the node handles itself.
func (c *Redis) nodeCommand(ctx actors.Context, spec *command.Spec, args [][]byte) (reply []byte, closeConn bool) {
	switch spec.Name {
	case "ping":
		if len(args) == 2 {
			return resp.AppendBulk(nil, args[1]), false
		}
		if len(args) > 2 {
			return errReply("ERR wrong number of arguments for 'ping' command"), false
		}
		return resp.AppendSimpleString(nil, "PONG"), false
	case "echo":
		return resp.AppendBulk(nil, args[1]), false
	case "quit":
		return resp.AppendSimpleString(nil, "OK"), true
	case "select":
		if string(args[1]) == "0" {
			return resp.AppendSimpleString(nil, "OK"), false
		}
		return errReply("ERR dynonode: only database 0 exists in a cluster"), false
	case "command":
		return c.commandCommand(args), false
	case "auth":
		return c.auth(args), false
	case "time":
		now := ctx.Now()
		out := resp.AppendArrayHeader(nil, 2)
		out = resp.AppendBulkString(out, strconv.FormatInt(now.Unix(), 10))
		return resp.AppendBulkString(out, strconv.Itoa(now.Nanosecond()/1000)), false
	case "reset":
		c.name = ""
		c.tx = nil
		c.dropSubscriptions(ctx)
		if c.cfg.Users != nil {
			c.setUser(c.cfg.Users.Initial())
		}
		return []byte("+RESET\r\n"), false
	case "acl":
		return c.aclCommand(args), false
	case "hello":
		if reply := c.hello(args); reply != nil {
			return reply, false
		}
		out := resp.AppendArrayHeader(nil, 6)
		out = resp.AppendBulkString(out, "server")
		out = resp.AppendBulkString(out, "dynonode")
		out = resp.AppendBulkString(out, "version")
		out = resp.AppendBulkString(out, c.cfg.Version)
		out = resp.AppendBulkString(out, "proto")
		return resp.AppendInt(out, 2), false
	default: // info
		return resp.AppendBulkString(nil, c.info(args[1:])), false
	}
}

// info is INFO [section ...]: the node's sections, with Redis's field
// names where client libraries read them. No section, "default", "all"
// and "everything" give every one; names are matched without case and an
// unknown one adds nothing (Redis answers an empty string for it alone).
// redis_version is the Redis whose commands and replies dynonode serves
// (client libraries check it, e.g. Sidekiq wants 6.2+); cluster_enabled:0
// tells cluster-aware clients this is not Redis Cluster (keys are routed
// by the node, MOVED never comes).
func (c *Redis) info(sections [][]byte) string {
	want := map[string]bool{}
	all := len(sections) == 0
	for _, s := range sections {
		switch n := strings.ToLower(string(s)); n {
		case "default", "all", "everything":
			all = true
		default:
			want[n] = true
		}
	}
	local := c.cfg.Ring.Local()
	var b strings.Builder
	add := func(name, body string) {
		if all || want[strings.ToLower(name)] {
			if b.Len() > 0 {
				b.WriteString("\r\n")
			}
			b.WriteString("# " + name + "\r\n" + body)
		}
	}
	add("Server", "server:dynonode\r\nredis_version:"+RedisVersion+"\r\nredis_mode:standalone\r\narch_bits:64\r\ndynonode_version:"+c.cfg.Version+"\r\n")
	add("Replication", "role:master\r\nconnected_slaves:0\r\n")
	add("Cluster", "cluster_enabled:0\r\ndatacenter:"+local.DC+"\r\nrack:"+local.Rack+
		"\r\nnode:"+local.ID+"\r\nracks:"+strconv.Itoa(c.cfg.Ring.NumRacks())+"\r\n")
	return b.String()
}

// unknownCommand formats Redis 7's unknown-command error exactly as
// processCommand does: argument list capped near 128 bytes, each argument
// truncated to what is left (resp.AppendError turns CR and LF into spaces).
func unknownCommand(args [][]byte) string {
	var list strings.Builder
	for _, a := range args[1:] {
		if list.Len() >= 128 {
			break
		}
		list.WriteString("'")
		list.WriteString(trunc(string(a), 128-list.Len()+1))
		list.WriteString("' ")
	}
	return "ERR unknown command '" + trunc(string(args[0]), 128) + "', with args beginning with: " + list.String()
}

func trunc(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}
