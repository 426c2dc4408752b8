package datastore

import (
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/stretchr/testify/require"
)

func TestRequestCheckMemcached(t *testing.T) {
	rc := newRequestCheck(Memcached)
	for _, tc := range []struct {
		req  string
		kind mcproto.Kind
		err  string
	}{
		{req: "get a b\r\n", kind: mcproto.KindGet},
		{req: "gets a\r\n", kind: mcproto.KindGets},
		{req: "set a 1 2 3\r\nabc\r\n", kind: mcproto.KindSet},
		{req: "cas a 0 0 1 99\r\nx\r\n", kind: mcproto.KindCas},
		{req: "incr a 1\r\n", kind: mcproto.KindIncr},
		{req: "delete a\r\n", kind: mcproto.KindDelete},
		{req: "touch a 1\r\n", kind: mcproto.KindTouch},
		{req: "version\r\n", kind: mcproto.KindVersion},
		{req: "set a 0 0 3 noreply\r\nabc\r\n", err: "memcached set with noreply: the front end must strip it"},
		{req: "incr a 1 noreply\r\n", err: "memcached incr with noreply"},
		{req: "quit\r\n", err: "memcached quit has no reply"},
		{req: "get a\r\nget b\r\n", err: "want exactly one complete request (a meta command and mn), got 2 in 14 of 14 bytes"},
		{req: "get a", err: "want exactly one complete request (a meta command and mn), got 0 in 0 of 5 bytes"},
		// A bad data chunk is an in-band error followed by what the bytes
		// after it parse to (as memcached reads them): two requests.
		{req: "set a 0 0 3\r\nabcd\r\n", err: "want exactly one complete request (a meta command and mn), got 2"},
		{req: "frobnicate\r\n", err: `answered in-band with "ERROR"`},
		// A meta command goes with mn, whose MN ends its reply.
		{req: "mg a v q\r\nmn\r\n", kind: mcproto.KindMetaGet},
		{req: "ms a 1 q\r\nx\r\nmn\r\n", kind: mcproto.KindMetaSet},
		{req: "mg a v\r\n", err: "want exactly one complete request (a meta command and mn), got 1"},
		{req: "mn\r\n", err: "memcached mn is answered by the front end"},
	} {
		kind, err := rc.check([][]byte{[]byte(tc.req)})
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, "%q", tc.req)
			continue
		}
		require.NoError(t, err, "%q", tc.req)
		require.Equal(t, tc.kind, kind, "%q", tc.req)
	}
	_, err := rc.check(nil)
	require.ErrorContains(t, err, "one raw request, got 0 args")
	_, err = newRequestCheck(Redis).check(nil)
	require.ErrorContains(t, err, "empty command")
}

func TestFifo(t *testing.T) {
	var q fifo
	next, want := uint64(0), uint64(0)
	for round := range 50 {
		for range 100 + round*37 {
			next++
			q.push(pending{id: next})
		}
		for range 90 + round*37 {
			require.Equal(t, want+1, q.peek().id)
			require.Equal(t, want+1, q.pop().id)
			want++
		}
	}
	rest := q.drain()
	require.Len(t, rest, int(next-want))
	require.Equal(t, want+1, rest[0].id)
	require.Zero(t, q.len())
	require.LessOrEqual(t, cap(q.items), 4096, "the consumed front is reclaimed")
}

func TestOptions(t *testing.T) {
	o := Options{}.withDefaults()
	require.Equal(t, Options{Connections: 1, Timeout: 5 * time.Second, FailureLimit: 3, RetryTimeout: 10 * time.Second,
		InitialBackoff: time.Second, MaxInFlight: 8192, TombstoneTTL: 24 * time.Hour}, o)
	require.Equal(t, 100*time.Millisecond, Options{RetryTimeout: 100 * time.Millisecond}.withDefaults().InitialBackoff,
		"the first backoff is capped by RetryTimeout")

	err := Options{Protocol: 2, Connections: 300}.Validate()
	require.ErrorContains(t, err, "datastore address is empty")
	require.ErrorContains(t, err, "data_store 2 is neither 0 (redis) nor 1 (memcached)")
	require.ErrorContains(t, err, "Deliver is nil")
	require.ErrorContains(t, err, "datastore_connections 300 is over 255")
	require.NoError(t, Options{Addr: "/tmp/redis.sock", Deliver: func(_, _ actors.Addr, _ any) {}}.Validate())
	require.Equal(t, "unix", network("/tmp/redis.sock"))
	require.Equal(t, "tcp", network("127.0.0.1:6379"))
}
