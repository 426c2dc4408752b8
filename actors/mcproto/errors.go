package mcproto

import (
	"errors"
	"strconv"
)

// Reply lines memcached sends for bad requests (memcached proto_text.c:
// process_command_ascii, process_update_command, complete_nread_ascii,
// process_delete_command, process_arithmetic_command, process_touch_command).
const (
	ReplyError        = "ERROR"
	ReplyBadFormat    = "CLIENT_ERROR bad command line format"
	ReplyBadDataChunk = "CLIENT_ERROR bad data chunk"
	ReplyTooLarge     = "SERVER_ERROR object too large for cache"
	ReplyBadDelta     = "CLIENT_ERROR invalid numeric delta argument"
	ReplyBadExptime   = "CLIENT_ERROR invalid exptime argument"
	ReplyDeleteUsage  = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"
	// ReplyLineTooLong is ours: memcached closes such a connection without
	// a word; one line saying why costs nothing before the close.
	ReplyLineTooLong = "CLIENT_ERROR line too long"
)

// Error is a request memcached would answer with an error line.
type Error struct {
	// Reply is the line to send, without its CRLF.
	Reply string
	// Close says the connection must be closed after Reply is sent.
	Close bool
	// Detail names the bad input, for logs; it is not sent to the client.
	Detail string
	// Offset is where the bad request starts in the buffer given to Parse.
	Offset int
}

func (e *Error) Error() string {
	return "mcproto: " + e.Reply + ": " + e.Detail + " (at byte " + strconv.Itoa(e.Offset) + ")"
}

// ErrIncomplete reports that the buffer holds only the beginning of a
// response: read more and call again.
var ErrIncomplete = errors.New("mcproto: incomplete response")

// MalformedResponseError is a response from memcached that does not fit
// the request it answers; the connection cannot be resynchronised.
type MalformedResponseError struct {
	Offset int
	Reason string
}

func (e *MalformedResponseError) Error() string {
	return "mcproto: malformed response at byte " + strconv.Itoa(e.Offset) + ": " + e.Reason
}
