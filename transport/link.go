package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/dynonode/dynonode/netio/sock"
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
		l.full(o, "Peer Node queue is full (max_msgs)")
		return
	}
	select {
	case p.queue <- o:
	default:
		l.n.queued.Add(-1)
		l.full(o, "Peer Node queue is full")
	}
}

// full drops a message a full queue cannot take, and says so at 1, 2, 4,
// 8... drops (across the node's links), so that a peer that cannot keep up
// (asynchronous replication piling up) is seen in the log, not only in
// dynonode_peer_messages_dropped_total.
func (l *link) full(o outbound, reason string) {
	l.n.bounce(o, reason)
	if n := l.n.queueDrops.Add(1); n&(n-1) == 0 {
		l.n.log.Warn("peer queue full: message dropped", "peer", string(l.peer), "reason", reason,
			"max_msgs", l.n.opts.MaxQueued, "link_queue", l.n.opts.LinkQueue, "dropped_so_far", n)
	}
	l.n.stats.dropped.Add(1)
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
		if m := b.Bounce(reason); m != nil {
			n.send(o.to, o.from, m, false)
		}
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
		w       *sock.Writer              // conn's
		out     = make([]byte, 0, 64<<10) // the burst being written
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
			c, err := l.dial()
			if err == nil {
				conn, w, backoff = c, sock.NewWriter(c), minBackoff
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
		// Let the goroutines that are ready to run now (other clients'
		// requests, a datastore reply being fanned out) queue their
		// messages too, then write this one and everything queued with
		// one write(2): under load from many clients a burst is many
		// messages, not one per request (and one wake-up of the peer).
		if len(p.queue) < cap(p.queue)/2 {
			runtime.Gosched()
		}
		var err error
		out = out[:0]
		for {
			start := len(out)
			if out, err = l.appendFrame(codec, out, o); err != nil {
				l.n.stats.dropped.Add(1)
				log.Error("dropping message that cannot be encoded", "to", o.to.String(), "err", err)
			} else {
				out = l.writeFrame(out, start)
				l.n.stats.sent.Add(1)
			}
			err = nil
			if len(out) >= maxBurst {
				if err = l.flush(w, out); err != nil {
					break
				}
				out = out[:0]
			}
			if len(p.queue) == 0 {
				break
			}
			o = p.take(<-p.queue)
		}
		if err == nil && len(out) > 0 {
			err = l.flush(w, out)
		}
		if cap(out) > 4*maxBurst {
			out = make([]byte, 0, 64<<10) // a burst of large values: do not keep its buffer
		}
		if err != nil {
			mark(markWriteBroken)
			l.n.stats.dropped.Add(1)
			log.Warn("peer link broken; will redial", "err", err)
			conn.Close()
			conn, w = nil, nil
		}
	}
}

// appendFrame encodes one frame onto the end of dst (in place: the codec
// writes into dst's spare room). On error dst comes back as it was.
func (l *link) appendFrame(codec *msg.Codec, dst []byte, o outbound) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	// A send is an event of the node's clock: the peer merges it.
	dst, err := codec.AppendStamped(dst, o.from, o.to, l.n.hlcNow(time.Now().Add(l.n.ClockOffset())), o.msg)
	if err != nil {
		return dst[:start], err
	}
	size := len(dst) - start - msg.FrameHeader
	if size > l.n.opts.MaxFrame {
		return dst[:start], fmt.Errorf("transport: %T to %s encodes to %d bytes, over the %d byte frame limit", o.msg, o.to, size, l.n.opts.MaxFrame)
	}
	h := dst[start:]
	h[0], h[1], h[2], h[3] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)
	return dst, nil
}

// maxBurst is how many bytes a link writer gathers before writing them.
const maxBurst = 256 << 10

