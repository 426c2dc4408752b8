package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// authSequences are command sequences, each on a fresh connection, that a
// node and a redis-server with the same requirepass must answer byte for
// byte alike (but the map a successful HELLO answers: see sameReply).
var authSequences = [][][]string{
	{{"GET", "k"}, {"AUTH", "bad"}, {"AUTH", "s3cret"}, {"GET", "k"}, {"SET", "k", "v"}, {"DEL", "k"}},
	{{"FOO"}, {"GET"}, {"AUTH"}, {"AUTH", "a", "b", "c"}, {"PING"}, {"ECHO", "a"}, {"INFO"}, {"SUBSCRIBE", "ch"}, {"QUIT"}},
	{{"HELLO"}, {"HELLO", "2"}, {"HELLO", "2", "AUTH", "default", "bad"}, {"HELLO", "2", "AUTH", "default", "s3cret"}, {"GET", "k"}},
	{{"HELLO", "4"}, {"HELLO", "x"}, {"HELLO", "1"}, {"HELLO", "2", "AUTH", "x"}, {"HELLO", "2", "SETNAME", "foo"}, {"HELLO", "2", "FOO"}},
	{{"HELLO", "2", "AUTH", "foo", "s3cret"}, {"AUTH", "foo", "s3cret"}, {"AUTH", "default", "bad"}, {"PING"}},
	{{"auth", "default", "s3cret"}, {"GET", "k"}, {"AUTH", "bad"}, {"GET", "k"}, {"AUTH", "nobody", "s3cret"}, {"PING"}},
	{{"hello", "2", "auth", "default", "s3cret", "setname", "app"}, {"PING"}, {"HELLO"}, {"HELLO", "2"}},
	{{"AUTH", "s3cret", "extra"}, {"AUTH", "S3CRET"}, {"AUTH", ""}, {"PING"}},
	{{"HELLO", "2", "AUTH", "default", "bad", "AUTH", "default", "s3cret"}, {"GET", "k"}},
	{{"HELLO", "2", "AUTH", "default", "s3cret", "AUTH", "default", "bad"}, {"GET", "k"}},
	{{"HELLO", "2", "AUTH", "default", "s3cret", "FOO"}, {"GET", "k"}},
	{{"HELLO", "2", "AUTH", "default", "s3cret", "SETNAME"}, {"GET", "k"}},
	{{"HELLO", "+2"}, {"HELLO", "02"}, {"HELLO", "-1"}, {"HELLO", "0"}, {"HELLO", "99999999999999999999"}, {"HELLO", "-"}},
}

// openSequences are the same, with no password on either side.
var openSequences = [][][]string{
	{{"AUTH", "x"}, {"AUTH", "default", "x"}, {"AUTH", "foo", "x"}, {"AUTH"}, {"AUTH", "a", "b", "c"}, {"GET", "k"}},
	{{"HELLO", "2", "AUTH", "default", "x"}, {"HELLO", "2", "AUTH", "foo", "x"}, {"HELLO", "2"}, {"PING"}},
}

// sameReply compares a node's reply with redis-server's: exactly, but
// for a successful HELLO, whose map names the server (both must be one).
func sameReply(t *testing.T, cmd []string, node, redis string) {
	t.Helper()
	if strings.EqualFold(cmd[0], "hello") && strings.HasPrefix(redis, "*") {
		require.True(t, strings.HasPrefix(node, "*"), "%q: redis answers a HELLO map, the node %q", cmd, node)
		return
	}
	require.Equal(t, redis, node, "%q", cmd)
}

