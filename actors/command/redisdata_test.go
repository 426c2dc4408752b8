package command_test

import (
	"flag"
	"os"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/testproc"
)

var updateRedisData = flag.Bool("update-redis-data", false, "rewrite redis_command_info.resp and redis_command_docs.resp from a live redis-server")

// canonical renders a reply with every array of arrays sorted by its
// first element's text (Redis lists commands and subcommands in its hash
// table's order, which changes from run to run).
func canonical(v resp.Value) []byte {
	switch v.Type {
	case resp.Array:
		if v.Null {
			return []byte("*-1\r\n")
		}
		els := make([][]byte, len(v.Elems))
		nested := len(v.Elems) > 0
		for i, e := range v.Elems {
			els[i] = canonical(e)
			nested = nested && e.Type == resp.Array && len(e.Elems) > 0 && e.Elems[0].Type == resp.BulkString
		}
		if nested {
			sort.SliceStable(els, func(a, b int) bool { return name(els[a]) < name(els[b]) }) // stable: key specs all begin "flags"
		}
		out := []byte("*" + strconv.Itoa(len(els)) + "\r\n")
		for _, e := range els {
			out = append(out, e...)
		}
		return out
	case resp.BulkString:
		if v.Null {
			return []byte("$-1\r\n")
		}
		return resp.AppendBulk(nil, v.Str)
	case resp.Integer:
		return resp.AppendInt(nil, v.Int)
	case resp.SimpleString:
		return resp.AppendSimpleString(nil, string(v.Str))
	}
	return resp.AppendError(nil, string(v.Str))
}

func name(entry []byte) string {
	v, _, _ := resp.ParseReply(entry)
	return string(v.Elems[0].Str)
}

// docsCanonical sorts COMMAND DOCS's flat name/doc pairs by name.
func docsCanonical(v resp.Value) []byte {
	type pair struct {
		name string
		doc  []byte
	}
	var ps []pair
	for i := 0; i+1 < len(v.Elems); i += 2 {
		ps = append(ps, pair{string(v.Elems[i].Str), docCanonical(v.Elems[i+1])})
	}
	sort.Slice(ps, func(a, b int) bool { return ps[a].name < ps[b].name })
	out := []byte("*" + strconv.Itoa(2*len(ps)) + "\r\n")
	for _, p := range ps {
		out = append(resp.AppendBulkString(out, p.name), p.doc...)
	}
	return out
}

// docCanonical renders one command's doc map (flat pairs), its
// subcommands' docs sorted by name.
func docCanonical(v resp.Value) []byte {
	out := []byte("*" + strconv.Itoa(len(v.Elems)) + "\r\n")
	for i := 0; i+1 < len(v.Elems); i += 2 {
		out = append(out, canonical(v.Elems[i])...)
		if string(v.Elems[i].Str) == "subcommands" {
			out = append(out, docsCanonical(v.Elems[i+1])...)
			continue
		}
		out = append(out, canonical(v.Elems[i+1])...)
	}
	return out
}

// TestRedisCommandData: the COMMAND INFO and COMMAND DOCS data the node
// serves are a live redis-server 7.0.15's, entry for entry (-update-redis-data
// rewrites them).
func TestRedisCommandData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	c := testproc.DialRESP(t, testproc.Redis(t).Addr)
	info, _, err := resp.ParseReply([]byte(c.Do("COMMAND", "INFO")))
	require.NoError(t, err)
	docs, _, err := resp.ParseReply([]byte(c.Do("COMMAND", "DOCS")))
	require.NoError(t, err)
	wantInfo, wantDocs := canonical(info), docsCanonical(docs)
	if *updateRedisData {
		require.NoError(t, os.WriteFile("redis_command_info.resp", wantInfo, 0o644))
		require.NoError(t, os.WriteFile("redis_command_docs.resp", wantDocs, 0o644))
		t.Skip("rewrote the Redis command data")
	}
	n := 0
	for _, e := range info.Elems {
		got, ok := command.RedisInfo(string(e.Elems[0].Str))
		require.True(t, ok, "%s", e.Elems[0].Str)
		require.Equal(t, string(canonical(e)), string(got), "%s", e.Elems[0].Str)
		n++
	}
	require.Equal(t, 240, n, "commands redis-server 7.0.15 lists")
	for i := 0; i+1 < len(docs.Elems); i += 2 {
		got, ok := command.RedisDocs(string(docs.Elems[i].Str))
		require.True(t, ok, "%s", docs.Elems[i].Str)
		require.Equal(t, string(docCanonical(docs.Elems[i+1])), string(got), "%s", docs.Elems[i].Str)
	}
	sub, ok := command.RedisInfo("client|setname")
	require.True(t, ok)
	require.Contains(t, string(sub), "client|setname")
	require.Contains(t, command.RedisSubcommands("client"), "client|kill")
}
