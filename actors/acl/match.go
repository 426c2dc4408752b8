package acl

// Match reports whether s matches the glob pattern p as Redis's
// stringmatchlen does (KEYS, SCAN MATCH, ACL key patterns): * any run, ?
// any byte, [abc] [^abc] [a-z] a set, \x the byte x.
func Match(p, s []byte) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if Match(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			var ok bool
			if p, ok = matchSet(p[1:], s[0]); !ok {
				return false
			}
			s = s[1:]
			continue
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
	}
	return len(s) == 0
}

// matchSet matches c against the set that starts at p (after '['); it
// returns the pattern after the set's ']' and whether c is in it.
func matchSet(p []byte, c byte) ([]byte, bool) {
	not := len(p) > 0 && p[0] == '^'
	if not {
		p = p[1:]
	}
	match := false
	for len(p) > 0 && p[0] != ']' {
		switch {
		case p[0] == '\\' && len(p) >= 2:
			p = p[1:]
			if p[0] == c {
				match = true
			}
		case len(p) >= 3 && p[1] == '-':
			lo, hi := p[0], p[2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if c >= lo && c <= hi {
				match = true
			}
			p = p[2:]
		case p[0] == c:
			match = true
		}
		p = p[1:]
	}
	if len(p) > 0 {
		p = p[1:] // the ']'
	}
	return p, match != not
}