// TestAuthLikeRedis: with the same requirepass (and with none), a node and
// a redis-server 7.0 answer AUTH, HELLO and the commands before and after
// authentication byte for byte alike: -NOAUTH before it (after the
// unknown-command and arity checks, as Redis orders them), -WRONGPASS on a
// bad password (an authenticated connection stays so), QUIT allowed.
func TestAuthLikeRedis(t *testing.T) {
	for _, tc := range []struct {
		name string
		pass string
		seqs [][][]string
	}{{"requirepass", "s3cret", authSequences}, {"no password", "", openSequences}} {
		t.Run(tc.name, func(t *testing.T) {
			var redis *testproc.Proc
			conf := ""
			if tc.pass != "" {
				redis = testproc.Redis(t, "--requirepass", tc.pass)
				conf = "  requirepass: " + tc.pass + "\n"
			} else {
				redis = testproc.Redis(t)
			}
			node := startOpNode(t, conf)
			for i, seq := range tc.seqs {
				n, r := testproc.DialRESP(t, node.listen), testproc.DialRESP(t, redis.Addr)
				for _, cmd := range seq {
					got, want := n.Do(cmd...), r.Do(cmd...)
					sameReply(t, cmd, got, want)
				}
				t.Logf("sequence %d: %d commands alike", i, len(seq))
			}
		})
	}

	// HELLO 3 with the right password authenticates, then is refused:
	// RESP3 is not spoken (a client falls back to RESP2).
	node := startOpNode(t, "  requirepass: s3cret\n")
	c := testproc.DialRESP(t, node.listen)
	require.Equal(t, "-NOPROTO sorry, this protocol version is not supported\r\n", c.Do("HELLO", "3", "AUTH", "default", "s3cret"))
	require.Equal(t, "+PONG\r\n", c.Do("PING"))
}

// TestDatastorePasswordAndSecrets: a node sends datastore_password to its
// redis-server as AUTH on connect and serves clients that gave
// requirepass; with a wrong datastore_password every request fails with
// the datastore's refusal. Neither password appears in the node's log
// (debug level), its error replies, /info, /metrics, or the output of -t
// and -D.
func TestDatastorePasswordAndSecrets(t *testing.T) {
	const clientPass, storePass, wrongPass = "client-Pw-4f1c", "store-Pw-9a2e", "wrong-Pw-77d3"
	redis := testproc.Redis(t, "--requirepass", storePass)
	good := startOpNode(t, fmt.Sprintf("  servers:\n  - %s:1\n  data_store: 0\n  requirepass: %s\n  datastore_password: %s\n",
		redis.Addr, clientPass, storePass), "-v", "7")
	c := testproc.DialRESP(t, good.listen)
	require.Equal(t, "-NOAUTH Authentication required.\r\n", c.Do("SET", "k", "v"))
	require.Equal(t, "+OK\r\n", c.Do("AUTH", clientPass))
	require.Equal(t, "+OK\r\n", c.Do("SET", "k", "v"))
	require.Equal(t, bulkReply("v"), c.Do("GET", "k"))
	direct := testproc.DialRESP(t, redis.Addr)
	require.Equal(t, "+OK\r\n", direct.Do("AUTH", storePass))
	require.Equal(t, bulkReply("v"), direct.Do("GET", "k"), "the write reached the password-protected redis")

	bad := startOpNode(t, fmt.Sprintf("  servers:\n  - %s:1\n  data_store: 0\n  datastore_password: %s\n",
		redis.Addr, wrongPass), "-v", "7")
	b := testproc.DialRESP(t, bad.listen)
	reply := b.Do("SET", "k", "w")
	require.Contains(t, reply, "datastore refused AUTH: WRONGPASS")
	require.Equal(t, bulkReply("v"), direct.Do("GET", "k"))

	// Where a secret could leak.
	var seen []string
	for _, n := range []*opNode{good, bad} {
		for _, path := range []string{"/info", "/metrics", "/hints", "/anti_entropy"} {
			_, body := n.get(t, path)
			seen = append(seen, path+": "+body)
		}
		data, err := os.ReadFile(n.log)
		require.NoError(t, err)
		seen = append(seen, "log: "+string(data))
	}
	seen = append(seen, "reply: "+reply)
	conf := filepath.Join(t.TempDir(), "node.yml")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("dyn_o_mite:\n  listen: 127.0.0.1:1\n  servers:\n  - 127.0.0.1:2:1\n"+
		"  data_store: 0\n  requirepass: %s\n  datastore_password: %s\n  datastore_username: x\n  nope: 1\n", clientPass, storePass)), 0o644))
	code, out, errs := runCLI(t, "-t", "-c", conf)
	require.NotZero(t, code, "the unknown key fails the check")
	seen = append(seen, "-t: "+out+errs)
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("dyn_o_mite:\n  listen: 127.0.0.1:1\n  data_store: 1\n  servers:\n  - 127.0.0.1:2:1\n"+
		"  requirepass: %s\n  datastore_password: \"%s\\x01\"\n", clientPass, storePass)), 0o644))
	code, out, errs = runCLI(t, "-t", "-c", conf)
	require.NotZero(t, code)
	require.Contains(t, out+errs, "memcached's text protocol has no AUTH")
	require.Contains(t, out+errs, "datastore_password")
	seen = append(seen, "-t: "+out+errs)
	_, out, errs = runCLI(t, "-D")
	seen = append(seen, "-D: "+out+errs)
	for _, s := range seen {
		for _, secret := range []string{clientPass, storePass, wrongPass} {
			require.NotContains(t, s, secret, "a password leaked")
		}
	}
}

