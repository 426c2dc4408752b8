package datastore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/hlc"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/require"
)

// ver is a version at wall time w (ns) made by node n.
func ver(w int64, n string) hlc.Version {
	return hlc.Version{TS: hlc.Timestamp{Wall: w, Logical: 0}, Node: n}
}

// vdo sends one Exec under version v and returns its Result.
func (h *harness) vdo(v hlc.Version, args ...string) store.Result {
	h.t.Helper()
	h.nextID++
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	h.node.Send(h.me, h.ds, store.Exec{ID: h.nextID, Args: b, Version: v})
	r := h.next()
	require.Equal(h.t, h.nextID, r.ID, "Result for another request")
	require.Empty(h.t, r.Failure, "%q failed", strings.Join(args, " "))
	return r
}

func newVersioned(t *testing.T, extra ...string) (*harness, *testproc.Proc, *testproc.RESPClient) {
	r := testproc.Redis(t, extra...)
	h := newHarness(t, Options{Addr: r.Addr, Protocol: Redis, Versions: true})
	return h, r, testproc.DialRESP(t, r.Addr)
}

func TestRedisVersionsSmoke(t *testing.T) {
	h, _, direct := newVersioned(t)
	r := h.vdo(ver(10, "a"), "SET", "k", "v1")
	require.Equal(t, "+OK\r\n", string(r.Reply))
	require.Equal(t, ver(10, "a"), r.Version)
	r = h.vdo(ver(5, "a"), "SET", "k", "old")
	require.Equal(t, "+OK\r\n", string(r.Reply))
	require.Equal(t, ver(10, "a"), r.Version)
	r = h.vdo(ver(1, "x"), "GET", "k")
	require.Equal(t, bulk("v1"), string(r.Reply))
	require.Equal(t, ver(10, "a"), r.Version)
	t.Log(direct.Do("HGETALL", VersionHash))
	_ = errors.New
	_ = fmt.Sprint
	_ = time.Second
}
