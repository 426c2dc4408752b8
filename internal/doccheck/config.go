package doccheck

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dynonode/dynonode/actors/config"
)

// Row is one row of a Markdown table, its cells trimmed.
type Row struct {
	Line  int
	Cells []string
}

// Table returns the rows of the first Markdown table after the line that
// starts with heading, header and separator rows left out.
func Table(md []byte, heading string) ([]Row, error) {
	lines := strings.Split(string(md), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, heading) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("doccheck: no %q", heading)
	}
	var rows []Row
	inTable := false
	for i := start + 1; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "|") {
			if inTable {
				break
			}
			continue
		}
		if !inTable { // the header row
			inTable = true
			continue
		}
		if strings.HasPrefix(l, "|---") || strings.HasPrefix(l, "| ---") {
			continue
		}
		rows = append(rows, Row{Line: i + 1, Cells: splitRow(l)})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("doccheck: no table after %q", heading)
	}
	return rows, nil
}

// splitRow splits "| a | b \| c |" into its cells ("\|" is a literal bar).
func splitRow(l string) []string {
	l = strings.TrimSuffix(strings.TrimPrefix(l, "|"), "|")
	l = strings.ReplaceAll(l, `\|`, "\x00")
	var out []string
	for _, c := range strings.Split(l, "|") {
		out = append(out, strings.TrimSpace(strings.ReplaceAll(c, "\x00", "|")))
	}
	return out
}

var (
	spans      = regexp.MustCompile("`([^`]+)`")
	flagOr     = regexp.MustCompile("^`-[A-Za-z]` or (\\S+)$")
	withOrNot  = regexp.MustCompile("^(\\S+) with `(\\w+)`, (\\S+) without$")
	absentCell = regexp.MustCompile(`^(?:none\b|empty\b|—)`)
)

// minimalConfig is the smallest valid file: everything else takes its
// default.
const minimalConfig = "dyn_o_mite:\n  listen: 127.0.0.1:8102\n"

// formatted parses a config file and returns the directives Format writes
// for it, values unquoted.
func formatted(file string) (map[string]string, error) {
	c, err := config.Parse([]byte(file))
	if err != nil {
		return nil, fmt.Errorf("doccheck: parse %q: %w", file, err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(config.Format(c)), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), ": ")
		if !ok {
			continue
		}
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = strings.ReplaceAll(v[1:len(v)-1], "''", "'")
		}
		out[k] = v
	}
	return out, nil
}

// CheckConfigDefaults compares the Default column of the "## Keys" table
// of docs/config.md (md) with what actors/config applies: the table must
// list every key config.Keys knows and no other, and each default must be
// the value config.Format writes for a file that sets only listen. A
// default of none, empty or — must be a key Format leaves out; "**required**"
// is not compared; "`-m` or N" compares N; "A with `servers`, B without"
// compares both cases.
func CheckConfigDefaults(rel string, md []byte) []Finding {
	var out []Finding
	bad := func(line int, format string, args ...any) {
		out = append(out, Finding{rel, line, fmt.Sprintf(format, args...)})
	}
	rows, err := Table(md, "## Keys")
	if err != nil {
		return []Finding{{rel, 0, err.Error()}}
	}
	defaults, err := formatted(minimalConfig)
	if err != nil {
		return []Finding{{rel, 0, err.Error()}}
	}
	known := map[string]bool{}
	for _, k := range config.Keys() {
		known[k] = true
	}
	listed := map[string]bool{}
	for _, row := range rows {
		if len(row.Cells) < 3 {
			bad(row.Line, "row has %d cells, want key, type, default...", len(row.Cells))
			continue
		}
		var keys []string
		for _, m := range spans.FindAllStringSubmatch(row.Cells[0], -1) {
			keys = append(keys, m[1])
		}
		for _, k := range keys {
			if !known[k] {
				bad(row.Line, "key %s is not a key actors/config knows", k)
			}
			listed[k] = true
		}
		cell := strings.TrimSpace(strings.ReplaceAll(row.Cells[2], "**", ""))
		switch {
		case cell == "required":
			continue
		case absentCell.MatchString(cell):
			for _, k := range keys {
				if v, ok := defaults[k]; ok {
					bad(row.Line, "key %s: documented default %q, but actors/config applies %q", k, cell, v)
				}
			}
			continue
		}
		if m := withOrNot.FindStringSubmatch(cell); m != nil {
			with, err := formatted(minimalConfig + "  " + m[2] + ":\n  - 127.0.0.1:6379:1\n")
			if err != nil {
				bad(row.Line, "%v", err)
				continue
			}
			for _, k := range keys {
				if with[k] != m[1] {
					bad(row.Line, "key %s with %s: documented default %s, but actors/config applies %q", k, m[2], m[1], with[k])
				}
				if defaults[k] != m[3] {
					bad(row.Line, "key %s without %s: documented default %s, but actors/config applies %q", k, m[2], m[3], defaults[k])
				}
			}
			continue
		}
		var values []string
		if m := flagOr.FindStringSubmatch(cell); m != nil {
			values = []string{m[1]}
		} else if ms := spans.FindAllStringSubmatch(cell, -1); ms != nil {
			for _, m := range ms {
				values = append(values, m[1])
			}
		} else {
			values = []string{cell}
		}
		if len(values) != 1 && len(values) != len(keys) {
			bad(row.Line, "cannot pair %d defaults with %d keys", len(values), len(keys))
			continue
		}
		for i, k := range keys {
			want := values[0]
			if len(values) > 1 {
				want = values[i]
			}
			got, ok := defaults[k]
			if !ok {
				bad(row.Line, "key %s: documented default %q, but actors/config leaves it unset", k, want)
				continue
			}
			if got != want {
				bad(row.Line, "key %s: documented default %q, but actors/config applies %q", k, want, got)
			}
		}
	}
	for _, k := range config.Keys() {
		if !listed[k] {
			bad(0, "key %s (actors/config) is missing from the table", k)
		}
	}
	return out
}
