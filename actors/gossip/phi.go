package gossip

import (
	"math"
	"time"
)

// detector is a phi-accrual failure detector (Hayashibara et al.; the
// normal-distribution variant Akka uses). It keeps a window of the
// intervals between fresh heartbeats of one member and answers how
// suspicious the silence since the last one is: phi = -log10(P(a heartbeat
// arrives later than now)). phi 8 means the silence would happen by chance
// once in 10^8.
type detector struct {
	window    []float64 // intervals, seconds
	next      int
	last      time.Duration // monotonic (ctx.Elapsed)
	minStdDev float64       // seconds: floors the spread so a perfectly regular history does not make any jitter suspicious
	pause     float64       // seconds of silence accepted on top of the mean (GC pauses, a lost round)
}

const windowSize = 200

func newDetector(start time.Duration, interval, minStdDev, pause time.Duration) *detector {
	d := &detector{window: make([]float64, 0, windowSize), last: start,
		minStdDev: minStdDev.Seconds(), pause: pause.Seconds()}
	// Seed the history with the expected interval, so a member that never
	// sends anything is still suspected after a while.
	d.window = append(d.window, interval.Seconds(), interval.Seconds())
	return d
}

// heartbeat records the arrival of a fresh heartbeat at now.
func (d *detector) heartbeat(now time.Duration) {
	gap := (now - d.last).Seconds()
	d.last = now
	if gap <= 0 {
		return
	}
	if len(d.window) < windowSize {
		d.window = append(d.window, gap)
		return
	}
	d.window[d.next] = gap
	d.next = (d.next + 1) % windowSize
}

// phi is the suspicion level at now.
func (d *detector) phi(now time.Duration) float64 {
	var sum, sq float64
	for _, g := range d.window {
		sum += g
		sq += g * g
	}
	n := float64(len(d.window))
	mean := sum / n
	std := math.Sqrt(math.Max(sq/n-mean*mean, 0))
	std = math.Max(std, d.minStdDev)
	t := (now - d.last).Seconds()
	y := (t - (mean + d.pause)) / std
	// Logistic approximation of the normal CDF's tail (Akka's), accurate
	// to ~1e-4 and free of overflow for large y.
	e := math.Exp(-y * (1.5976 + 0.070566*y*y))
	if t > mean+d.pause {
		return -math.Log10(e / (1 + e))
	}
	return -math.Log10(1 - 1/(1+e))
}
