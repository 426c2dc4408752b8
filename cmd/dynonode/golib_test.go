package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// goRedisWorkload is what an application written with go-redis v9 and its
// defaults sends (HELLO 3 on connect, falling back to RESP2 when refused;
// CLIENT SETINFO; pipelines; TxPipelined, which is MULTI/EXEC; Script.Run,
// which is EVALSHA then EVAL on NOSCRIPT; Eval; PubSub, subscribed through
// other), through addr; read checks what each replica holds afterwards.
func goRedisWorkload(t *testing.T, addr, other string, read func(key string) string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer func() { require.NoError(t, rdb.Close()) }()

	require.NoError(t, rdb.Set(ctx, "{user:1}:name", "ada", 0).Err())
	name, err := rdb.Get(ctx, "{user:1}:name").Result()
	require.NoError(t, err)
	require.Equal(t, "ada", name)
	_, err = rdb.Get(ctx, "{user:1}:missing").Result()
	require.ErrorIs(t, err, redis.Nil)

	cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for range 10 {
			p.Incr(ctx, "{user:1}:visits")
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, int64(10), cmds[9].(*redis.IntCmd).Val())

	cmds, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, "{cart:9}:items", "apple", 3, "pear", 1)
		p.IncrBy(ctx, "{cart:9}:total", 4)
		p.HGetAll(ctx, "{cart:9}:items")
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, int64(4), cmds[1].(*redis.IntCmd).Val())
	require.Equal(t, map[string]string{"apple": "3", "pear": "1"}, cmds[2].(*redis.MapStringStringCmd).Val())

	// A rate limiter: the script is unknown at first (NOSCRIPT), Run
	// falls back to EVAL, then EVALSHA finds it.
	limiter := redis.NewScript(`local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)
	for i := 1; i <= 3; i++ {
		n, err := limiter.Run(ctx, rdb, []string{"{user:1}:rate"}, 60000).Int()
		require.NoError(t, err)
		require.Equal(t, i, n)
	}
	ttl, err := rdb.PTTL(ctx, "{user:1}:rate").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 50*time.Second)
	v, err := rdb.Eval(ctx, "return {KEYS[1], ARGV[1]}", []string{"{user:1}:k"}, "x").StringSlice()
	require.NoError(t, err)
	require.Equal(t, []string{"{user:1}:k", "x"}, v)

	// Pub/sub across nodes: subscribed through another node, published
	// through this one.
	sub := redis.NewClient(&redis.Options{Addr: other, MaxRetries: -1})
	defer func() { require.NoError(t, sub.Close()) }()
	ps := sub.Subscribe(ctx, "events")
	defer func() { require.NoError(t, ps.Close()) }()
	_, err = ps.Receive(ctx) // the subscription's confirmation
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return rdb.Publish(ctx, "events", "deployed").Err() == nil
	}, 5*time.Second, 20*time.Millisecond)
	m, err := ps.ReceiveMessage(ctx)
	require.NoError(t, err)
	require.Equal(t, "events", m.Channel)
	require.Equal(t, "deployed", m.Payload)

	// A job queue: a worker waits in BLPOP through this node, the job is
	// pushed through the other; a BLPOP that times out is redis.Nil.
	jobs := make(chan []string, 1)
	go func() {
		v, err := rdb.BLPop(ctx, 10*time.Second, "{jobs}:q").Result()
		if err != nil {
			v = []string{err.Error()}
		}
		jobs <- v
	}()
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, sub.RPush(ctx, "{jobs}:q", "job-1").Err())
	require.Equal(t, []string{"{jobs}:q", "job-1"}, <-jobs)
	_, err = rdb.BLPop(ctx, 100*time.Millisecond, "{jobs}:none").Result()
	require.ErrorIs(t, err, redis.Nil)
	require.NoError(t, sub.ZAdd(ctx, "{jobs}:z", redis.Z{Score: 2, Member: "later"}, redis.Z{Score: 1, Member: "first"}).Err())
	z, err := rdb.BZPopMin(ctx, time.Second, "{jobs}:z").Result()
	require.NoError(t, err)
	require.Equal(t, "first", z.Member)

	err = rdb.Watch(ctx, func(*redis.Tx) error { return nil }, "{user:1}:name")
	var rerr redis.Error
	require.True(t, errors.As(err, &rerr) && strings.Contains(err.Error(), "'WATCH' is not supported"), "%v", err)

	for key, want := range map[string]string{"{user:1}:name": "ada", "{user:1}:visits": "10", "{cart:9}:total": "4", "{user:1}:rate": "3"} {
		require.Eventually(t, func() bool { return read(key) == want }, 5*time.Second, 20*time.Millisecond, "%s on every replica", key)
	}
}

// TestGoRedisClient: an application written with go-redis v9's defaults
// runs against 3 racks in front of redis-servers, and against 3 racks of
// embedded-store nodes; every replica holds its writes (each redis read
// directly; each embedded replica through its own node, DC_ONE).
func TestGoRedisClient(t *testing.T) {
	readAll := func(direct []*testproc.RESPClient) func(string) string {
		return func(key string) string {
			var vals []string
			for _, d := range direct {
				vals = append(vals, lastLine(d.Do("GET", key)))
			}
			return agreed(vals)
		}
	}
	t.Run("redis", func(t *testing.T) {
		nodes := startCluster(t, 140, "", "dc1/r1", "dc1/r2", "dc1/r3")
		var direct []*testproc.RESPClient
		for _, n := range nodes {
			direct = append(direct, testproc.DialRESP(t, n.redis.Addr))
		}
		c := testproc.DialRESP(t, nodes[0].listen)
		eventuallyEqual(t, "+PONG\r\n", func() string { return c.Do("PING") }, "node up")
		goRedisWorkload(t, nodes[0].listen, nodes[2].listen, readAll(direct))
	})
	t.Run("embedded", func(t *testing.T) {
		nodes := startVersionedCluster(t, 144, "")
		var direct []*testproc.RESPClient
		for _, n := range nodes {
			direct = append(direct, testproc.DialRESP(t, n.listen))
		}
		goRedisWorkload(t, nodes[1].listen, nodes[0].listen, readAll(direct))
	})
}

// agreed is the value every replica holds, or "" if they differ.
func agreed(vals []string) string {
	for _, v := range vals[1:] {
		if v != vals[0] {
			return ""
		}
	}
	return vals[0]
}

// lastLine is a bulk reply's value ("$3\r\nada\r\n" -> "ada").
func lastLine(reply string) string {
	parts := strings.Split(strings.TrimSuffix(reply, "\r\n"), "\r\n")
	return parts[len(parts)-1]
}
