package resp

import (
	"errors"
	"strconv"
)

// ProtocolError is a malformed or over-limit client request. Its Error text
// is the reply Redis sends for the same input ("ERR Protocol error: ..."),
// ready for AppendError. After it the connection must be closed: Redis
// closes too, because the rest of the stream cannot be trusted.
type ProtocolError struct {
	// Reason is Redis's wording after "Protocol error: ".
	Reason string
	// Offset is where the offending command starts in the buffer passed to
	// Parse.
	Offset int
}

func (e *ProtocolError) Error() string { return "ERR Protocol error: " + e.Reason }

// Reasons, worded as in Redis's processMultibulkBuffer/processInlineBuffer,
// except reasonBulkCRLF, for which Redis has no check (see multibulk).
const (
	reasonMultibulkLen    = "invalid multibulk length"
	reasonBulkLen         = "invalid bulk length"
	reasonTooBigMbulk     = "too big mbulk count string"
	reasonTooBigBulkCount = "too big bulk count string"
	reasonTooBigInline    = "too big inline request"
	reasonUnbalanced      = "unbalanced quotes in request"
	reasonBulkCRLF        = "expected CRLF after bulk argument"
)

func expectedDollar(got byte) string {
	// Redis formats the byte with %c and addReplyErrorFormat turns CR/LF
	// into spaces; keep the reply a single line the same way.
	if got == '\r' || got == '\n' {
		got = ' '
	}
	return "expected '$', got '" + string(rune(got)) + "'"
}

// ErrIncomplete reports that the buffer holds only the beginning of a reply:
// read more bytes and call again.
var ErrIncomplete = errors.New("resp: incomplete reply")

// MalformedReplyError is a reply from a datastore that is not valid RESP2.
// The datastore connection cannot be resynchronised and must be closed.
type MalformedReplyError struct {
	Offset int    // byte offset of the bad element in the buffer
	Reason string // what was wrong, naming the bad input
}

func (e *MalformedReplyError) Error() string {
	return "resp: malformed reply at byte " + strconv.Itoa(e.Offset) + ": " + e.Reason
}
