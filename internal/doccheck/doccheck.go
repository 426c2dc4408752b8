// Package doccheck checks that the documentation quotes the code as it
// is: every repository path, test name and default that README.md, the
// other Markdown files, the doc.go files and every other Go comment cite
// exists and matches. Its tests run in `make test`; it reads files only
// (no network, no git).
//
// What it reads as a citation:
//   - in Markdown, every inline code span and every fenced code block, the
//     target of every relative link, and a configuration key's default
//     quoted in prose ("`timeout`, default `5000`");
//   - in Go files (doc.go and all others), the comments.
//
// A path is a token that starts with one of the repository's top-level
// entries (actors/, cmd/, docs/config.md...) or, without a slash, a file
// name with a source or document extension (serve.go, faults.md). It must
// exist: from the repository root, from the citing file's directory, or
// (a bare file name) anywhere in the repository; one that starts with ..
// must exist relative to the citing file, inside the repository (a file
// beside the checkout is one readers do not have). Generated places (bin/, results/, jepsen/store/, the
// sim-campaign files make sim writes) and paths
// with placeholders (<run>) are not checked. A test name (Test...,
// Benchmark..., Fuzz..., Example..., or a prefix ending in *) must be
// declared by a test file of the repository. The defaults table of
// docs/config.md is compared with actors/config by CheckConfigDefaults.
package doccheck

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Finding is one citation that does not match the repository.
type Finding struct {
	File string // slash path from the repository root
	Line int
	Msg  string
}

func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Msg) }

// Repo is what citations are checked against.
type Repo struct {
	Root  string
	paths map[string]bool // every file and directory, slash paths from Root
	bases map[string]bool // every file's base name
	top   map[string]bool // top-level entries
	tests map[string]bool // Test/Benchmark/Fuzz/Example functions of _test.go files
	// defaults are actors/config's defaults by key, as config.Format
	// writes them for a file that sets only listen.
	defaults map[string]string
}

// skipDirs are not walked: version control, build and run output.
var skipDirs = map[string]bool{".git": true, "bin": true, "results": true, "node_modules": true}

// generated lists path prefixes that builds and runs create: cited, never
// committed.
var generated = []string{"bin/", "results/", "jepsen/store/", "sim-campaign.log", "sim-campaign.md"}

// values are quoted as values, not as files of this repository: Dynomite's
// configuration file name and the defaults of -c, pem_key_file,
// recon_key_file and recon_iv_file (docs/config.md).
var values = map[string]bool{
	"dynomite.yml": true, "conf/dynomite.yml": true,
	"conf/dynomite.pem": true, "conf/recon_key.pem": true, "conf/recon_iv.pem": true,
}

var testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz|Example)\w*)\(`)

// Load indexes the repository at root.
func Load(root string) (*Repo, error) {
	r := &Repo{Root: root, paths: map[string]bool{}, bases: map[string]bool{}, top: map[string]bool{}, tests: map[string]bool{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() && skipDirs[d.Name()] {
			return filepath.SkipDir
		}
		r.paths[rel] = true
		if !strings.Contains(rel, "/") {
			r.top[rel] = true
		}
		if d.IsDir() {
			return nil
		}
		r.bases[d.Name()] = true
		if strings.HasSuffix(rel, "_test.go") {
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range testFunc.FindAllSubmatch(src, -1) {
				r.tests[string(m[1])] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("doccheck: index %s: %w", root, err)
	}
	if r.defaults, err = formatted(minimalConfig); err != nil {
		return nil, err
	}
	return r, nil
}

// Docs lists the files to check: every Markdown file and every Go file,
// outside testdata.
func (r *Repo) Docs() []string {
	var out []string
	for p := range r.paths {
		if strings.Contains(p, "testdata/") {
			continue
		}
		if strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".go") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Check checks the document at rel (slash path from the root).
func (r *Repo) Check(rel string) ([]Finding, error) {
	b, err := os.ReadFile(filepath.Join(r.Root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("doccheck: %w", err)
	}
	if strings.HasSuffix(rel, ".go") {
		return r.CheckGoDoc(rel, b), nil
	}
	return r.CheckMarkdown(rel, b), nil
}

var (
	codeSpan = regexp.MustCompile("`([^`\n]+)`")
	mdLink   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	testName = regexp.MustCompile(`\b(?:Test|Benchmark|Fuzz|Example)[A-Z0-9_]\w*\*?`)
	// proseDefault is a configuration key's default quoted in prose:
	// "`stats_listen`, default `127.0.0.1:22222`", "`timeout` (default `5000`)".
	proseDefault = regexp.MustCompile("`([a-z_]+)`[,:]? \\(?default(?: is)? `([^`]+)`")
	pathToken    = regexp.MustCompile(`[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-*]*)*`)
)

// docExt are the extensions that make a bare word a file name.
var docExt = map[string]bool{".go": true, ".md": true, ".yaml": true, ".yml": true, ".sh": true, ".conf": true}

// CheckMarkdown checks a Markdown document's code spans, fenced blocks
// and relative links.
func (r *Repo) CheckMarkdown(rel string, text []byte) []Finding {
	var out []Finding
	fenced := false
	for i, line := range strings.Split(string(text), "\n") {
		n := i + 1
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		var cited []string
		if fenced {
			cited = append(cited, line)
		} else {
			for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
				cited = append(cited, m[1])
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				if f := r.checkLink(rel, m[1]); f != "" {
					out = append(out, Finding{rel, n, f})
				}
			}
		}
		for _, c := range cited {
			for _, msg := range r.checkText(rel, c) {
				out = append(out, Finding{rel, n, msg})
			}
		}
		if !fenced {
			for _, m := range proseDefault.FindAllStringSubmatch(line, -1) {
				if got, ok := r.defaults[m[1]]; ok && got != m[2] {
					out = append(out, Finding{rel, n, fmt.Sprintf("key %s: documented default %q, but actors/config applies %q", m[1], m[2], got)})
				}
			}
		}
		// Test names count wherever they are, quoted or not.
		for _, t := range testName.FindAllString(line, -1) {
			if !r.hasTest(t) && !inAny(t, cited) {
				out = append(out, Finding{rel, n, fmt.Sprintf("test %s is not declared by any _test.go file", t)})
			}
		}
	}
	return out
}

// hasTest reports whether test t is declared; a name ending in * asks for
// one that starts with the rest.
func (r *Repo) hasTest(t string) bool {
	prefix, ok := strings.CutSuffix(t, "*")
	if !ok {
		return r.tests[t]
	}
	for name := range r.tests {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

func inAny(s string, in []string) bool {
	for _, c := range in {
		if strings.Contains(c, s) {
			return true
		}
	}
	return false
}

// CheckGoDoc checks the comments of a Go file.
func (r *Repo) CheckGoDoc(rel string, src []byte) []Finding {
	var out []Finding
	for i, line := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(line)
		c, ok := strings.CutPrefix(t, "//")
		if !ok {
			continue
		}
		for _, msg := range r.checkText(rel, c) {
			out = append(out, Finding{rel, i + 1, msg})
		}
	}
	return out
}

// checkText checks the paths and test names in one cited text.
func (r *Repo) checkText(rel, text string) []string {
	var out []string
	for _, t := range testName.FindAllString(text, -1) {
		if !r.hasTest(t) {
			out = append(out, fmt.Sprintf("test %s is not declared by any _test.go file", t))
		}
	}
	for _, loc := range pathToken.FindAllStringIndex(text, -1) {
		tok := text[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsRune(":/@.$<{=~", rune(text[loc[0]-1])) {
			continue // part of a URL, an address, a variable, a placeholder or a flag value
		}
		if loc[1] < len(text) && strings.ContainsRune("<>@(", rune(text[loc[1]])) {
			continue // a placeholder or a call
		}
		if msg := r.checkPath(rel, tok); msg != "" {
			out = append(out, msg)
		}
	}
	return out
}

// checkPath reports a cited path that does not exist ("" when it does or
// when tok is not a repository path).
func (r *Repo) checkPath(rel, tok string) string {
	p := strings.TrimPrefix(tok, "./")
	p = strings.TrimSuffix(p, "/...")
	p = strings.TrimRight(p, ".,;:")
	if strings.HasPrefix(p, "../") { // relative to the citing file only
		if in := path.Join(path.Dir(rel), p); strings.HasPrefix(in, "../") || !r.paths[in] {
			return fmt.Sprintf("path %s does not exist in the repository", p)
		}
		return ""
	}
	if p == "" || strings.HasPrefix(p, ".") || strings.HasPrefix(p, "_") || values[p] {
		return ""
	}
	for _, g := range generated {
		if strings.HasPrefix(p, g) || p == strings.TrimSuffix(g, "/") {
			return ""
		}
	}
	first, _, slash := strings.Cut(p, "/")
	if !slash {
		if !docExt[path.Ext(p)] || strings.ContainsRune(p, '*') {
			return ""
		}
		if r.bases[p] {
			return ""
		}
		return fmt.Sprintf("file %s: no file of that name in the repository", p)
	}
	if !r.top[first] {
		return ""
	}
	if r.exists(rel, p) {
		return ""
	}
	return fmt.Sprintf("path %s does not exist", p)
}

// exists looks p up from the root and from the citing file's directory;
// a pattern with * must match something.
func (r *Repo) exists(rel, p string) bool {
	p = strings.TrimSuffix(p, "/")
	for _, cand := range []string{p, path.Join(path.Dir(rel), p)} {
		if strings.ContainsRune(cand, '*') {
			m, _ := filepath.Glob(filepath.Join(r.Root, filepath.FromSlash(cand)))
			if len(m) > 0 {
				return true
			}
			continue
		}
		if r.paths[cand] {
			return true
		}
	}
	return false
}

// checkLink checks a Markdown link target relative to the document.
func (r *Repo) checkLink(rel, target string) string {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
		return ""
	}
	t, _, _ := strings.Cut(target, "#")
	p := path.Clean(path.Join(path.Dir(rel), t))
	if r.paths[p] {
		return ""
	}
	return fmt.Sprintf("link target %s (%s) does not exist", target, p)
}