// TestDebugEndpointsStayLocal: --pprof and --fault-injection are refused
// on a stats_listen that is not a loopback address, unless --remote-debug
// says so; loopback addresses take them.
func TestDebugEndpointsStayLocal(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "node.yml")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("dyn_o_mite:\n  listen: %s\n  stats_listen: 0.0.0.0:%d\n",
		testproc.FreeAddr(t, "127.0.0.1"), testproc.Port(t, testproc.FreeAddr(t, "127.0.0.1")))), 0o644))
	for _, flag := range []string{"--pprof", "--fault-injection"} {
		code, out, errs := runCLI(t, "-c", conf, flag)
		require.NotZero(t, code, flag)
		require.Contains(t, out+errs, flag+" on stats_listen 0.0.0.0:")
		require.Contains(t, out+errs, "--remote-debug")
	}

	addr := func(s string) config.Addr {
		a, err := config.ParseAddr(s)
		require.NoError(t, err)
		return a
	}
	for _, tc := range []struct {
		stats string
		opts  Options
		ok    bool
	}{
		{"0.0.0.0:22222", Options{}, true},
		{"0.0.0.0:22222", Options{Pprof: true}, false},
		{"10.1.2.3:22222", Options{FaultInjection: true}, false},
		{"0.0.0.0:22222", Options{Pprof: true, FaultInjection: true, RemoteDebug: true}, true},
		{"127.0.0.1:22222", Options{Pprof: true, FaultInjection: true}, true},
		{"127.0.0.9:22222", Options{Pprof: true}, true},
		{"[::1]:22222", Options{Pprof: true}, true},
		{"localhost:22222", Options{Pprof: true}, true},
	} {
		err := checkDebugExposure(addr(tc.stats), tc.opts)
		require.Equal(t, tc.ok, err == nil, "%s %+v: %v", tc.stats, tc.opts, err)
	}
}

// TestConnectionLimits: max_connections_per_source bounds one IP's open
// connections on the client port (the next one gets Redis's error and is
// closed; room comes back when one closes) and on the peer port;
// client_request_timeout closes a client stalled mid-request or trickling
// it byte by byte (slow-loris), in both ways of serving clients, and leaves
// an idle client alone. Every refusal and close is counted in /info.
func TestConnectionLimits(t *testing.T) {
	for _, io := range []string{"loops", "goroutines"} {
		t.Run(io, func(t *testing.T) {
			node := startOpNode(t, "  max_connections_per_source: 3\n  client_request_timeout: 1000\n", "--client-io="+io)
			var held []*testproc.RESPClient
			for range 3 {
				c := testproc.DialRESP(t, node.listen)
				require.Equal(t, "+PONG\r\n", c.Do("PING"))
				held = append(held, c)
			}
			over := testproc.DialRESP(t, node.listen)
			require.Equal(t, "-ERR max number of clients reached\r\n", over.Reply())
			over.ExpectClosed()
			require.Equal(t, float64(1), infoCount(t, strings.TrimPrefix(node.admin, "http://"), "client_refused_connections"))
			require.NoError(t, held[0].Conn.Close())
			eventuallyTrue(t, 5*time.Second, func() bool {
				c := testproc.DialRESP(t, node.listen)
				defer c.Conn.Close()
				return c.Do("PING") == "+PONG\r\n"
			}, "room again once a connection closed")
			for _, c := range held[1:] {
				require.NoError(t, c.Conn.Close())
			}

			// One stalls mid-request, one trickles a request, one is idle.
			time.Sleep(200 * time.Millisecond) // the closed ones are released
			stalled := testproc.DialRESP(t, node.listen)
			stalled.Send([]byte("*1\r\n$4\r\nPI"))
			trickle := testproc.DialRESP(t, node.listen)
			idle := testproc.DialRESP(t, node.listen)
			require.Equal(t, "+PONG\r\n", idle.Do("PING"))
			done := make(chan struct{})
			go func() {
				defer close(done)
				for _, b := range []byte("*2\r\n$4\r\nECHO\r\n$20\r\n0123456789") {
					if _, err := trickle.Conn.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(150 * time.Millisecond)
				}
			}()
			stalled.ExpectClosed()
			trickle.ExpectClosed()
			<-done
			idle.ExpectOpen(500 * time.Millisecond)
			require.Equal(t, "+PONG\r\n", idle.Do("PING"))
			require.Equal(t, float64(2), infoCount(t, strings.TrimPrefix(node.admin, "http://"), "client_stalled_connections"))
		})
	}

	t.Run("peer port", func(t *testing.T) {
		node := startOpNode(t, "  max_connections_per_source: 2\n")
		dyn := node.dyn
		var held []net.Conn
		for range 2 {
			c, err := net.DialTimeout("tcp", dyn, 2*time.Second)
			require.NoError(t, err)
			held = append(held, c)
		}
		extra := testproc.DialRESP(t, dyn)
		extra.ExpectClosed()
		require.Equal(t, float64(1), infoCount(t, strings.TrimPrefix(node.admin, "http://"), "peer_refused_connections"))
		for _, c := range held {
			c.Close()
		}
	})
}

