package message

import (
	"time"

	"github.com/herald-lan/herald/protocol"
)

// rateLimiter is a token bucket per sender, bounded in senders. Not safe
// for concurrent use: the engine's receive goroutine owns it.
type rateLimiter struct {
	rate       float64 // tokens per second
	burst      float64
	maxSenders int
	buckets    map[[protocol.SenderLen]byte]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), maxSenders: MaxRateSenders,
		buckets: make(map[[protocol.SenderLen]byte]*bucket)}
}

// allow takes one token from sender's bucket, reporting false when it is
// empty, or when the table is full of senders that are not idle.
func (l *rateLimiter) allow(sender [protocol.SenderLen]byte, now time.Time) bool {
	b, ok := l.buckets[sender]
	if !ok {
		if len(l.buckets) >= l.maxSenders && l.forgetIdle(now) == 0 {
			return false
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[sender] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *rateLimiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
}

// forgetIdle drops the buckets that have refilled completely: they hold
// no state a new bucket would not have. It returns how many.
func (l *rateLimiter) forgetIdle(now time.Time) int {
	n := 0
	for k, b := range l.buckets {
		if l.refill(b, now); b.tokens >= l.burst {
			delete(l.buckets, k)
			n++
		}
	}
	return n
}
