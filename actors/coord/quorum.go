package coord

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/ring"
)

// vote is one replica's answer to a part.
type vote struct {
	replica int // index in the part's replica list; 0 is the local-rack owner
	reply   []byte
	failure failure
	canon   []byte // the reply in the form replicas are compared in
	// version is the key's version the replica answered with (zero: the
	// key has none, or the store keeps none).
	version hlc.Version
}

// failure is why a part got no reply: the text the client's error reply
// is made of (Dynomite's wording), and the kind of error the statistics
// count it under, set where the failure was made (a store's Result.Kind,
// or the coordinator's own: timeout, quorum, peer down). The zero failure
// is none.
type failure struct {
	text string
	kind ErrKind
}

func (f failure) failed() bool { return f.text != "" }

// tally decides when a part is answered, following its consistency level:
//
//   - DC_ONE: the local-rack owner's answer is the answer.
//   - DC_QUORUM: a quorum (racks/2+1) of the local DC's replicas gave the
//     same reply; if every replica answered and they disagree, the first
//     reply wins (Dynomite's behaviour).
//   - DC_SAFE_QUORUM: as DC_QUORUM, but disagreement is an error.
//   - DC_EACH_SAFE_QUORUM: a safe quorum in every DC; the reply is the
//     local DC's.
//
// A failure (store down, timeout, lost peer) is not a vote for any reply.
// When too few replicas are left to reach a quorum the part fails at once,
// without waiting for the timeout.
type tally struct {
	level    config.Consistency
	replicas []ring.Replica
	votes    []vote
	// canon, when set, puts a reply in a canonical form before replies are
	// compared (multisets for commands with unordered replies).
	canon func([]byte) []byte
	// unordered (1: elements, 2: field/value pairs) says canon is
	// canonSet or canonPairs: same then compares replies as multisets
	// directly (sameMultiset), without a canonical form.
	unordered int
	ms        multisetScratch
	// groups are the DCs whose quorums count; group 0 is the local DC.
	groups []group
	// versioned: the part is a single-key read of a coordinator with
	// versions on; once a replica answers with a version, the newest
	// version decides (see decideVersioned) instead of agreement.
	versioned bool
	// lazy: a versioned read asked without versions (its first asking):
	// replicas that agree decide it as an unversioned read; two that
	// answer differently, without versions, set escalate, and the pipeline
	// asks again with versions (second). A store that answers reads with
	// their key's version unasked (the embedded one) is decided by version
	// at once.
	lazy, escalate, second bool
	// firstWins is a planted bug for the tests: a versioned tally that
	// ignores the versions and takes the first reply of a quorum.
	firstWins bool
	// rep is the synchronous repair of a safe-level read.
	rep syncRepair
}

// syncRepair is the synchronous read repair of a part at the safe levels:
// the newest value is dumped from one replica that holds it and restored,
// with its version, to the replicas that answered with an older one; each
// acknowledged restore counts as a replica that holds the newest version.
type syncRepair struct {
	state    repairState
	holder   int         // replica index the newest value is dumped from
	version  hlc.Version // the newest version the replicas answered with
	stale    []int       // replica indexes that answered with an older version
	restored []int       // stale replicas that acknowledged the restore
	pending  int         // restores not answered yet
}

type repairState uint8

const (
	repairNone      repairState = iota
	repairWanted                // decided that a repair is needed; the pipeline starts it
	repairDumping               // DYNO.DUMP sent to the holder
	repairRestoring             // DYNO.RESTORE or DYNO.DEL sent to the stale replicas
	repairDone                  // every restore answered (or the dump failed)
)

type group struct {
	dc      string
	members []int // replica indexes
	need    int
}

func newTally(level config.Consistency, reps []ring.Replica) *tally {
	t := &tally{}
	t.reset(level, reps)
	return t
}

// reset starts the tally over for a new part, keeping its buffers: a
// coordinator reuses the tallies of answered requests.
func (t *tally) reset(level config.Consistency, reps []ring.Replica) {
	clear(t.votes)
	*t = tally{level: level, replicas: append(t.replicas[:0], reps...), votes: t.votes[:0], groups: t.groups[:0],
		rep: syncRepair{stale: t.rep.stale[:0], restored: t.rep.restored[:0]}, ms: t.ms}
	reps = t.replicas
	switch level {
	case config.DCOne:
		return
	case config.DCEachSafeQuorum:
		for i, r := range reps {
			g := t.groupFor(r.DC)
			g.members = append(g.members, i)
		}
	default:
		g := t.groupFor(reps[0].DC)
		for i, r := range reps {
			if r.DC == reps[0].DC {
				g.members = append(g.members, i)
			}
		}
	}
	for i := range t.groups {
		t.groups[i].need = len(t.groups[i].members)/2 + 1
	}
}

