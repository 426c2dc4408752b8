package cmddoc

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite docs/commands.md")

// TestCommandsDoc: docs/commands.md is what Render makes of the tables
// (regenerate with `make docs`).
func TestCommandsDoc(t *testing.T) {
	const path = "../../docs/commands.md"
	want := Render()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, string(got), "docs/commands.md is out of date: run make docs")
}
