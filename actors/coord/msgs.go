package coord

// Requests carries one batch of complete requests read from a client
// connection, in the order they arrived. The edge copies the bytes: the
// coordinator owns them.
type Requests struct {
	// Cmds holds RESP commands (name first) for a Redis connection, or one
	// element per request (the raw memcached request bytes) for Memcached.
	Cmds [][][]byte
	// ProtocolError, when set, is the reply that follows the replies to
	// Cmds; the connection closes after it is written.
	ProtocolError []byte
}

// Replies carries replies for the client, in request order. The writer
// writes Data in one go and closes the connection when Close is set.
type Replies struct {
	Data  []byte
	Close bool
	// Answered counts the requests these replies complete (silent ones
	// included), so the edge can bound how many are in flight.
	Answered int
	// Pushed says Data holds messages no request asked for (pub/sub),
	// which the edge bounds by what its client leaves unread.
	Pushed bool
}
