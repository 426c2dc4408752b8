package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// FlagDefaults are command-line values that apply only where the file is
// silent (Dynomite's deprecated -m and -M: the YAML wins). Zero means the
// flag was not given.
type FlagDefaults struct {
	MbufSize int // -m/--mbuf-size, bytes
	MaxMsgs  int // -M/--max-msgs
}

// Parse parses and validates a dynomite.yml. On success every default is
// applied and cfg.Warnings lists what the caller should log. On failure the
// error joins one *Error per mistake found.
func Parse(data []byte) (*Config, error) {
	return ParseWithFlags(data, FlagDefaults{})
}

// ParseWithFlags is Parse with -m/-M values standing in for unset
// mbuf_size/max_msgs.
func ParseWithFlags(data []byte, flags FlagDefaults) (*Config, error) {
	p := &parser{cfg: defaults(), seen: map[string]int{}}
	if flags.MbufSize != 0 {
		if err := CheckMbufSize(flags.MbufSize); err != nil {
			p.errs = append(p.errs, &Error{Msg: "-m/--mbuf-size: " + err.Error()})
		}
	}
	if flags.MaxMsgs != 0 {
		if err := CheckMaxMsgs(flags.MaxMsgs); err != nil {
			p.errs = append(p.errs, &Error{Msg: "-M/--max-msgs: " + err.Error()})
		}
	}
	root, err := document(data)
	if err != nil {
		return nil, errors.Join(append(p.errs, err)...)
	}
	if p.pool(root) {
		p.finish(flags)
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return p.cfg, nil
}

// parser collects the Config and every error while walking the YAML tree.
type parser struct {
	cfg      *Config
	errs     []error
	seen     map[string]int // directive -> line it was set on
	poolLine int
	key      string // directive being applied, for warn
	line     int    // line of the value being applied

	dataStoreSet bool
	seedLines    []int // line of each entry of cfg.Seeds
}

func (p *parser) errorf(line int, key, value, format string, args ...any) {
	p.errs = append(p.errs, &Error{Line: line, Key: key, Value: value, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) warn(format string, args ...any) {
	w := &Error{Line: p.line, Key: p.key, Msg: fmt.Sprintf(format, args...)}
	p.cfg.Warnings = append(p.cfg.Warnings, w.Error())
}

// document decodes exactly one YAML document, rejecting what Dynomite's
// token validation rejects before the tree is built.
func document(data []byte) (*yaml.Node, error) {
	if err := scanMarkers(data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Msg: "file is empty: it needs one top-level key, the pool name"}
		}
		return nil, fmt.Errorf("conf: %w", err)
	}
	var extra yaml.Node
	if err := decode(dec, &extra); !errors.Is(err, io.EOF) {
		return nil, &Error{Line: extra.Line, Msg: "more than one YAML document; a file holds exactly one"}
	}
	if len(doc.Content) != 1 {
		return nil, &Error{Msg: "file is empty: it needs one top-level key, the pool name"}
	}
	return doc.Content[0], nil
}

// decode guards against a panic in the YAML library: bad input must be an
// error, never a crash.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}

// scanMarkers rejects document markers (--- and ...) and %YAML/%TAG
// directives, which Dynomite refuses even in a single-document file.
func scanMarkers(data []byte) error {
	content := false
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		for _, m := range []string{"---", "..."} {
			if strings.HasPrefix(line, m) && (len(line) == 3 || line[3] == ' ' || line[3] == '\t') {
				return &Error{Line: i + 1, Msg: fmt.Sprintf("document marker %q is not allowed: a file is one document without markers", m)}
			}
		}
		if !content && strings.HasPrefix(line, "%") {
			return &Error{Line: i + 1, Msg: "YAML directives (%YAML, %TAG) are not allowed"}
		}
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			content = true
		}
	}
	return nil
}

// plain reports whether n is written without the YAML features Dynomite
// rejects (anchors, aliases, tags, flow collections), recording an error
// if not.
func (p *parser) plain(n *yaml.Node, key string) bool {
	switch {
	case n.Kind == yaml.AliasNode:
		p.errorf(n.Line, key, "", "alias *%s is not allowed", n.Value)
	case n.Anchor != "":
		p.errorf(n.Line, key, "", "anchor &%s is not allowed", n.Anchor)
	case n.Style&yaml.TaggedStyle != 0:
		p.errorf(n.Line, key, "", "tag %s is not allowed", n.Tag)
	case n.Style&yaml.FlowStyle != 0:
		p.errorf(n.Line, key, "", "flow collections ([...] or {...}) are not allowed; use one entry per line")
	default:
		return true
	}
	return false
}

// pool walks the root: one key (the pool name) holding a mapping of
// directives. It reports false when the structure is too broken for the
// cross-checks of finish to mean anything.
func (p *parser) pool(root *yaml.Node) bool {
	if !p.plain(root, "") {
		return false
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "", "", "the top level must be one key, the pool name (e.g. dyn_o_mite:), holding the directives")
		return false
	}
	if len(root.Content) > 2 {
		k := root.Content[2]
		p.errorf(k.Line, "", "", "second top-level key %q: a file holds exactly one pool (the first is %q)", k.Value, root.Content[0].Value)
		return false
	}
	name, body := root.Content[0], root.Content[1]
	p.poolLine = name.Line
	if !p.plain(name, "") || !p.plain(body, "") {
		return false
	}
	if name.Kind != yaml.ScalarNode || name.Value == "" || checkText(name.Value) != nil {
		p.errorf(name.Line, "", name.Value, "the pool name must be a non-empty plain string")
		return false
	}
	p.cfg.Pool = name.Value
	if body.Kind != yaml.MappingNode {
		p.errorf(name.Line, "", "", "pool %q must hold a mapping of directives (key: value), one per line, indented under it", name.Value)
		return false
	}
	for i := 0; i+1 < len(body.Content); i += 2 {
		p.directive(body.Content[i], body.Content[i+1])
	}
	return true
}

// directive applies one key: value (or key: list) of the pool.
func (p *parser) directive(k, v *yaml.Node) {
	if !p.plain(k, "") {
		return
	}
	key := k.Value
	if k.Kind != yaml.ScalarNode {
		p.errorf(k.Line, "", "", "a directive name must be a plain word")
		return
	}
	if first, dup := p.seen[key]; dup {
		p.errorf(k.Line, key, "", "is a duplicate (first set on line %d)", first)
		return
	}
	p.seen[key] = k.Line
	if !p.plain(v, key) {
		return
	}
	d, ok := directives[key]
	if !ok {
		msg := fmt.Sprintf("directive %q is unknown", key)
		if s := suggest(key); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		p.errorf(k.Line, "", "", "%s", msg)
		return
	}
	var values []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		values = []*yaml.Node{v}
	case yaml.SequenceNode:
		if !d.list {
			p.errorf(v.Line, key, "", "takes one value, not a list")
			return
		}
		values = v.Content
	default:
		p.errorf(v.Line, key, "", "nested too deep: a value is a plain scalar or a list of them")
		return
	}
	for _, n := range values {
		if !p.plain(n, key) {
			continue
		}
		if n.Kind != yaml.ScalarNode {
			p.errorf(n.Line, key, "", "nested too deep: a list entry is a plain scalar")
			continue
		}
		if n.Value == "" || n.Tag == "!!null" {
			p.errorf(n.Line, key, "", "value is empty")
			continue
		}
		p.key, p.line = key, n.Line
		if err := d.set(p, n.Value); err != nil {
			value := n.Value
			if d.secret {
				value = redacted
			}
			p.errorf(n.Line, key, value, "%s", err.Error())
		}
	}
}
