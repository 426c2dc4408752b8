package store

// matchGlob is Redis's stringmatchlen (util.c, case-sensitive), ported
// byte for byte so that KEYS and SCAN MATCH select exactly the keys Redis
// would: '*', '?', '[...]' with '^' negation and ranges, '\' escapes.
// Redis reads the pattern as a NUL-terminated C string past its length in
// places and compares bytes as signed chars; at and the int8 conversions
// reproduce both.
func matchGlob(pattern, str []byte) bool {
	skip := false
	return globAt(pattern, 0, str, &skip)
}

func globAt(pat []byte, p int, str []byte, skipLonger *bool) bool {
	at := func(i int) byte {
		if i < len(pat) {
			return pat[i]
		}
		return 0
	}
	s := 0
	for p < len(pat) && s < len(str) {
		switch pat[p] {
		case '*':
			for p < len(pat) && at(p+1) == '*' {
				p++
			}
			if len(pat)-p == 1 {
				return true
			}
			for s < len(str) {
				if globAt(pat, p+1, str[s:], skipLonger) {
					return true
				}
				if *skipLonger {
					return false
				}
				s++
			}
			*skipLonger = true
			return false
		case '?':
			s++
		case '[':
			p++
			not := at(p) == '^'
			if not {
				p++
			}
			match := false
			for {
				if at(p) == '\\' && len(pat)-p >= 2 {
					p++
					if pat[p] == str[s] {
						match = true
					}
				} else if at(p) == ']' {
					break
				} else if p >= len(pat) {
					p-- // unterminated class: the outer step lands on the end
					break
				} else if len(pat)-p >= 3 && pat[p+1] == '-' {
					start, end, c := int8(pat[p]), int8(pat[p+2]), int8(str[s])
					if start > end {
						start, end = end, start
					}
					p += 2
					if c >= start && c <= end {
						match = true
					}
				} else if pat[p] == str[s] {
					match = true
				}
				p++
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s++
		case '\\':
			if len(pat)-p >= 2 {
				p++
			}
			if pat[p] != str[s] {
				return false
			}
			s++
		default:
			if pat[p] != str[s] {
				return false
			}
			s++
		}
		p++
		if s == len(str) {
			for at(p) == '*' {
				p++
			}
			break
		}
	}
	return p >= len(pat) && s == len(str)
}

// MatchGlob reports whether s matches pattern as Redis's stringmatchlen
// does (KEYS, SCAN MATCH, PSUBSCRIBE): exported for actors/pubsub.
func MatchGlob(pattern, s []byte) bool { return matchGlob(pattern, s) }
