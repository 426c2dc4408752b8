package store

import (
	"fmt"
	"strconv"

	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/msg"
	"github.com/vmihailenco/msgpack/v5"
)

// Exec asks a store adapter to run one datastore command. The adapter
// answers the sender with a Result carrying the same ID, unless Quiet. Args
// alias nothing once sent: the sender must not modify them afterwards.
type Exec struct {
	// ID is chosen by the requester and echoed in the Result.
	ID uint64
	// Args is the command: for Redis, name first, then its arguments, as a
	// client sent them; for Memcached, exactly one element, one complete
	// text request (line and data block), never with noreply.
	Args [][]byte
	// Quiet says nobody waits for the answer (a replica write at DC_ONE,
	// or to a DC outside the quorum): the store runs the command and sends
	// no Result, not even a Failure. Between racks and DCs this halves the
	// messages of asynchronous replication.
	Quiet bool
	// Version is the write's version, chosen by its coordinator; zero:
	// unversioned, the command runs as without versions. See version.go
	// for what a version does to each family of commands. On a read it
	// asks for the key's version in the Result: the Redis adapter then
	// reads the version atomically with the value (the embedded store
	// always answers with it).
	Version hlc.Version
	// Ack says the requester waits only to learn that the write was done
	// (a replica write whose answer does not count toward the level, sent
	// for hinted handoff to see failures): the store may answer a success,
	// a reply that is a simple string or an integer, with the ID alone in
	// an Acks message, which costs a fraction of a Result to send and to
	// read. Failures and any other reply still come as a Result. Not with
	// Quiet.
	Ack bool
}

// Acked reports whether e, answered reply, is acknowledged by its ID alone
// (an Acks entry) rather than by a Result: e asks for that (Ack) and reply
// is a RESP simple string or integer (+OK, :1): no error, no data.
func (e Exec) Acked(reply []byte) bool { return e.Ack && AckReply(reply) }

// AckReply reports whether reply, to an Exec that asked for an Ack, is
// answered by an Acks entry: a RESP simple string or integer.
func AckReply(reply []byte) bool {
	return len(reply) > 0 && (reply[0] == '+' || reply[0] == ':')
}

// CorrelationID implements msg.Correlated.
func (e Exec) CorrelationID() uint64 { return e.ID }

// Bounce implements msg.Bounceable: an Exec that cannot reach its store
// comes back as a failed Result (nil when Quiet: nobody waits for it).
func (e Exec) Bounce(reason string) any {
	if e.Quiet {
		return nil
	}
	return Result{ID: e.ID, Failure: "Peer: " + reason, Kind: KindPeer}
}

// Result answers an Exec.
type Result struct {
	ID uint64
	// Reply is exactly one complete reply in the datastore's own protocol,
	// errors included (a WRONGTYPE error is a Reply, not a Failure).
	Reply []byte
	// Failure, when not empty, says the store could not answer at all
	// (datastore down or ejected, timeout, connection lost mid-request);
	// Reply is then empty and the coordinator decides what the client sees.
	Failure string
	// Kind says what failed, set by whoever wrote Failure: the coordinator
	// counts the failure under it (the error kind of the statistics)
	// without reading Failure's text. KindNone when Failure is empty.
	Kind FailureKind
	// Version is the version the command's key holds after the command
	// (for a key deleted under a version, its tombstone's, with the reply
	// of a missing key); zero when the key has none, for a multi-key
	// command, or from a store that keeps no versions.
	Version hlc.Version
}

// FailureKind is what made a store fail to answer.
type FailureKind uint8

const (
	// KindNone: the Result is no failure. A Failure from a node built
	// before kinds existed comes with KindNone too; it is counted as a
	// datastore failure.
	KindNone FailureKind = iota
	// KindDatastore: the datastore could not answer: it refused the
	// connection, was ejected, lost the connection, had its queue full,
	// or the adapter stopped, is misconfigured or got a request it cannot
	// send.
	KindDatastore
	// KindTimeout: the datastore did not answer within the adapter's
	// timeout.
	KindTimeout
	// KindPeer: the node that holds the store could not be reached (the
	// transport bounced the request, msg.Bounceable).
	KindPeer
)

var failureKindNames = [...]string{"none", "datastore", "timeout", "peer"}

func (k FailureKind) String() string {
	if int(k) < len(failureKindNames) {
		return failureKindNames[k]
	}
	return "FailureKind(" + strconv.Itoa(int(k)) + ")"
}

// CorrelationID implements msg.Correlated.
func (r Result) CorrelationID() uint64 { return r.ID }

// Batch is several Execs for one store from one sender, sent as one
// message (between nodes, one envelope): a coordinator sends what one
// client read asked of each node together. The store answers each Exec as
// if it had come alone; it may gather the answers in Results.
type Batch struct {
	Execs []Exec
}

