package multicast

import (
	"math/rand/v2"
	"time"
)

// DefaultQueueLen is a MemConn's receive queue length when Link.QueueLen
// is 0; about 5 MB of 1200-byte datagrams, like a generous socket buffer.
const DefaultQueueLen = 4096

// reorderHold is how long a datagram picked for reordering waits for the
// next datagram to the same Conn before it is delivered anyway, so a
// reordered last datagram is late, not lost.
const reorderHold = time.Millisecond

// Link describes the impairments a MemHost's receiving side applies to
// every datagram delivered to one of its Conns. Each receiver draws its
// own, independent decisions. Probabilities are clamped to [0, 1].
type Link struct {
	// Loss is the probability of losing a datagram outside a burst.
	Loss float64
	// BurstLoss is the probability, per datagram, of entering a loss burst
	// (Gilbert-Elliott "bad" state) in which every datagram is lost.
	BurstLoss float64
	// BurstLen is the mean number of datagrams lost per burst (geometric);
	// values below 1 mean 1.
	BurstLen int
	// Reorder is the probability that a datagram is held back and delivered
	// after the next datagram to the same Conn (or after 1 ms).
	Reorder float64
	// Duplicate is the probability that a datagram is delivered twice.
	Duplicate float64
	// QueueLen bounds each Conn's receive queue; datagrams arriving at a
	// full queue are dropped and counted. 0 means DefaultQueueLen.
	QueueLen int
}

// normalized clamps probabilities and fills defaults.
func (l Link) normalized() Link {
	for _, p := range []*float64{&l.Loss, &l.BurstLoss, &l.Reorder, &l.Duplicate} {
		*p = min(max(*p, 0), 1)
	}
	l.BurstLen = max(l.BurstLen, 1)
	if l.QueueLen <= 0 {
		l.QueueLen = DefaultQueueLen
	}
	return l
}

// fate is what a link does to one datagram on its way to one receiver.
type fate struct {
	lost      bool
	copies    int // 1, or 2 when duplicated
	reordered bool
}

// lossState is one receiver's Gilbert-Elliott state.
type lossState struct {
	inBurst bool
}

// decide draws the fate of one datagram. Draws happen only for non-zero
// probabilities, in a fixed order, so a run is reproducible from the seed
// and the order of sends.
func (s *lossState) decide(l Link, rng *rand.Rand) fate {
	if !s.inBurst && l.BurstLoss > 0 && rng.Float64() < l.BurstLoss {
		s.inBurst = true
	}
	if s.inBurst {
		// Leaving with probability 1/BurstLen after each lost datagram
		// makes the burst length geometric with mean BurstLen.
		if rng.Float64() < 1/float64(l.BurstLen) {
			s.inBurst = false
		}
		return fate{lost: true}
	}
	if l.Loss > 0 && rng.Float64() < l.Loss {
		return fate{lost: true}
	}
	f := fate{copies: 1}
	if l.Duplicate > 0 && rng.Float64() < l.Duplicate {
		f.copies = 2
	}
	if l.Reorder > 0 && rng.Float64() < l.Reorder {
		f.reordered = true
	}
	return f
}