func (t *tally) groupFor(dc string) *group {
	for i := range t.groups {
		if t.groups[i].dc == dc {
			return &t.groups[i]
		}
	}
	if n := len(t.groups); n < cap(t.groups) {
		// Reuse the slot's members array from an earlier part.
		t.groups = t.groups[:n+1]
		t.groups[n] = group{dc: dc, members: t.groups[n].members[:0]}
	} else {
		t.groups = append(t.groups, group{dc: dc})
	}
	return &t.groups[len(t.groups)-1]
}

// awaits reports whether the answer of replica i counts (the others are
// replication the client does not wait for).
func (t *tally) awaits(i int) bool {
	if t.level == config.DCOne {
		return i == 0
	}
	for _, g := range t.groups {
		for _, m := range g.members {
			if m == i {
				return true
			}
		}
	}
	return false
}

// voted reports whether replica i's vote was counted already.
func (t *tally) voted(i int) bool {
	if t.level == config.DCOne {
		return false // only replica 0 counts, and it decides the part
	}
	for _, v := range t.votes {
		if v.replica == i {
			return true
		}
	}
	return false
}

// add records a vote and reports whether the part is decided, with its
// reply or failure.
func (t *tally) add(v vote) (done bool, reply []byte, f failure) {
	if t.level == config.DCOne {
		if v.replica == 0 {
			return true, v.reply, v.failure
		}
		return false, nil, failure{}
	}
	t.votes = append(t.votes, v)
	return t.decide(false)
}

// expire decides a part whose deadline passed with what has arrived.
func (t *tally) expire(timeout failure) (reply []byte, f failure) {
	if t.level == config.DCOne {
		return nil, timeout
	}
	_, reply, f = t.decide(true)
	if !f.failed() && reply == nil {
		f = timeout
	}
	return reply, f
}

func (t *tally) decide(final bool) (bool, []byte, failure) {
	if t.lazy && !final && t.differ() {
		// Replicas that answer with versions unasked (the embedded
		// store's) are decided by them below; the others are asked again.
		if n := t.newest(); n < 0 || t.votes[n].version.IsZero() {
			t.escalate = true
			return false, nil, failure{}
		}
	}
	if t.versioned {
		if n := t.newest(); n >= 0 && !t.votes[n].version.IsZero() {
			return t.decideVersioned(n, final)
		}
	}
	var localReply []byte
	for gi, g := range t.groups {
		reply, f, decided := t.decideGroup(g, final)
		if !decided {
			return false, nil, failure{}
		}
		if f.failed() {
			return true, nil, f
		}
		if gi == 0 {
			localReply = reply
		}
	}
	return true, localReply, failure{}
}

// differ reports whether two good votes of the groups that count answered
// differently.
func (t *tally) differ() bool {
	first := -1
	for j := range t.votes {
		v := &t.votes[j]
		if v.failure.failed() || !t.counts(v.replica) {
			continue
		}
		if first < 0 {
			first = j
		} else if !t.same(first, j) {
			return true
		}
	}
	return false
}

// decideGroup applies the quorum rule to one DC's replicas.
func (t *tally) decideGroup(g group, final bool) (reply []byte, f failure, decided bool) {
	var answered, failed int
	var first []byte
	var lastFailure string
	for i, v := range t.votes {
		if !contains(g.members, v.replica) {
			continue
		}
		answered++
		if v.failure.failed() {
			failed++
			lastFailure = v.failure.text
			continue
		}
		if first == nil {
			first = v.reply
		}
		if t.agreeing(g, i) >= g.need {
			return v.reply, failure{}, true
		}
	}
	good := answered - failed
	if len(g.members)-failed < g.need {
		return nil, t.quorumFailure(g, good, lastFailure), true
	}
	if answered < len(g.members) && !final {
		return nil, failure{}, false
	}
	// Everyone answered (or time is up) without a quorum agreeing.
	if good >= g.need && t.level == config.DCQuorum {
		return first, failure{}, true
	}
	if good >= g.need {
		return nil, t.disagree(g), true
	}
	return nil, t.quorumFailure(g, good, lastFailure), true
}

