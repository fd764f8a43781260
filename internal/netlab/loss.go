package netlab

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Permille bounds for SetLoss.
const (
	NoLoss    = 0
	TotalLoss = 1000
)

// SetLoss replaces the loss rule of h's input chain: every incoming UDP
// datagram (multicast and unicast alike) is dropped with probability
// permille/1000, independently, by `meta l4proto udp numgen random mod 1000
// < permille drop`. 0 removes the rule, 1000 is a total outage. The
// replacement is one nft transaction, so no datagram sees an empty chain
// between two rules.
func (l *Lab) SetLoss(h Host, permille int) error {
	if permille < NoLoss || permille > TotalLoss {
		return fmt.Errorf("%w: loss %d permille not in 0..1000", ErrBadConfig, permille)
	}
	if err := l.member(h); err != nil {
		return err
	}
	if err := l.checkOpen(); err != nil {
		return err
	}
	var script strings.Builder
	fmt.Fprintf(&script, "flush chain inet %s input\n", NftTable)
	switch {
	case permille == TotalLoss: // numgen's range is 0..999, so "< 1000" is invalid
		fmt.Fprintf(&script, "add rule inet %s input meta l4proto udp counter drop\n", NftTable)
	case permille > 0:
		fmt.Fprintf(&script, "add rule inet %s input meta l4proto udp numgen random mod 1000 < %d counter drop\n", NftTable, permille)
	}
	_, err := run(context.Background(), l.log, strings.NewReader(script.String()), "ip", "netns", "exec", h.Name, "nft", "-f", "-")
	return err
}

// Burst describes Gilbert-style bursty loss produced by RunBurstLoss.
type Burst struct {
	// Permille is the long-run fraction of time in outage, 1..999.
	Permille int
	// MeanOutage is the mean length of one outage; outages and the good
	// periods between them are exponentially distributed.
	MeanOutage time.Duration
	// Seed makes the sequence repeatable; 0 picks a random one.
	Seed uint64
}

// minPeriod keeps timers meaningful: Go cannot sleep for microseconds and
// each toggle runs nft, which takes a few milliseconds.
const minPeriod = time.Millisecond

// RunBurstLoss toggles a 100% loss rule on h on and off until ctx ends,
// then removes it and returns nil (or the first nft error). Every toggle
// runs nft (a few ms), so outages are slightly longer than drawn, and the
// rule applies to all UDP arriving at h.
func (l *Lab) RunBurstLoss(ctx context.Context, h Host, b Burst) error {
	if b.Permille < 1 || b.Permille > 999 || b.MeanOutage < minPeriod {
		return fmt.Errorf("%w: burst %d permille, mean outage %v", ErrBadConfig, b.Permille, b.MeanOutage)
	}
	seed := b.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	meanGood := time.Duration(float64(b.MeanOutage) * float64(1000-b.Permille) / float64(b.Permille))
	draw := func(mean time.Duration) time.Duration {
		return max(time.Duration(rng.ExpFloat64()*float64(mean)), minPeriod)
	}
	timer := time.NewTimer(draw(meanGood))
	defer timer.Stop()
	outage := false
	for {
		select {
		case <-ctx.Done():
			return l.SetLoss(h, NoLoss)
		case <-timer.C:
		}
		outage = !outage
		next := meanGood
		permille := NoLoss
		if outage {
			next, permille = b.MeanOutage, TotalLoss
		}
		if err := l.SetLoss(h, permille); err != nil {
			return err
		}
		timer.Reset(draw(next))
	}
}
