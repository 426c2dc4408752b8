package check

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckAtomic: reads and replicas that show both keys of a pair equal
// pass; a read or a replica with the two different (half a script) fails.
func TestCheckAtomic(t *testing.T) {
	h := History{
		{Process: 1, Type: OK, F: "write", Key: "{p1}", Value: "v1"},
		{Process: 2, Type: OK, F: "read", Key: "{p1}", Values: []string{"v1", "v1"}},
		{Process: 2, Type: OK, F: "read", Key: "{p2}", Values: []string{"", ""}},
		{Process: 2, Type: Fail, F: "read", Key: "{p1}", Error: "quorum"},
	}
	finals := []Final{{"{p1}:a", "n1", "v1"}, {"{p1}:b", "n1", "v1"}, {"{p1}:a", "n2", ""}, {"{p1}:b", "n2", ""}}
	r := CheckAtomic(h, finals)
	require.True(t, r.Valid, "%s", r)
	require.Equal(t, 2, r.Stats["reads"])

	r = CheckAtomic(append(h, Op{Process: 3, Type: OK, F: "read", Key: "{p1}", Values: []string{"v2", "v1"}}), finals)
	require.False(t, r.Valid, "a read of half a script")
	r = CheckAtomic(h, append(finals, Final{"{p2}:a", "n3", "v2"}, Final{"{p2}:b", "n3", "v1"}))
	require.False(t, r.Valid, "a replica holding half a script")
}
