package coord

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dynonode/dynonode/actors/command"
	"github.com/stretchr/testify/require"
)

// TestTransactionWrittenKeys: a transaction's version moves the keys its
// writes change, not those they only read (store.CommandFamily's rule).
func TestTransactionWrittenKeys(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want string
	}{
		{"set a 1", "a"}, {"mset a 1 b 2", "a b"}, {"del a b", "a b"}, {"incr a", "a"},
		{"sunionstore d s1 s2", "d"}, {"rename a b", "a b"}, {"copy src dst", "dst"},
		{"sort src store dst", "dst"}, {"pfmerge d s", "d"}, {"smove s d m", "s d"},
	} {
		args := bytes.Fields([]byte(tc.cmd))
		spec := command.Lookup(args[0])
		keys, ok := spec.KeyIndexes(args, nil)
		require.True(t, ok, tc.cmd)
		var got []string
		for _, k := range writtenKeys(spec, args, keys, nil) {
			got = append(got, string(k))
		}
		require.Equal(t, tc.want, strings.Join(got, " "), tc.cmd)
	}
}

// TestCanonExec: replicas' EXEC arrays compare equal when an unordered
// reply (SMEMBERS) comes in another order, and differ when an ordered one
// does.
func TestCanonExec(t *testing.T) {
	specs := []*command.Spec{command.Lookup([]byte("smembers")), command.Lookup([]byte("lrange"))}
	canon := canonExec(specs)
	a := "*2\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
	b := "*2\r\n*2\r\n$1\r\ny\r\n$1\r\nx\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
	c := "*2\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n*2\r\n$1\r\n2\r\n$1\r\n1\r\n"
	require.Equal(t, string(canon([]byte(a))), string(canon([]byte(b))))
	require.NotEqual(t, string(canon([]byte(a))), string(canon([]byte(c))))
	require.Nil(t, canonExec([]*command.Spec{command.Lookup([]byte("get"))}), "nothing unordered: compared as is")
}
