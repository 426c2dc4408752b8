package admit

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNilAndZeroGatesAreOpen(t *testing.T) {
	var nilGate *Gate
	nilGate.Wait(time.Hour)
	assert.False(t, nilGate.Held())
	assert.Zero(t, nilGate.Waits())
	var g Gate
	g.Wait(time.Hour)
	assert.False(t, g.Held())
	assert.Zero(t, g.Waits(), "an open gate counts no wait")
}

// TestWaitEndsAtTheLastRelease: readers wait while any hold is left and
// all go on when the last one is released.
func TestWaitEndsAtTheLastRelease(t *testing.T) {
	var g Gate
	g.Hold()
	g.Hold()
	require.True(t, g.Held())
	var wg sync.WaitGroup
	done := make(chan struct{}, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.Wait(time.Hour)
			done <- struct{}{}
		}()
	}
	require.Eventually(t, func() bool { return g.Waits() == 3 }, 5*time.Second, time.Millisecond)
	g.Release()
	assert.True(t, g.Held(), "one hold left")
	select {
	case <-done:
		t.Fatal("a reader went on while the gate was held")
	case <-time.After(50 * time.Millisecond):
	}
	g.Release()
	wg.Wait()
	assert.Len(t, done, 3)
	assert.False(t, g.Held())
	g.Wait(time.Hour) // open again: returns at once
	assert.EqualValues(t, 3, g.Waits())
}

func TestWaitIsBounded(t *testing.T) {
	var g Gate
	g.Hold()
	began := time.Now()
	g.Wait(20 * time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(began), 20*time.Millisecond)
	assert.True(t, g.Held())
	g.Release()
}

func TestReleaseWithoutHoldPanics(t *testing.T) {
	var g Gate
	assert.Panics(t, g.Release)
}
