package push

import (
	"context"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// transfer sends the manifest, the first pass of every block with
// proactive parity, then repairs (and carousel rounds) until every
// receiver is done or given up on.
func (s *sender) transfer(ctx context.Context) error {
	if err := s.deliverManifest(ctx); err != nil {
		return err
	}
	skip := s.resumedPrefix()
	s.debug("manifest delivered", "skip", skip)
	lastAnnounce := time.Now()
	for w := skip; w < s.blocks; w += interleave {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.serviceRepairs(ctx); err != nil {
			return err
		}
		if err := s.sendWindow(ctx, w, min(w+interleave, s.blocks)); err != nil {
			return err
		}
		s.announce.Sent = uint32(min(w+interleave, s.blocks))
		s.drainStatuses()
		s.adapt()
		if time.Since(lastAnnounce) > announceEvery {
			s.sendAnnounce()
			lastAnnounce = time.Now()
			s.progress()
		}
	}
	s.debug("first pass sent", "parity", s.parity, "rate", s.rate.current())
	s.announce.Sent = uint32(s.blocks)
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
	deadline := time.Now().Add(manifestWait)
	for time.Now().Before(deadline) {
		s.drainStatuses()
		ready := true
		for _, p := range s.peers {
			if p.state == protocol.StateJoined {
				ready = false
			}
		}
		if ready {
			return nil
		}
		if len(s.manifestNeed) > 0 {
			need := s.manifestNeed
			s.manifestNeed = nil
			if err := s.sendManifest(ctx, need); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-s.statuses:
			s.handleStatus(m)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// resumedPrefix is the number of leading blocks every registered
// receiver already holds (a resumed push skips them in the first pass).
func (s *sender) resumedPrefix() int {
	prefix := -1
	for _, p := range s.peers {
		if p.state == protocol.StateRefused {
			continue
		}
		if prefix < 0 || int(p.havePrefix) < prefix {
			prefix = int(p.havePrefix)
		}
	}
	return max(0, min(prefix, s.blocks))
}

// sendManifest sends every manifest chunk, or only those listed.
func (s *sender) sendManifest(ctx context.Context, only []uint32) error {
	send := func(i int) error {
		p := s.manifest[i]
		if err := s.pacer.Wait(ctx, len(p)); err != nil {
			return err
		}
		s.wire += int64(len(p))
		_, err := s.conn.WriteBatch([][]byte{p}, s.data)
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
// one block many times.
func (s *sender) sendWindow(ctx context.Context, from, to int) error {
	var shards [interleave][][]byte
	for b := from; b < to; b++ {
		d, err := s.cache.get(s, b)
		if err != nil {
			return err
		}
		shards[b-from] = d
		s.sentBytes += int64(s.blockLen(b))
	}
	parity := s.parity
	most := s.full.K() + parity
	for idx := 0; idx < most; idx++ {
		for b := from; b < to; b++ {
			bk := s.blockK(b)
			if idx >= bk+parity {
				continue
			}
			if err := s.queueShard(ctx, b, idx, shards[b-from]); err != nil {
				return err
			}
		}
	}
	for b := from; b < to; b++ {
		s.nextIdx[b] = uint16(s.blockK(b) + parity)
	}
	return s.flush(ctx)
}

func (s *sender) blockLen(b int) int {
	return int(min(int64(s.bsize), s.src.Size()-int64(b)*int64(s.bsize)))
}

// queueShard seals shard idx of block b (computing parity when idx is
// beyond the data shards) into the outgoing batch.
func (s *sender) queueShard(ctx context.Context, b, idx int, data [][]byte) error {
	idx %= protocol.MaxK * 2 // index space 0..255
	code := s.code(b)
	var shard []byte
	if idx < code.K() {
		shard = data[idx]
	} else {
		shard = s.out.scratch[:code.ShardSize()]
		if err := code.Parity(data, idx, [][]byte{shard}); err != nil {
			return err
		}
	}
	pkt := s.out.next()
	pkt = protocol.AppendDataHeader(pkt, s.sid, uint32(b), byte(idx))
	s.nonce = protocol.DataNonce(uint32(b), byte(idx))
	pkt = s.keys.data.Seal(pkt, s.nonce[:], shard, pkt[:protocol.DataHeaderLen])
	s.out.push(pkt)
	s.lastSent[b] = time.Now().UnixNano()
	if s.out.full() {
		return s.flush(ctx)
	}
	return nil
}

func (s *sender) flush(ctx context.Context) error {
	if s.out.len() == 0 {
		return nil
	}
	if err := s.pacer.Wait(ctx, s.out.bytes()); err != nil {
		return err
	}
	pkts := s.out.packets()
	s.wire += int64(s.out.bytes())
	if time.Since(s.lastAdapt) >= 50*time.Millisecond {
		s.lastAdapt = time.Now()
		s.drainStatuses()
		s.adapt()
	}
	_, err := s.conn.WriteBatch(pkts, s.data)
	s.out.reset()
	return err
}

// serviceRepairs sends the fresh shards receivers asked for.
func (s *sender) serviceRepairs(ctx context.Context) error {
	if len(s.manifestNeed) > 0 {
		need := s.manifestNeed
		s.manifestNeed = nil
		if err := s.sendManifest(ctx, need); err != nil {
			return err
		}
	}
	for {
		b, count, ok := s.repairs.pop()
		if !ok {
			break
		}
		d, err := s.cache.get(s, b)
		if err != nil {
			return err
		}
		for range count {
			idx := int(s.nextIdx[b])
			if err := s.queueShard(ctx, b, idx, d); err != nil {
				return err
			}
			s.nextIdx[b] = uint16((idx + 1) % (protocol.MaxK * 2))
			s.repairN++
		}
	}
	return s.flush(ctx)
}

// finish repairs until every receiver is complete, refused, silent or
// given up on; with a carousel it keeps cycling fresh shards meanwhile.
func (s *sender) finish(ctx context.Context) error {
	carouselEnd := time.Now().Add(s.cfg.Carousel)
	lastAnnounce := time.Time{}
	cursor := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Since(lastAnnounce) > announceEvery {
			s.sendAnnounce()
			lastAnnounce = time.Now()
			s.progress()
		}
		s.drainStatuses()
		s.adapt()
		if err := s.serviceRepairs(ctx); err != nil {
			return err
		}
		carousel := s.cfg.Carousel > 0 && time.Now().Before(carouselEnd)
		if s.settled() && !carousel {
			return nil
		}
		if carousel && s.blocks > 0 {
			// One fresh shard for a few blocks at a time, round robin.
			for range interleave {
				b := cursor % s.blocks
				cursor++
				d, err := s.cache.get(s, b)
				if err != nil {
					return err
				}
				if err := s.queueShard(ctx, b, int(s.nextIdx[b]), d); err != nil {
					return err
				}
				s.nextIdx[b] = uint16((int(s.nextIdx[b]) + 1) % (protocol.MaxK * 2))
			}
			if err := s.flush(ctx); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
		case m := <-s.statuses:
			s.handleStatus(m)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
