package workload

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/check"
	"github.com/dynonode/dynonode/jepsen/cluster"
)

// Timeout bounds one operation on the client side; dynonode answers every
// request within its own timeout (1.5s in the Jepsen configs), so a longer
// wait means the node is paused or cut off.
const Timeout = 4 * time.Second

// Process is one client: it opens a connection to Node at Level and runs
// the operations Next draws, one at a time.
type Process struct {
	ID    int
	Node  cluster.Node
	Level string
	Next  Next
	Ops   int           // stop after this many; 0: until stop closes
	Think time.Duration // mean pause between operations
	Seed  uint64
}

// Next returns operation n's invocation (F, Key, Value) and its command.
type Next func(n int, r *rand.Rand) (check.Op, []string)

// Run runs the process until stop closes or it has done Ops operations.
// A process with an operation budget records a failed connection as a
// failed operation (liveness must see it); an unbounded one retries.
func (p *Process) Run(rec *Recorder, stop <-chan struct{}) {
	r := rand.New(rand.NewPCG(p.Seed, uint64(p.ID)))
	var c *Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for n := 1; p.Ops == 0 || n <= p.Ops; n++ {
		select {
		case <-stop:
			return
		case <-time.After(p.Think/2 + time.Duration(r.Int64N(int64(p.Think)+1))):
		}
		inv, args := p.Next(n, r)
		inv.Process, inv.Type, inv.Level, inv.Node, inv.DC = p.ID, check.Invoke, p.Level, p.Node.Name, p.Node.DC
		if c == nil {
			var err error
			if c, err = Dial(p.Node, p.Level); err != nil {
				if p.Ops > 0 {
					done := rec.add(inv)
					done.Type, done.Error = check.Fail, err.Error() // never sent
					rec.add(done)
				} else {
					n--
				}
				continue
			}
		}
		done := rec.add(inv)
		v, err := c.Do(Timeout, args...)
		rec.add(complete(done, v, err))
		if err != nil {
			c.Close()
			c = nil
		}
	}
}

// complete turns a reply into the operation's completion, as the
// simulator's workload does: a write that failed may still have reached
// some replicas, so its outcome is unknown (info) unless the node refused
// it outright; a failed read changed nothing (fail).
func complete(inv check.Op, v resp.Value, err error) check.Op {
	op := inv
	write := op.F != "read"
	switch {
	case err != nil:
		op.Type, op.Error = check.Fail, err.Error()
		if write {
			op.Type = check.Info
		}
	case v.Type == resp.Error:
		op.Type, op.Error = check.Fail, string(v.Str)
		if write && !refused(op.Error) {
			op.Type = check.Info
		}
	case op.F == "read" && v.Type == resp.Array:
		op.Type = check.OK
		for _, e := range v.Elems {
			op.Values = append(op.Values, string(e.Str))
		}
	case op.F == "read":
		op.Type, op.Value = check.OK, string(v.Str) // "" for a missing key
	default:
		op.Type = check.OK
		if v.Type == resp.Integer && op.F == "incr" {
			op.Value = strconv.FormatInt(v.Int, 10)
		}
	}
	return op
}

// SetOps adds unique elements to keys (SADD) and reads them (SMEMBERS);
// reads is the share of reads.
func SetOps(id int, keys []string, reads float64) Next {
	return func(n int, r *rand.Rand) (check.Op, []string) {
		key := keys[r.IntN(len(keys))]
		if r.Float64() < reads {
			return check.Op{F: "read", Key: key}, []string{"SMEMBERS", key}
		}
		v := "p" + strconv.Itoa(id) + "-" + strconv.Itoa(n)
		return check.Op{F: "add", Key: key, Value: v}, []string{"SADD", key, v}
	}
}

// AddThenRead adds one element to key, then reads it (liveness).
func AddThenRead(id int, key string) Next {
	return func(n int, r *rand.Rand) (check.Op, []string) {
		if n%2 == 0 {
			return check.Op{F: "read", Key: key}, []string{"SMEMBERS", key}
		}
		v := "p" + strconv.Itoa(id) + "-" + strconv.Itoa(n)
		return check.Op{F: "add", Key: key, Value: v}, []string{"SADD", key, v}
	}
}

// RegisterWriter is the only writer of key: it SETs "1", "2", ... in order.
func RegisterWriter(key string) Next {
	return func(n int, _ *rand.Rand) (check.Op, []string) {
		v := strconv.Itoa(n)
		return check.Op{F: "write", Key: key, Value: v}, []string{"SET", key, v}
	}
}

// Reader GETs one of keys.
func Reader(keys []string) Next {
	return func(_ int, r *rand.Rand) (check.Op, []string) {
		key := keys[r.IntN(len(keys))]
		return check.Op{F: "read", Key: key}, []string{"GET", key}
	}
}

// FreshWriter SETs a key of its own each time, never written again
// ("cv-<id>-<n>"): the convergence check's writes, which no later
// overwrite hides a fault from.
func FreshWriter(id int) Next {
	return func(n int, _ *rand.Rand) (check.Op, []string) {
		key := "cv-" + strconv.Itoa(id) + "-" + strconv.Itoa(n)
		return check.Op{F: "write", Key: key, Value: "v" + strconv.Itoa(id) + "-" + strconv.Itoa(n)}, []string{"SET", key, "v" + strconv.Itoa(id) + "-" + strconv.Itoa(n)}
	}
}

// ReadEach GETs keys in order, one per operation (run it with Ops:
// len(keys)).
func ReadEach(keys []string) Next {
	return func(n int, _ *rand.Rand) (check.Op, []string) {
		key := keys[(n-1)%len(keys)]
		return check.Op{F: "read", Key: key}, []string{"GET", key}
	}
}

// Incrementer INCRs key.
func Incrementer(key string) Next {
	return func(int, *rand.Rand) (check.Op, []string) {
		return check.Op{F: "incr", Key: key}, []string{"INCR", key}
	}
}
