package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/pingcap/failpoint"
)

type outbound struct {
	from, to actors.Addr
	msg      any
}

// Backoff bounds for redialling a peer.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// link is the outbound half of the connections to one peer: a pool of
// pipes, each one TCP connection owned by one writer goroutine fed by a
// bounded queue. Inbound frames arrive on connections the peer dialled (see
// acceptLoop), so a link never reads; the envelope names its sender, so no
// handshake is needed.
type link struct {
	n     *Node
	peer  actors.NodeID
	pipes []*pipe
	done  chan struct{}
	wg    sync.WaitGroup

	mu   sync.Mutex
	addr string
}

// pipe is one connection of a link's pool.
type pipe struct {
	l     *link
	index int
	queue chan outbound
}

func newLink(n *Node, peer actors.NodeID, addr string, conns int) *link {
	l := &link{n: n, peer: peer, addr: addr, done: make(chan struct{})}
	for i := range max(conns, 1) {
		p := &pipe{l: l, index: i, queue: make(chan outbound, n.opts.LinkQueue)}
		l.pipes = append(l.pipes, p)
		l.wg.Add(1)
		go p.writeLoop()
	}
	return l
}

func (l *link) setAddr(addr string) {
	l.mu.Lock()
	l.addr = addr
	l.mu.Unlock()
}

func (l *link) target() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// enqueue never blocks an actor: a full queue drops the message, as a
// congested network would, and counts it. The pipe is chosen by sender, so
// one actor's messages to this peer stay in order (a coordinator's writes
// to one key must not overtake each other).
func (l *link) enqueue(o outbound) {
	p := l.pipes[0]
	if len(l.pipes) > 1 {
		p = l.pipes[fnv32(o.from.Name)%uint32(len(l.pipes))]
	}
	if l.n.queued.Add(1) > int64(l.n.opts.MaxQueued) {
		l.n.queued.Add(-1)
		l.n.stats.dropped.Add(1)
		l.n.bounce(o, "Peer Node queue is full (max_msgs)")
		return
	}
	select {
	case p.queue <- o:
	default:
		l.n.queued.Add(-1)
		l.n.stats.dropped.Add(1)
		l.n.bounce(o, "Peer Node queue is full")
	}
}

// take removes one message from a pipe's queue (the writer calls it).
func (p *pipe) take(o outbound) outbound {
	p.l.n.queued.Add(-1)
	return o
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func (l *link) close() {
	close(l.done)
	l.wg.Wait()
}

// bounce hands a request that cannot be delivered back to its sender as a
// failure, when the message says how (msg.Bounceable).
func (n *Node) bounce(o outbound, reason string) {
	if b, ok := o.msg.(msg.Bounceable); ok && !o.from.IsZero() {
		n.send(o.to, o.from, b.Bounce(reason), false)
	}
}

// drainBounce empties the queue while the peer cannot be reached: waiting
// requests fail now rather than arriving arbitrarily late.
func (p *pipe) drainBounce(reason string) {
	for {
		select {
		case o := <-p.queue:
			p.take(o)
			p.l.n.stats.dropped.Add(1)
			p.l.n.bounce(o, reason)
		default:
			return
		}
	}
}

func (p *pipe) writeLoop() {
	l := p.l
	defer l.wg.Done()
	log := l.n.log.With("peer", string(l.peer), "pipe", p.index)
	codec := msg.NewCodec()
	var (
		conn    net.Conn
		w       *bufio.Writer
		frame   []byte
		backoff = minBackoff
		rng     = rand.New(rand.NewPCG(uint64(l.n.seed), uint64(fnv32(string(l.peer)))+uint64(p.index)))
	)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for {
		var o outbound
		select {
		case <-l.done:
			return
		case o = <-p.queue:
			p.take(o)
		}
		for conn == nil {
			c, err := net.DialTimeout("tcp", l.target(), l.n.opts.DialTimeout)
			if err == nil {
				conn, w, backoff = c, bufio.NewWriterSize(c, 64<<10), minBackoff
				log.Info("peer link connected", "addr", c.RemoteAddr().String())
				break
			}
			l.n.stats.dropped.Add(1)
			l.n.bounce(o, "Peer Node is not connected")
			p.drainBounce("Peer Node is not connected")
			// Back off with jitter so a recovering peer is not hit by every
			// node at once; requests arriving meanwhile wait for the next
			// attempt or bounce with it.
			wait := time.Duration(rng.Int64N(int64(backoff))) + backoff/2
			log.Warn("peer link dial failed; retrying", "addr", l.target(), "in", wait, "err", err)
			backoff = min(backoff*2, maxBackoff)
			select {
			case <-l.done:
				return
			case <-time.After(wait):
			}
			select {
			case <-l.done:
				return
			case o = <-p.queue:
				p.take(o)
			}
		}
		// Write this message and whatever else is already queued, then flush
		// once: one syscall per burst rather than per message.
		var err error
		for {
			if frame, err = l.appendFrame(codec, frame[:0], o); err != nil {
				l.n.stats.dropped.Add(1)
				log.Error("dropping message that cannot be encoded", "to", o.to.String(), "err", err)
			} else if err = l.writeFrame(w, frame); err != nil {
				break
			} else {
				l.n.stats.sent.Add(1)
			}
			err = nil
			if len(p.queue) == 0 {
				break
			}
			o = p.take(<-p.queue)
		}
		if err == nil {
			err = l.flush(w)
		}
		if err != nil {
			l.n.stats.dropped.Add(1)
			log.Warn("peer link broken; will redial", "err", err)
			conn.Close()
			conn = nil
		}
	}
}

func (l *link) appendFrame(codec *msg.Codec, dst []byte, o outbound) ([]byte, error) {
	dst = append(dst, 0, 0, 0, 0)
	dst, err := codec.Append(dst, o.from, o.to, o.msg)
	if err != nil {
		return dst[:0], err
	}
	size := len(dst) - msg.FrameHeader
	if size > l.n.opts.MaxFrame {
		return dst[:0], fmt.Errorf("transport: %T to %s encodes to %d bytes, over the %d byte frame limit", o.msg, o.to, size, l.n.opts.MaxFrame)
	}
	dst[0], dst[1], dst[2], dst[3] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)
	return dst, nil
}

