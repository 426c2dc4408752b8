package resp

import "bytes"

// Limits bound what one client request may contain. The zero value of a
// field means its default; the defaults are Redis's.
type Limits struct {
	// MaxBulkLen is the largest bulk argument, in bytes. Default 512 MiB,
	// Redis's proto-max-bulk-len.
	MaxBulkLen int
	// MaxArgs is the largest argument count of one multibulk command.
	// Default 1024*1024, the bound behind Redis's "invalid multibulk length".
	MaxArgs int
	// MaxInline is the longest inline command line, and the longest "*N" or
	// "$N" header line, in bytes. Default 64 KiB, Redis's
	// PROTO_INLINE_MAX_SIZE.
	MaxInline int
}

// Default limits, as in Redis.
const (
	DefaultMaxBulkLen = 512 << 20
	DefaultMaxArgs    = 1024 * 1024
	DefaultMaxInline  = 64 << 10
)

// DefaultLimits returns Redis's limits.
func DefaultLimits() Limits {
	return Limits{MaxBulkLen: DefaultMaxBulkLen, MaxArgs: DefaultMaxArgs, MaxInline: DefaultMaxInline}
}

func (l Limits) withDefaults() Limits {
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = DefaultMaxBulkLen
	}
	if l.MaxArgs <= 0 {
		l.MaxArgs = DefaultMaxArgs
	}
	if l.MaxInline <= 0 {
		l.MaxInline = DefaultMaxInline
	}
	return l
}

// Command is one parsed client request.
type Command struct {
	// Args are the command name and its arguments. Each aliases the buffer
	// passed to Parse (or the parser's arena, for inline arguments that
	// needed unquoting) and is capacity-limited, so appending to one copies.
	Args [][]byte
	// Raw is the command exactly as the client sent it, for forwarding
	// without re-encoding.
	Raw []byte
}

// Parser parses pipelined client requests. Feed it the unconsumed bytes of
// a connection; it returns every complete command and how many bytes they
// used. Results are valid until the next call to Parse: the caller must be
// done with them (or copy them) before it calls again or reuses the buffer.
// A Parser serves one connection and is not safe for concurrent use.
type Parser struct {
	limits Limits
	cmds   []Command
	args   [][]byte
	arena  []byte
	pend   pending
}

// pending remembers how far a multibulk command cut short by the end of the
// buffer was checked, so that a large command arriving in many reads is not
// re-scanned from its start each time (that would be quadratic).
type pending struct {
	active bool
	argc   int   // declared argument count
	next   int   // offset from the command's '*' of the next "$N" header
	spans  []int // start,end of each argument read so far, from the '*'
}

// NewParser returns a parser enforcing l (zero fields take defaults).
func NewParser(l Limits) *Parser {
	return &Parser{limits: l.withDefaults()}
}

// Reset forgets a partially parsed command, for when the caller discards
// its buffer.
func (p *Parser) Reset() {
	p.pend.active = false
	p.pend.spans = p.pend.spans[:0]
}

// Parse parses the commands at the start of buf. It returns the complete
// commands and n, the bytes they took (empty lines and "*0"/"*-1" no-ops
// included). When n < len(buf) and err is nil, buf[n:] is the beginning of
// an incomplete command: keep it, append the next read to it and call Parse
// again with the buffer starting at that byte. On error the commands before
// the bad one are still returned, n is where the bad one starts, and the
// caller replies with the error (after the earlier commands' replies) and
// closes the connection.
func (p *Parser) Parse(buf []byte) (cmds []Command, n int, err error) {
	p.cmds = p.cmds[:0]
	p.args = p.args[:0]
	p.arena = p.arena[:0]
	pos := 0
	for pos < len(buf) {
		var used int
		var done bool
		var perr *ProtocolError
		if buf[pos] == '*' {
			used, done, perr = p.multibulk(buf[pos:], pos == 0)
		} else {
			p.pend.active = false
			used, done, perr = p.inline(buf[pos:])
		}
		if perr != nil {
			p.Reset()
			perr.Offset = pos
			return p.cmds, pos, perr
		}
		if !done {
			break
		}
		pos += used
	}
	return p.cmds, pos, nil
}

// Outcomes of looking for the end of a header line.
const (
	lineOK = iota
	lineMore
	lineTooBig
	lineBadEnd // '\r' not followed by '\n'
)