// Bounce implements msg.Bounceable: every Exec of the batch that is not
// Quiet fails (nil when all are).
func (b Batch) Bounce(reason string) any {
	var rs []Result
	for _, e := range b.Execs {
		if !e.Quiet {
			rs = append(rs, Result{ID: e.ID, Failure: "Peer: " + reason, Kind: KindPeer})
		}
	}
	if rs == nil {
		return nil
	}
	return Results{Results: rs}
}

// Results is several Results for one requester, sent as one message.
type Results struct {
	Results []Result
}

// Acks answers Execs that asked for an acknowledgement (Exec.Ack) and
// succeeded, by their IDs alone, for one requester.
type Acks struct {
	IDs []uint64
}

// The messages above cross nodes with every client request, so they encode
// themselves rather than through msgpack's reflection, which cost more than
// the rest of the envelope. The wire form is exactly what reflection
// produces with the msg.Codec settings (structs as arrays of their fields in
// declaration order, integers in their most compact form), whatever the
// settings of the Encoder at hand: msgs_test.go compares the two byte for
// byte. Adding a field means appending it to the struct, to both methods
// and to the field count below; TestMirrorsMatch fails until the test's
// reflection-encoded mirror type has it too. A field added to a message
// that crosses nodes is decoded tolerantly (msg.DecodeGrownStructHeader),
// so a node keeps understanding peers built before it: Result.Kind came
// after the first three fields, Exec.Version and Result.Version after
// those, Exec.Ack after Exec.Version. An hlc.Version is an array [wall,
// logical, node], as reflection encodes the test's flat mirror of it.

const (
	execFields       = 5
	execFieldsOld    = 3 // before Version
	execFieldsVer    = 4 // before Ack
	resultFields     = 5
	resultFieldsOld  = 3 // before Kind and Version
	resultFieldsKind = 4 // before Version
	batchFields      = 1
	resultsFields    = 1
	acksFields       = 1
	versionFields    = 3
)

func encodeVersion(enc *msgpack.Encoder, v hlc.Version) error {
	if err := enc.EncodeArrayLen(versionFields); err != nil {
		return err
	}
	if err := enc.EncodeInt(v.TS.Wall); err != nil {
		return err
	}
	if err := enc.EncodeUint(uint64(v.TS.Logical)); err != nil {
		return err
	}
	return enc.EncodeString(v.Node)
}

