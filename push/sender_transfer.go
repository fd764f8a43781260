package push

import (
	"context"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// feedbackPoll is how long the sender waits for a status when it has
// nothing to send.
const feedbackPoll = 20 * time.Millisecond

// transfer sends the manifest, the first pass of every block with
// proactive parity, then repairs (and carousel rounds) until every
// receiver is done or given up on.
func (s *sender) transfer(ctx context.Context) error {
	if err := s.deliverManifest(ctx); err != nil {
		return err
	}
	skip := s.table.resumedPrefix()
	s.debug("manifest delivered", "skip", skip)
	lastAnnounce := s.n.Now()
	firstPassShards := 0
	repairBudget := 0.0
	for w := skip; w < s.layout.blocks; w += interleave {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Receivers behind a bad path must not hold back the rest: repair
		// gets a share of what the first pass sends, the remainder waits
		// until after it.
		sent, err := s.serviceRepairs(ctx, int(repairBudget))
		if err != nil {
			return err
		}
		repairBudget -= float64(sent)
		end := min(w+interleave, s.layout.blocks)
		n, err := s.sendWindow(ctx, w, end)
		if err != nil {
			return err
		}
		firstPassShards += n
		repairBudget += repairShareFirstPass * float64(n)
		s.announce.Sent = uint32(end)
		s.drainStatuses()
		s.adapt()
		if now := s.n.Now(); now.Sub(lastAnnounce) > announceEvery {
			s.sendAnnounce()
			lastAnnounce = now
			s.progress()
		}
	}
	s.table.firstPassEnd = s.n.Now()
	s.debug("first pass sent", "shards", firstPassShards, "parity", s.parity, "rate", s.rc.rate())
	s.announce.Sent = uint32(s.layout.blocks)
	s.sendAnnounce() // tells receivers to ask for everything they lack now
	return s.finish(ctx)
}

// deliverManifest sends the manifest and repairs it until every
// registered receiver reports it has it (state receiving), or for at most
// manifestWait: data sent before a receiver has the manifest is wasted on
// it, and its status then tells which blocks it already holds (resume).
func (s *sender) deliverManifest(ctx context.Context) error {
	if err := s.sendManifest(ctx, nil); err != nil {
		return err
	}
	deadline := s.n.Now().Add(manifestWait)
	for s.n.Now().Before(deadline) {
		s.drainStatuses()
		if !s.table.manifestPending() {
			return nil
		}
		if err := s.resendManifest(ctx); err != nil {
			return err
		}
		if err := s.waitStatus(ctx); err != nil {
			return err
		}
	}
	return nil
}

// waitStatus handles the next status, or returns after feedbackPoll.
func (s *sender) waitStatus(ctx context.Context) error {
	t := time.NewTimer(feedbackPoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case m := <-s.statuses:
		s.handleStatus(m)
	case <-t.C:
	}
	return nil
}

// resendManifest sends the manifest chunks receivers asked for again.
func (s *sender) resendManifest(ctx context.Context) error {
	if len(s.manifestNeed) == 0 {
		return nil
	}
	need := s.manifestNeed
	s.manifestNeed = nil
	return s.sendManifest(ctx, need)
}

// sendManifest sends every manifest chunk, or only those listed.
func (s *sender) sendManifest(ctx context.Context, only []uint32) error {
	send := func(i int) error {
		p := s.manifest[i]
		if err := s.pacer.Wait(ctx, len(p)); err != nil {
			return err
		}
		s.out.wire += int64(len(p))
		_, err := s.out.conn.WriteBatch([][]byte{p}, s.out.data)
		return err
	}
	if only == nil {
		for i := range s.manifest {
			if err := send(i); err != nil {
				return err
			}
		}
		return nil
	}
	for _, i := range only {
		if int(i) < len(s.manifest) {
			if err := send(int(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendWindow sends blocks [from, to) with their proactive parity,
// shard-major so a loss burst hits many blocks once each rather than
// one block many times. It returns the shards sent.
func (s *sender) sendWindow(ctx context.Context, from, to int) (int, error) {
	var shards [interleave][][]byte
	for b := from; b < to; b++ {
		d, err := s.block(b)
		if err != nil {
			return 0, err
		}
		shards[b-from] = d
	}
	parity := s.parity
	most := s.layout.full.K() + parity
	sent := 0
	if err := s.windowShardLists(ctx, from, to, parity, shards[:]); err != nil { // shardauth_wire.go: signed hashes first
		return sent, err
	}
	for idx := 0; idx < most; idx++ {
		for b := from; b < to; b++ {
			if idx >= s.layout.blockK(b)+parity {
				continue
			}
			if err := s.queueShard(ctx, b, idx, shards[b-from]); err != nil {
				return sent, err
			}
			sent++
		}
	}
	for b := from; b < to; b++ {
		s.out.nextIdx[b] = uint16(s.layout.blockK(b) + parity)
		s.sentBytes += int64(s.layout.blockLen(b))
	}
	return sent, s.flush(ctx)
}

// serviceRepairs sends up to budget fresh shards receivers asked for
// (lowest block first; the rest stays queued) and the manifest chunks
// asked for again. It returns the repair shards sent.
func (s *sender) serviceRepairs(ctx context.Context, budget int) (int, error) {
	if err := s.resendManifest(ctx); err != nil {
		return 0, err
	}
	sent := 0
	for sent < budget {
		b, count, ok := s.repairs.pop()
		if !ok {
			break
		}
		if count > budget-sent {
			s.repairs.want(b, count-(budget-sent))
			count = budget - sent
		}
		d, err := s.block(b)
		if err != nil {
			return sent, err
		}
		if err := s.sendShardLists(ctx, b, int(s.out.nextIdx[b]), count, d); err != nil { // shardauth_wire.go
			return sent, err
		}
		for range count {
			idx := int(s.out.nextIdx[b])
			if err := s.queueShard(ctx, b, idx, d); err != nil {
				return sent, err
			}
			s.out.nextIdx[b] = uint16((idx + 1) % (protocol.MaxK * 2))
			s.repairN++
			sent++
		}
	}
	return sent, s.flush(ctx)
}

// finish repairs until every receiver is complete, refused, silent or
// given up on; with a carousel it keeps cycling fresh shards meanwhile.
// Repair goes in rounds of at most repairPerRound shards, so announces
// and feedback keep flowing even at a low rate.
func (s *sender) finish(ctx context.Context) error {
	carouselEnd := s.n.Now().Add(s.cfg.Carousel)
	lastAnnounce := time.Time{}
	cursor := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := s.n.Now()
		if now.Sub(lastAnnounce) > announceEvery {
			s.sendAnnounce()
			lastAnnounce = now
			s.progress()
		}
		s.drainStatuses()
		s.adapt()
		if _, err := s.serviceRepairs(ctx, repairPerRound); err != nil {
			return err
		}
		carousel := s.cfg.Carousel > 0 && now.Before(carouselEnd)
		if s.table.settled(now) && !carousel { // repairs still queued serve nobody
			s.dataEnd = s.n.Now()
			return nil
		}
		if carousel && s.layout.blocks > 0 {
			// One fresh shard for a few blocks at a time, round robin.
			for range interleave {
				b := cursor % s.layout.blocks
				cursor++
				d, err := s.block(b)
				if err != nil {
					return err
				}
				if err := s.sendShardLists(ctx, b, int(s.out.nextIdx[b]), 1, d); err != nil { // shardauth_wire.go
					return err
				}
				if err := s.queueShard(ctx, b, int(s.out.nextIdx[b]), d); err != nil {
					return err
				}
				s.out.nextIdx[b] = uint16((int(s.out.nextIdx[b]) + 1) % (protocol.MaxK * 2))
			}
			if err := s.flush(ctx); err != nil {
				return err
			}
			continue
		}
		if s.repairs.empty() {
			if err := s.waitStatus(ctx); err != nil {
				return err
			}
		}
	}
}
