package coord

import (
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/acl"
	"github.com/dynonode/dynonode/actors/clients"
	"github.com/dynonode/dynonode/actors/resp"
)

// The coordinator's side of the node's client registry (actors/clients):
// it registers its connection when it starts, tells the registry when the
// rare part of its state changes (rareState), answers the registry's Ask with
// its whole state, and closes its connection when the registry says
// CLIENT KILL chose it. CLIENT LIST and KILL ask the registry, which
// answers as a store would (a store.Result), so their replies keep their
// place in the pipeline.

// rareState is the part of a connection's state the registry is kept up
// to date with: it changes on a few commands only, never per request.
// MULTI state is left out (a transaction would cost two messages; found
// by review): no KILL filter reads it, and LIST asks each connection.
type rareState struct {
	name, user      string
	sub, psub, ssub int
	noEvict         bool
}

func (c *Redis) rare() rareState {
	return rareState{name: c.name, user: c.userName(), sub: len(c.channels), psub: len(c.patterns), ssub: len(c.shards),
		noEvict: c.noEvict}
}

// userName is who the connection is, as CLIENT LIST shows it: default
// until it authenticates, as in Redis.
func (c *Redis) userName() string {
	if c.user == nil {
		return acl.DefaultUser
	}
	return c.user.Name
}

// entry is the connection's whole state, as CLIENT LIST and INFO show it.
func (c *Redis) entry() clients.Entry {
	e := clients.Entry{ID: c.id, Conn: c.cfg.Socket, Name: c.name, User: c.userName(), Opened: c.opened, Active: c.p.now,
		Sub: len(c.channels), PSub: len(c.patterns), SSub: len(c.shards), Multi: -1, Blocked: c.blk != nil,
		NoEvict: c.noEvict, Cmd: c.cmd}
	if wrote := time.Unix(0, c.p.wrote); wrote.After(e.Active) {
		e.Active = wrote
	}
	if c.tx != nil {
		e.Multi = len(c.tx.cmds)
	}
	return e
}

// register tells the registry the connection exists (at start, and again
// after a restart: the fresh incarnation's state).
func (c *Redis) register(ctx actors.Context) {
	c.id, c.opened = clientID(ctx), ctx.Now()
	if c.cfg.Clients.IsZero() {
		return
	}
	c.sent = c.rare()
	ctx.Send(c.cfg.Clients, clients.Update{Conn: ctx.Self(), Entry: c.entry()})
}

// tell sends the registry the connection's state when its rare part
// changed since it last did. Only commands change it, and every batch of
// them (a read, or the commands a blocked pop held) counts in p.batch:
// a turn that handled none costs one comparison.
func (c *Redis) tell(ctx actors.Context) {
	if c.p.batch == c.toldBatch || c.cfg.Clients.IsZero() || c.p.killed || c.opened.IsZero() { // not registered yet (Restarted comes before Started)
		return
	}
	c.toldBatch = c.p.batch
	if t := c.rare(); t != c.sent {
		c.sent = t
		ctx.Send(c.cfg.Clients, clients.Update{Conn: ctx.Self(), Entry: c.entry()})
	}
}

// leave tells the registry the connection ended.
func (c *Redis) leave(ctx actors.Context) {
	if !c.cfg.Clients.IsZero() {
		ctx.Send(c.cfg.Clients, clients.Left{ID: c.id})
	}
}

// killed closes the connection CLIENT KILL chose: its blocked pop and
// subscriptions are withdrawn, and the registry, which forgot it already,
// is told it left after any Update still on its way, so that one does
// not bring it back.
func (c *Redis) killed(ctx actors.Context) {
	c.unwatch(ctx)
	c.blk = nil
	c.dropSubscriptions(ctx)
	c.tx = nil
	c.p.kill(ctx, c.cfg.Sink)
	c.leave(ctx)
}

// clientList serves CLIENT LIST: the registry's lines, or Redis's error
// for the arguments.
func (c *Redis) clientList(ctx actors.Context, args [][]byte) {
	f, bad := clients.ParseList(args)
	if bad != "" {
		c.p.answer(errReply(bad), false)
		return
	}
	id := c.p.ask(ctx.Now(), localOnly(c.cfg.Ring), false)
	ctx.Send(c.cfg.Clients, clients.ListReq{ID: id, Filter: f})
}

// clientKill serves CLIENT KILL. Whether it kills its own connection the
// coordinator decides itself, from its own state: then the reply is its
// last, and nothing it sent after runs, as with Redis's close after
// reply.
func (c *Redis) clientKill(ctx actors.Context, args [][]byte) {
	k, bad := clients.ParseKill(args, c.userExists)
	if bad != "" {
		c.p.answer(errReply(bad), false)
		return
	}
	e := c.entry()
	self := !k.SkipMe && k.Match(&e)
	id := c.p.ask(ctx.Now(), localOnly(c.cfg.Ring), self)
	ctx.Send(c.cfg.Clients, clients.KillReq{ID: id, By: c.id, Self: self, Kill: k})
}

// clientInfo is CLIENT INFO: the connection's own line.
func (c *Redis) clientInfo(ctx actors.Context) []byte {
	e := c.entry()
	return resp.AppendBulk(nil, e.AppendLine(nil, ctx.Now()))
}

// userExists reports whether a user of that name exists: the aclfile's
// (or requirepass's) users, or Redis's default user alone.
func (c *Redis) userExists(name string) bool {
	if c.cfg.Users == nil {
		return name == acl.DefaultUser
	}
	return c.cfg.Users.Find(name) != nil
}
