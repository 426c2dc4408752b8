package admin_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/antientropy"
	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/gossip"
	"github.com/dynonode/dynonode/actors/hints"
	"github.com/dynonode/dynonode/actors/stats"
	"github.com/dynonode/dynonode/netio/admin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type level struct{ v int }

func (l *level) Verbosity() int     { return l.v }
func (l *level) SetVerbosity(v int) { l.v = v }

func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	body, err := io.ReadAll(w.Result().Body)
	require.NoError(t, err)
	return w.Code, string(body)
}

func cfg(t *testing.T) *config.Config {
	c, err := config.Parse([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  dyn_listen: 127.0.0.1:8101\n  tokens: '5'\n" +
		"  read_consistency: DC_QUORUM\n  read_repairs_enabled: true\n  write_consistency: DC_QUORUM\n  dyn_seeds:\n  - 10.0.0.2:8101:r2:dc:7\n"))
	require.NoError(t, err)
	return c
}

func TestSettings(t *testing.T) {
	lv := &level{v: 5}
	var states []gossip.State
	s := admin.New(admin.Options{Config: cfg(t), Log: lv, OnState: func(st gossip.State) { states = append(states, st) }})
	read, write := s.Consistency()
	assert.Equal(t, config.DCQuorum, read, "from the config")
	assert.Equal(t, config.DCQuorum, write)
	assert.True(t, s.ReadRepairs())

	code, _ := get(t, s, "GET", "/set_consistency/READ/dc_one")
	assert.Equal(t, 400, code, "the operation is lower case")
	code, _ = get(t, s, "GET", "/set_consistency/read/Dc_One")
	assert.Equal(t, 200, code, "the level in any case")
	read, _ = s.Consistency()
	assert.Equal(t, config.DCOne, read)

	get(t, s, "GET", "/set_timeout_factor/4")
	assert.Equal(t, 4, s.TimeoutFactor())
	get(t, s, "GET", "/set_timeout_factor/-2")
	assert.Equal(t, 1, s.TimeoutFactor())

	get(t, s, "GET", "/setloglevel/9")
	get(t, s, "GET", "/loglevelup")
	get(t, s, "GET", "/loglevelup")
	get(t, s, "GET", "/loglevelup")
	assert.Equal(t, 11, lv.v, "clamped")
	get(t, s, "GET", "/logleveldown")
	assert.Equal(t, 10, lv.v)

	get(t, s, "GET", "/state/standby")
	assert.Equal(t, gossip.Standby, s.State())
	assert.Equal(t, []gossip.State{gossip.Standby}, states, "the hook hears it")
	get(t, s, "GET", "/peer/down/10.0.0.2")
	assert.Equal(t, gossip.Down, s.PeerState("10.0.0.2"))
	get(t, s, "GET", "/peer/up/all")
	assert.Equal(t, gossip.Normal, s.PeerState("10.0.0.2"), "dynonode applies the verb to all (Dynomite resets)")

	code, body := get(t, s, "POST", "/ping")
	assert.Equal(t, 405, code, body)
	code, body = get(t, s, "GET", "/info/extra")
	assert.Equal(t, 404, code, body)
	assert.Equal(t, "dynonode: unknown admin path /info/extra; see /help\n", body)
}

// TestStatsActorDown: when the stats actor does not answer, /info still
// answers (request fields 0) and /metrics says so with dynonode_stats_up 0.
func TestStatsActorDown(t *testing.T) {
	s := admin.New(admin.Options{Config: cfg(t), Requests: func() (stats.Snapshot, error) { return stats.Snapshot{}, errors.New("no") }})
	code, body := get(t, s, "GET", "/info")
	require.Equal(t, 200, code)
	assert.Contains(t, body, `"latency_max":0`)
	code, body = get(t, s, "GET", "/metrics")
	require.Equal(t, 200, code)
	assert.Contains(t, body, "dynonode_stats_up 0")
	assert.NotContains(t, body, "dynonode_requests_total")
}

// TestInfoLatency: /info's percentiles come from the latency window, each
// the upper bound of its bucket, capped by the maximum.
func TestInfoLatency(t *testing.T) {
	var snap stats.Snapshot
	w := &snap.Window
	w.Latency[coord.ClassRead][0][3] = 990 // <= 1ms
	w.Latency[coord.ClassWrite][0][6] = 10 // <= 10ms
	w.LatencySum[coord.ClassRead][0] = 990 * 800 * 1000
	w.LatencySum[coord.ClassWrite][0] = 10 * 8 * 1000 * 1000
	w.LatencyMax = 9 * 1000 * 1000
	s := admin.New(admin.Options{Config: cfg(t), Requests: func() (stats.Snapshot, error) { return snap, nil }})
	_, body := get(t, s, "GET", "/info")
	for _, want := range []string{`"latency_max":9000`, `"latency_999th":9000`, `"latency_99th":1000`, `"latency_95th":1000`, `"latency_mean":872`} {
		assert.True(t, strings.Contains(body, want), "%s in %s", want, body[:300])
	}
}