// agreeing counts the group's good votes whose reply equals vote i's.
func (t *tally) agreeing(g group, i int) int {
	n := 0
	for j := range t.votes {
		v := &t.votes[j]
		if !v.failure.failed() && contains(g.members, v.replica) && t.same(i, j) {
			n++
		}
	}
	return n
}

// answeredOK is how many replicas answered (not failed).
func (t *tally) answeredOK() int {
	n := 0
	for i := range t.votes {
		if !t.votes[i].failure.failed() {
			n++
		}
	}
	return n
}

// same compares two votes' replies: byte for byte first (the common case),
// then, for replies whose order is unspecified, in canonical form, computed
// once per vote and only when needed.
func (t *tally) same(i, j int) bool {
	a, b := &t.votes[i], &t.votes[j]
	if bytes.Equal(a.reply, b.reply) {
		return true
	}
	// A canonical form only reorders a reply: different lengths differ.
	if t.canon == nil || len(a.reply) != len(b.reply) {
		return false
	}
	if t.unordered > 0 {
		if eq, ok := t.ms.sameMultiset(a.reply, b.reply, t.unordered); ok {
			return eq
		}
	}
	for _, v := range []*vote{a, b} {
		if v.canon == nil {
			v.canon = t.canon(v.reply)
		}
	}
	return bytes.Equal(a.canon, b.canon)
}

