package presence

import (
	"math/rand/v2"
	"time"
)

// randDuration is uniform in [0, d). Jitter only spreads beacons out, so
// it needs no cryptographic randomness.
func randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d)))
}
