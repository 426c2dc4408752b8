package datastore

import (
	"net"
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
