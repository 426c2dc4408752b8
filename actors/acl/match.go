package acl

// Match reports whether s matches the glob pattern p as Redis's
// stringmatchlen does (KEYS, SCAN MATCH, ACL key patterns): * any run, ?
// any byte, [abc] [^abc] [a-z] a set, \x the byte x. It backtracks only to
// the last star, so its time is at most the product of the two lengths,
// whatever the pattern (Redis 7.0.9 bounded its own after CVE-2022-36021).
func Match(p, s []byte) bool {
	px, sx := 0, 0
	star, starS := -1, 0 // the last star's index in p (after it), and where s resumes after it
	for sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				for px < len(p) && p[px] == '*' {
					px++
				}
				if px == len(p) {
					return true
				}
				star, starS = px, sx
				continue
			case '?':
				px, sx = px+1, sx+1
				continue
			case '[':
				if rest, ok := matchSet(p[px+1:], s[sx]); ok {
					px, sx = len(p)-len(rest), sx+1
					continue
				}
			case '\\':
				lit, n := byte('\\'), 1
				if px+1 < len(p) {
					lit, n = p[px+1], 2
				}
				if lit == s[sx] {
					px, sx = px+n, sx+1
					continue
				}
			default:
				if c == s[sx] {
					px, sx = px+1, sx+1
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last star take one more byte, and try the rest again.
		starS++
		px, sx = star, starS
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
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
