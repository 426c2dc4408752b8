package datastore

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// BenchmarkRedisVersionAlternatives measures what redis-server spends per
// request (its own CPU time, from /proc, per operation) on the ways of
// keeping versions that were considered, against the plain command, in
// the same run: requests pipelined 16 at a time, 100,000 keys, 64-byte
// values. The metrics are redis-us/op and x-plain (that over the plain
// SET's or GET's). The adapter uses stamp-grouped-mset (SETs the version
// cache knows to be newer, queued together), compare-set-script (any
// other SET), compare-apply
// (other whole-value writes) and read-multi-get / read-multi (versioned
// reads); the others are the alternatives it does not use (see
// docs/cluster.md, "What versions cost on Redis").
func BenchmarkRedisVersionAlternatives(b *testing.B) {
	r := testproc.Redis(b)
	nc, err := net.Dial("tcp", r.Addr)
	require.NoError(b, err)
	defer nc.Close()
	casKey := "local c = '__dyno:v:' .. ARGV[3] local o = redis.call('get', c) " +
		"if o and o >= ARGV[1] then return o end redis.call('set', ARGV[3], ARGV[4]) redis.call('set', c, ARGV[1]) return ARGV[1]"
	var out []byte
	setMany := "local V, T = KEYS[1], KEYS[2] local out = {} for i = 2, #ARGV, 3 do local ver, k = ARGV[i], ARGV[i+1] " +
		"local o = redis.call('hget', V, k) if not o or o < ver then redis.call('set', k, ARGV[i+2]) redis.call('hset', V, k, ver) o = ver end " +
		"out[#out+1] = o end return table.concat(out, ' ')"
	for _, body := range []string{scriptSet.body, scriptApply.body, casKey, setMany} {
		out = resp.AppendCommand(out, [][]byte{[]byte("SCRIPT"), []byte("LOAD"), []byte(body)})
	}
	roundTrip(b, nc, out, 4)
	value := []byte(strings.Repeat("v", 64))
	rng := rand.New(rand.NewPCG(1, 2))
	wall := int64(1e18)
	key := func() []byte { return []byte("key:" + strconv.Itoa(rng.IntN(100000))) }
	version := func() []byte {
		wall++
		return appendVersion(nil, hlc.Version{TS: hlc.Timestamp{Wall: wall}, Node: "127.0.0.1:8101"})
	}
	now := []byte(hexMs(time.Now()))
	tomb := []byte(hexMs(time.Now().Add(DefaultTombstoneTTL)))
	type alt struct {
		name string
		cmds func(k []byte) [][][]byte
		many func(ks [][]byte) [][][]byte // the whole pipeline at once
	}
	one := func(args ...[]byte) [][][]byte { return [][][]byte{args} }
	multi := func(cmds ...[][]byte) [][][]byte {
		return append(append([][][]byte{{bMulti}}, cmds...), [][]byte{bExec})
	}
	writes := []alt{
		{name: "SET", cmds: func(k []byte) [][][]byte { return one([]byte("SET"), k, value) }},
		{name: "stamp-multi", cmds: func(k []byte) [][][]byte {
			return multi([][]byte{[]byte("SET"), k, value}, [][]byte{bHset, bVersionHash, k, version()})
		}},
		{name: "stamp-pipelined", cmds: func(k []byte) [][][]byte {
			return [][][]byte{{[]byte("SET"), k, value}, {bHset, bVersionHash, k, version()}}
		}},
		{name: "stamp-multi-companion-key", cmds: func(k []byte) [][][]byte {
			return multi([][]byte{[]byte("SET"), k, value}, [][]byte{[]byte("SET"), append([]byte("__dyno:v:"), k...), version()})
		}},
		{name: "stamp-grouped-mset", many: func(ks [][]byte) [][][]byte {
			ms := [][]byte{[]byte("MSET")}
			hs := [][]byte{bHset, bVersionHash}
			for _, k := range ks {
				ms = append(ms, k, value)
				hs = append(hs, k, version())
			}
			return multi(ms, hs)
		}},
		{name: "stamp-grouped-sets", many: func(ks [][]byte) [][][]byte {
			var cmds [][][]byte
			hs := [][]byte{bHset, bVersionHash}
			for _, k := range ks {
				cmds = append(cmds, [][]byte{[]byte("SET"), k, value})
				hs = append(hs, k, version())
			}
			return multi(append(cmds, hs)...)
		}},
		{name: "compare-set-grouped-script", many: func(ks [][]byte) [][][]byte {
			args := [][]byte{bEvalsha, []byte(newScriptSHA(setMany)), bTwo, bVersionHash, bTombstoneHash, now}
			for _, k := range ks {
				args = append(args, version(), k, value)
			}
			return one(args...)
		}},
		{name: "compare-set-script", cmds: func(k []byte) [][][]byte {
			v := version()
			return one(bEvalsha, []byte(scriptSet.sha), bTwo, bVersionHash, bTombstoneHash, v, now, k, value)
		}},
		{name: "compare-companion-key-script", cmds: func(k []byte) [][][]byte {
			return one(bEvalsha, []byte(newScriptSHA(casKey)), []byte("0"), version(), now, k, value)
		}},
		{name: "compare-apply", cmds: func(k []byte) [][][]byte {
			return one(bEvalsha, []byte(scriptApply.sha), bThree, bVersionHash, bTombstoneHash, bMarkKey, version(), now, tomb,
				[]byte("w"), []byte("SET"), k, value)
		}},
	}
	reads := []alt{
		{name: "GET", cmds: func(k []byte) [][][]byte { return one([]byte("GET"), k) }},
		{name: "read-multi-get", cmds: func(k []byte) [][][]byte { return getCmds([][]byte{[]byte("GET"), k}) }},
		{name: "read-multi", cmds: func(k []byte) [][][]byte { return readCmds(k, [][]byte{[]byte("GET"), k}) }},
		{name: "read-pipelined", cmds: func(k []byte) [][][]byte {
			return [][][]byte{{[]byte("GET"), k}, {bHget, bVersionHash, k}}
		}},
	}
	// deep: the writes again with 176 requests per round trip (11 groups of
	// 16 for the grouped ones), about what a node's connection carries to
	// its redis under the cluster benchmark's load, where Redis's cost per
	// round trip (the syscalls) no longer hides its cost per key.
	deep := []alt{writes[0], writes[1], writes[2], writes[4], writes[5],
		{name: "mset-alone", many: func(ks [][]byte) [][][]byte {
			ms := [][]byte{[]byte("MSET")}
			for _, k := range ks {
				ms = append(ms, k, value)
			}
			return one(ms...)
		}},
		{name: "hset-alone", many: func(ks [][]byte) [][][]byte {
			hs := [][]byte{bHset, bVersionHash}
			for _, k := range ks {
				hs = append(hs, k, version())
			}
			return one(hs...)
		}},
	}
	for gi, group := range [][]alt{writes, reads, deep} {
		plain := 0.0
		depth := 16
		prefix := ""
		if gi == 2 {
			depth, prefix = 176, "deep-"
		}
		for _, a := range group {
			b.Run(prefix+a.name, func(b *testing.B) {
				t0 := cpuTicks(b, r.Pid())
				b.ResetTimer()
				for done := 0; done < b.N; done += depth {
					var batch []byte
					frames := 0
					for g := 0; a.many != nil && g < min(depth, b.N-done); g += 16 {
						ks := make([][]byte, min(16, b.N-done-g))
						for i := range ks {
							ks[i] = key()
						}
						for _, c := range a.many(ks) {
							batch = resp.AppendCommand(batch, c)
							frames++
						}
					}
					for range min(depth, b.N-done) * btoi(a.many == nil) {
						for _, c := range a.cmds(key()) {
							batch = resp.AppendCommand(batch, c)
							frames++
						}
					}
					roundTrip(b, nc, batch, frames)
				}
				b.StopTimer()
				us := float64(cpuTicks(b, r.Pid())-t0) * 1e6 / float64(clockTicks) / float64(b.N)
				b.ReportMetric(us, "redis-us/op")
				if plain == 0 {
					plain = us
				}
				if plain > 0 {
					b.ReportMetric(us/plain, "x-plain")
				}
			})
		}
	}
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat times.
const clockTicks = 100

// cpuTicks is the CPU time (user and system) process pid used so far.
func cpuTicks(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(b, err)
	// The fields after the command name (which may hold spaces).
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	require.NoError(b, err1)
	require.NoError(b, err2)
	return u + s
}

// roundTrip writes batch and reads frames replies, failing on an error
// reply.
func roundTrip(b *testing.B, nc net.Conn, batch []byte, frames int) {
	_, err := nc.Write(batch)
	require.NoError(b, err)
	buf := make([]byte, 0, 64<<10)
	tmp := make([]byte, 64<<10)
	for frames > 0 {
		n, err := resp.ReplyLen(buf)
		if err == nil {
			if buf[0] == '-' {
				b.Fatalf("error reply: %q", buf[:n])
			}
			buf = buf[n:]
			frames--
			continue
		}
		require.ErrorIs(b, err, resp.ErrIncomplete)
		m, err := nc.Read(tmp)
		require.NoError(b, err)
		buf = append(buf, tmp[:m]...)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
