package actors_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// bannedImports are packages that reach the world (sockets, files, processes,
// shared memory). Sub-packages of net and os count too.
var bannedImports = []string{"net", "os", "sync", "syscall", "unsafe"}

// bannedTime are time functions that read the wall clock or block.
var bannedTime = map[string]bool{
	"Now": true, "Sleep": true, "After": true, "AfterFunc": true, "NewTimer": true,
	"NewTicker": true, "Tick": true, "Since": true, "Until": true,
}

// randConstructors are the only math/rand functions an actor may call: they
// build a source from an explicit seed rather than drawing from the global one.
var randConstructors = map[string]bool{
	"New": true, "NewPCG": true, "NewChaCha8": true, "NewSource": true, "NewZipf": true,
}

func isBanned(path string) bool {
	for _, b := range bannedImports {
		if path == b || strings.HasPrefix(path, b+"/") {
			return true
		}
	}
	return false
}

// impurities lists every rule one Go source file breaks, as "file:line: why".
func impurities(fset *token.FileSet, f *ast.File) []string {
	var out []string
	at := func(n ast.Node, why string) {
		out = append(out, fset.Position(n.Pos()).String()+": "+why)
	}
	local := map[string]string{} // import name in this file -> import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if isBanned(path) {
			at(imp, "imports "+path)
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if path == "math/rand/v2" {
			name = "rand"
		}
		if imp.Name != nil {
			name = imp.Name.Name
		}
		local[name] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			at(n, "starts a goroutine")
		case *ast.SelectorExpr:
			pkg, ok := n.X.(*ast.Ident)
			if !ok || pkg.Obj != nil { // Obj != nil: a local variable, not a package
				return true
			}
			switch local[pkg.Name] {
			case "time":
				if bannedTime[n.Sel.Name] {
					at(n, "calls time."+n.Sel.Name)
				}
			case "math/rand", "math/rand/v2":
				if !randConstructors[n.Sel.Name] && ast.IsExported(n.Sel.Name) && !isRandType(n.Sel.Name) {
					at(n, "uses the global math/rand source via rand."+n.Sel.Name)
				}
			}
		}
		return true
	})
	return out
}

func isRandType(name string) bool {
	switch name {
	case "Rand", "Source", "PCG", "ChaCha8", "Zipf":
		return true
	}
	return false
}

// TestActorsArePure walks every non-test Go file under actors/ and fails on
// anything that would let an actor bypass its Context.
func TestActorsArePure(t *testing.T) {
	fset := token.NewFileSet()
	var found []string
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		// Object resolution stays on so that a local variable named like a
		// package (a variable called time) is not mistaken for it.
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		found = append(found, impurities(fset, f)...)
		return nil
	})
	require.NoError(t, err)
	require.Positive(t, files, "no Go files found under actors/")
	sort.Strings(found)
	require.Empty(t, found, "actors/ must reach the world only through Context:\n%s", strings.Join(found, "\n"))
}

// TestPurityGuardCatches proves the guard can fail: each snippet breaks one rule.
func TestPurityGuardCatches(t *testing.T) {
	cases := map[string]string{
		"net import":     `package p; import _ "net"`,
		"os/exec import": `package p; import _ "os/exec"`,
		"sync import":    `package p; import _ "sync"`,
		"goroutine":      `package p; func f() { go f() }`,
		"time.Now":       `package p; import "time"; var _ = time.Now()`,
		"aliased time":   `package p; import t "time"; func f() { t.Sleep(1) }`,
		"time.AfterFunc": `package p; import "time"; func f() { time.AfterFunc(1, f) }`,
		"global rand":    `package p; import "math/rand"; var _ = rand.Intn(3)`,
		"global rand v2": `package p; import "math/rand/v2"; var _ = rand.N(3)`,
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", src, 0)
			require.NoError(t, err)
			require.NotEmpty(t, impurities(fset, f))
		})
	}
	clean := `package p
import ("time"; "math/rand/v2")
func f(r *rand.Rand, d time.Duration) time.Duration { return d + time.Duration(r.IntN(3)) }
func g(now time.Time) time.Time { time := now; return time }
var _ = rand.New(rand.NewPCG(1, 2))`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "ok.go", clean, 0)
	require.NoError(t, err)
	require.Empty(t, impurities(fset, f))
}
