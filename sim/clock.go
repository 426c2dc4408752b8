package sim

import "time"

// clock is one node's view of time as a piecewise-linear function of virtual
// time: local = anchorLocal + (virtual - anchorVirt) * rate. Offsets and jumps
// move anchorLocal; drift changes rate from the current instant on.
type clock struct {
	anchorVirt  time.Duration
	anchorLocal time.Time
	anchorMono  time.Duration // the monotonic reading at anchorVirt: jumps leave it alone
	rate        float64       // 1 = perfect; 1.0001 = 100 ppm fast
}

func newClock(start time.Time) clock { return clock{anchorLocal: start, rate: 1} }

func (c *clock) now(virt time.Duration) time.Time {
	return c.anchorLocal.Add(time.Duration(float64(virt-c.anchorVirt) * c.rate))
}

// mono is the node's monotonic clock: it advances at the node's rate and
// never jumps.
func (c *clock) mono(virt time.Duration) time.Duration {
	return c.anchorMono + time.Duration(float64(virt-c.anchorVirt)*c.rate)
}

func (c *clock) reanchor(virt time.Duration) {
	c.anchorLocal = c.now(virt)
	c.anchorMono = c.mono(virt)
	c.anchorVirt = virt
}

// jump moves the clock by d (either direction) at virtual time virt.
func (c *clock) jump(virt, d time.Duration) {
	c.reanchor(virt)
	c.anchorLocal = c.anchorLocal.Add(d)
}

// setDrift sets the clock's rate error in parts per million from virt on.
func (c *clock) setDrift(virt time.Duration, ppm float64) {
	c.reanchor(virt)
	c.rate = 1 + ppm/1e6
}

// virtualDelay converts a node-time duration (what an actor asks After for)
// into virtual time at the current rate. Timers measure elapsed time like a
// monotonic clock: jumps do not move them, drift stretches them.
func (c *clock) virtualDelay(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	v := time.Duration(float64(d) / c.rate)
	if v <= 0 {
		v = 1
	}
	return v
}