// aclSequences run on a node and on a redis-server sharing aclUsers (see
// TestACLLikeRedis), each on a fresh connection.
var aclSequences = [][][]string{
	// Channel rules (Redis 7.0: a user without them has no channel).
	{{"AUTH", "fred", "fredpw"}, {"PUBLISH", "news.x", "hi"}, {"PUBLISH", "other", "hi"}, {"SUBSCRIBE", "other"},
		{"PSUBSCRIBE", "news*"}, {"PSUBSCRIBE", "news.*", "alerts"}, {"SUBSCRIBE", "alerts", "news.y"}},
	{{"AUTH", "erin", "erinpw"}, {"PUBLISH", "anything", "x"}, {"AUTH", "bob", "bobpw"}, {"PUBLISH", "a", "x"}},
	// OBJECT and MEMORY USAGE: the subcommand's key is checked.
	{{"AUTH", "erin", "erinpw"}, {"OBJECT", "ENCODING", "other"}, {"OBJECT", "ENCODING", "cache:1"}, {"MEMORY", "USAGE", "other"},
		{"OBJECT", "HELP"}},
	// Sharded pub/sub: channel rules, never key patterns (erin's ~cache:*).
	{{"AUTH", "fred", "fredpw"}, {"SPUBLISH", "news.x", "hi"}, {"SPUBLISH", "other", "hi"}, {"SSUBSCRIBE", "other"},
		{"SSUBSCRIBE", "alerts", "news.z"}},
	{{"AUTH", "erin", "erinpw"}, {"SPUBLISH", "notcache", "x"}, {"PUBSUB", "SHARDNUMSUB", "x"}, {"AUTH", "bob", "bobpw"}, {"SPUBLISH", "a", "x"}},
	{{"GET", "k"}, {"AUTH", "alice", "alicepw"}, {"GET", "cache:1"}, {"GET", "other"}, {"SET", "cache:2", "v"},
		{"KEYS", "*"}, {"ACL", "WHOAMI"}, {"MGET", "cache:1", "x"}, {"MGET", "cache:1", "cache:2"}, {"PING"},
		{"DEL", "cache:2"}, {"INCR", "cache:3"}, {"EXPIRE", "cache:3", "100"}, {"ECHO", "x"}, {"HSET", "cache:h", "f", "v"},
		{"HGET", "other", "f"}, {"EXISTS", "cache:1", "other"}, {"SET", "cache:[x]", "1"}, {"FLUSHALL"}},
	{{"AUTH", "bob", "bobpw"}, {"GET", "a"}, {"SET", "a", "b"}, {"SET"}, {"PING"}, {"ECHO", "x"}, {"ACL", "WHOAMI"},
		{"AUTH", "alice", "alicepw"}, {"ACL", "WHOAMI"}, {"GET", "cache:1"}},
	{{"AUTH", "carl", "carlpw"}, {"AUTH", "nobody", "x"}, {"AUTH", "alice", "wrong"}, {"AUTH", "default", "defpw"},
		{"ACL", "WHOAMI"}, {"AUTH", "dora", "dorapw"}, {"SET", "x", "y"}, {"GET", "x"}, {"ACL", "WHOAMI"},
		{"ACL", "LIST"}, {"ACL", "USERS"}, {"ACL", "WHOAMI", "extra"}},
	{{"HELLO", "2", "AUTH", "bob", "bobpw"}, {"GET", "a"}, {"SET", "a", "b"}, {"HELLO", "2", "AUTH", "carl", "carlpw"}, {"GET", "a"}},
	{{"AUTH", "defpw"}, {"PING"}, {"SET", "d", "1"}, {"GET", "d"}, {"AUTH", "wrong"}, {"GET", "d"}},
	{{"ACL", "WHOAMI"}, {"QUIT"}},
	{{"AUTH", "erin", "erinpw"}, {"RPUSH", "cache:l", "3", "1", "2"}, {"SORT", "cache:l"}, {"SORT", "cache:l", "BY", "nosort"},
		{"SORT", "cache:l", "BY", "w_*"}, {"SORT", "cache:l", "GET", "#"}, {"SORT", "cache:l", "LIMIT", "0", "1", "GET", "x"},
		{"SORT", "cache:l", "STORE", "cache:d", "STORE", "secret"}, {"SORT", "cache:l", "STORE", "cache:d"},
		{"GEOADD", "cache:g", "13.36", "38.11", "p"}, {"GEORADIUS", "cache:g", "13", "38", "200", "km", "STORE", "cache:x", "STOREDIST", "secret"},
		{"GEORADIUS", "cache:g", "13", "38", "200", "km", "STOREDIST", "cache:y"}},
}

