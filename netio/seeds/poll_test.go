package seeds

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	listA        = "h1:8101:rack1:dc1:100|h2:8101:rack2:dc1:200"
	listAShuffle = " h2:8101:rack2:dc1:200|h1:8101:rack1:dc1:100\n"
	listB        = "h1:8101:rack1:dc1:100|h3:8101:rack3:dc1:300"
)

// step is what one Fetch of a scripted provider does.
type step struct {
	payload string
	err     error
	panic   bool
}

// scripted plays its steps in order, repeating the last, and reports the
// time of every call on calls.
type scripted struct {
	steps []step
	calls chan time.Time
	mu    sync.Mutex
	n     int
}

func newScripted(steps ...step) *scripted {
	return &scripted{steps: steps, calls: make(chan time.Time, 1024)}
}

func (*scripted) Name() string { return "scripted" }

func (s *scripted) Fetch(context.Context) ([]config.Seed, error) {
	s.mu.Lock()
	st := s.steps[min(s.n, len(s.steps)-1)]
	s.n++
	s.mu.Unlock()
	s.calls <- time.Now()
	switch {
	case st.panic:
		panic("provider bug")
	case st.err != nil:
		return nil, st.err
	}
	return config.ParseSeedList(st.payload)
}

// awaitCalls returns the times of the next n calls, failing after wait.
func (s *scripted) awaitCalls(t *testing.T, n int) []time.Time {
	t.Helper()
	var got []time.Time
	timeout := time.After(wait)
	for len(got) < n {
		select {
		case c := <-s.calls:
			got = append(got, c)
		case <-timeout:
			t.Fatalf("got %d of %d provider calls within %v", len(got), n, wait)
		}
	}
	return got
}

// syncBuffer is a log sink the test reads while Poll writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run is one Poll in the background, with what it applied and logged.
type run struct {
	applied chan string // canonical form of each applied list
	logs    *syncBuffer // JSON lines
	stop    func()      // cancels Poll and waits for it to return
}

func startPoll(t *testing.T, p Provider, opts PollOptions) *run {
	t.Helper()
	r := &run{applied: make(chan string, 64), logs: &syncBuffer{}}
	opts.Log = slog.New(slog.NewJSONHandler(r.logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Poll(ctx, p, opts, func(s []config.Seed) { r.applied <- canonical(s) })
	}()
	r.stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Fatalf("Poll did not return within %v of cancel", wait)
		}
	}
	t.Cleanup(r.stop)
	return r
}

// awaitApplied fails unless the next list applied is want.
func (r *run) awaitApplied(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-r.applied:
		assert.Equal(t, canon(t, want), got)
	case <-time.After(wait):
		t.Fatalf("%q never applied", want)
	}
}

// drained returns what was applied so far; call after stop.
func (r *run) drained() []string {
	var out []string
	for {
		select {
		case s := <-r.applied:
			out = append(out, s)
		default:
			return out
		}
	}
}

// records decodes the JSON log lines.
func (r *run) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.logs.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

func canon(t *testing.T, payload string) string {
	t.Helper()
	seeds, err := config.ParseSeedList(payload)
	require.NoError(t, err)
	return canonical(seeds)
}

func TestPollAppliesOnlyChanges(t *testing.T) {
	p := newScripted(step{payload: listA}, step{payload: listAShuffle}, step{payload: listA},
		step{payload: listB}, step{payload: listB})
	r := startPoll(t, p, PollOptions{Interval: 2 * time.Millisecond, MinInterval: time.Millisecond})
	p.awaitCalls(t, 7)
	r.stop()
	assert.Equal(t, []string{canon(t, listA), canon(t, listB)}, r.drained(),
		"the first list, then only the change; a reordering is no change")
}

func TestPollPeriodIsIntervalWithFloor(t *testing.T) {
	const gap = 60 * time.Millisecond
	for name, opts := range map[string]PollOptions{
		"floor above gos_interval": {Interval: time.Millisecond, MinInterval: gap},
		"gos_interval above floor": {Interval: gap, MinInterval: time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			p := newScripted(step{payload: listA})
			start := time.Now()
			r := startPoll(t, p, opts)
			calls := p.awaitCalls(t, 3)
			r.stop()
			assert.Less(t, calls[0].Sub(start), gap, "the first fetch is at start")
			for i := 1; i < len(calls); i++ {
				assert.GreaterOrEqual(t, calls[i].Sub(calls[i-1]), gap, "call %d", i)
			}
			assert.Equal(t, []string{canon(t, listA)}, r.drained())
		})
	}
}

