package datastore

import (
	"github.com/dynonode/dynonode/actors/hlc"
	"net"
	"strconv"
	"testing"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// BenchmarkRedisPipelinedGET compares GETs pipelined through the adapter
// (node.Send in, a recorder actor out, depth requests outstanding) with a
// raw TCP client pipelining batches of depth GETs to the same redis-server.
func BenchmarkRedisPipelinedGET(b *testing.B) {
	r := testproc.Redis(b)
	const depth = 256
	value := make([]byte, 64)
	get := [][]byte{[]byte("GET"), []byte("bench")}
	nc, err := net.Dial("tcp", r.Addr)
	require.NoError(b, err)
	defer nc.Close()
	_, err = nc.Write(resp.AppendCommand(nil, [][]byte{[]byte("SET"), []byte("bench"), value}))
	require.NoError(b, err)
	_, err = nc.Read(make([]byte, 16))
	require.NoError(b, err)

	b.Run("adapter", func(b *testing.B) {
		h := newHarness(b, Options{Addr: r.Addr, Protocol: Redis, Preconnect: true})
		require.Equal(b, "+OK\r\n", string(h.reply("SET", "bench", string(value))))
		b.ReportAllocs()
		b.ResetTimer()
		sent, got := 0, 0
		for got < b.N {
			for sent < b.N && sent-got < depth {
				sent++
				h.node.Send(h.me, h.ds, store.Exec{ID: uint64(sent), Args: get})
			}
			if res := <-h.results; res.Failure != "" {
				b.Fatalf("GET failed: %s", res.Failure)
			}
			got++
		}
	})

	b.Run("raw", func(b *testing.B) {
		var batch []byte
		for range depth {
			batch = resp.AppendCommand(batch, get)
		}
		one := len(batch) / depth
		buf := make([]byte, 1<<20)
		b.ReportAllocs()
		b.ResetTimer()
		for done := 0; done < b.N; {
			k := min(depth, b.N-done)
			if _, err := nc.Write(batch[:k*one]); err != nil {
				b.Fatal(err)
			}
			start, end := 0, 0
			for replies := 0; replies < k; {
				n, err := resp.ReplyLen(buf[start:end])
				if err == resp.ErrIncomplete {
					if end == len(buf) {
						end = copy(buf, buf[start:end])
						start = 0
					}
					m, err := nc.Read(buf[end:])
					if err != nil {
						b.Fatal(err)
					}
					end += m
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				start += n
				replies++
			}
			done += k
		}
	})
}

// BenchmarkRedisVersions compares writes and reads through the adapter
// with and without a version (16 requests outstanding, 100,000 keys):
// versioned SET and INCR run a script, versioned GET a MULTI/EXEC.
func BenchmarkRedisVersions(b *testing.B) {
	r := testproc.Redis(b)
	const depth, keys = 16, 100000
	for _, c := range []struct {
		name      string
		cmd       string
		versioned bool
	}{
		{"SET", "SET", false}, {"SET-versioned", "SET", true},
		{"GET", "GET", false}, {"GET-versioned", "GET", true},
		{"INCR", "INCR", false}, {"INCR-versioned", "INCR", true},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := newHarness(b, Options{Addr: r.Addr, Protocol: Redis, Preconnect: true, Versions: true})
			args := func(i int) [][]byte {
				k := []byte(strconv.Itoa(i % keys))
				switch c.cmd {
				case "SET":
					return [][]byte{[]byte("SET"), k, []byte("value-0123456789")}
				case "INCR":
					return [][]byte{[]byte("INCR"), append([]byte("n"), k...)}
				}
				return [][]byte{[]byte("GET"), k}
			}
			b.ResetTimer()
			sent, got := 0, 0
			for got < b.N {
				for sent < b.N && sent-got < depth {
					sent++
					e := store.Exec{ID: uint64(sent), Args: args(sent)}
					if c.versioned {
						e.Version = hlc.Version{TS: hlc.Timestamp{Wall: int64(1e18) + int64(sent)}, Node: "bench"}
					}
					h.node.Send(h.me, h.ds, e)
				}
				if res := <-h.results; res.Failure != "" {
					b.Fatalf("%s failed: %s", c.cmd, res.Failure)
				}
				got++
			}
		})
	}
}