func decodeVersion(d *msgpack.Decoder, v *hlc.Version) (err error) {
	*v = hlc.Version{}
	ok, err := msg.DecodeStructHeader(d, "hlc.Version", versionFields)
	if !ok || err != nil {
		return err
	}
	if v.TS.Wall, err = d.DecodeInt64(); err != nil {
		return fmt.Errorf("hlc.Version.Wall: %w", err)
	}
	if v.TS.Logical, err = d.DecodeUint32(); err != nil {
		return fmt.Errorf("hlc.Version.Logical: %w", err)
	}
	if v.Node, err = msg.DecodeString(d); err != nil {
		return fmt.Errorf("hlc.Version.Node: %w", err)
	}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder. An Exec that asks no
// Ack leaves the field out (four fields, as nodes built before Ack send
// it), so that those nodes keep decoding what they are sent during a
// rolling upgrade; only an Exec with Ack, which a coordinator sends with
// hinted handoff on, carries five.
func (e Exec) EncodeMsgpack(enc *msgpack.Encoder) error {
	fields := execFieldsVer
	if e.Ack {
		fields = execFields
	}
	if err := enc.EncodeArrayLen(fields); err != nil {
		return err
	}
	if err := enc.EncodeUint(e.ID); err != nil {
		return err
	}
	if e.Args == nil {
		if err := enc.EncodeNil(); err != nil {
			return err
		}
	} else {
		if err := enc.EncodeArrayLen(len(e.Args)); err != nil {
			return err
		}
		for _, a := range e.Args {
			if err := enc.EncodeBytes(a); err != nil {
				return err
			}
		}
	}
	if err := enc.EncodeBool(e.Quiet); err != nil {
		return err
	}
	if err := encodeVersion(enc, e.Version); err != nil || !e.Ack {
		return err
	}
	return enc.EncodeBool(e.Ack)
}

// DecodeMsgpack implements msgpack.CustomDecoder. The Args never alias the
// input. An Exec of three fields, from a node built before Version, is
// unversioned; one of four, from a node built before Ack, asks no Ack.
func (e *Exec) DecodeMsgpack(d *msgpack.Decoder) error {
	*e = Exec{}
	n, err := msg.DecodeGrownStructHeader(d, "store.Exec", execFieldsOld, execFields)
	if n == 0 || err != nil {
		return err
	}
	if e.ID, err = d.DecodeUint64(); err != nil {
		return fmt.Errorf("store.Exec.ID: %w", err)
	}
	if e.Args, err = msg.DecodeSlice(d, decodeArg); err != nil {
		return fmt.Errorf("store.Exec.Args: %w", err)
	}
	if e.Quiet, err = d.DecodeBool(); err != nil {
		return fmt.Errorf("store.Exec.Quiet: %w", err)
	}
	if n < execFieldsVer {
		return nil
	}
	if err = decodeVersion(d, &e.Version); err != nil {
		return fmt.Errorf("store.Exec.Version: %w", err)
	}
	if n < execFields {
		return nil
	}
	if e.Ack, err = d.DecodeBool(); err != nil {
		return fmt.Errorf("store.Exec.Ack: %w", err)
	}
	return nil
}

func decodeArg(a *[]byte, d *msgpack.Decoder) (err error) {
	*a, err = msg.DecodeBytes(d)
	return err
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (r Result) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeArrayLen(resultFields); err != nil {
		return err
	}
	if err := enc.EncodeUint(r.ID); err != nil {
		return err
	}
	if err := enc.EncodeBytes(r.Reply); err != nil {
		return err
	}
	if err := enc.EncodeString(r.Failure); err != nil {
		return err
	}
	if err := enc.EncodeUint(uint64(r.Kind)); err != nil {
		return err
	}
	return encodeVersion(enc, r.Version)
}

// DecodeMsgpack implements msgpack.CustomDecoder. The Reply never aliases
// the input. A Result of three fields, from a node built before Kind, has
// KindNone.
func (r *Result) DecodeMsgpack(d *msgpack.Decoder) error {
	*r = Result{}
	n, err := msg.DecodeGrownStructHeader(d, "store.Result", resultFieldsOld, resultFields)
	if n == 0 || err != nil {
		return err
	}
	if r.ID, err = d.DecodeUint64(); err != nil {
		return fmt.Errorf("store.Result.ID: %w", err)
	}
	if r.Reply, err = msg.DecodeBytes(d); err != nil {
		return fmt.Errorf("store.Result.Reply: %w", err)
	}
	if r.Failure, err = msg.DecodeString(d); err != nil {
		return fmt.Errorf("store.Result.Failure: %w", err)
	}
	if n < resultFieldsKind {
		return nil
	}
	kind, err := d.DecodeUint8()
	if err != nil {
		return fmt.Errorf("store.Result.Kind: %w", err)
	}
	r.Kind = FailureKind(kind)
	if n < resultFields {
		return nil
	}
	if err = decodeVersion(d, &r.Version); err != nil {
		return fmt.Errorf("store.Result.Version: %w", err)
	}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (b Batch) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeArrayLen(batchFields); err != nil {
		return err
	}
	if b.Execs == nil {
		return enc.EncodeNil()
	}
	if err := enc.EncodeArrayLen(len(b.Execs)); err != nil {
		return err
	}
	for _, e := range b.Execs {
		if err := e.EncodeMsgpack(enc); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (b *Batch) DecodeMsgpack(d *msgpack.Decoder) error {
	*b = Batch{}
	ok, err := msg.DecodeStructHeader(d, "store.Batch", batchFields)
	if !ok || err != nil {
		return err
	}
	if b.Execs, err = msg.DecodeSlice(d, (*Exec).DecodeMsgpack); err != nil {
		return fmt.Errorf("store.Batch.Execs: %w", err)
	}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (rs Results) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeArrayLen(resultsFields); err != nil {
		return err
	}
	if rs.Results == nil {
		return enc.EncodeNil()
	}
	if err := enc.EncodeArrayLen(len(rs.Results)); err != nil {
		return err
	}
	for _, r := range rs.Results {
		if err := r.EncodeMsgpack(enc); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (rs *Results) DecodeMsgpack(d *msgpack.Decoder) error {
	*rs = Results{}
	ok, err := msg.DecodeStructHeader(d, "store.Results", resultsFields)
	if !ok || err != nil {
		return err
	}
	if rs.Results, err = msg.DecodeSlice(d, (*Result).DecodeMsgpack); err != nil {
		return fmt.Errorf("store.Results.Results: %w", err)
	}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (a Acks) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeArrayLen(acksFields); err != nil {
		return err
	}
	if a.IDs == nil {
		return enc.EncodeNil()
	}
	if err := enc.EncodeArrayLen(len(a.IDs)); err != nil {
		return err
	}
	for _, id := range a.IDs {
		if err := enc.EncodeUint(id); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (a *Acks) DecodeMsgpack(d *msgpack.Decoder) error {
	*a = Acks{}
	ok, err := msg.DecodeStructHeader(d, "store.Acks", acksFields)
	if !ok || err != nil {
		return err
	}
	if a.IDs, err = msg.DecodeSlice(d, decodeID); err != nil {
		return fmt.Errorf("store.Acks.IDs: %w", err)
	}
	return nil
}

func decodeID(id *uint64, d *msgpack.Decoder) (err error) {
	*id, err = d.DecodeUint64()
	return err
}

func init() {
	msg.Register[Exec](100)
	msg.Register[Result](101)
	msg.Register[Batch](102)
	msg.Register[Results](103)
	msg.Register[Acks](104)
}
