package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRequestErrorsAreRateLimited: a flood of request errors logs at most
// requestErrorsPerSecond lines per kind and second, then one summary of
// what it suppressed; other lines and other kinds pass.
func TestRequestErrorsAreRateLimited(t *testing.T) {
	var out bytes.Buffer
	base := slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})
	l := &limiter{base: base, perSecond: 3, windows: map[string]*window{}}
	log := slog.New(limitHandler{Handler: base, l: l}).With("actor", "client/1")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	emit := func(at time.Time, kind string) {
		r := slog.NewRecord(at, slog.LevelWarn, requestFailed, 0)
		r.AddAttrs(slog.String("kind", kind), slog.String("cause", "boom"))
		require.NoError(t, log.Handler().Handle(context.Background(), r))
	}
	for i := range 100 {
		emit(t0.Add(time.Duration(i)*time.Millisecond), "timeout")
	}
	emit(t0, "quorum")
	log.Info("unrelated")
	assert.Equal(t, 3, strings.Count(out.String(), "kind=timeout cause=boom"))
	assert.Equal(t, 1, strings.Count(out.String(), "kind=quorum"))
	assert.Contains(t, out.String(), "actor=client/1", "attributes of With survive")
	assert.Contains(t, out.String(), "unrelated")
	assert.NotContains(t, out.String(), "suppressed")

	// The next window opens with the summary of the last one.
	emit(t0.Add(1500*time.Millisecond), "timeout")
	assert.Contains(t, out.String(), `msg="request errors suppressed" kind=timeout suppressed=97`)
	assert.Equal(t, 4, strings.Count(out.String(), "kind=timeout cause=boom"))

	// A flood that stops is summarised by the periodic flush.
	for i := range 10 {
		emit(t0.Add(1600*time.Millisecond+time.Duration(i)), "timeout")
	}
	out.Reset()
	l.flush(t0.Add(3 * time.Second))
	assert.Contains(t, out.String(), "kind=timeout suppressed=8")
	out.Reset()
	l.flush(t0.Add(5 * time.Second))
	assert.Empty(t, out.String(), "nothing twice")
}

func TestLogLevelSteps(t *testing.T) {
	l := newLogLevel(5)
	assert.Equal(t, slog.LevelInfo, l.level.Level())
	l.step(+1)
	l.step(+1)
	assert.Equal(t, 7, l.Verbosity())
	assert.Equal(t, slog.LevelDebug, l.level.Level())
	l.SetVerbosity(99)
	assert.Equal(t, maxVerbosity, l.Verbosity())
	l.SetVerbosity(-3)
	assert.Equal(t, 0, l.Verbosity())
	assert.Equal(t, slog.LevelError, l.level.Level())
}
