package mcproto

import "bytes"

// Kind is a request's command.
type Kind uint8

// The commands dynonode serves. KindError is an in-band error: the request
// was read and is answered with Request.Err.Reply.
const (
	KindError Kind = iota + 1
	KindGet
	KindGets
	KindSet
	KindAdd
	KindReplace
	KindAppend
	KindPrepend
	KindCas
	KindDelete
	KindIncr
	KindDecr
	KindTouch
	KindVerbosity
	KindVersion
	KindQuit
	KindGat  // get and touch: "gat <exptime> <key>*"
	KindGats // gat with cas uniques
	// Meta commands: forwarded as sent (Raw); see meta.go.
	KindMetaGet    // mg <key> <flag>*
	KindMetaSet    // ms <key> <datalen> <flag>*, and a data block
	KindMetaDelete // md <key> <flag>*
	KindMetaArith  // ma <key> <flag>*
	KindMetaNoop   // mn: answered MN
)

var kindNames = [...]string{
	KindError: "error", KindGet: "get", KindGets: "gets", KindSet: "set", KindAdd: "add",
	KindReplace: "replace", KindAppend: "append", KindPrepend: "prepend", KindCas: "cas",
	KindDelete: "delete", KindIncr: "incr", KindDecr: "decr", KindTouch: "touch",
	KindVerbosity: "verbosity", KindVersion: "version", KindQuit: "quit", KindGat: "gat", KindGats: "gats",
	KindMetaGet: "mg", KindMetaSet: "ms", KindMetaDelete: "md", KindMetaArith: "ma", KindMetaNoop: "mn",
}

// Retrieval reports whether k answers VALUE blocks and END (get, gets,
// gat, gats).
func (k Kind) Retrieval() bool {
	return k == KindGet || k == KindGets || k == KindGat || k == KindGats
}

// WithCas reports whether k's VALUE lines carry cas uniques (gets, gats).
func (k Kind) WithCas() bool { return k == KindGets || k == KindGats }

// String returns the command's name on the wire.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}

// IsStorage reports whether the command is a classic storage command
// (set, add, replace, append, prepend, cas), with a data block.
func (k Kind) IsStorage() bool { return k >= KindSet && k <= KindCas }

// HasData reports whether the command carries a data block (storage
// commands and ms).
func (k Kind) HasData() bool { return k.IsStorage() || k == KindMetaSet }

// IsMeta reports whether k is a meta command that goes to the datastores
// (mg, ms, md, ma).
func (k Kind) IsMeta() bool { return k >= KindMetaGet && k <= KindMetaArith }

// Request is one parsed client request. Byte slices alias the buffer given
// to Parse and are capacity-limited, so appending to one copies.
type Request struct {
	Kind Kind
	// Key is the key of a single-key command, and the first key of a get.
	// For a meta command it is the key to route on: base64-decoded under
	// the b flag.
	Key []byte
	// Keys are all the keys of get/gets.
	Keys    [][]byte
	Flags   uint32 // storage commands
	Exptime int32  // storage commands and touch; negative: already expired
	Data    []byte // storage commands, without the trailing CRLF
	Cas     uint64 // cas
	Delta   uint64 // incr/decr
	Level   uint32 // verbosity
	// NoReply is set by a trailing "noreply": memcached then sends nothing,
	// not even an error line.
	NoReply bool
	// Touch is set for an mg with a T flag, which changes the item's TTL
	// and so goes to every replica as a write.
	Touch bool
	// Err is set for KindError.
	Err *Error
	// Raw is the request as sent: its line and, for storage commands, the
	// data block.
	Raw []byte
}

// Limits bound a request. Zero fields take the defaults.
type Limits struct {
	// MaxKeyLen is the longest key, in bytes. Default 250, memcached's
	// KEY_MAX_LENGTH.
	MaxKeyLen int
	// MaxItemSize is the largest data block, in bytes. Default 1 MiB,
	// memcached's default -I. Larger sets get "SERVER_ERROR object too
	// large for cache" and their data is skipped.
	MaxItemSize int
	// MaxLine is the longest request line, in bytes, except get/gets lines.
	// Default 2048: memcached closes a connection that sends more without a
	// newline, unless the line is a get.
	MaxLine int
	// MaxGetLine is the longest get/gets line, in bytes (memcached has no
	// bound; a multi-get of 250-byte keys needs ~251 bytes a key). Default
	// 1 MiB.
	MaxGetLine int
}

