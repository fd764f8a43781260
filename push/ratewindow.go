package push

import "time"

// rateWindow is how far back arrival and send rates are measured: two to
// three status periods (100 ms each), so one late status does not swing
// them much, yet a rate that just rose shows within a tick or two.
const rateWindow = 300 * time.Millisecond

// counterLog keeps recent (time, cumulative count) points so a rate over
// the last rateWindow can be read at any moment. Fixed size; the oldest
// point is overwritten. Not safe for concurrent use.
type counterLog struct {
	at    [16]time.Time
	count [16]uint64
	n     int
}

// add records count at now; points closer than minGap to the last one
// replace it, so a burst of calls does not push history out.
func (c *counterLog) add(now time.Time, count uint64, minGap time.Duration) {
	if c.n > 0 {
		last := (c.n - 1) % len(c.at)
		if now.Sub(c.at[last]) < minGap {
			c.count[last] = count
			return
		}
	}
	i := c.n % len(c.at)
	c.at[i], c.count[i] = now, count
	c.n++
}

// rate is the count per second between the oldest point within rateWindow
// of now and the newest, or 0 when fewer than two points span at least
// half the window.
func (c *counterLog) rate(now time.Time) float64 {
	if c.n < 2 {
		return 0
	}
	newest := (c.n - 1) % len(c.at)
	oldest := -1
	for k := 1; k < min(c.n, len(c.at)); k++ {
		i := (c.n - 1 - k) % len(c.at)
		if now.Sub(c.at[i]) > rateWindow {
			break
		}
		oldest = i
	}
	if oldest < 0 {
		return 0
	}
	span := c.at[newest].Sub(c.at[oldest])
	if span < rateWindow/2 {
		return 0
	}
	return float64(c.count[newest]-c.count[oldest]) / span.Seconds()
}