// TestClusterDescribeLive: with a gossiper, /cluster_describe is the live
// membership in Dynomite's shape: this node, its seeds, and the members
// learned through gossip, each with its state and up verdict; members that
// left are not listed; a gossiper that does not answer falls back to the
// configuration.
func TestClusterDescribeLive(t *testing.T) {
	members := []gossip.MemberView{
		{Member: gossip.Member{ID: "127.0.0.1:8101", DC: "localdc", Rack: "localrack", Tokens: []uint32{5}, State: gossip.Normal}, Up: true},
		{Member: gossip.Member{ID: "10.0.0.2:8101", DC: "dc", Rack: "r2", Tokens: []uint32{7}, State: gossip.Standby}, Up: true},
		{Member: gossip.Member{ID: "10.0.0.4:8101", DC: "dc", Rack: "r1", Tokens: []uint32{3000000000}, State: gossip.Normal}, Up: true},
		{Member: gossip.Member{ID: "10.0.0.5:8101", DC: "dc2", Rack: "r9", Tokens: []uint32{9}, State: gossip.Normal}, Up: false},
		{Member: gossip.Member{ID: "10.0.0.6:8101", DC: "dc", Rack: "r1", Tokens: []uint32{11}, Left: true}},
	}
	var fail error
	s := admin.New(admin.Options{Config: cfg(t), NodeID: "127.0.0.1:8101",
		Members: func() ([]gossip.MemberView, error) { return members, fail }})
	code, body := get(t, s, "GET", "/cluster_describe")
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"dcs":[
		{"name":"dc","racks":[
			{"name":"r1","servers":[
				{"name":"10.0.0.4","host":"10.0.0.4","port":8101,"token":3000000000,"state":"NORMAL","up":true,"seed":false}]},
			{"name":"r2","servers":[
				{"name":"10.0.0.2","host":"10.0.0.2","port":8101,"token":7,"state":"STANDBY","up":true,"seed":true}]}]},
		{"name":"dc2","racks":[
			{"name":"r9","servers":[
				{"name":"10.0.0.5","host":"10.0.0.5","port":8101,"token":9,"state":"DOWN","up":false,"seed":false}]}]},
		{"name":"localdc","racks":[
			{"name":"localrack","servers":[
				{"name":"127.0.0.1","host":"127.0.0.1","port":8101,"token":5,"state":"NORMAL","up":true,"seed":false}]}]}]}`, body)

	fail = errors.New("no answer")
	_, body = get(t, s, "GET", "/cluster_describe")
	require.JSONEq(t, `{"dcs":[
		{"name":"dc","racks":[{"name":"r2","servers":[{"name":"10.0.0.2","host":"10.0.0.2","port":8101,"token":7,"state":"NORMAL"}]}]},
		{"name":"localdc","racks":[{"name":"localrack","servers":[{"name":"127.0.0.1","host":"127.0.0.1","port":8101,"token":5,"state":"NORMAL"}]}]}]}`, body)
}

// TestReadRepairCounters: the coordinators' read repair counts, summed by
// the stats actor, appear in /info's pool and in /metrics.
func TestReadRepairCounters(t *testing.T) {
	var snap stats.Snapshot
	snap.Total.RepairsSent, snap.Total.RepairsDropped, snap.Total.StaleReplicas, snap.Total.VersionRereads = 7, 2, 9, 4
	s := admin.New(admin.Options{Config: cfg(t), Requests: func() (stats.Snapshot, error) { return snap, nil }})
	_, body := get(t, s, "GET", "/info")
	for _, want := range []string{`"read_repairs_sent":7`, `"read_repairs_dropped":2`, `"read_repair_stale_replicas":9`, `"read_version_rereads":4`} {
		assert.Contains(t, body, want)
	}
	_, body = get(t, s, "GET", "/metrics")
	for _, want := range []string{"dynonode_read_repairs_sent_total 7", "dynonode_read_repairs_dropped_total 2",
		"dynonode_read_repair_stale_replicas_total 9", "dynonode_read_version_rereads_total 4"} {
		assert.Contains(t, body, want)
	}
}

// /hints, /hints/drop and the hints_* fields of /info and /metrics show
// the hint manager's status; a node without hints answers 404.
func TestHintsEndpoints(t *testing.T) {
	st := hints.Status{Stored: 12, Replayed: 9, Dropped: 1, WriteErrors: 2,
		Targets: []hints.TargetStatus{{Target: "127.0.0.2:8101", Hints: 2, Bytes: 150, Oldest: 1500 * time.Millisecond}}}
	var dropped string
	s := admin.New(admin.Options{Config: cfg(t),
		Hints: func() (hints.Status, error) { return st, nil },
		DropHints: func(target string) (hints.Status, error) {
			dropped = target
			after := st
			after.Targets, after.Dropped = nil, st.Dropped+2
			return after, nil
		}})
	code, body := get(t, s, "GET", "/hints")
	require.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"stored":12,"replayed":9,"dropped":1,"write_errors":2,`+
		`"targets":[{"target":"127.0.0.2:8101","hints":2,"bytes":150,"oldest_ms":1500}]}`, body)
	_, body = get(t, s, "GET", "/info")
	for _, want := range []string{`"hints_stored":12`, `"hints_replayed":9`, `"hints_dropped":1`, `"hints_write_errors":2`,
		`"hints_pending":2`, `"hints_pending_bytes":150`, `"hints_oldest_ms":1500`} {
		assert.Contains(t, body, want)
	}
	_, body = get(t, s, "GET", "/metrics")
	for _, want := range []string{"dynonode_hints_stored_total 12", "dynonode_hints_replayed_total 9", "dynonode_hints_dropped_total 1",
		`dynonode_hints_pending{target="127.0.0.2:8101"} 2`, `dynonode_hints_pending_bytes{target="127.0.0.2:8101"} 150`,
		`dynonode_hints_oldest_seconds{target="127.0.0.2:8101"} 1.5`} {
		assert.Contains(t, body, want)
	}
	code, body = get(t, s, "GET", "/hints/drop/127.0.0.2:8101")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "127.0.0.2:8101", dropped)
	assert.JSONEq(t, `{"stored":12,"replayed":9,"dropped":3,"write_errors":2,"targets":[]}`, body)

	none := admin.New(admin.Options{Config: cfg(t)})
	code, _ = get(t, none, "GET", "/hints")
	assert.Equal(t, http.StatusNotFound, code)
	_, body = get(t, none, "GET", "/info")
	assert.Contains(t, body, `"hints_pending":0`)
}

