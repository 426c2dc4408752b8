package sim

import (
	"time"

	"github.com/dynonode/dynonode/actors"
)

type eventKind uint8

const (
	evDeliver eventKind = iota + 1 // a message for an actor
	evTimer                        // an actor's timer fires
	evFunc                         // a script or fault action
)

// event is one entry of the simulation's agenda. Events are ordered by
// (at, seq): seq is a global counter, so ties resolve in scheduling order and
// the run is a deterministic function of the seed.
type event struct {
	at    time.Duration
	seq   uint64
	kind  eventKind
	node  *node // target node (deliver, timer)
	epoch uint64
	from  actors.Addr
	to    string // actor name on node
	msg   any    // local message or timer payload
	wire  []byte // encoded envelope of a remote message, decoded on delivery
	timer actors.TimerID
	fn    func()
}

// agenda is a binary min-heap of events. It is written out rather than built
// on container/heap to avoid interface boxing on the hottest path.
type agenda struct{ h []*event }

func (q *agenda) less(i, j int) bool {
	a, b := q.h[i], q.h[j]
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func (q *agenda) push(e *event) {
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *agenda) pop() *event {
	n := len(q.h) - 1
	top := q.h[0]
	q.h[0] = q.h[n]
	q.h[n] = nil
	q.h = q.h[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.less(l, m) {
			m = l
		}
		if r < n && q.less(r, m) {
			m = r
		}
		if m == i {
			return top
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
}

func (q *agenda) len() int { return len(q.h) }

func (q *agenda) peek() *event { return q.h[0] }