// writeFrame keeps the frame that starts at out[start] in the burst.
// Failpoints: peerDrop loses it silently (a lossy network), peerDelay
// holds the writer for the given milliseconds (a slow peer).
func (l *link) writeFrame(out []byte, start int) []byte {
	failpoint.Inject("peerDrop", func() {
		failpoint.Return(out[:start])
	})
	failpoint.Inject("peerDelay", func(val failpoint.Value) {
		if ms, ok := val.(int); ok {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
	})
	return out
}

// flush writes a burst out. Failpoint peerWriteReset fails it as a
// connection reset would; peerWriteTorn writes the first half of the burst
// (whole frames and, usually, part of one) and then fails it, as a reset
// in the middle of a write would.
func (l *link) flush(w *sock.Writer, out []byte) error {
	failpoint.Inject("peerWriteReset", func() {
		failpoint.Return(errors.New("failpoint peerWriteReset: connection reset"))
	})
	failpoint.Inject("peerWriteTorn", func() {
		_ = w.Write(out[:len(out)/2])
		failpoint.Return(errors.New("failpoint peerWriteTorn: connection reset mid-burst"))
	})
	return w.Write(out)
}

// dial connects to the peer, over TLS when the node's PeerTLS says so
// (the handshake within the dial timeout).
func (l *link) dial() (net.Conn, error) {
	addr := l.target()
	c, err := net.DialTimeout("tcp", addr, l.n.opts.DialTimeout)
	t := l.n.opts.TLS
	if err != nil || t == nil || !t.Encrypt(l.peer) {
		return c, err
	}
	cfg := t.Client()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		cfg.ServerName = host
	}
	tc := tls.Client(c, cfg)
	_ = tc.SetDeadline(time.Now().Add(l.n.opts.DialTimeout))
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	// In TLS 1.3 the dialler's handshake ends before the peer has checked
	// its certificate: wait for the peer's word that it took the link, or
	// a refused link would look connected and swallow what is written.
	var ok [1]byte
	if _, err := io.ReadFull(tc, ok[:]); err != nil || ok[0] != tlsAccepted {
		c.Close()
		return nil, fmt.Errorf("peer %s refused the TLS link (is this node's certificate signed by its tls_ca_file?): %v", addr, err)
	}
	_ = tc.SetDeadline(time.Time{})
	return tc, nil
}

// tlsAccepted is the byte an accepting node sends on a TLS peer link once
// it has verified the dialler's certificate.
const tlsAccepted = 1

// secure settles how an inbound connection speaks: with PeerTLS, a
// connection whose first byte opens a TLS handshake (0x16) must complete
// it with a certificate the node's CA signed; a plain one is taken only
// where PlainInbound allows. A refused connection is closed, counted
// (Stats.Refused) and logged with its address and reason.
func (n *Node) secure(conn net.Conn) (net.Conn, bool) {
	t := n.opts.TLS
	if t == nil {
		return conn, true
	}
	timeout := t.HandshakeTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	first := make([]byte, 1)
	if _, err := io.ReadFull(conn, first); err != nil {
		n.refuse(conn, "no first byte", err)
		return nil, false
	}
	pc := &peeked{Conn: conn, first: first}
	if first[0] != 0x16 { // a TLS record of type handshake
		if !t.PlainInbound {
			n.refuse(conn, "plain TCP where secure_server_option requires TLS", nil)
			return nil, false
		}
		_ = conn.SetDeadline(time.Time{})
		return pc, true
	}
	tc := tls.Server(pc, t.Server)
	if err := tc.Handshake(); err != nil {
		n.refuse(conn, "TLS handshake failed", err)
		return nil, false
	}
	if _, err := tc.Write([]byte{tlsAccepted}); err != nil {
		n.refuse(conn, "TLS link lost after the handshake", err)
		return nil, false
	}
	_ = conn.SetDeadline(time.Time{})
	return tc, true
}

// refuse closes an inbound connection, counts it and logs it at the 1st,
// 2nd, 4th, 8th... refusal (a flood does not flood the log).
func (n *Node) refuse(conn net.Conn, why string, err error) {
	if k := n.stats.refused.Add(1); k&(k-1) == 0 {
		n.log.Warn("peer connection refused", "remote", conn.RemoteAddr().String(), "reason", why, "err", err, "refused_so_far", k)
	}
	conn.Close()
}

// peeked is a connection whose first byte was read ahead.
type peeked struct {
	net.Conn
	first []byte
}

func (p *peeked) Read(b []byte) (int, error) {
	if len(p.first) > 0 && len(b) > 0 {
		n := copy(b, p.first)
		p.first = p.first[n:]
		return n, nil
	}
	return p.Conn.Read(b)
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
		src := sock.Source(conn.RemoteAddr().String())
		if max := n.opts.MaxPerSource; max > 0 && n.sources[src] >= max {
			n.mu.Unlock()
			n.refuse(conn, "too many connections from one source (max_connections_per_source)", nil)
			continue
		}
		n.sources[src]++
		n.conns[conn] = struct{}{}
		n.mu.Unlock()
		n.inbound.Add(1)
		go n.readLoop(conn)
	}
}