// headerEnd finds the '\r' ending the header line whose digits start at
// from. Only the first max+1 bytes are searched, so the outcome for a given
// prefix of the stream does not depend on how it was split into reads.
func headerEnd(b []byte, from, max int) (int, int) {
	window := b[from:min(len(b), from+max+1)]
	i := bytes.IndexByte(window, '\r')
	if i < 0 {
		if len(b)-from > max {
			return 0, lineTooBig
		}
		return 0, lineMore
	}
	end := from + i
	if end+1 >= len(b) {
		return 0, lineMore
	}
	if b[end+1] != '\n' {
		return end, lineBadEnd
	}
	return end, lineOK
}

// multibulk parses "*N\r\n" followed by N "$len\r\n<bytes>\r\n" arguments
// from b, which starts at the '*'. resume says b starts where the previous
// call left a command unfinished.
func (p *Parser) multibulk(b []byte, resume bool) (int, bool, *ProtocolError) {
	var argc, pos int
	spans := p.pend.spans[:0]
	if resume && p.pend.active && p.pend.next <= len(b) {
		argc, pos, spans = p.pend.argc, p.pend.next, p.pend.spans
	} else {
		p.pend.active = false
		end, st := headerEnd(b, 1, p.limits.MaxInline)
		switch st {
		case lineMore:
			return 0, false, nil
		case lineTooBig:
			return 0, false, &ProtocolError{Reason: reasonTooBigMbulk}
		}
		n, ok := ParseInt(b[1:end])
		if st == lineBadEnd || !ok || n > int64(p.limits.MaxArgs) {
			return 0, false, &ProtocolError{Reason: reasonMultibulkLen}
		}
		pos = end + 2
		if n <= 0 {
			// Redis treats "*0" and negative counts as an empty no-op.
			return pos, true, nil
		}
		argc = int(n)
	}
	p.pend.active = false
	for len(spans)/2 < argc {
		if pos >= len(b) {
			return p.suspend(argc, pos, spans)
		}
		// Redis waits for the line's '\r' before looking at its first
		// byte; checking the byte first reports the same error sooner.
		if b[pos] != '$' {
			return 0, false, &ProtocolError{Reason: expectedDollar(b[pos])}
		}
		end, st := headerEnd(b, pos+1, p.limits.MaxInline)
		switch st {
		case lineMore:
			return p.suspend(argc, pos, spans)
		case lineTooBig:
			return 0, false, &ProtocolError{Reason: reasonTooBigBulkCount}
		}
		n, ok := ParseInt(b[pos+1 : end])
		if st == lineBadEnd || !ok || n < 0 || n > int64(p.limits.MaxBulkLen) {
			return 0, false, &ProtocolError{Reason: reasonBulkLen}
		}
		start := end + 2
		if int64(len(b)-start) < n+2 {
			return p.suspend(argc, pos, spans)
		}
		stop := start + int(n)
		// Redis skips the two bytes after the data unchecked; a client that
		// sends anything but CRLF there has lost count of its own lengths,
		// so refuse rather than forward a misframed stream.
		if b[stop] != '\r' || b[stop+1] != '\n' {
			return 0, false, &ProtocolError{Reason: reasonBulkCRLF}
		}
		spans = append(spans, start, stop)
		pos = stop + 2
	}
	first := len(p.args)
	for i := 0; i < len(spans); i += 2 {
		p.args = append(p.args, b[spans[i]:spans[i+1]:spans[i+1]])
	}
	p.cmds = append(p.cmds, Command{Args: p.args[first:len(p.args):len(p.args)], Raw: b[:pos:pos]})
	p.pend.spans = spans[:0]
	return pos, true, nil
}

func (p *Parser) suspend(argc, next int, spans []int) (int, bool, *ProtocolError) {
	p.pend = pending{active: true, argc: argc, next: next, spans: spans}
	return 0, false, nil
}

// inline parses one newline-terminated inline command from b. Lines with
// no arguments are consumed and skipped, as Redis does.
func (p *Parser) inline(b []byte) (int, bool, *ProtocolError) {
	i := bytes.IndexByte(b[:min(len(b), p.limits.MaxInline+1)], '\n')
	if i < 0 {
		if len(b) > p.limits.MaxInline {
			return 0, false, &ProtocolError{Reason: reasonTooBigInline}
		}
		return 0, false, nil
	}
	line := b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	first := len(p.args)
	if !p.splitArgs(line) {
		return 0, false, &ProtocolError{Reason: reasonUnbalanced}
	}
	if len(p.args) > first {
		p.cmds = append(p.cmds, Command{Args: p.args[first:len(p.args):len(p.args)], Raw: b[: i+1 : i+1]})
	}
	return i + 1, true, nil
}
