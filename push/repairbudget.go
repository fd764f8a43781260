package push

import "time"

// Repair after a hash failure (SECURITY.md, "insider forged shards"):
// shards carry only a MAC every key holder can make, so an insider who
// spoofs the sender's address can spoil a block with one forged shard,
// and each spoiled block costs a NACK for the whole block and K repair
// shards to every receiver. Until shards can be verified one by one,
// the receiver limits what such failures may ask for: a failed block is
// NACKed again only after a back-off that doubles with each failure
// (StatusEvery, 2x, 4x ... up to failBackoffMax), and all failed blocks
// together share failNacksPerSec. Honest loss is unaffected: it never
// fails a hash.
const (
	failNacksPerSec = 16
	failNacksBurst  = 32
	failBackoffMax  = 2 * time.Second
	maxHashFailed   = 4096 // blocks tracked; more are NACKed as usual
)

// hashFailure is the repair state of one block whose rebuild failed.
type hashFailure struct {
	count int
	next  time.Time // not NACKed before
}

// noteHashFailure records that block b failed its hash at now (mu held).
func (s *rsession) noteHashFailure(b uint32, now time.Time) {
	f, ok := s.hashFailed[b]
	if !ok && len(s.hashFailed) >= maxHashFailed {
		return
	}
	f.count++
	f.next = now.Add(min(s.r.cfg.StatusEvery<<min(f.count, 16), failBackoffMax))
	s.hashFailed[b] = f
}

// mayNackFailed reports whether block b may be NACKed now (mu held):
// always unless it failed its hash, then only past its back-off and
// within the shared budget.
func (s *rsession) mayNackFailed(b uint32, now time.Time) bool {
	f, ok := s.hashFailed[b]
	if !ok {
		return true
	}
	if now.Before(f.next) || !s.failBudget.take(now) {
		return false
	}
	f.next = now.Add(min(s.r.cfg.StatusEvery<<min(f.count, 16), failBackoffMax))
	s.hashFailed[b] = f
	return true
}

// tokenBucket allows rate events per second with bursts of burst. The
// clock is passed in. Not safe for concurrent use.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newTokenBucket(rate, burst float64, now time.Time) tokenBucket {
	return tokenBucket{rate: rate, burst: burst, tokens: burst, last: now}
}

func (b *tokenBucket) take(now time.Time) bool {
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(b.burst, b.tokens+d*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