// readLoop decodes frames from one inbound peer connection and delivers
// them. Anything malformed closes this connection only: the peer redials, and
// no other link or actor notices. The messages of one read are handed to
// their actors on this goroutine, each actor's together and in order (see
// deliverGrouped), so a burst of replicated writes reaches the datastore
// adapter as one batch and leaves in one write.
func (n *Node) readLoop(raw net.Conn) {
	defer n.inbound.Done()
	defer func() {
		raw.Close()
		src := sock.Source(raw.RemoteAddr().String())
		n.mu.Lock()
		delete(n.conns, raw)
		if n.sources[src]--; n.sources[src] <= 0 {
			delete(n.sources, src)
		}
		n.mu.Unlock()
	}()
	conn, ok := n.secure(raw) // raw itself, or TLS over it
	if !ok {
		return
	}
	log := n.log.With("remote", conn.RemoteAddr().String())
	rd := sock.NewReader(conn)
	codec := msg.NewCodec()
	buf := make([]byte, 0, readBuf)
	var (
		out   []posted
		group []envelope
		cells = map[string]*cell{} // names seen on this connection
	)
	var bad error
	next := func() []byte { return buf[len(buf):cap(buf)] }
	got := func(nr int) bool {
		buf = buf[:len(buf)+nr]
		used, need, err := n.frames(codec, buf, &out, cells)
		if len(out) > 0 {
			group = deliverGrouped(out, group)
			clear(out)
			out = out[:0]
		}
		if err != nil {
			bad = err
			return false
		}
		rest := len(buf) - used
		switch {
		case need > cap(buf):
			// A frame larger than the buffer: make room for all of it.
			grown := make([]byte, rest, need)
			copy(grown, buf[used:])
			buf = grown
		case cap(buf) > readBuf && rest <= readBuf:
			// Past a large frame: give its buffer back.
			buf = append(make([]byte, 0, readBuf), buf[used:]...)
		default:
			buf = buf[:copy(buf, buf[used:])]
		}
		n.opts.Gate.Wait(n.opts.GateWait)
		return true
	}
	rerr := rd.Stream(next, got, nil)
	switch {
	case bad != nil:
		n.stats.badFrames.Add(1)
		log.Error("closing peer connection", "err", bad)
	case len(buf) > 0:
		mark(markResetMidFrame)
		log.Warn("peer connection closed mid-frame", "err", rerr, "bytes", len(buf))
	case rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, net.ErrClosed):
		log.Warn("peer connection read failed", "err", rerr)
	}
}

// maxCachedCells bounds the actor names a peer reader remembers (one per
// client connection of the peer that sends here, at most).
const maxCachedCells = 4096

// readBuf is an inbound peer connection's usual read buffer.
const readBuf = 64 << 10

// frames decodes the complete frames at the start of buf into out, with
// the actors they go to. It returns the bytes used and, when an incomplete
// frame follows, how many bytes the buffer must hold for it.
func (n *Node) frames(codec *msg.Codec, buf []byte, out *[]posted, cells map[string]*cell) (used, need int, err error) {
	for len(buf)-used >= msg.FrameHeader {
		size, err := msg.FrameLen(buf[used:used+msg.FrameHeader], n.opts.MaxFrame)
		if err != nil {
			return used, 0, fmt.Errorf("bad frame: %w", err)
		}
		end := used + msg.FrameHeader + size
		if end > len(buf) {
			return used, msg.FrameHeader + size, nil
		}
		env, err := codec.Decode(buf[used+msg.FrameHeader : end])
		if err != nil {
			return used, 0, fmt.Errorf("undecodable envelope: %w", err)
		}
		if env.To.Node != n.id {
			return used, 0, fmt.Errorf("envelope for another node: %s", env.To.String())
		}
		used = end
		n.stats.received.Add(1)
		n.hlcMerge(env.HLC)
		c := cells[env.To.Name]
		if c == nil || c.dead.Load() {
			if len(cells) >= maxCachedCells {
				clear(cells)
			}
			if c = n.lookup(env.To.Name); c != nil {
				cells[env.To.Name] = c
			}
		}
		if c == nil {
			n.stats.deadLetters.Add(1)
			n.log.Debug("dead letter", "to", env.To.String(), "msg_type", fmt.Sprintf("%T", env.Msg))
			continue
		}
		*out = append(*out, posted{to: c, env: envelope{from: env.From, msg: env.Msg}})
	}
	return used, 0, nil
}
