package sock_test

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/dynonode/dynonode/netio/sock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	server = <-accepted
	require.NotNil(t, server)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestReaderReadsWaitsAndEnds(t *testing.T) {
	client, server := pair(t)
	r := sock.NewReader(server)
	buf := make([]byte, 64)

	// Nothing yet: the read waits in the poller until data comes.
	go func() {
		time.Sleep(20 * time.Millisecond)
		_, _ = client.Write([]byte("hello"))
	}()
	n, err := r.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf[:n]))

	// A short buffer takes what fits; the rest is read next.
	_, err = client.Write([]byte("0123456789"))
	require.NoError(t, err)
	got := ""
	for len(got) < 10 {
		n, err = r.Read(buf[:4])
		require.NoError(t, err)
		assert.LessOrEqual(t, n, 4)
		got += string(buf[:n])
	}
	assert.Equal(t, "0123456789", got)

	// The read deadline holds.
	require.NoError(t, server.SetReadDeadline(time.Now().Add(30*time.Millisecond)))
	_, err = r.Read(buf)
	assert.True(t, errors.Is(err, os.ErrDeadlineExceeded), "got %v", err)
	require.NoError(t, server.SetReadDeadline(time.Time{}))

	// End of stream is io.EOF; reading a closed connection is an error.
	require.NoError(t, client.Close())
	_, err = r.Read(buf)
	assert.Equal(t, io.EOF, err)
	require.NoError(t, server.Close())
	_, err = r.Read(buf)
	assert.True(t, errors.Is(err, net.ErrClosed), "got %v", err)
}

func TestReaderOfAConnWithoutDescriptor(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() { _, _ = a.Write([]byte("pipe")) }()
	buf := make([]byte, 8)
	n, err := sock.NewReader(b).Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "pipe", string(buf[:n]))
}

func TestTryWriteNeverWaitsAndWriteWritesAll(t *testing.T) {
	client, server := pair(t)
	// TryWrite takes what the socket buffers take and no more, without
	// waiting for a reader.
	big := make([]byte, 64<<20)
	w := sock.NewWriter(client)
	n, err := w.TryWrite(big)
	require.NoError(t, err)
	assert.Less(t, n, len(big), "a 64 MiB write cannot fit the socket buffers")
	// The kernel may still move queued bytes to the receiver's buffer (and
	// grow it) after a write returns, so the socket is full only once a
	// write takes nothing (seen in CI: a second write took 333,312 bytes).
	n2 := -1
	for range 200 {
		n2, err = w.TryWrite(big)
		require.NoError(t, err)
		if n2 == 0 {
			break
		}
		n += n2
		time.Sleep(time.Millisecond)
	}
	assert.Equal(t, 0, n2, "a full socket takes nothing, and that is no error")

	// Write blocks for the rest while the other end drains.
	done := make(chan int64)
	go func() {
		m, _ := io.Copy(io.Discard, io.LimitReader(server, int64(n)+3))
		done <- m
	}()
	require.NoError(t, w.Write([]byte("end")))
	assert.Equal(t, int64(n)+3, <-done)

	// Writing to a connection the peer reset fails.
	require.NoError(t, server.Close())
	var werr error
	for range 100 {
		if werr = w.Write([]byte("x")); werr != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	assert.Error(t, werr)
}

// TestStreamReadsUntilToldOrEnded: Stream hands over everything written,
// in order, across waits; it ends with nil when got stops it and with
// io.EOF when the peer closes.
func TestStreamReadsUntilToldOrEnded(t *testing.T) {
	for _, name := range []string{"tcp", "pipe"} {
		t.Run(name, func(t *testing.T) {
			var client, server net.Conn
			if name == "tcp" {
				client, server = pair(t)
			} else {
				client, server = net.Pipe()
				defer client.Close()
				defer server.Close()
			}
			go func() {
				for _, chunk := range []string{"one,", "two,", "three"} {
					_, _ = client.Write([]byte(chunk))
					time.Sleep(10 * time.Millisecond)
				}
			}()
			buf := make([]byte, 3) // smaller than a chunk: full reads happen too
			var got []byte
			idles := 0
			err := sock.NewReader(server).Stream(
				func() []byte { return buf },
				func(n int) bool { got = append(got, buf[:n]...); return len(got) < len("one,two,three") },
				func() { idles++ })
			require.NoError(t, err)
			assert.Equal(t, "one,two,three", string(got))
			if name == "tcp" && runtime.GOOS == "linux" {
				// The writer pauses between chunks: the socket ran empty and
				// the reader was told before it waited.
				assert.Positive(t, idles)
			}

			// Data and FIN together: the end must be seen without waiting
			// for anything else (a reader that waits after a short read
			// misses it, the poller having woken once for both).
			require.NoError(t, server.SetReadDeadline(time.Now().Add(5*time.Second)))
			go func() { _, _ = client.Write([]byte("tail")); client.Close() }()
			got = got[:0]
			err = sock.NewReader(server).Stream(func() []byte { return buf }, func(n int) bool { got = append(got, buf[:n]...); return true }, nil)
			assert.Equal(t, io.EOF, err)
			assert.Equal(t, "tail", string(got))
		})
	}
}

// A Writer's writes allocate nothing: it made its RawConn and callback once
// (per write they were three allocations, a fifth of a node's at -P 16).
func TestWriterWritesWithoutAllocating(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("raw writes are Linux only")
	}
	client, server := pair(t)
	w := sock.NewWriter(client)
	msg := []byte("+OK\r\n")
	allocs := testing.AllocsPerRun(100, func() {
		n, err := w.TryWrite(msg)
		if err != nil || n != len(msg) {
			t.Fatalf("TryWrite = %d, %v", n, err)
		}
	})
	assert.Zero(t, allocs)
	got := make([]byte, 101*len(msg))
	_, err := io.ReadFull(server, got)
	require.NoError(t, err)
	assert.Equal(t, "+OK\r\n+OK\r\n", string(got[:10]))
}

// TestSource: IPv4 addresses are their own source; an IPv6 address counts
// as its /64 (one host may hold all of it); a unix socket's peer is one
// source.
func TestSource(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5000":              "127.0.0.1",
		"[2001:db8:1:2:3:4:5:6]:5000": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:1":    "2001:db8:1:2::/64",
		"[::1]:80":                    "::/64",
		"@":                           "",
	} {
		if got := sock.Source(in); got != want {
			t.Errorf("Source(%q) = %q, want %q", in, got, want)
		}
	}
}
