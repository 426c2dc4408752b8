package antientropy

import (
	"time"

	"github.com/dynonode/dynonode/actors/msg"
)

// The exchange between the anti-entropy actors of two replicas (remote
// messages). A session compares what both hold of the segments they
// share, then each side lists its keys of the buckets that differ and the
// other pulls what it lacks or holds older:
//
//	initiator                        responder
//	  Sync{digests} ----------------->  (scans its store)
//	  <------------------- SyncReply{Diff}
//	  Page{keys, versions} <--------->  Page{keys, versions}
//	  PageAck <---------------------->  PageAck
//	  ... until each side has sent its Last page and had it acknowledged
type (
	// Sync opens a session: the initiator's leaf digests of the segments
	// it shares with the receiver, computed over versions no newer than
	// Horizon (wall ns), which the receiver uses as well.
	Sync struct {
		Session uint64
		From    string
		Layout  uint64   // the ring's fingerprint (layout.sum)
		Horizon int64    // versions with a newer wall time are left out of digests
		Bits    uint8    // log2 of the buckets per segment
		Segs    []uint32 // the segments, by their upper token
		Leaves  [][]uint64
	}
	// SyncReply answers a Sync: Busy (another session runs, or the
	// receiver is not ready) or a layout that differs end the session at
	// once; otherwise Diff lists the buckets that differ, as segment token
	// << 32 | bucket, sorted. An empty Diff: the replicas agree.
	SyncReply struct {
		Session  uint64
		Busy     bool
		Mismatch bool
		Diff     []uint64
		// Scanning says the receiver took the session and scans its
		// store: the Diff follows (sent at once, and again while the scan
		// lasts, so the initiator knows the peer is alive).
		Scanning bool
	}
	// Page is one page of the sender's keys in the differing buckets,
	// with their version texts (hlc.AppendText, 'r' first for a value
	// modified in place). Last is the sender's final page. A page may be
	// empty: a lister that found nothing to send for a while sends one
	// so the peer knows it is alive.
	Page struct {
		Session  uint64
		Keys     [][]byte
		Versions [][]byte
		Last     bool
		// Seq numbers the sender's pages from 1: the receiver pulls them
		// in order, whatever order the network delivers them in, and
		// knows a copy.
		Seq uint64
	}
	// PageAck says the receiver pulled what it needed of page Seq: the
	// sender may send one more.
	PageAck struct {
		Session uint64
		Seq     uint64
	}
	// Abort ends a session (a timeout, or the sender stopped it).
	Abort struct{ Session uint64 }
)

// Bounce implements msg.Bounceable: a Sync the runtime cannot deliver (the
// peer's link is down) ends the session as if the peer were busy.
func (s Sync) Bounce(string) any { return SyncReply{Session: s.Session, Busy: true} }

// Bounce implements msg.Bounceable: an undeliverable Page aborts its
// session.
func (p Page) Bounce(string) any { return Abort{Session: p.Session} }

func init() {
	msg.Register[Sync](300)
	msg.Register[SyncReply](301)
	msg.Register[Page](302)
	msg.Register[PageAck](303)
	msg.Register[Abort](304)
}

// The node-state protocol: where a node remembers, beside its datastore,
// the data marker it last saw there (a file under hints_dir in the
// daemon, an actor that outlives even a wiped datastore in the
// simulator). A datastore without a marker on a node that remembers one
// lost its data; on a node that remembers none it is new. Local messages.
type (
	// GetMark asks for the remembered marker; the state actor answers
	// MarkState.
	GetMark struct{}
	// MarkState is the remembered marker ("" for none), and whether the
	// node was refilling its datastore (a restart must not end a refill);
	// Err says it could not be read.
	MarkState struct {
		Mark     string
		Resuming bool
		Err      string
	}
	// SaveMark remembers Mark and Resuming from now on.
	SaveMark struct {
		Mark     string
		Resuming bool
	}
)

// The operators' messages (admin port), local.
type (
	// GetStatus asks for a Status.
	GetStatus struct{}
	// Start starts a repair round now (with every peer), unless one runs;
	// the actor answers its Status.
	Start struct{}
)

// Status is what anti-entropy did and is doing.
type Status struct {
	Enabled  bool
	State    string // "idle", "scanning", "syncing" (a session runs)
	Resuming bool   // the node refills an emptied datastore
	// ResumeSegments is how many of the node's segments are refilled, of
	// ResumeTotal, while Resuming.
	ResumeSegments, ResumeTotal int
	Round                       uint64 // rounds started
	RoundPeers                  int    // peers left in the current round
	Peer                        string // the current session's peer
	Sessions                    uint64 // sessions completed
	InSync                      uint64 // of which found nothing differing
	Aborted                     uint64 // sessions aborted (timeout, busy peer, layout)
	KeysScanned                 uint64 // keys read by scans
	KeysListed                  uint64 // keys sent in pages
	KeysCompared                uint64 // keys received in pages and compared
	KeysPulled                  uint64 // values copied in (restores sent)
	BytesPulled                 uint64 // their payload bytes
	// BytesSent is what this node sent its peers in sessions: digests (8
	// bytes a bucket), differing buckets and listed keys with versions
	// (payload, before msgpack's few bytes of framing).
	BytesSent  uint64
	PullErrors uint64 // dumps or restores that failed
	Resumes    uint64 // times the datastore was found emptied while running
	// The last refill: when it began, what it pulled, how long it took.
	LastResume      time.Time
	LastResumeKeys  uint64
	LastResumeBytes uint64
	LastResumeTook  time.Duration
	LastRound       time.Time
	LastRoundTook   time.Duration
	NextRound       time.Time
}
