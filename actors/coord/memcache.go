package coord

import (
	"bytes"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/ring"
	"github.com/dynonode/dynonode/actors/store"
)

// MCRequests carries one batch of parsed memcached requests. Their byte
// slices must be owned by the message (see CloneMC).
type MCRequests struct {
	Reqs []mcproto.Request
	// Fatal, when set, is the error after which the connection closes.
	Fatal *mcproto.Error
}

// CloneMC deep-copies requests parsed from a reused read buffer into one
// fresh buffer, so they can cross to the coordinator.
func CloneMC(reqs []mcproto.Request) []mcproto.Request {
	size := 0
	for i := range reqs {
		r := &reqs[i]
		size += len(r.Key) + len(r.Data) + len(r.Raw)
		for _, k := range r.Keys {
			size += len(k)
		}
	}
	buf := make([]byte, 0, size)
	own := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	out := make([]mcproto.Request, len(reqs))
	for i, r := range reqs {
		r.Key, r.Data, r.Raw = own(r.Key), own(r.Data), own(r.Raw)
		if r.Keys != nil {
			keys := make([][]byte, len(r.Keys))
			for j, k := range r.Keys {
				keys[j] = own(k)
			}
			r.Keys = keys
		}
		if r.Err != nil {
			e := *r.Err
			r.Err = &e
		}
		out[i] = r
	}
	return out
}

// Memcached is the coordinator of one memcached text-protocol connection.
type Memcached struct {
	cfg Config
	p   pipeline
}

// NewMemcached returns a producer of memcached connection coordinators.
func NewMemcached(cfg Config) actors.Producer {
	return func() actors.Behaviour {
		return &Memcached{cfg: cfg, p: newPipeline(cfg.Timeout, "request timed out after "+cfg.Timeout.String())}
	}
}

// Receive implements actors.Behaviour. It lists every message the
// coordinator handles, as Redis.Receive does; any other is ignored.
func (c *Memcached) Receive(ctx actors.Context, m any) {
	switch m := m.(type) {
	case actors.Started:
		c.p.start(ctx, &c.cfg)
	case actors.Restarted:
		c.p.refuse(mcproto.AppendLine(nil, "SERVER_ERROR "+lostState), true, ErrReply) // see lostState
		c.p.endTurn(ctx, &c.cfg)
	case actors.Stopping:
		c.p.stop(ctx, &c.cfg)
	case gossip.View:
		for _, early := range c.p.follow(&c.cfg, m) {
			c.Receive(ctx, early)
		}
	case MCRequests:
		if c.p.hold(&c.cfg, m) {
			return
		}
		c.requests(ctx, m)
		c.p.endTurn(ctx, &c.cfg)
	case store.Result:
		c.p.result(ctx, &c.cfg, m)
		c.p.endTurn(ctx, &c.cfg)
	case store.Results:
		c.p.results(ctx, &c.cfg, m)
		c.p.endTurn(ctx, &c.cfg)
	case store.Acks:
		c.p.acks(ctx, &c.cfg, m)
		c.p.endTurn(ctx, &c.cfg)
	case tick:
		c.p.sweep(ctx.Now())
		c.p.expireHandoffs(ctx, &c.cfg, ctx.Now(), false)
		c.p.endTurn(ctx, &c.cfg)
	case statsTick:
		c.p.sendStats(ctx, c.cfg.Stats)
	}
}

// requests handles one batch of parsed requests, in order.
func (c *Memcached) requests(ctx actors.Context, m MCRequests) {
	c.p.now = ctx.Now()
	c.p.batch++
	for i := range m.Reqs {
		if c.p.closing {
			break
		}
		c.handle(ctx, &m.Reqs[i])
	}
	if m.Fatal != nil && !c.p.closing {
		c.p.refuse(mcproto.AppendLine(nil, m.Fatal.Reply), true, ErrProtocol)
	}
}

var endLine = []byte("END\r\n")