// DefaultLimits returns the defaults described on Limits.
func DefaultLimits() Limits {
	return Limits{MaxKeyLen: 250, MaxItemSize: 1 << 20, MaxLine: 2048, MaxGetLine: 1 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxKeyLen <= 0 {
		l.MaxKeyLen = d.MaxKeyLen
	}
	if l.MaxItemSize <= 0 {
		l.MaxItemSize = d.MaxItemSize
	}
	if l.MaxLine <= 0 {
		l.MaxLine = d.MaxLine
	}
	if l.MaxGetLine <= 0 {
		l.MaxGetLine = d.MaxGetLine
	}
	l.MaxGetLine = max(l.MaxGetLine, l.MaxLine)
	return l
}

// Parser parses pipelined requests from one connection. Results are valid
// until the next Parse call. Not safe for concurrent use.
type Parser struct {
	limits Limits
	reqs   []Request
	keys   [][]byte
	toks   [][]byte
	// decoded holds the base64-decoded keys of meta commands.
	decoded []byte
	// swallow counts bytes of a refused storage command's data block still
	// to skip, possibly in later buffers.
	swallow int
	// text: the connection's first byte was seen and is not the binary
	// protocol's magic (see Parse).
	text bool
}

// ReplyBinary refuses a connection that speaks memcached's binary
// protocol, which dynonode does not serve.
const ReplyBinary = "SERVER_ERROR the binary protocol is not served by dynonode"

// NewParser returns a parser enforcing l (zero fields take defaults).
func NewParser(l Limits) *Parser { return &Parser{limits: l.withDefaults()} }

// Reset forgets a data block being skipped, for when the caller discards
// its buffer.
func (p *Parser) Reset() { p.swallow = 0 }

// Parse parses the requests at the start of buf. It returns the complete
// requests (in-band errors among them, as KindError) and n, the bytes they
// took. When n < len(buf) and err is nil, buf[n:] is an incomplete request:
// keep it, append the next read and call again with the buffer starting
// there. A non-nil err is a fatal *Error: the requests before it are still
// returned, n is where the bad request starts; send err.Reply after their
// replies and close the connection.
func (p *Parser) Parse(buf []byte) (reqs []Request, n int, err error) {
	p.reqs = p.reqs[:0]
	p.keys = p.keys[:0]
	p.decoded = p.decoded[:0]
	if !p.text && len(buf) > 0 {
		// memcached (-B auto, its default) takes a connection whose first
		// byte is 0x80 for the binary protocol, whose values may hold any
		// bytes: read as text lines, a value could run as commands.
		if buf[0] == 0x80 {
			return nil, 0, &Error{Reply: ReplyBinary, Close: true, Detail: "binary protocol magic 0x80 as the first byte"}
		}
		p.text = true
	}
	pos := p.skip(buf, 0)
	for pos < len(buf) {
		before := len(p.reqs)
		used, done, ferr := p.request(buf[pos:])
		if len(p.reqs) > before && p.reqs[before].Kind == KindError {
			p.reqs[before].Err.Offset = pos
		}
		if ferr != nil {
			p.Reset()
			ferr.Offset = pos
			return p.reqs, pos, ferr
		}
		if !done {
			break
		}
		pos = p.skip(buf, pos+used)
	}
	return p.reqs, pos, nil
}

func (p *Parser) skip(buf []byte, pos int) int {
	k := min(p.swallow, len(buf)-pos)
	p.swallow -= k
	return pos + k
}

// lineEnd finds the '\n' ending the request line at the start of b. Only a
// bounded window is searched, so the outcome for a prefix of the stream
// does not depend on how it was split into reads.
func (p *Parser) lineEnd(b []byte) (int, *Error) {
	if i := bytes.IndexByte(b[:min(len(b), p.limits.MaxLine+1)], '\n'); i >= 0 {
		return i, nil
	}
	if len(b) <= p.limits.MaxLine {
		return -1, nil
	}
	lead := bytes.TrimLeft(b[:p.limits.MaxLine], " ")
	if bytes.HasPrefix(lead, []byte("get ")) || bytes.HasPrefix(lead, []byte("gets ")) {
		if i := bytes.IndexByte(b[:min(len(b), p.limits.MaxGetLine+1)], '\n'); i >= 0 {
			return i, nil
		}
		if len(b) <= p.limits.MaxGetLine {
			return -1, nil
		}
	}
	return -1, &Error{Reply: ReplyLineTooLong, Close: true, Detail: "no newline in the first " + itoa(p.limits.MaxLine) + " bytes"}
}

// request parses one request from b. It reports done=false when b holds
// only part of it.
func (p *Parser) request(b []byte) (int, bool, *Error) {
	i, lerr := p.lineEnd(b)
	if lerr != nil {
		return 0, false, lerr
	}
	if i < 0 {
		return 0, false, nil
	}
	next := i + 1
	line := b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if z := bytes.IndexByte(line, 0); z >= 0 {
		line = line[:z] // memcached reads the line as a C string
	}
	p.toks = tokenize(p.toks[:0], line)
	r, dataLen, ferr := p.command(p.toks)
	if ferr != nil {
		return 0, false, ferr
	}
	if r.Kind.HasData() {
		if int64(len(b)-next) < int64(dataLen)+2 {
			return 0, false, nil
		}
		end := next + dataLen
		if b[end] != '\r' || b[end+1] != '\n' {
			// memcached's complete_nread_ascii: the <bytes>+2 bytes are
			// read, the item is not stored, CLIENT_ERROR (unless noreply),
			// and what follows is read as the next command.
			bad := inband(ReplyBadDataChunk, "data block of "+itoa(dataLen)+" bytes for key "+quote(r.Key)+" not followed by CRLF", r.NoReply)
			bad.Raw = b[: end+2 : end+2]
			p.reqs = append(p.reqs, bad)
			return end + 2, true, nil
		}
		r.Data = b[next:end:end]
		next = end + 2
	}
	r.Raw = b[:next:next]
	p.reqs = append(p.reqs, r)
	return next, true, nil
}

// tokenize splits a request line on spaces, as memcached's tokenize_command
// does (tabs and other bytes stay inside tokens).
func tokenize(toks [][]byte, line []byte) [][]byte {
	for len(line) > 0 {
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			return append(toks, line[:len(line):len(line)])
		}
		if i > 0 {
			toks = append(toks, line[:i:i])
		}
		line = line[i+1:]
	}
	return toks
}
