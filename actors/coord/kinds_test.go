package coord_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/stretchr/testify/require"
)

// statsSink stands for the stats actor: it adds up the coordinators'
// reports.
type statsSink struct{ total coord.Counts }

func (s *statsSink) Receive(_ actors.Context, m any) {
	if d, ok := m.(coord.StatsDelta); ok {
		s.total.Add(d.Counts)
	}
}

// errorLabels returns the error counters that moved, keyed by their metric
// labels ("class/kind", as request_errors_total{class,kind} shows them).
func (s *statsSink) errorLabels() map[string]uint64 {
	out := map[string]uint64{}
	for cl := range coord.NumClasses {
		for k := range coord.NumErrKinds {
			if n := s.total.Errors[cl][k]; n != 0 {
				out[cl.String()+"/"+k.String()] = n
			}
		}
	}
	return out
}

// failingStore answers every Exec with the same failure, as a datastore
// adapter, a peer link or an older node would.
type failingStore struct {
	text string
	kind store.FailureKind
}

func (f failingStore) Receive(ctx actors.Context, m any) {
	fail := func(id uint64) store.Result { return store.Result{ID: id, Failure: f.text, Kind: f.kind} }
	switch m := m.(type) {
	case store.Exec:
		if !m.Quiet {
			ctx.Send(ctx.Sender(), fail(m.ID))
		}
	case store.Batch:
		var rs []store.Result
		for _, e := range m.Execs {
			if !e.Quiet {
				rs = append(rs, fail(e.ID))
			}
		}
		if rs != nil {
			ctx.Send(ctx.Sender(), store.Results{Results: rs})
		}
	}
}

// silentStore never answers.
type silentStore struct{}

func (silentStore) Receive(actors.Context, any) {}

// keyOwnedBy returns a key whose local-rack owner, seen from node from, is
// owner.
func keyOwnedBy(t *testing.T, c *cluster, from, owner actors.NodeID) string {
	for i := range 10000 {
		k := fmt.Sprintf("k%d", i)
		if c.ring[from].LocalOwner([]byte(k)) == string(owner) {
			return k
		}
	}
	t.Fatalf("no key owned by %s", owner)
	return ""
}

