// Package marks lists the coverage marks a source tree declares and checks
// which of them tests reached. A mark is a rare path that production code
// reports when it runs (actors.Mark in actors/, counted by the simulator;
// transport's own counters for the runtime the simulator does not run); a
// package's TestMain fails naming each declared mark no test reached, so a
// change that makes a rare path unreachable, or a campaign that stopped
// reaching it, is seen.
package marks

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Declared lists the marks declared under dir: every string constant named
// mark... in a non-test Go file, sorted.
func Declared(dir string) ([]string, error) {
	var names []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "mark") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, err := strconv.Unquote(lit.Value)
						if err != nil {
							return err
						}
						names = append(names, v)
					}
				}
			}
		}
		return nil
	})
	slices.Sort(names)
	return names, err
}

// Unreached lists the declared marks that reached counts zero times.
func Unreached(declared []string, reached map[string]uint64) []string {
	var out []string
	for _, n := range declared {
		if reached[n] == 0 {
			out = append(out, n)
		}
	}
	return out
}
