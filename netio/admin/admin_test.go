package admin_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/dynonode/dynonode/actors/coord"
	"github.com/dynonode/dynonode/actors/gossip"
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