// TestErrorKindLabels pins each error label of the request statistics to
// the failure that causes it, produced for real: a store that never
// answers, a quorum that cannot be met, a peer the view says is down, and
// a store Result of each kind. The label follows the failure's kind, never
// its text: a refused dial whose error says "timed out" is a datastore
// failure, a failure that says "Peer:" but is the datastore's is the
// datastore's (classifying by text, as coordinators once did, fails both).
// The client's error text is the one Dynomite writes, unchanged.
func TestErrorKindLabels(t *testing.T) {
	const dialTimedOut = "Datastore refused connection: dial tcp 10.0.0.9:6379: connect: connection timed out"
	for _, tc := range []struct {
		name  string
		store func() actors.Behaviour // n1's store; nil: the embedded one
		cmd   string
		reply string
		label string
	}{
		{"store never answers", func() actors.Behaviour { return silentStore{} }, "get k",
			"-ERR Storage: request timed out after 500ms\r\n", "read/timeout"},
		{"datastore failure", func() actors.Behaviour { return failingStore{dialTimedOut, store.KindDatastore} }, "get k",
			"-ERR Storage: " + dialTimedOut + "\r\n", "read/datastore"},
		{"datastore failure of a write", func() actors.Behaviour { return failingStore{"datastore connection lost: EOF", store.KindDatastore} }, "set k v",
			"-ERR Storage: datastore connection lost: EOF\r\n", "write/datastore"},
		{"datastore failure worded like a peer's", func() actors.Behaviour { return failingStore{"Peer: said the datastore", store.KindDatastore} }, "get k",
			"-ERR Peer: said the datastore\r\n", "read/datastore"},
		{"adapter timeout", func() actors.Behaviour {
			return failingStore{"datastore request timed out: no reply within 300ms", store.KindTimeout}
		}, "get k", "-ERR Storage: datastore request timed out: no reply within 300ms\r\n", "read/timeout"},
		{"peer link down", func() actors.Behaviour { return failingStore{"Peer: Peer Node is not connected", store.KindPeer} }, "get k",
			"-ERR Peer: Peer Node is not connected\r\n", "read/peer"},
		{"failure from a node without kinds", func() actors.Behaviour { return failingStore{"Peer: Peer Node is not connected", store.KindNone} }, "get k",
			"-ERR Peer: Peer Node is not connected\r\n", "read/datastore"},
		{"error reply is no failure", nil, "lpush k x", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, "dc1/r1")
			sink := &statsSink{}
			c.w.Spawn("n1", "stats", func() actors.Behaviour { return sink })
			if tc.store != nil {
				c.w.Spawn("n1", "kstore", tc.store)
			} else {
				c.w.Spawn("n1", "kstore", store.NewEmbedded(store.Options{}))
			}
			k := c.conn("n1", func(cfg *coord.Config) {
				cfg.StoreName, cfg.Stats = "kstore", actors.Addr{Node: "n1", Name: "stats"}
			})
			if tc.store == nil { // an error reply of the datastore itself
				require.Equal(t, "+OK\r\n", k.do("set k v"))
				require.Equal(t, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", k.do(tc.cmd))
				require.Equal(t, map[string]uint64{"write/error_reply": 1}, sink.errorLabels())
				return
			}
			require.Equal(t, tc.reply, k.do(tc.cmd))
			require.Equal(t, map[string]uint64{tc.label: 1}, sink.errorLabels())
		})
	}

	t.Run("quorum not achieved", func(t *testing.T) {
		c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
		sink := &statsSink{}
		c.w.Spawn("n1", "stats", func() actors.Behaviour { return sink })
		c.w.Spawn("n1", "kstore", store.NewEmbedded(store.Options{}))
		for _, n := range []actors.NodeID{"n2", "n3"} {
			c.w.Spawn(n, "kstore", func() actors.Behaviour { return failingStore{"Datastore refused connection", store.KindDatastore} })
		}
		k := c.conn("n1", func(cfg *coord.Config) {
			cfg.StoreName, cfg.Stats = "kstore", actors.Addr{Node: "n1", Name: "stats"}
			cfg.Read = config.DCQuorum
		})
		require.Equal(t, "-ERR Dynomite: Failed to achieve Quorum: DC_QUORUM needs 2 of 3 replicas in dc1, 1 answered (Datastore refused connection)\r\n",
			k.do("get k"))
		require.Equal(t, map[string]uint64{"read/quorum": 1}, sink.errorLabels())
	})

	t.Run("quorum timed out", func(t *testing.T) {
		c := newCluster(t, "dc1/r1", "dc1/r2", "dc1/r3")
		sink := &statsSink{}
		c.w.Spawn("n1", "stats", func() actors.Behaviour { return sink })
		c.w.Spawn("n1", "kstore", store.NewEmbedded(store.Options{}))
		for _, n := range []actors.NodeID{"n2", "n3"} {
			c.w.Spawn(n, "kstore", func() actors.Behaviour { return silentStore{} })
		}
		k := c.conn("n1", func(cfg *coord.Config) {
			cfg.StoreName, cfg.Stats = "kstore", actors.Addr{Node: "n1", Name: "stats"}
			cfg.Read = config.DCSafeQuorum
		})
		require.Equal(t, "-ERR Dynomite: Failed to achieve Quorum: DC_SAFE_QUORUM needs 2 of 3 replicas in dc1, 1 answered\r\n",
			k.do("get k"))
		require.Equal(t, map[string]uint64{"read/quorum": 1}, sink.errorLabels(), "too few answers in time is a quorum failure")
	})

	t.Run("peer down in the view", func(t *testing.T) {
		c := newCluster(t, "dc1/r1", "dc1/r1")
		sink := &statsSink{}
		c.w.Spawn("n1", "stats", func() actors.Behaviour { return sink })
		gossiper := actors.Addr{Node: "n1", Name: "gossip"}
		k := c.conn("n1", func(cfg *coord.Config) {
			cfg.Stats, cfg.Gossip = actors.Addr{Node: "n1", Name: "stats"}, gossiper
		})
		c.w.Inject(gossiper, k.addr, gossip.View{Version: 1, Down: map[string]bool{"n2": true}, Self: gossip.Normal})
		require.Equal(t, "-ERR Peer: Peer Node is down\r\n", k.do("get "+keyOwnedBy(t, c, "n1", "n2")))
		require.Equal(t, map[string]uint64{"read/peer": 1}, sink.errorLabels())
	})

	t.Run("memcached", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			store func() actors.Behaviour
			reply string
			label string
		}{
			{"store never answers", func() actors.Behaviour { return silentStore{} },
				"SERVER_ERROR request timed out after 500ms\r\n", "read/timeout"},
			{"datastore failure", func() actors.Behaviour { return failingStore{dialTimedOut, store.KindDatastore} },
				"SERVER_ERROR " + dialTimedOut + "\r\n", "read/datastore"},
			{"peer link down", func() actors.Behaviour { return failingStore{"Peer: Peer Node is not connected", store.KindPeer} },
				"SERVER_ERROR Peer: Peer Node is not connected\r\n", "read/peer"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := newCluster(t, "dc1/r1")
				sink := &statsSink{}
				c.w.Spawn("n1", "stats", func() actors.Behaviour { return sink })
				c.w.Spawn("n1", "kstore", tc.store)
				mc := &client{}
				self := actors.Addr{Node: "n1", Name: "m"}
				c.w.Spawn("n1", "m/w", func() actors.Behaviour { return mc })
				c.w.Spawn("n1", "m", coord.NewMemcached(coord.Config{Sink: actors.Addr{Node: "n1", Name: "m/w"}, Ring: c.ring["n1"],
					StoreName: "kstore", Timeout: 500 * time.Millisecond, Stats: actors.Addr{Node: "n1", Name: "stats"}, Version: "test"}))
				reqs, _, err := mcproto.NewParser(mcproto.DefaultLimits()).Parse([]byte("get k\r\n"))
				require.NoError(t, err)
				require.Len(t, reqs, 1)
				c.w.Inject(actors.Addr{Node: "n1", Name: "edge"}, self, coord.MCRequests{Reqs: coord.CloneMC(reqs)})
				require.NoError(t, c.w.RunFor(2*time.Second))
				require.Equal(t, tc.reply, string(mc.data))
				require.Equal(t, map[string]uint64{tc.label: 1}, sink.errorLabels())
			})
		}
		// A bad request with noreply writes nothing, as memcached, but is
		// counted as the same request without noreply would be.
		t.Run("noreply error", func(t *testing.T) {
			c := newCluster(t, "dc1/r1")
			sink := &statsSink{}
			c.w.Spawn("n1", "stats", func() actors.Behaviour { return sink })
			mc := &client{}
			self := actors.Addr{Node: "n1", Name: "m"}
			c.w.Spawn("n1", "m/w", func() actors.Behaviour { return mc })
			c.w.Spawn("n1", "m", coord.NewMemcached(coord.Config{Sink: actors.Addr{Node: "n1", Name: "m/w"}, Ring: c.ring["n1"],
				Timeout: 500 * time.Millisecond, Stats: actors.Addr{Node: "n1", Name: "stats"}, Version: "test"}))
			reqs, _, err := mcproto.NewParser(mcproto.DefaultLimits()).Parse([]byte("incr k x noreply\r\nincr k x\r\n"))
			require.NoError(t, err)
			c.w.Inject(actors.Addr{Node: "n1", Name: "edge"}, self, coord.MCRequests{Reqs: coord.CloneMC(reqs)})
			require.NoError(t, c.w.RunFor(2*time.Second))
			require.Equal(t, "CLIENT_ERROR invalid numeric delta argument\r\n", string(mc.data), "the noreply one writes nothing")
			labels := sink.errorLabels()
			require.Len(t, labels, 1)
			for _, n := range labels {
				require.Equal(t, uint64(2), n, "both counted: %v", labels)
			}
		})
	})
}