// writeFrame buffers one frame. Failpoints: peerDrop loses the frame
// silently (a lossy network), peerDelay holds the writer for the given
// milliseconds (a slow peer).
func (l *link) writeFrame(w *bufio.Writer, frame []byte) error {
	failpoint.Inject("peerDrop", func() {
		failpoint.Return(nil)
	})
	failpoint.Inject("peerDelay", func(val failpoint.Value) {
		if ms, ok := val.(int); ok {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
	})
	_, err := w.Write(frame)
	return err
}

// flush writes a burst out. Failpoint peerWriteReset fails it as a
// connection reset would.
func (l *link) flush(w *bufio.Writer) error {
	failpoint.Inject("peerWriteReset", func() {
		failpoint.Return(errors.New("failpoint peerWriteReset: connection reset"))
	})
	return w.Flush()
}

func (n *Node) acceptLoop() {
	defer n.inbound.Done()
	for {
		conn, err := n.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				n.log.Error("peer listener stopped", "err", err)
			}
			return
		}
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			conn.Close()
			return
		}
		n.conns[conn] = struct{}{}
		n.mu.Unlock()
		n.inbound.Add(1)
		go n.readLoop(conn)
	}
}

// readLoop decodes frames from one inbound peer connection and delivers
// them. Anything malformed closes this connection only: the peer redials, and
// no other link or actor notices.
func (n *Node) readLoop(conn net.Conn) {
	defer n.inbound.Done()
	defer func() {
		conn.Close()
		n.mu.Lock()
		delete(n.conns, conn)
		n.mu.Unlock()
	}()
	log := n.log.With("remote", conn.RemoteAddr().String())
	r := bufio.NewReaderSize(conn, 64<<10)
	codec := msg.NewCodec()
	var hdr [msg.FrameHeader]byte
	var body []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				log.Warn("peer connection read failed", "err", err)
			}
			return
		}
		size, err := msg.FrameLen(hdr[:], n.opts.MaxFrame)
		if err != nil {
			n.stats.badFrames.Add(1)
			log.Error("closing peer connection: bad frame", "err", err)
			return
		}
		if cap(body) < size {
			body = make([]byte, size)
		}
		body = body[:size]
		if _, err := io.ReadFull(r, body); err != nil {
			log.Warn("peer connection closed mid-frame", "err", err)
			return
		}
		env, err := codec.Decode(body)
		if err != nil {
			n.stats.badFrames.Add(1)
			log.Error("closing peer connection: undecodable envelope", "err", err)
			return
		}
		if env.To.Node != n.id {
			n.stats.badFrames.Add(1)
			log.Error("closing peer connection: envelope for another node", "to", env.To.String())
			return
		}
		n.stats.received.Add(1)
		// Queued, not run inline: the reader keeps draining the peer while the
		// receivers work through their mailboxes in batches.
		n.send(env.From, env.To, env.Msg, false)
	}
}
