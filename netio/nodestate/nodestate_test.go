package nodestate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMarkSurvivesAndReplaces: no file reads as no marker; a saved marker
// and resuming flag read back, are replaced whole, and leave no temporary
// file behind; an unreadable file is an error, not a new node.
func TestMarkSurvivesAndReplaces(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hints")
	got, resuming, err := Read(dir)
	require.NoError(t, err)
	require.Empty(t, got)
	require.False(t, resuming)
	require.NoError(t, Write(dir, "node1/00000000000000aa", true))
	got, resuming, err = Read(dir)
	require.NoError(t, err)
	require.Equal(t, "node1/00000000000000aa", got)
	require.True(t, resuming)
	require.NoError(t, Write(dir, "node1/b", false))
	got, resuming, err = Read(dir)
	require.NoError(t, err)
	require.Equal(t, "node1/b", got)
	require.False(t, resuming)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")

	bad := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(bad, FileName), 0o755))
	_, _, err = Read(bad)
	require.Error(t, err)
	require.Error(t, Write(filepath.Join(bad, FileName, "x", "\x00"), "m", false))
}
