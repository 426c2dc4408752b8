package main

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/dynonode/dynonode/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFloorPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{0, 64 * mib, 100},          // nothing measured yet
		{1 * mib, 64 * mib, 400},    // capped: a small heap may not grow 64x
		{16 * mib, 64 * mib, 400},   // grows by exactly the floor
		{22 * mib, 64 * mib, 290},   // the embedded store under make bench
		{32 * mib, 64 * mib, 200},   //
		{64 * mib, 64 * mib, 100},   // from here on GOGC=100, as without a floor
		{900 * mib, 64 * mib, 100},  //
		{100 * mib, 1 << 40, 400},   //
		{1 << 40, 64 * mib, 100},    //
		{63 * mib, 64 * mib, 101},   //
		{48 * mib, 128 * mib, 266},  //
		{128 * mib, 128 * mib, 100}, //
	} {
		assert.Equal(t, c.want, floorPercent(c.live, c.floor), "live %d floor %d", c.live, c.floor)
	}
}

func TestHeapFloorBytes(t *testing.T) {
	assert.Equal(t, uint64(64<<20), heapFloorBytes(0, false), "the default")
	assert.Equal(t, uint64(200<<20), heapFloorBytes(200, false))
	assert.Equal(t, uint64(0), heapFloorBytes(-1, false), "--heap-floor=0")
	assert.Equal(t, uint64(0), heapFloorBytes(0, true), "GOGC in the environment wins")
	assert.Equal(t, uint64(0), heapFloorBytes(200, true))

	o, err := parseArgs([]string{"--heap-floor=0"})
	require.NoError(t, err)
	assert.Equal(t, -1, o.HeapFloorMiB)
	o, err = parseArgs([]string{"--heap-floor", "128"})
	require.NoError(t, err)
	assert.Equal(t, 128, o.HeapFloorMiB)
	for _, bad := range []string{"-1", "lots", "2000000"} {
		_, err = parseArgs([]string{"--heap-floor=" + bad})
		assert.ErrorContains(t, err, "heap floor", bad)
	}
}

func gogc() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// The floor follows collections: after one, GOGC is what the live heap
// and the floor call for; stop puts back what was there before.
func TestHeapFloorRetunesAfterCollections(t *testing.T) {
	prior := gogc()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stop := startHeapFloor(1<<40, log) // far above this test's live heap
	defer stop()
	require.Eventually(t, func() bool {
		runtime.GC()
		return gogc() == maxFloorPercent
	}, 10*time.Second, 10*time.Millisecond, "a heap far below the floor may grow 4x")
	stop()
	assert.Equal(t, prior, gogc(), "stop restores GOGC")
	runtime.GC()
	time.Sleep(20 * time.Millisecond) // a cleanup already queued must not set it again
	runtime.GC()
	assert.Equal(t, prior, gogc())

	// A floor below the live heap leaves GOGC at 100.
	stop = startHeapFloor(1, log)
	defer stop()
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, int64(100), gogc())
}

// loadNode writes about 16 MB through the node (SETs of 4 KB values over
// 1,000 keys), enough for several collections.
func loadNode(t *testing.T, n *opNode) {
	t.Helper()
	c := testproc.DialRESP(t, n.listen)
	value := strings.Repeat("v", 4096)
	for round := range 8 {
		var pipe []byte
		for i := range 500 {
			pipe = append(pipe, testproc.Command("SET", fmt.Sprintf("k%d", (round*500+i)%1000), value)...)
		}
		c.Send(pipe)
		for range 500 {
			require.Equal(t, "+OK\r\n", c.Reply())
		}
	}
}

// The daemon keeps the floor: its start line says so, and under load its
// collections set GOGC for a live heap far below 64 MiB to the cap. A GOGC
// variable turns it off.
func TestDaemonKeepsTheHeapFloor(t *testing.T) {
	n := startOpNode(t, "", "-v", "7")
	require.Eventually(t, n.logHas("heap_floor_mib=64"), 5*time.Second, 20*time.Millisecond)
	loadNode(t, n)
	require.Eventually(t, n.logHas(`msg="heap floor: GOGC set" gogc=400`), 5*time.Second, 20*time.Millisecond)

	t.Setenv("GOGC", "100")
	m := startOpNode(t, "", "-v", "7", "--heap-floor", "32")
	require.Eventually(t, m.logHas("heap_floor_mib=0"), 5*time.Second, 20*time.Millisecond)
	loadNode(t, m)
	assert.False(t, m.logHas("heap floor: GOGC set")(), "GOGC in the environment wins")
}
