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

// link is the outbound half of a peer connection: one writer goroutine that
// owns the socket and the codec, fed by a bounded queue. Inbound frames
// arrive on connections the peer dialled (see acceptLoop), so a link never
// reads; the envelope names its sender, so no handshake is needed.
type link struct {
	n     *Node
	peer  actors.NodeID
	queue chan outbound
	done  chan struct{}
	wg    sync.WaitGroup

	mu   sync.Mutex
	addr string
}

func newLink(n *Node, peer actors.NodeID, addr string) *link {
	l := &link{n: n, peer: peer, addr: addr, queue: make(chan outbound, n.opts.LinkQueue), done: make(chan struct{})}
	l.wg.Add(1)
	go l.writeLoop()
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
// congested network would, and counts it.
func (l *link) enqueue(o outbound) {
	select {
	case l.queue <- o:
	default:
		l.n.stats.dropped.Add(1)
	}
}

func (l *link) close() {
	close(l.done)
	l.wg.Wait()
}

func (l *link) writeLoop() {
	defer l.wg.Done()
	log := l.n.log.With("peer", string(l.peer))
	codec := msg.NewCodec()
	var (
		conn    net.Conn
		w       *bufio.Writer
		frame   []byte
		backoff = minBackoff
		rng     = rand.New(rand.NewPCG(uint64(l.n.seed), uint64(len(l.peer))))
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
		case o = <-l.queue:
		}
		for conn == nil {
			c, err := net.DialTimeout("tcp", l.target(), l.n.opts.DialTimeout)
			if err == nil {
				conn, w, backoff = c, bufio.NewWriterSize(c, 64<<10), minBackoff
				log.Info("peer link connected", "addr", c.RemoteAddr().String())
				break
			}
			// Back off with full jitter so a recovering peer is not hit by
			// every node at once.
			wait := time.Duration(rng.Int64N(int64(backoff))) + backoff/2
			log.Warn("peer link dial failed; retrying", "addr", l.target(), "in", wait, "err", err)
			backoff = min(backoff*2, maxBackoff)
			select {
			case <-l.done:
				return
			case <-time.After(wait):
			}
		}
		// Write this message and whatever else is already queued, then flush
		// once: one syscall per burst rather than per message.
		var err error
		for {
			if frame, err = l.appendFrame(codec, frame[:0], o); err != nil {
				l.n.stats.dropped.Add(1)
				log.Error("dropping message that cannot be encoded", "to", o.to.String(), "err", err)
			} else if _, err = w.Write(frame); err != nil {
				break
			} else {
				l.n.stats.sent.Add(1)
			}
			err = nil
			if len(l.queue) == 0 {
				break
			}
			o = <-l.queue
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
		n.send(env.From, env.To, env.Msg)
	}
}
