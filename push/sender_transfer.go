package push

import (
	"context"
	"slices"
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
		s.unicastWindow(w, end, true) // unicast_share.go: does this window go to unicast receivers now?
		n, err := s.sendWindow(ctx, w, end, false)
		s.unicastWindow(w, end, false)
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
	s.unicastProgress(true) // unicast_share.go: unicast receivers get their repair whole from now on
	s.debug("first pass sent", "shards", firstPassShards, "parity", s.parity, "rate", s.rc.rate())
	s.announce.Sent = uint32(s.layout.blocks)
	s.sendAnnounce() // tells receivers to ask for everything they lack now
	for range firstPassDoneCopies - 1 {
		s.sendAnnounceAlone()
	}
	return s.finish(ctx)
}

// deliverManifest sends the manifest and repairs it until every
// registered receiver reports it has it (state receiving), or for at most
// manifestWait: data sent before a receiver has the manifest is wasted on
// it, and its status then tells which blocks it already holds (resume).
func (s *sender) deliverManifest(ctx context.Context) error {
	for pass := range s.manifestCopies() {
		if pass > 0 {
			// After a status or a poll, not back to back: the lab's loss
			// rule (and a congested queue) drops a train whole, and two
			// passes written together travel as one.
			if err := s.waitStatus(ctx); err != nil {
				return err
			}
			if s.drainStatuses(); !s.table.manifestPending() {
				return nil
			}
		}
		if err := s.sendManifest(ctx, nil); err != nil {
			return err
		}
	}
	s.manifestNeed = s.manifestNeed[:0] // the passes answered what was asked so far
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

// manifestCopies is how many times the manifest goes out before any
// chunk is asked for: twice (two passes, so one lost train does not take
// a chunk's both copies) up to manifestTwiceMax, else once. The room
// idles until every receiver holds the manifest: with one copy a
// receiver at 10 % loss lacked a chunk in 5 of 6 pushes and the room
// waited 60-250 ms more for its NACK round; the second copy of a 20 KiB
// manifest is 0.04 % of a 50 MB push.
func (s *sender) manifestCopies() int {
	if int(s.announce.ManifestLen) <= manifestTwiceMax {
		return 2
	}
	return 1
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
	// Receivers that lost the same chunk each ask for it: one copy goes.
	slices.Sort(s.manifestNeed)
	need := slices.Compact(s.manifestNeed)
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
// one block many times. It returns the shards sent. again is the unicast
// pass (unicast_share.go) sending a window a second time: its fresh
// indexes and progress stay as they are.
func (s *sender) sendWindow(ctx context.Context, from, to int, again bool) (int, error) {
	var shards [interleave]blockShards
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
			if err := s.queueShard(ctx, b, idx, shards[b-from].shards); err != nil {
				return sent, err
			}
			sent++
		}
	}
	for b := from; b < to; b++ {
		if again {
			s.out.nextIdx[b] = max(s.out.nextIdx[b], uint16(s.layout.blockK(b)+parity))
			continue
		}
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
		group := s.popRepairGroup(budget - sent)
		if len(group) == 0 {
			break
		}
		n, err := s.sendRepairGroup(ctx, group)
		sent += n
		s.repairN += int64(n)
		if err != nil {
			return sent, err
		}
	}
	return sent, s.flush(ctx)
}

// repairRun is the fresh shards one block gets in a repair group.
type repairRun struct {
	block, first, count int
	data                [][]byte
}

// popRepairGroup takes up to interleave blocks' repairs off the queue,
// lowest first, budget shards in all (a block cut short keeps the rest
// queued).
func (s *sender) popRepairGroup(budget int) []repairRun {
	var group []repairRun
	for len(group) < interleave && budget > 0 {
		b, count, ok := s.repairs.pop()
		if !ok {
			break
		}
		if count > budget {
			s.repairs.want(b, count-budget)
			count = budget
		}
		budget -= count
		group = append(group, repairRun{block: b, count: count})
	}
	return group
}

// sendRepairGroup sends a group's fresh shards (a repair round's, or a
// carousel round's) as the first pass sends a window: every block's hash
// lists first (shardauth_wire.go), then the shards index-major, one
// fresh shard of each block in turn. A block's
// repair sent as one run is lost whole to a single lost train or burst
// (the lab's loss rule drops GRO-merged runs together); interleaved, a
// burst costs each block a shard or two, which the padding covers.
func (s *sender) sendRepairGroup(ctx context.Context, group []repairRun) (int, error) {
	var lists [][]byte
	most := 0
	now := s.n.Now().UnixNano()
	for i := range group {
		r := &group[i]
		d, err := s.block(r.block) // the cache holds 4 windows: a group's blocks stay in it
		if err != nil {
			return 0, err
		}
		r.data, r.first = d.shards, int(s.out.nextIdx[r.block])
		l, err := s.lister.lists(s.layout.code(r.block), uint32(r.block), r.first, r.count, d)
		if err != nil {
			return 0, err
		}
		lists = append(lists, l...)
		// In flight from now on (handleNack): statuses handled while the
		// group goes out must not ask for it again.
		s.out.nextIdx[r.block] = uint16((r.first + r.count) % (protocol.MaxK * 2))
		s.out.lastSent[r.block] = now
		most = max(most, r.count)
	}
	if err := s.sendListCopies(ctx, lists); err != nil {
		return 0, err
	}
	sent := 0
	for i := range most {
		for _, r := range group {
			if i >= r.count {
				continue
			}
			if err := s.queueShard(ctx, r.block, r.first+i, r.data); err != nil {
				return sent, err
			}
			sent++
		}
	}
	return sent, nil
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
			group := make([]repairRun, 0, interleave)
			for range interleave {
				group = append(group, repairRun{block: cursor % s.layout.blocks, count: 1})
				cursor++
			}
			if _, err := s.sendRepairGroup(ctx, group); err != nil {
				return err
			}
			if err := s.flush(ctx); err != nil {
				return err
			}
			continue
		}
		// One window unicast receivers did not get in the first pass per
		// round of repair (unicast_share.go): beside the repair, not after
		// it, since a unicast receiver's own NACKs keep the queue busy and
		// its missing windows would never come.
		window, err := s.unicastPass(ctx)
		if err != nil {
			return err
		}
		if s.repairs.empty() && !window {
			if err := s.waitStatus(ctx); err != nil {
				return err
			}
		}
	}
}
