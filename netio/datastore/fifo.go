package datastore

import (
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/store"
)

// pending is one request queued on a connection, awaiting its reply.
type pending struct {
	id       uint64
	to       actors.Addr
	kind     mcproto.Kind // memcached: how to frame the reply
	quiet    bool         // store.Exec.Quiet: the requester wants no Result
	ack      bool         // store.Exec.Ack: a success is answered in store.Acks
	deadline time.Time
	vx       *vreq // versions on Redis (versions.go); nil for a plain request
}

// fifo is the queue of a connection's pending requests, oldest first:
// replies come back in request order.
type fifo struct {
	items []pending
	head  int
	load  int // requests in items: a group of stamps counts its members
}

// acked reports whether reply answers p by its ID alone (store.Exec.Acked).
func (p *pending) acked(reply []byte) bool { return p.ack && store.AckReply(reply) }

func (q *fifo) len() int { return len(q.items) - q.head }

// weight is the number of the node's requests p answers.
func (p *pending) weight() int {
	if p.vx != nil && p.vx.mode == vGroup {
		return len(p.vx.members)
	}
	return 1
}

func (q *fifo) push(p pending) {
	// Under steady pipelining the queue may never empty; reclaim the
	// consumed front once it dominates the slice.
	if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, p)
	q.load += p.weight()
}

// peek returns the oldest request; the queue must not be empty.
func (q *fifo) peek() *pending { return &q.items[q.head] }

// pop removes the oldest request; the queue must not be empty.
func (q *fifo) pop() pending {
	p := q.items[q.head]
	q.load -= p.weight()
	q.items[q.head] = pending{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return p
}

// drain removes and returns every request, oldest first.
func (q *fifo) drain() []pending {
	out := append([]pending(nil), q.items[q.head:]...)
	clear(q.items)
	q.items, q.head, q.load = q.items[:0], 0, 0
	return out
}
