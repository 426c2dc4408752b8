package clients

import (
	"strconv"
	"time"
)

// Conn is what the edge knows of a client connection's socket when it
// starts the connection's actors.
type Conn struct {
	// Addr is the client's address as Redis shows it: "ip:port",
	// "[ipv6]:port", or "<socket path>:0" for a unix socket.
	Addr string
	// LAddr is the node's own address of the connection, in the same form.
	LAddr string
	// FD is the socket's descriptor; 0 where there is none (the
	// simulator's connections).
	FD int
	// Unix says the connection came through a unix-domain socket.
	Unix bool
}

// Entry is one connection as CLIENT LIST and CLIENT INFO show it.
type Entry struct {
	ID int64
	Conn
	Name, User string
	// Opened is when the connection's coordinator started (age); Active
	// the last time it read a request or wrote a reply (idle).
	Opened, Active time.Time
	// Sub, PSub and SSub count its channels, patterns and shard channels.
	Sub, PSub, SSub int
	// Multi counts the commands queued in its open transaction; -1
	// outside one.
	Multi int
	// Blocked says a blocking pop waits (flag b); NoEvict is CLIENT
	// NO-EVICT on (flag e).
	Blocked, NoEvict bool
	// Cmd is the full name of its last command ("client|list"), "" before
	// any (Redis's NULL).
	Cmd string
}

// Type is the kind of a connection, as CLIENT LIST TYPE and CLIENT KILL
// TYPE name them. A node's connections are all Normal or PubSub; a filter
// for Replica or Master matches none, as on a Redis without replication.
type Type uint8

const (
	AnyType Type = iota
	Normal
	Replica
	PubSub
	Master
)

// Type is e's kind: PubSub while it has a subscription.
func (e *Entry) Type() Type {
	if e.Sub+e.PSub+e.SSub > 0 {
		return PubSub
	}
	return Normal
}

// AppendLine appends e's line of CLIENT LIST, as at now, newline
// included: redis-server 7.0.15's fields in its order. The node cannot
// see its edge's buffers or its own memory per connection, so qbuf,
// qbuf-free, argv-mem, multi-mem, rbs, rbp, obl, oll, omem and tot-mem
// are 0; events is always r (the edge reads every connection), db 0,
// redir -1 (no tracking), resp 2. Age and idle are whole seconds of the
// node's clock, counted as Redis counts them (from second to second).
func (e *Entry) AppendLine(dst []byte, now time.Time) []byte {
	dst = append(dst, "id="...)
	dst = strconv.AppendInt(dst, e.ID, 10)
	dst = append(append(dst, " addr="...), e.Addr...)
	dst = append(append(dst, " laddr="...), e.LAddr...)
	dst = strconv.AppendInt(append(dst, " fd="...), int64(e.FD), 10)
	dst = append(append(dst, " name="...), e.Name...)
	dst = strconv.AppendInt(append(dst, " age="...), seconds(e.Opened, now), 10)
	active := e.Active
	if active.Before(e.Opened) {
		active = e.Opened
	}
	dst = strconv.AppendInt(append(dst, " idle="...), seconds(active, now), 10)
	dst = e.appendFlags(append(dst, " flags="...))
	dst = append(dst, " db=0 sub="...)
	dst = strconv.AppendInt(dst, int64(e.Sub), 10)
	dst = strconv.AppendInt(append(dst, " psub="...), int64(e.PSub), 10)
	dst = strconv.AppendInt(append(dst, " ssub="...), int64(e.SSub), 10)
	dst = strconv.AppendInt(append(dst, " multi="...), int64(e.Multi), 10)
	dst = append(dst, " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd="...)
	if e.Cmd == "" {
		dst = append(dst, "NULL"...)
	} else {
		dst = append(dst, e.Cmd...)
	}
	dst = append(append(dst, " user="...), e.User...)
	return append(dst, " redir=-1 resp=2\n"...)
}

// appendFlags appends e's flags in Redis's order (P pub/sub, x in MULTI,
// b blocked, U unix socket, e no-evict), N when it has none.
func (e *Entry) appendFlags(dst []byte) []byte {
	n := len(dst)
	if e.Type() == PubSub {
		dst = append(dst, 'P')
	}
	if e.Multi >= 0 {
		dst = append(dst, 'x')
	}
	if e.Blocked {
		dst = append(dst, 'b')
	}
	if e.Unix {
		dst = append(dst, 'U')
	}
	if e.NoEvict {
		dst = append(dst, 'e')
	}
	if len(dst) == n {
		dst = append(dst, 'N')
	}
	return dst
}

// seconds is now - t in whole seconds of the clock, never negative (a
// clock that jumped back).
func seconds(t, now time.Time) int64 {
	return max(now.Unix()-t.Unix(), 0)
}