func TestPollBacksOffAndKeepsLastGoodList(t *testing.T) {
	const (
		period   = 400 * time.Millisecond
		retryMin = 10 * time.Millisecond
		failures = 4
	)
	steps := []step{{payload: listA}}
	for i := 1; i <= failures; i++ {
		steps = append(steps, step{err: fmt.Errorf("florida down %d", i)})
	}
	p := newScripted(append(steps, step{payload: listB})...)
	r := startPoll(t, p, PollOptions{Interval: period, MinInterval: time.Millisecond, RetryMin: retryMin,
		Rand: rand.New(rand.NewPCG(1, 2))})
	// The next list applied after A is B: nothing while failing.
	r.awaitApplied(t, listA)
	r.awaitApplied(t, listB)
	calls := p.awaitCalls(t, failures+2)
	r.stop()

	assert.Empty(t, r.drained())
	// calls[1] is the first failure; retry k comes at least half of
	// retryMin*2^(k-1) later, and all retries come well before the period.
	for k := 1; k <= failures; k++ {
		nominal := retryMin << (k - 1)
		assert.GreaterOrEqual(t, calls[k+1].Sub(calls[k]), nominal/2, "retry %d", k)
	}
	assert.Less(t, calls[failures+1].Sub(calls[1]), period, "retries are sooner than the poll period")

	var warns []map[string]any
	recovered := 0
	for _, rec := range r.records(t) {
		switch rec["msg"] {
		case "seed provider failed; keeping the last good seed list":
			warns = append(warns, rec)
		case "seed provider recovered":
			recovered++
			assert.EqualValues(t, failures, rec["after_failures"])
		}
	}
	require.Len(t, warns, failures)
	for i, rec := range warns {
		k := i + 1
		assert.Equal(t, "WARN", rec["level"])
		assert.Equal(t, "scripted", rec["provider"])
		assert.EqualValues(t, k, rec["failures"])
		assert.Equal(t, fmt.Sprintf("florida down %d", k), rec["err"])
		nominal := retryMin << (k - 1)
		retry := time.Duration(rec["retry_in"].(float64))
		assert.GreaterOrEqual(t, retry, nominal/2, "retry_in %d", k)
		assert.LessOrEqual(t, retry, nominal, "retry_in %d", k)
	}
	assert.Equal(t, 1, recovered)
}

func TestPollSurvivesPanickingProvider(t *testing.T) {
	p := newScripted(step{panic: true}, step{payload: listA})
	r := startPoll(t, p, PollOptions{Interval: time.Hour, RetryMin: time.Millisecond})
	r.awaitApplied(t, listA)
	r.stop()
	assert.Contains(t, r.logs.String(), `"err":"scripted panicked: provider bug"`)
}

// blocking never answers until its context ends.
type blocking struct{ entered chan struct{} }

func (blocking) Name() string { return "blocking" }

func (b blocking) Fetch(ctx context.Context) ([]config.Seed, error) {
	close(b.entered)
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestPollStopsDuringFetchWithoutLogging(t *testing.T) {
	p := blocking{entered: make(chan struct{})}
	r := startPoll(t, p, PollOptions{})
	select {
	case <-p.entered:
	case <-time.After(wait):
		t.Fatal("Poll did not fetch at start")
	}
	r.stop()
	assert.Empty(t, r.drained())
	assert.Empty(t, r.logs.String(), "shutting down is not a provider failure")
}

// The story end to end with a real Florida: a good list, then a garbage
// payload and an error status (both logged with their cause, the good list
// kept), then a new list.
func TestPollFloridaStory(t *testing.T) {
	var resp atomic.Pointer[string]
	set := func(s string) { resp.Store(&s) }
	set(okHeader + listA)
	addr, reqs := rawFlorida(t, func(c net.Conn) { _, _ = io.WriteString(c, *resp.Load()) })
	// awaitRequests waits for n requests made after the call, so they were
	// answered with the reply set before it.
	awaitRequests := func(n int) {
		t.Helper()
		for len(reqs) > 0 {
			<-reqs
		}
		for range n {
			select {
			case <-reqs:
			case <-time.After(wait):
				t.Fatal("Florida got no request")
			}
		}
	}
	r := startPoll(t, florida(addr), PollOptions{Interval: 5 * time.Millisecond, MinInterval: time.Millisecond,
		RetryMin: 2 * time.Millisecond})
	r.awaitApplied(t, listA)

	set(okHeader + "h1:8101:rack1:dc1:100|garbage")
	awaitRequests(3)
	set("HTTP/1.0 503 Service Unavailable\r\n\r\n")
	awaitRequests(3)
	set(okHeader + listB)
	r.awaitApplied(t, listB)
	r.stop()

	assert.Empty(t, r.drained(), "nothing applied between the two good lists")
	logs := r.logs.String()
	assert.Contains(t, logs, `florida `+addr+`: bad payload: seed 2 \"garbage\"`)
	assert.Contains(t, logs, `florida `+addr+`: status \"HTTP/1.0 503 Service Unavailable\", want 200 OK`)
	assert.Contains(t, logs, `"msg":"seed provider recovered"`)
}

func TestPollDefaults(t *testing.T) {
	o := PollOptions{}.withDefaults()
	assert.Equal(t, 30*time.Second, o.period())
	assert.Equal(t, time.Second, o.RetryMin)
	assert.NotNil(t, o.Log)
	assert.NotNil(t, o.Rand)
	assert.Equal(t, 90*time.Second, PollOptions{Interval: 90 * time.Second}.withDefaults().period())
	assert.Equal(t, 30*time.Second, PollOptions{Interval: time.Second}.withDefaults().period(),
		"gos_interval below 30 s still polls once per 30 s")
}
