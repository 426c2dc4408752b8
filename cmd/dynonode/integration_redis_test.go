package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedisThroughDynonode: requests through dynonode land in the real
// redis-server behind it, and what redis holds comes back through it.
func TestRedisThroughDynonode(t *testing.T) {
	redis := testproc.Redis(t)
	d := startDaemon(t, 0, redis.Addr)
	c := testproc.DialRESP(t, d.Addr)
	direct := testproc.DialRESP(t, redis.Addr)

	require.Equal(t, "+OK\r\n", c.Do("SET", "k1", "via-dynonode"))
	assert.Equal(t, bulkReply("via-dynonode"), direct.Do("GET", "k1"), "the key landed in redis-server")
	require.Equal(t, "+OK\r\n", direct.Do("SET", "k2", "via-redis"))
	assert.Equal(t, bulkReply("via-redis"), c.Do("GET", "k2"))
	assert.Equal(t, "$-1\r\n", c.Do("GET", "missing"))
	assert.True(t, strings.HasPrefix(c.Do("LPUSH", "k1", "x"), "-WRONGTYPE "), "redis's own errors pass through")

	t.Run("pipelined MSET and MGET", func(t *testing.T) {
		const n = 200
		var pipe []byte
		mset := []string{"MSET"}
		mget := []string{"MGET"}
		for i := range n {
			k := fmt.Sprintf("m:%d", i)
			mset = append(mset, k, "v"+k)
			mget = append(mget, k)
			pipe = append(pipe, testproc.Command("SET", "p:"+k, k)...)
		}
		pipe = append(pipe, testproc.Command(mset...)...)
		pipe = append(pipe, testproc.Command(append(mget, "nope")...)...)
		pipe = append(pipe, testproc.Command("DEL", "m:0", "m:1", "nope")...)
		pipe = append(pipe, testproc.Command("EXISTS", "m:0", "m:2", "m:3")...)
		c.Send(pipe)
		for i := range n {
			require.Equal(t, "+OK\r\n", c.Reply(), "SET #%d", i)
		}
		require.Equal(t, "+OK\r\n", c.Reply(), "MSET")
		var want strings.Builder
		fmt.Fprintf(&want, "*%d\r\n", n+1)
		for i := range n {
			want.WriteString(bulkReply(fmt.Sprintf("vm:%d", i)))
		}
		want.WriteString("$-1\r\n")
		require.Equal(t, want.String(), c.Reply(), "MGET")
		assert.Equal(t, ":2\r\n", c.Reply(), "DEL")
		assert.Equal(t, ":2\r\n", c.Reply(), "EXISTS")
		assert.Equal(t, bulkReply("vm:7"), direct.Do("GET", "m:7"))
		assert.Equal(t, bulkReply("m:9"), direct.Do("GET", "p:m:9"))
	})

	t.Run("5 MB value", func(t *testing.T) {
		big := strings.Repeat("0123456789abcdef", 5<<20/16)
		require.Equal(t, "+OK\r\n", c.Do("SET", "big", big))
		assert.Equal(t, fmt.Sprintf(":%d\r\n", len(big)), direct.Do("STRLEN", "big"))
		got := c.Do("GET", "big")
		require.Equal(t, len(bulkReply(big)), len(got))
		assert.True(t, got == bulkReply(big), "5 MB value round trip")
		// Twice in one pipeline, behind and ahead of small requests.
		c.Send(append(append(testproc.Command("GET", "big"), testproc.Command("PING")...), testproc.Command("GET", "big")...))
		assert.True(t, c.Reply() == bulkReply(big))
		assert.Equal(t, "+PONG\r\n", c.Reply())
		assert.True(t, c.Reply() == bulkReply(big))
	})
}

// TestRedisCLIThroughDynonode drives dynonode with redis-cli.
func TestRedisCLIThroughDynonode(t *testing.T) {
	redis := testproc.Redis(t)
	d := startDaemon(t, 0, redis.Addr)
	cli := testproc.Binary(t, "redis-cli")
	port := fmt.Sprint(testproc.Port(t, d.Addr))
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, cli, append([]string{"-h", "127.0.0.1", "-p", port}, args...)...).CombinedOutput()
		require.NoError(t, err, "redis-cli %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	assert.Equal(t, "PONG", run("PING"))
	assert.Equal(t, "OK", run("SET", "cli", "hello world"))
	assert.Equal(t, "hello world", run("GET", "cli"))
	assert.Equal(t, "3", run("RPUSH", "list", "a", "b", "c"))
	assert.Equal(t, "a\nb\nc", run("LRANGE", "list", "0", "-1"))
	assert.Equal(t, "2", run("INCRBY", "n", "2"))
	assert.Equal(t, "2", run("HSET", "h", "f1", "v1", "f2", "v2"))
	assert.Equal(t, "f1\nv1\nf2\nv2", run("HGETALL", "h"))
	assert.Contains(t, run("INFO"), "server:dynonode")

	// Commands on stdin, one per line, as scripts feed redis-cli.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pipe := exec.CommandContext(ctx, cli, "-h", "127.0.0.1", "-p", port)
	pipe.Stdin = strings.NewReader("SET s1 one\nAPPEND s1 -two\nGET s1\nDEL s1\n")
	out, err := pipe.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "OK\n7\none-two\n1\n", string(out))

	direct := testproc.DialRESP(t, redis.Addr)
	assert.Equal(t, bulkReply("hello world"), direct.Do("GET", "cli"))
}

