package resp

import "bytes"

// splitArgs appends the arguments of an inline command line to p.args,
// splitting like Redis's sdssplitargs: blanks separate arguments, "double
// quotes" take \n \r \t \b \a \xHH and \<c> escapes, 'single quotes' take
// \', a closing quote must be followed by a blank or the end of the line.
// It reports false for unbalanced quotes. Arguments without quotes alias
// line; quoted ones are unescaped into p.arena.
func (p *Parser) splitArgs(line []byte) bool {
	// sdssplitargs works on a C string: a NUL ends the line.
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return true
		}
		start := i
		for i < len(line) && !endsBare(line[i]) && line[i] != '"' && line[i] != '\'' {
			i++
		}
		if i == len(line) || endsBare(line[i]) {
			p.args = append(p.args, line[start:i:i])
			continue
		}
		a0 := len(p.arena)
		p.arena = append(p.arena, line[start:i]...)
		var ok bool
		if i, ok = p.quoted(line, i); !ok {
			return false
		}
		p.args = append(p.args, p.arena[a0:len(p.arena):len(p.arena)])
	}
}

// quoted continues a token at line[i], which is a quote, appending its
// unescaped bytes to p.arena; it returns the index after the token.
func (p *Parser) quoted(line []byte, i int) (int, bool) {
	inq, insq := false, false
	for i < len(line) {
		c := line[i]
		switch {
		case inq:
			switch {
			case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
				p.arena = append(p.arena, unhex(line[i+2])<<4|unhex(line[i+3]))
				i += 4
				continue
			case c == '\\' && i+1 < len(line):
				p.arena = append(p.arena, unescape(line[i+1]))
				i += 2
				continue
			case c == '"':
				return closeQuote(line, i)
			}
			p.arena = append(p.arena, c)
		case insq:
			switch {
			case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
				p.arena = append(p.arena, '\'')
				i += 2
				continue
			case c == '\'':
				return closeQuote(line, i)
			}
			p.arena = append(p.arena, c)
		case endsBare(c):
			return i, true
		case c == '"':
			inq = true
		case c == '\'':
			insq = true
		default:
			p.arena = append(p.arena, c)
		}
		i++
	}
	return i, !inq && !insq
}

// closeQuote accepts the closing quote at line[i] only if a blank or the
// end of the line follows, as sdssplitargs does.
func closeQuote(line []byte, i int) (int, bool) {
	if i+1 < len(line) && !isSpace(line[i+1]) {
		return 0, false
	}
	return i + 1, true
}

// isSpace is C's isspace in the "C" locale, which sdssplitargs uses to skip
// blanks between arguments.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// endsBare reports the bytes that end an unquoted token in sdssplitargs (a
// narrower set than isSpace: \v and \f stay inside a token).
func endsBare(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}