func (c *Memcached) handle(ctx actors.Context, r *mcproto.Request) {
	switch r.Kind {
	case mcproto.KindError:
		if r.NoReply && !r.Err.Close {
			// Not written, as memcached, but counted like any error.
			c.p.slot(c.p.push(&slot{reply: []byte{}, silent: true})).kind = mcErrKind(r.Err)
			return
		}
		c.p.refuse(mcproto.AppendLine(nil, r.Err.Reply), r.Err.Close, mcErrKind(r.Err))
	case mcproto.KindQuit:
		c.p.push(&slot{reply: []byte{}, close: true, silent: true})
	case mcproto.KindVersion:
		c.p.answer(mcproto.AppendLine(nil, "VERSION dynonode-"+c.cfg.Version), false)
	case mcproto.KindVerbosity:
		c.p.push(&slot{reply: mcproto.AppendLine(nil, mcproto.OK), silent: r.NoReply})
	case mcproto.KindGet, mcproto.KindGets, mcproto.KindGat, mcproto.KindGats:
		c.get(ctx, r)
	case mcproto.KindMetaNoop:
		c.p.answer(mnLine, false)
	case mcproto.KindMetaGet, mcproto.KindMetaSet, mcproto.KindMetaDelete, mcproto.KindMetaArith:
		c.meta(ctx, r)
	default: // storage, delete, incr/decr, touch: single-key writes
		if c.p.stateRefuses(true) {
			c.p.answer(mcproto.AppendLine(nil, "SERVER_ERROR "+stateRefusal[4:]), false)
			return
		}
		raw := r.Raw
		if r.NoReply {
			// The datastore must answer every request or replies could not
			// be matched; the client's noreply is honoured here instead.
			q := *r
			q.NoReply = false
			raw = mcproto.AppendRequest(nil, &q)
		}
		reps := c.cfg.Ring.Replicas(r.Key, nil)
		s := &slot{parts: make([]part, 1), pending: 1, merge: mcFirst, silent: r.NoReply, deadline: ctx.Now().Add(c.cfg.Timeout)}
		c.p.send(ctx, &c.cfg, c.p.push(s), 0, [][]byte{raw}, reps, c.cfg.Write, true)
	}
}

// get sends a get/gets whole when its keys share their nodes, else one get
// per key, merged back in key order. gat and gats (get and touch) go the
// same way as writes: to every replica at the write level, so that each
// replica's item takes the new expiry; the reply is the values, compared
// as a read's.
func (c *Memcached) get(ctx actors.Context, r *mcproto.Request) {
	touch := r.Kind == mcproto.KindGat || r.Kind == mcproto.KindGats
	if c.p.stateRefuses(touch) {
		c.p.answer(mcproto.AppendLine(nil, "SERVER_ERROR "+stateRefusal[4:]), false)
		return
	}
	if len(r.Keys) == 0 {
		c.p.answer(endLine, false) // gat with no key: memcached answers END
		return
	}
	level := c.cfg.Read
	if touch {
		level = c.cfg.Write
	}
	reps := make([][]ring.Replica, len(r.Keys))
	together := true
	for i, k := range r.Keys {
		reps[i] = c.cfg.Ring.Replicas(k, nil)
		if !sameNodes(reps[0], reps[i]) {
			together = false
		}
	}
	deadline := ctx.Now().Add(c.cfg.Timeout)
	var canon func([]byte) []byte
	if r.Kind.WithCas() {
		canon = withoutCas // each memcached numbers its own cas uniques
	}
	if together {
		s := &slot{parts: make([]part, 1), pending: 1, merge: mcFirst, deadline: deadline}
		c.p.sendCanon(ctx, &c.cfg, c.p.push(s), 0, [][]byte{r.Raw}, reps[0], level, touch, canon)
		return
	}
	s := &slot{parts: make([]part, len(r.Keys)), pending: len(r.Keys), merge: mcMergeGets, deadline: deadline}
	seq := c.p.push(s)
	for i, k := range r.Keys {
		one := mcproto.Request{Kind: r.Kind, Exptime: r.Exptime, Key: k, Keys: [][]byte{k}}
		c.p.sendCanon(ctx, &c.cfg, seq, i, [][]byte{mcproto.AppendRequest(nil, &one)}, reps[i], level, touch, canon)
	}
}

