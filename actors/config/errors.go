package config

import (
	"fmt"
	"strings"
)

// Error is one mistake in a config file. Parse returns these joined with
// errors.Join; errors.As finds the first.
type Error struct {
	Line  int    // 1-based line of the offending node; 0 when not tied to one
	Key   string // directive name; "" for mistakes in the file's structure
	Value string // offending value as written; "" when not about a value
	Msg   string // what is wrong
}

// Error renders `conf: line 7: key "tokens": value "abc": not an unsigned
// 32-bit integer`, leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("conf: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, "value %q: ", clip(e.Value))
	}
	b.WriteString(e.Msg)
	return b.String()
}

// clip keeps error lines readable when a value is huge.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// suggest returns the known key closest to an unknown one, if it is close
// enough to be a typo (edit distance <= 2), else "".
func suggest(key string) string {
	best, bestD := "", 3
	for _, k := range sortedKeys() {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