// TestPythonRedisClientThroughDynonode runs redis-py against 3 racks in
// front of redis-servers and against 3 racks of embedded-store nodes:
// commands, a plain pipeline, the default pipeline (MULTI/EXEC), scripts
// (register_script: EVALSHA, then EVAL on NOSCRIPT), WATCH refused, pub/sub
// (subscribed through another node), and a worker blocked in BLPOP until a
// job comes; then every replica holds the writes (each redis read
// directly; each embedded replica through its own node, DC_ONE).
func TestPythonRedisClientThroughDynonode(t *testing.T) {
	python := pythonWithRedis(t)
	check := func(t *testing.T, get func(i int, args ...string) string) {
		for i := range 3 {
			eventuallyEqual(t, bulkReply("42"), func() string { return get(i, "GET", "{py}:n") }, "rack "+strconv.Itoa(i+1))
			assert.Equal(t, bulkReply("2"), get(i, "HGET", "{py}:h", "b"))
			assert.Equal(t, bulkReply("1"), get(i, "GET", "{py}:a"))
			eventuallyEqual(t, ":0\r\n", func() string { return get(i, "LLEN", "{py}:jobs") }, "the job popped on rack "+strconv.Itoa(i+1))
		}
	}
	t.Run("redis", func(t *testing.T) {
		nodes := startCluster(t, 105, "", "dc1/r1", "dc1/r2", "dc1/r3")
		c := testproc.DialRESP(t, nodes[0].listen)
		eventuallyEqual(t, "+PONG\r\n", func() string { return c.Do("PING") }, "node up")
		pythonSession(t, python, nodes[0].listen, nodes[2].listen)
		check(t, func(i int, args ...string) string { return testproc.DialRESP(t, nodes[i].redis.Addr).Do(args...) })
	})
	t.Run("embedded", func(t *testing.T) {
		nodes := startVersionedCluster(t, 108, "")
		c := testproc.DialRESP(t, nodes[0].listen)
		eventuallyEqual(t, "+PONG\r\n", func() string { return c.Do("PING") }, "node up")
		pythonSession(t, python, nodes[0].listen, nodes[1].listen)
		check(t, func(i int, args ...string) string { return testproc.DialRESP(t, nodes[i].listen).Do(args...) })
	})
}

// pythonSession runs the redis-py program of TestPythonRedisClientThroughDynonode
// against addr, subscribing through other.
func pythonSession(t *testing.T, python, addr, other string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	ohost, oport, err := net.SplitHostPort(other)
	require.NoError(t, err)
	script := fmt.Sprintf(`
import redis, threading, time
r = redis.Redis(host=%[1]q, port=%[2]s, socket_timeout=5, decode_responses=True)
assert r.ping()
assert r.set("{py}:k", "v1")
assert r.get("{py}:k") == "v1", r.get("{py}:k")
assert r.incr("{py}:n") == 1
assert r.incr("{py}:n", 41) == 42
assert r.hset("{py}:h", mapping={"a": "1", "b": "2"}) == 2
assert r.hgetall("{py}:h") == {"a": "1", "b": "2"}, r.hgetall("{py}:h")
p = r.pipeline(transaction=False)
for i in range(100):
    p.set("{py}:p%%d" %% i, i)
p.mget(["{py}:p%%d" %% i for i in range(100)])
res = p.execute()
assert res[:100] == [True] * 100
assert res[100] == [str(i) for i in range(100)], res[100]
try:
    r.lpush("{py}:k", "x")
    raise SystemExit("LPUSH on a string did not fail")
except redis.ResponseError as e:
    assert "WRONGTYPE" in str(e), e
# redis-py's default pipeline is a transaction: MULTI ... EXEC
p = r.pipeline()
p.set("{py}:a", "1")
p.incr("{py}:b")
p.get("{py}:a")
assert p.execute() == [True, 1, "1"]
# scripts: register_script sends EVALSHA, then EVAL on NOSCRIPT
limiter = r.register_script("local n = redis.call('INCR', KEYS[1]) return n")
assert limiter(keys=["{py}:rate"]) == 1
assert limiter(keys=["{py}:rate"]) == 2
assert r.eval("return ARGV[1]", 0, "x") == "x"
try:
    with r.pipeline() as w:
        w.watch("{py}:a")
    raise SystemExit("WATCH did not fail")
except redis.ResponseError as e:
    assert "'WATCH' is not supported" in str(e), e
# pub/sub: subscribed through another node, published through this one
sub = redis.Redis(host=%[3]q, port=%[4]s, socket_timeout=5, decode_responses=True).pubsub()
sub.subscribe("{py}:news")
assert sub.get_message(timeout=5)["type"] == "subscribe"
deadline = time.time() + 5
msg = None
while msg is None and time.time() < deadline:
    r.publish("{py}:news", "hello")
    msg = sub.get_message(timeout=0.5)
assert msg is not None and msg["type"] == "message" and msg["data"] == "hello", msg
sub.close()
# a job queue: a worker blocks in BLPOP on its own connection until a
# job is pushed; timeouts answer None
got = []
worker_conn = redis.Redis(host=%[1]q, port=%[2]s, socket_timeout=15, decode_responses=True)
t = threading.Thread(target=lambda: got.append(worker_conn.blpop(["{py}:jobs"], timeout=10)))
t.start()
time.sleep(0.3)
assert r.rpush("{py}:jobs", "job1") == 1
t.join(15)
assert [list(g) for g in got] == [["{py}:jobs", "job1"]], got
assert r.blpop(["{py}:none"], timeout=0.2) is None
assert r.brpoplpush("{py}:none", "{py}:dst", timeout=0.1) is None
r.zadd("{py}:z", {"m": 1})
assert list(r.bzpopmin("{py}:z", timeout=1)) == ["{py}:z", "m", 1.0]
print("ok")
`, host, port, ohost, oport)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", script).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "ok\n", string(out))
}