// quorumFailure is a quorum that can no longer be met, whatever failed
// the replicas (cause, the text of the last failure, says what).
func (t *tally) quorumFailure(g group, good int, cause string) failure {
	msg := fmt.Sprintf("Dynomite: Failed to achieve Quorum: %s needs %d of %d replicas in %s, %d answered",
		t.level, g.need, len(g.members), g.dc, good)
	if cause != "" {
		msg += " (" + cause + ")"
	}
	return failure{msg, ErrQuorum}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// canonicalUnordered returns a RESP array reply with its elements sorted
// (as field/value pairs when pairs is set), so replicas that hold the same
// set or hash compare equal whatever order they answer in. Any other reply
// is returned as it is. The elements are ordered by a hash of their encoded
// bytes, ties by the bytes themselves: a total order, which is all an
// equality needs, and one that compares integers where sorting by the bytes
// compared strings sharing their "$N\r\n" prefix. They are found by framing
// them in place: nothing is decoded or encoded again (the parse-and-sort it
// replaced was 13% of a simulated cluster's CPU, SMEMBERS of growing sets;
// sorting by bytes was then 15%).
func canonicalUnordered(pairs bool) func([]byte) []byte {
	type item struct {
		h          uint64
		start, end int
	}
	return func(reply []byte) []byte {
		count, hdr, ok := arrayHeader(reply)
		if !ok || count < 2 || pairs && count%2 != 0 {
			return reply
		}
		step := 1
		if pairs {
			step = 2
		}
		items := make([]item, 0, count/step)
		pos := hdr
		for i := 0; i < count; i += step {
			start := pos
			for range step {
				n, err := resp.ReplyLen(reply[pos:])
				if err != nil {
					return reply
				}
				pos += n
			}
			items = append(items, item{fnv64(reply[start:pos]), start, pos})
		}
		if pos != len(reply) {
			return reply
		}
		slices.SortFunc(items, func(a, b item) int {
			if a.h != b.h {
				return cmp.Compare(a.h, b.h)
			}
			return bytes.Compare(reply[a.start:a.end], reply[b.start:b.end])
		})
		out := append(make([]byte, 0, len(reply)), reply[:hdr]...)
		for _, it := range items {
			out = append(out, reply[it.start:it.end]...)
		}
		return out
	}
}

// multisetScratch is the memory sameMultiset reuses from one comparison
// to the next (a tally's, so one per pending part).
type multisetScratch struct {
	items []msItem
	table []int32 // index+1 into items; 0 empty, -1 an item matched
}

type msItem struct {
	h          uint64
	start, end int
}

// sameMultiset compares two RESP array replies as multisets of their
// elements (step 1) or of field/value pairs (step 2): what comparing
// their canonical forms says, in linear time and without allocating once
// the scratch has grown (the canonical forms were a tenth of a simulated
// cluster's run: a sort and a copy per replica and read). It reports ok
// false when a reply is not an array of whole elements; the caller then
// compares canonical forms.
func (m *multisetScratch) sameMultiset(a, b []byte, step int) (equal, ok bool) {
	na, ha, oka := arrayHeader(a)
	nb, hb, okb := arrayHeader(b)
	if !oka || !okb || na < 2 || nb < 2 || na%step != 0 || nb%step != 0 {
		return false, false
	}
	if na != nb {
		return false, true
	}
	n := na / step
	if cap(m.items) < n {
		m.items = make([]msItem, 0, n)
	}
	items, ok := frameItems(m.items[:0], a, ha, na, step)
	m.items = items
	if !ok {
		return false, false
	}
	size := 1
	for size < 2*n {
		size <<= 1
	}
	if cap(m.table) < size {
		m.table = make([]int32, size)
	}
	table := m.table[:size]
	clear(table)
	mask := uint64(size - 1)
	for i := range items {
		j := items[i].h & mask
		for table[j] != 0 {
			j = (j + 1) & mask
		}
		table[j] = int32(i + 1)
	}
	pos := hb
	for range n {
		start := pos
		if pos, ok = nextItem(b, pos, step); !ok {
			return false, false
		}
		elem := b[start:pos]
		h := fnv64(elem)
		j := h & mask
		for {
			k := table[j]
			if k == 0 {
				return false, true // no unmatched equal element left in a
			}
			if k > 0 {
				it := &items[k-1]
				if it.h == h && bytes.Equal(a[it.start:it.end], elem) {
					table[j] = -1
					break
				}
			}
			j = (j + 1) & mask
		}
	}
	return pos == len(b), pos == len(b)
}

// frameItems appends the n/step items of array reply r (elements from
// hdr) with their hashes; false when r is not exactly those elements.
func frameItems(items []msItem, r []byte, hdr, count, step int) ([]msItem, bool) {
	pos := hdr
	for i := 0; i < count; i += step {
		start := pos
		var ok bool
		if pos, ok = nextItem(r, pos, step); !ok {
			return items, false
		}
		items = append(items, msItem{fnv64(r[start:pos]), start, pos})
	}
	return items, pos == len(r)
}

// nextItem returns where the item (step elements) at pos of reply r ends;
// false when r does not hold whole elements there.
func nextItem(r []byte, pos, step int) (int, bool) {
	for range step {
		n, err := elemLen(r[pos:])
		if err != nil {
			return pos, false
		}
		pos += n
	}
	return pos, true
}

// elemLen is resp.ReplyLen, with a bulk string of up to 8 digits of
// length read inline: the elements of SMEMBERS, HGETALL... nearly always.
func elemLen(b []byte) (int, error) {
	if len(b) > 4 && b[0] == '$' && b[1] >= '0' && b[1] <= '9' {
		n, i := 0, 1
		for ; i < len(b) && i < 9 && b[i] >= '0' && b[i] <= '9'; i++ {
			n = n*10 + int(b[i]-'0')
		}
		if end := i + 2 + n + 2; i < len(b)-1 && b[i] == '\r' && b[i+1] == '\n' && (b[1] != '0' || i == 2) &&
			end <= len(b) && b[end-2] == '\r' && b[end-1] == '\n' {
			return end, nil
		}
	}
	return resp.ReplyLen(b)
}

// fnv64 is FNV-1a over b.
func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// arrayHeader reads a RESP array header at the start of b: the element
// count and where the elements start; false for anything else (a null
// array included).
func arrayHeader(b []byte) (count, start int, ok bool) {
	end := bytes.IndexByte(b, '\r')
	if len(b) < 4 || b[0] != '*' || end < 0 || end+1 >= len(b) || b[end+1] != '\n' {
		return 0, 0, false
	}
	n, ok := resp.ParseInt(b[1:end])
	if !ok || n < 0 || n > int64(len(b)) {
		return 0, 0, false
	}
	return int(n), end + 2, true
}

// newest returns the index of the vote with the newest version among the
// good votes of the groups that count (the first to arrive among equals),
// or -1 when there is none.
func (t *tally) newest() int {
	n := -1
	for j := range t.votes {
		v := &t.votes[j]
		if v.failure.failed() || !t.counts(v.replica) {
			continue
		}
		if n < 0 || t.votes[n].version.Less(v.version) {
			n = j
		}
	}
	if n >= 0 && t.firstWins {
		for j := range t.votes { // the planted bug: the first good reply
			if v := &t.votes[j]; !v.failure.failed() && t.counts(v.replica) {
				return j
			}
		}
	}
	return n
}

// counts reports whether replica i belongs to a group that counts.
func (t *tally) counts(i int) bool {
	for _, g := range t.groups {
		if contains(g.members, i) {
			return true
		}
	}
	return false
}

// groupState is how one DC's replicas stand in a versioned decision.
type groupState uint8

const (
	groupWait   groupState = iota // more answers may decide it
	groupOK                       // a quorum answered (DC_QUORUM) or holds the newest version
	groupFailed                   // it cannot succeed
	groupRepair                   // it can succeed only if stale replicas are repaired
)

// decideVersioned decides a read whose replicas answered with versions;
// n is the vote with the newest one. DC_QUORUM answers with the newest
// reply among the answers of a quorum. The safe levels answer only when
// a quorum of each group that counts holds the newest version (the same
// version and the same reply, compared as multisets for unordered
// replies); when that needs the stale replicas, the tally asks for a
// synchronous repair and counts each acknowledged restore as a holder.
func (t *tally) decideVersioned(n int, final bool) (bool, []byte, failure) {
	waiting, repair := false, false
	for _, g := range t.groups {
		st, f := t.groupVersioned(g, n, final)
		switch st {
		case groupFailed:
			return true, nil, f
		case groupWait:
			waiting = true
		case groupRepair:
			repair = true
		}
	}
	if repair {
		switch t.rep.state {
		case repairNone:
			t.rep.version, t.rep.holder = t.votes[n].version, t.votes[n].replica
			for j := range t.votes {
				v := &t.votes[j]
				if !v.failure.failed() && t.counts(v.replica) && v.version.Less(t.votes[n].version) {
					t.rep.stale = append(t.rep.stale, v.replica)
				}
			}
			t.rep.state = repairWanted
			return false, nil, failure{}
		case repairWanted, repairDumping, repairRestoring:
			if !final {
				return false, nil, failure{}
			}
		}
		return true, nil, t.disagree(t.groups[0])
	}
	if waiting {
		return false, nil, failure{}
	}
	return true, t.votes[n].reply, failure{}
}

// groupVersioned is one group's state in decideVersioned.
func (t *tally) groupVersioned(g group, n int, final bool) (groupState, failure) {
	newest := &t.votes[n]
	var answered, failed, holders, older int
	var lastFailure string
	for j := range t.votes {
		v := &t.votes[j]
		if !contains(g.members, v.replica) {
			continue
		}
		answered++
		switch {
		case v.failure.failed():
			failed++
			lastFailure = v.failure.text
		case contains(t.rep.restored, v.replica) || (v.version == newest.version && t.same(n, j)):
			holders++
		case v.version.Less(newest.version):
			older++
		}
	}
	good := answered - failed
	if len(g.members)-failed < g.need {
		return groupFailed, t.quorumFailure(g, good, lastFailure)
	}
	if t.level == config.DCQuorum {
		switch {
		case good >= g.need:
			return groupOK, failure{}
		case final:
			return groupFailed, t.quorumFailure(g, good, lastFailure)
		}
		return groupWait, failure{}
	}
	unanswered := len(g.members) - answered
	switch {
	case holders >= g.need:
		return groupOK, failure{}
	case final && good >= g.need:
		return groupFailed, t.disagree(g)
	case final:
		return groupFailed, t.quorumFailure(g, good, lastFailure)
	case holders+unanswered >= g.need:
		return groupWait, failure{}
	case holders+older+unanswered >= g.need:
		return groupRepair, failure{}
	}
	return groupFailed, t.disagree(g)
}

// disagree is the failure of a safe level whose replicas answered but do
// not hold the same reply.
func (t *tally) disagree(g group) failure {
	return failure{fmt.Sprintf("Dynomite: Failed to achieve Quorum: %s replicas in %s disagree", t.level, g.dc), ErrQuorum}
}

// staleReplicas appends to dst the replicas that answered with a version
// older than the newest one, and returns the replica holding the newest
// and its version (holder -1 when the part is not versioned or no replica
// answered with a version).
func (t *tally) staleReplicas(dst []int) (holder int, newest hlc.Version, stale []int) {
	n := t.newest()
	if !t.versioned || n < 0 || t.votes[n].version.IsZero() {
		return -1, hlc.Version{}, dst
	}
	for j := range t.votes {
		v := &t.votes[j]
		if !v.failure.failed() && v.version.Less(t.votes[n].version) {
			dst = append(dst, v.replica)
		}
	}
	return t.votes[n].replica, t.votes[n].version, dst
}
