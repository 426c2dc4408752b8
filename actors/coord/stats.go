package coord

import (
	"bytes"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/store"
)

// Class groups requests for statistics.
type Class uint8

const (
	ClassRead  Class = iota // sent to the datastores as a read
	ClassWrite              // sent to the datastores as a write
	ClassOther              // answered by the node itself: PING, INFO, refusals, malformed requests
	NumClasses
)

var classNames = [NumClasses]string{"read", "write", "other"}

func (c Class) String() string { return classNames[c] }

// ErrKind says why a request was answered with an error.
type ErrKind uint8

const (
	ErrProtocol    ErrKind = iota // the client sent bytes that do not parse
	ErrDatastore                  // a datastore could not answer (down, ejected, connection lost)
	ErrPeer                       // a peer could not be reached
	ErrTimeout                    // no answer within the timeout
	ErrQuorum                     // the consistency level could not be met
	ErrUnsupported                // an unknown command, or one a cluster refuses
	ErrReply                      // any other error reply (WRONGTYPE, wrong arity, ...)
	NumErrKinds
	errNone ErrKind = 255
)

var errKindNames = [NumErrKinds]string{"protocol", "datastore", "peer", "timeout", "quorum", "unsupported", "error_reply"}

func (k ErrKind) String() string { return errKindNames[k] }

// NumLevels is the number of consistency levels (config.Consistency).
const NumLevels = 4

// LatencyBounds are the upper bounds of the latency histogram's buckets,
// from a request's arrival to its reply leaving for the client; one more
// bucket counts the slower ones.
var LatencyBounds = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// NumBuckets counts the histogram's buckets, the overflow one included.
const NumBuckets = len(LatencyBounds) + 1

// Counts are request statistics: what one coordinator gathered since its
// last report, or a node's totals. Requests of ClassOther are counted
// under level 0 (they run at no level). Plain arrays: recording a request
// allocates nothing.
type Counts struct {
	Requests   [NumClasses][NumLevels]uint64
	Errors     [NumClasses][NumErrKinds]uint64
	Latency    [NumClasses][NumLevels][NumBuckets]uint64
	LatencySum [NumClasses][NumLevels]time.Duration
	LatencyMax time.Duration
	// Read repair (versions on): replicas that answered a read with an
	// older version than another replica's, repair writes sent (DYNO.RESTORE
	// or DYNO.DEL, synchronous and background), and background repairs
	// dropped because the coordinator had its maximum in flight.
	StaleReplicas, RepairsSent, RepairsDropped uint64
	// VersionRereads counts the reads asked again with versions because
	// their replicas answered differently without (see askVersions).
	VersionRereads uint64
}

// StatsDelta is a coordinator's report to the stats actor: the counts of
// the requests it answered since its previous report, the stats actor's
// once sent (the coordinator starts new ones). Local only. A pointer, so
// the message is no 1.4 KB copy: boxed, a one-pointer struct allocates
// nothing.
type StatsDelta struct{ Counts *Counts }

// StatsInterval is the longest a coordinator keeps counts before
// reporting them.
const StatsInterval = time.Second

func (c *Counts) record(class Class, level config.Consistency, latency time.Duration, kind ErrKind) {
	if class == ClassOther || int(level) >= NumLevels {
		level = 0
	}
	c.Requests[class][level]++
	if kind != errNone {
		c.Errors[class][kind]++
	}
	b := 0
	for b < len(LatencyBounds) && latency > LatencyBounds[b] {
		b++
	}
	c.Latency[class][level][b]++
	c.LatencySum[class][level] += latency
	c.LatencyMax = max(c.LatencyMax, latency)
}

// Add folds o into c.
func (c *Counts) Add(o *Counts) {
	for cl := range NumClasses {
		for l := range NumLevels {
			c.Requests[cl][l] += o.Requests[cl][l]
			c.LatencySum[cl][l] += o.LatencySum[cl][l]
			for b := range NumBuckets {
				c.Latency[cl][l][b] += o.Latency[cl][l][b]
			}
		}
		for k := range NumErrKinds {
			c.Errors[cl][k] += o.Errors[cl][k]
		}
	}
	c.LatencyMax = max(c.LatencyMax, o.LatencyMax)
	c.StaleReplicas += o.StaleReplicas
	c.RepairsSent += o.RepairsSent
	c.RepairsDropped += o.RepairsDropped
	c.VersionRereads += o.VersionRereads
}

// ResetLatency forgets the latency histograms (Dynomite's /historeset),
// keeping the request and error counters.
func (c *Counts) ResetLatency() {
	c.Latency = [NumClasses][NumLevels][NumBuckets]uint64{}
	c.LatencySum = [NumClasses][NumLevels]time.Duration{}
	c.LatencyMax = 0
}

// storeErrKind is the error kind a store's failure is counted under. A
// Failure without a kind comes from a node built before kinds: a
// datastore's, as most are.
func storeErrKind(k store.FailureKind) ErrKind {
	switch k {
	case store.KindTimeout:
		return ErrTimeout
	case store.KindPeer:
		return ErrPeer
	}
	return ErrDatastore
}

// isErrorReply reports whether a reply written to the client is an error,
// in either protocol.
func isErrorReply(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case '-':
		return true
	case 'S', 'C', 'E':
		return bytes.HasPrefix(b, mcServerError) || bytes.HasPrefix(b, mcClientError) || bytes.HasPrefix(b, mcError)
	}
	return false
}

var (
	mcServerError = []byte("SERVER_ERROR")
	mcClientError = []byte("CLIENT_ERROR")
	mcError       = []byte("ERROR\r\n")
)

// statsTick is the coordinator's report timer.
type statsTick struct{}

// account records a slot leaving for the client: its latency, and the
// kind of error it carries, if any. reply is what was written for it (nil
// when silent). Failures are logged once here, with their cause.
func (p *pipeline) account(ctx actors.Context, s *slot, reply []byte, now time.Time) {
	kind, cause := s.kind, ""
	if kind == errNone {
		for i := range s.parts {
			if f := s.parts[i].failure; f.failed() {
				kind, cause = f.kind, f.text
				break
			}
		}
	}
	if kind == errNone && isErrorReply(reply) {
		kind = ErrReply
	}
	if p.counts == nil {
		p.counts = new(Counts)
	}
	p.counts.record(s.class, s.level, now.Sub(s.arrived), kind)
	switch {
	case cause != "":
		ctx.Log().Warn("request failed", "kind", kind.String(), "class", s.class.String(), "consistency", s.level.String(), "cause", cause)
	case kind == ErrReply || kind == ErrUnsupported:
		ctx.Log().Debug("request failed", "kind", kind.String(), "class", s.class.String(), "reply", strings.TrimSpace(string(reply)))
	}
}

// report schedules the next StatsDelta while there are counts to send.
func (p *pipeline) report(ctx actors.Context, to actors.Addr) {
	if to.IsZero() || p.counts == nil || p.reporting {
		return
	}
	p.reporting = true
	ctx.After(StatsInterval, statsTick{})
}

// sendStats sends what was counted since the last report.
func (p *pipeline) sendStats(ctx actors.Context, to actors.Addr) {
	p.reporting = false
	if to.IsZero() || p.counts == nil {
		return
	}
	ctx.Send(to, StatsDelta{Counts: p.counts})
	p.counts = nil // an idle connection keeps no counts (1.4 KB)
}

// mcErrKind classifies a memcached request the parser refused: ERROR is
// memcached's unknown command, the rest are malformed requests.
func mcErrKind(e *mcproto.Error) ErrKind {
	if e.Reply == "ERROR" {
		return ErrUnsupported
	}
	return ErrProtocol
}