// /anti_entropy, /anti_entropy/start and the anti_entropy_* fields of
// /info and /metrics show anti-entropy's status; a node without it
// answers 404.
func TestAntiEntropyEndpoints(t *testing.T) {
	st := antientropy.Status{State: "syncing", Resuming: true, ResumeSegments: 1, ResumeTotal: 3, Round: 4, RoundPeers: 1,
		Peer: "127.0.0.2:8101", Sessions: 6, InSync: 5, Aborted: 1, KeysScanned: 1000, KeysListed: 20, KeysCompared: 30,
		KeysPulled: 7, BytesPulled: 700, PullErrors: 2}
	started := 0
	s := admin.New(admin.Options{Config: cfg(t),
		AntiEntropy: func() (antientropy.Status, error) { return st, nil },
		StartRepair: func() (antientropy.Status, error) {
			started++
			after := st
			after.Round++
			return after, nil
		}})
	code, body := get(t, s, "GET", "/anti_entropy")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{`"state":"syncing"`, `"resuming":true`, `"resume_segments":1`, `"resume_total":3`, `"round":4`,
		`"round_peers_left":1`, `"peer":"127.0.0.2:8101"`, `"sessions":6`, `"in_sync":5`, `"aborted":1`, `"keys_scanned":1000`,
		`"keys_listed":20`, `"keys_compared":30`, `"keys_pulled":7`, `"bytes_pulled":700`, `"pull_errors":2`, `"last_round_ms":0`} {
		assert.Contains(t, body, want)
	}
	code, body = get(t, s, "GET", "/anti_entropy/start")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, 1, started)
	assert.Contains(t, body, `"round":5`)
	_, body = get(t, s, "GET", "/info")
	for _, want := range []string{`"anti_entropy_rounds":4`, `"anti_entropy_sessions":6`, `"anti_entropy_keys_pulled":7`,
		`"anti_entropy_bytes_pulled":700`, `"anti_entropy_keys_scanned":1000`, `"anti_entropy_resuming":1`,
		`"anti_entropy_resume_segments":1`, `"anti_entropy_resume_total":3`} {
		assert.Contains(t, body, want)
	}
	_, body = get(t, s, "GET", "/metrics")
	for _, want := range []string{"dynonode_anti_entropy_rounds_total 4", "dynonode_anti_entropy_sessions_total 6",
		"dynonode_anti_entropy_sessions_aborted_total 1", "dynonode_anti_entropy_keys_scanned_total 1000",
		"dynonode_anti_entropy_keys_pulled_total 7", "dynonode_anti_entropy_bytes_pulled_total 700",
		"dynonode_anti_entropy_pull_errors_total 2", "dynonode_anti_entropy_resuming 1"} {
		assert.Contains(t, body, want)
	}
	none := admin.New(admin.Options{Config: cfg(t)})
	for _, path := range []string{"/anti_entropy", "/anti_entropy/start"} {
		code, _ = get(t, none, "GET", path)
		assert.Equal(t, http.StatusNotFound, code, path)
	}
}