// pythonWithRedis finds a python3 that can import the redis module
// (Debian's python3-redis lives in the system python, which a pyenv
// python3 first on PATH does not see).
func pythonWithRedis(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = exec.CommandContext(ctx, path, "-c", "import redis").Run()
		cancel()
		if err == nil {
			return path
		}
	}
	t.Fatal("no python3 with the redis module: run `make test`, which installs python3-redis")
	return ""
}

// TestClientCommandsLikeRedis: the commands client libraries send about
// their own connection (CLIENT SETNAME/GETNAME/ID/INFO/NO-EVICT, HELLO
// SETNAME, RESET, TIME) answer as redis-server 7.0.15 answers them, byte
// for byte where the reply is the same on any server (ids, clocks and the
// INFO line are compared by form); CLIENT SETINFO and NO-TOUCH answer as
// Redis 7.2 (newer libraries send them on connect); CLIENT PAUSE is
// refused with the reason (LIST and KILL: TestClientListKillLikeRedis);
// INFO names the Redis version served.
func TestClientCommandsLikeRedis(t *testing.T) {
	redis := testproc.Redis(t)
	node := startOpNode(t, "")
	n, r := testproc.DialRESP(t, node.listen), testproc.DialRESP(t, redis.Addr)
	for _, cmd := range [][]string{
		{"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", "app1"}, {"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", "a b"},
		{"CLIENT", "SETNAME", "ü"}, {"CLIENT", "SETNAME", ""}, {"CLIENT", "GETNAME"}, {"CLIENT", "NO-EVICT", "on"},
		{"CLIENT", "NO-EVICT", "maybe"}, {"CLIENT", "FOO"}, {"CLIENT"}, {"CLIENT", "SETNAME"}, {"CLIENT", "GETNAME", "x"},
		{"HELLO", "2", "SETNAME", "bad name"}, {"HELLO", "2", "SETNAME", "x"}, {"CLIENT", "GETNAME"}, {"RESET"},
		{"CLIENT", "GETNAME"}, {"TIME", "x"}, {"RESET", "x"}, {"PING"},
	} {
		sameReply(t, cmd, n.Do(cmd...), r.Do(cmd...))
	}
	require.Regexp(t, `^:[0-9]+\r\n$`, n.Do("CLIENT", "ID"))
	require.Regexp(t, `^\$[0-9]+\r\nid=[0-9]+ addr=\S+ laddr=\S+ fd=[0-9]+ name= .*user=default.*\n\r\n$`, n.Do("CLIENT", "INFO"))
	nt, rt := n.Do("TIME"), r.Do("TIME")
	require.Regexp(t, `^\*2\r\n\$10\r\n[0-9]{10}\r\n\$[1-6]\r\n[0-9]{1,6}\r\n$`, nt)
	require.Equal(t, rt[:14], nt[:14], "the same second, or near: %q %q", nt, rt)
	require.Equal(t, "+OK\r\n", n.Do("CLIENT", "SETINFO", "LIB-NAME", "go-redis"))
	require.Equal(t, "+OK\r\n", n.Do("CLIENT", "SETINFO", "lib-ver", "9.7.0"))
	require.Equal(t, "-ERR Unrecognized option 'foo'\r\n", n.Do("CLIENT", "SETINFO", "foo", "x"))
	require.Equal(t, "+OK\r\n", n.Do("CLIENT", "NO-TOUCH", "on"))
	require.Equal(t, "-ERR dynonode: 'CLIENT PAUSE' is not supported: it concerns connections other than this one\r\n", n.Do("CLIENT", "PAUSE", "10"))
	info := n.Do("INFO")
	require.Contains(t, info, "redis_version:7.0.15\r\n")
	require.Contains(t, info, "role:master\r\n")
	require.Contains(t, r.Do("INFO", "server"), "redis_version:7.0.15\r\n", "the version served is the one tests compare with")
}
