// Package workload runs Jepsen-style client processes against dynonode
// nodes over RESP and records their operations as a check.History: a
// grow-only set (SADD/SMEMBERS), registers (SET/GET, one writer per key)
// and counters (INCR/GET). Each process owns one connection opened at a
// chosen consistency level, one operation at a time.
package workload

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
	"github.com/dynonode/dynonode/internal/check"
	"github.com/dynonode/dynonode/jepsen/cluster"
)

// Recorder is a run's history, shared by every process.
type Recorder struct {
	mu    sync.Mutex
	h     check.History
	start time.Time
	phase string
}

// NewRecorder starts the run's clock (monotonic) now.
func NewRecorder() *Recorder { return &Recorder{start: time.Now(), phase: "faults"} }

// Now is the time since the run started.
func (r *Recorder) Now() time.Duration { return time.Since(r.start) }

// SetPhase labels the operations invoked from now on.
func (r *Recorder) SetPhase(p string) {
	r.mu.Lock()
	r.phase = p
	r.mu.Unlock()
}

func (r *Recorder) add(op check.Op) check.Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	op.Time = r.Now()
	if op.Type == check.Invoke {
		op.Phase = r.phase
	}
	r.h = append(r.h, op)
	return op
}

// History is a copy of what was recorded so far.
func (r *Recorder) History() check.History {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(check.History(nil), r.h...)
}

// Conn is one RESP connection to a node at a consistency level.
type Conn struct {
	c   net.Conn
	r   *bufio.Reader
	buf []byte
}

// levelLocks serialises "set the node's level, connect" per node: dynonode
// takes a connection's level from the node-wide setting when it accepts
// it, so nothing else may change the setting in between.
var levelLocks sync.Map // node name -> *sync.Mutex

// Dial connects to node with reads and writes at level: it sets the node's
// level for new connections through the admin port, connects, and waits
// for a PING reply (the connection's coordinator then exists, with that
// level) before another process may change the setting.
//
// A request that timed out on a paused node runs when the node resumes, so
// a stale set_consistency could change the level under a later Dial. Dial
// therefore only sends a change once the node answers /ping (requests
// piling up during a pause are harmless pings), and checks with
// /get_consistency after the PING that the level is still the one it set.
func Dial(node cluster.Node, level string) (*Conn, error) {
	mu, _ := levelLocks.LoadOrStore(node.Name, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if _, err := admin(node, "/ping"); err != nil {
		return nil, err
	}
	for _, rw := range []string{"read", "write"} {
		if _, err := admin(node, "/set_consistency/"+rw+"/"+level); err != nil {
			return nil, err
		}
	}
	nc, err := net.DialTimeout("tcp", node.ClientAddr(), 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("workload: dial %s: %w", node.Name, err)
	}
	c := &Conn{c: nc, r: bufio.NewReaderSize(nc, 64<<10)}
	v, err := c.Do(2*time.Second, "PING")
	if err != nil || v.Type == resp.Error {
		nc.Close()
		return nil, fmt.Errorf("workload: PING %s: %v %s", node.Name, err, v.Str)
	}
	got, err := admin(node, "/get_consistency")
	want := "Read Consistency: " + level + "\r\nWrite Consistency: " + level
	if err != nil || !strings.Contains(got, want) {
		nc.Close()
		return nil, fmt.Errorf("workload: %s's level changed under the connection (want %s, got %q): %v", node.Name, level, got, err)
	}
	return c, nil
}

// admin GETs path on node's admin port and returns the body; a status
// other than 200 is an error.
func admin(node cluster.Node, path string) (string, error) {
	hc := http.Client{Timeout: 2 * time.Second}
	res, err := hc.Get(node.AdminURL() + path)
	if err != nil {
		return "", fmt.Errorf("workload: %s%s: %w", node.Name, path, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return "", fmt.Errorf("workload: %s%s: %w", node.Name, path, err)
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("workload: %s%s: %s", node.Name, path, res.Status)
	}
	return string(body), nil
}

// Close closes the connection.
func (c *Conn) Close() { c.c.Close() }

// Do sends one command and reads its reply within timeout. An error is an
// I/O error or an unparsable reply (the connection is then unusable); an
// error reply is a Value of type resp.Error.
func (c *Conn) Do(timeout time.Duration, args ...string) (resp.Value, error) {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	c.buf = resp.AppendCommand(c.buf[:0], bs)
	if err := c.c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return resp.Value{}, err
	}
	if _, err := c.c.Write(c.buf); err != nil {
		return resp.Value{}, err
	}
	var got []byte
	for {
		line, err := c.r.ReadSlice('\n')
		got = append(got, line...)
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return resp.Value{}, err
		}
		n, err := resp.ReplyLen(got)
		if err == nil && n == len(got) {
			v, _, err := resp.ParseReply(got)
			return v, err
		}
		if err != nil && !errors.Is(err, resp.ErrIncomplete) {
			return resp.Value{}, err
		}
	}
}

// refused reports whether an error reply means the node did not attempt
// the operation at all (so a write definitely did not happen).
func refused(msg string) bool {
	return strings.Contains(msg, "current state does not allow")
}

// ReadReplicas reads keys from every node's own redis-server, directly:
// each key's value (MGET) and version (HMGET of the version hash, as the
// Redis adapter keeps it; "" for none), 500 keys a request. The workloads
// delete nothing, so a missing key has no tombstone to report.
func ReadReplicas(t cluster.Topology, keys []string) ([]check.Replica, error) {
	var out []check.Replica
	for _, n := range t.Nodes {
		nc, err := net.DialTimeout("tcp", n.RedisAddr(), 2*time.Second)
		if err != nil {
			return nil, fmt.Errorf("workload: %s's redis: %w", n.Name, err)
		}
		c := &Conn{c: nc, r: bufio.NewReaderSize(nc, 64<<10)}
		for i := 0; i < len(keys); i += 500 {
			batch := keys[i:min(i+500, len(keys))]
			vals, err := c.Do(10*time.Second, append([]string{"MGET"}, batch...)...)
			if err == nil && (vals.Type != resp.Array || len(vals.Elems) != len(batch)) {
				err = fmt.Errorf("MGET answered %s %q", string(vals.Type), vals.Str)
			}
			var vers resp.Value
			if err == nil {
				vers, err = c.Do(10*time.Second, append([]string{"HMGET", "__dyno:v"}, batch...)...)
				if err == nil && (vers.Type != resp.Array || len(vers.Elems) != len(batch)) {
					err = fmt.Errorf("HMGET answered %s %q", string(vers.Type), vers.Str)
				}
			}
			if err != nil {
				c.Close()
				return nil, fmt.Errorf("workload: %s's redis: %w", n.Name, err)
			}
			for j, k := range batch {
				out = append(out, check.Replica{Key: k, Node: n.Name, Value: string(vals.Elems[j].Str), Version: string(vers.Elems[j].Str)})
			}
		}
		c.Close()
	}
	return out, nil
}