var mnLine = []byte("MN\r\n")

// meta sends a meta command as the client sent it, followed by mn so that
// the datastore answers even when quiet mode suppresses the command's own
// reply: each memcached applies the flags, the opaque and quiet mode
// itself, and the client reads the first replica's reply without the MN.
// mg goes to the key's replicas at the read level (to every rack at the
// write level when its T changes the TTL, as gat); ms, md and ma go to
// every rack at the write level, as set, delete and incr. A C compare
// goes to every replica as a cas does: each memcached counts its own cas
// uniques, and the reply is the first replica's.
func (c *Memcached) meta(ctx actors.Context, r *mcproto.Request) {
	write := r.Kind != mcproto.KindMetaGet || r.Touch
	if c.p.stateRefuses(write) {
		c.p.answer(mcproto.AppendLine(nil, "SERVER_ERROR "+stateRefusal[4:]), false)
		return
	}
	level := c.cfg.Read
	if write {
		level = c.cfg.Write
	}
	raw := make([]byte, 0, len(r.Raw)+len(mcproto.MetaSuffix))
	raw = append(append(raw, r.Raw...), mcproto.MetaSuffix...)
	s := &slot{parts: make([]part, 1), pending: 1, merge: mcMeta, deadline: ctx.Now().Add(c.cfg.Timeout)}
	c.p.sendCanon(ctx, &c.cfg, c.p.push(s), 0, [][]byte{raw}, c.cfg.Ring.Replicas(r.Key, nil), level, write, withoutMetaCas)
}

// mcMeta is mcFirst without the MN that ends a meta command's reply.
func mcMeta(parts []part, dst []byte) []byte {
	if f := parts[0].failure; f.failed() {
		return mcFailure(dst, f)
	}
	return append(dst, bytes.TrimSuffix(parts[0].reply, mnLine)...)
}

// withoutMetaCas returns a meta reply without the c (cas) and t (TTL left)
// flags of its first line, which differ between replicas holding the same
// item (see withoutCas).
func withoutMetaCas(reply []byte) []byte {
	end := bytes.IndexByte(reply, '\r')
	if end < 0 {
		return reply
	}
	out := make([]byte, 0, len(reply))
	for i, tok := range bytes.Split(reply[:end], []byte(" ")) {
		if i > 0 && len(tok) > 0 && (tok[0] == 'c' || tok[0] == 't') {
			continue
		}
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, tok...)
	}
	return append(out, reply[end:]...)
}

// withoutCas returns a gets reply without its cas uniques, so replicas that
// hold the same items compare equal at the quorum levels: every memcached
// counts its own, and they differ as soon as one replica took a write the
// others did not. Any other reply is returned as it is.
func withoutCas(reply []byte) []byte {
	var r mcproto.Response
	n, err := mcproto.ParseResponse(mcproto.KindGets, reply, &r)
	if err != nil || n != len(reply) || len(r.Items) == 0 {
		return reply
	}
	out := make([]byte, 0, len(reply))
	for _, it := range r.Items {
		out = mcproto.AppendValue(out, it.Key, it.Flags, it.Data)
	}
	return append(append(out, r.Line...), '\r', '\n')
}

func mcFailure(dst []byte, f failure) []byte {
	return mcproto.AppendLine(dst, "SERVER_ERROR "+f.text)
}

func mcFirst(parts []part, dst []byte) []byte {
	if f := parts[0].failure; f.failed() {
		return mcFailure(dst, f)
	}
	return append(dst, parts[0].reply...)
}

// mcMergeGets concatenates the VALUE blocks of per-key gets, in key order,
// under one END.
func mcMergeGets(parts []part, dst []byte) []byte {
	for _, p := range parts {
		if p.failure.failed() {
			return mcFailure(dst, p.failure)
		}
		if !bytes.HasSuffix(p.reply, endLine) {
			return append(dst, p.reply...) // an error line: pass the first one on
		}
	}
	for _, p := range parts {
		dst = append(dst, p.reply[:len(p.reply)-len(endLine)]...)
	}
	return append(dst, endLine...)
}
