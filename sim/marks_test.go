package sim

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/dynonode/dynonode/internal/marks"
)

// declaredMarks lists the coverage marks the actors declare (the
// convention actors.Mark's doc states).
func declaredMarks() ([]string, error) { return marks.Declared("../actors") }

// TestMain runs the package's tests and then, when they all ran (no -run)
// and passed, requires every coverage mark the actors declare to have been
// reached by some run: a rare path a change makes unreachable, or a mark
// the campaign never gets to, fails make test with its name.
func TestMain(m *testing.M) {
	flag.Parse()
	// A simulated cluster keeps a small live heap (about 7 MiB for the
	// 9-node swarm) and allocates fast, so at the default GOGC=100 it
	// collected every 15 ms and the collector took a fifth of the run.
	// Four times the heap between collections is still a small process;
	// GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	code := m.Run()
	if code != 0 || flag.Lookup("test.run").Value.String() != "" || testing.Short() {
		os.Exit(code)
	}
	declared, err := declaredMarks()
	if err != nil {
		fmt.Fprintf(os.Stderr, "coverage marks: %v\n", err)
		os.Exit(1)
	}
	got, names := MarksReached()
	fmt.Printf("coverage marks reached (%d of %d declared):", len(names), len(declared))
	for _, n := range names {
		fmt.Printf(" %s=%d", n, got[n])
	}
	fmt.Println()
	if miss := marks.Unreached(declared, got); len(miss) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: coverage marks no test run reached: %s\n", strings.Join(miss, ", "))
		os.Exit(1)
	}
	os.Exit(code)
}

// TestDeclaredMarksFound: the scan finds the marks the actors declare (it
// would pass vacuously on none), and unreached names the missing ones.
func TestDeclaredMarksFound(t *testing.T) {
	declared, err := declaredMarks()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"coord/quorum-lost-mid-request", "store/tombstone-blocks-write", "hints/replayed-after-restart"} {
		if !slices.Contains(declared, want) {
			t.Fatalf("mark %q not found among %v", want, declared)
		}
	}
	if got := marks.Unreached(declared, map[string]uint64{"store/tombstone-blocks-write": 1}); slices.Contains(got, "store/tombstone-blocks-write") || !slices.Contains(got, "coord/quorum-lost-mid-request") {
		t.Fatalf("unreached = %v", got)
	}
}