// TestACLLikeRedis: with the same ACL file, a node and a redis-server 7.0
// answer AUTH, commands and keys each user may or may not use, ACL WHOAMI
// and ACL USERS byte for byte alike (-NOPERM naming the command or
// subcommand as Redis does; key patterns; a user that is off; the default
// user's password; HELLO AUTH). ACL LIST is dynonode's own rendering of
// the rules (TestACLList). The node fronts a redis-server of its own
// (without users), so every allowed command is served as Redis serves it.
func TestACLLikeRedis(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	require.NoError(t, os.WriteFile(path, []byte(aclUsers()), 0o600))
	redis := testproc.Redis(t, "--aclfile", path)
	behind := testproc.Redis(t) // the node's datastore: every command served as Redis serves it
	node := startOpNode(t, "  aclfile: "+path+"\n  data_store: 0\n  servers:\n  - "+behind.Addr+":1\n")
	for i, seq := range aclSequences {
		n, r := testproc.DialRESP(t, node.listen), testproc.DialRESP(t, redis.Addr)
		for _, cmd := range seq {
			sameReply(t, cmd, n.Do(cmd...), r.Do(cmd...))
		}
		t.Logf("sequence %d: %d commands alike", i, len(seq))
	}
}

// aclUsers is TestACLLikeRedis's ACL file.
func aclUsers() string {
	sum := sha256.Sum256([]byte("alicepw"))
	return "user alice on #" + hex.EncodeToString(sum[:]) + " ~cache:* +@read +@write -@dangerous\n" +
		"user bob on >bobpw ~* +get +ping\n" +
		"user carl off >carlpw ~* +@all\n" +
		"user dora on >dorapw ~* &* +@all -set -acl|list\n" +
		"user erin on >erinpw ~cache:* &* +@all\n" +
		"user fred on >fredpw ~* &news.* &alerts +@all\n" +
		"user default on >defpw ~* &* +@all\n"
}

// TestACLList: ACL LIST shows each user's flags, password hashes (never a
// password), patterns and rules; ACL SETUSER and the like are refused
// with a reason (the users come from the file).
func TestACLList(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	require.NoError(t, os.WriteFile(path, []byte(aclUsers()), 0o600))
	node := startOpNode(t, "  aclfile: "+path+"\n")
	c := testproc.DialRESP(t, node.listen)
	require.Equal(t, "+OK\r\n", c.Do("AUTH", "defpw"))
	list := c.Do("ACL", "LIST")
	sum := sha256.Sum256([]byte("bobpw"))
	require.Contains(t, list, "user bob on #"+hex.EncodeToString(sum[:])+" ~* resetchannels +get +ping\r\n")
	require.Contains(t, list, "user carl off #")
	require.Contains(t, list, "user dora on #")
	require.NotContains(t, list, "bobpw")
	require.Equal(t, "-ERR dynonode: 'ACL SETUSER' is not supported: the users are read from aclfile (or requirepass) at start\r\n",
		c.Do("ACL", "SETUSER", "eve", "on"))
}
