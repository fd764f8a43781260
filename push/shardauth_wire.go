package push

import (
	"context"
	"math"

	"github.com/herald-lan/herald/fec"
)

// The wiring of shard authentication (SPEC.md §6.5.1) into the sender and
// the receiving session, kept apart from both so their own files change
// by a line or two.

// Hash lists go twice (listCopiesTwice), three times while some
// receiver's path loses listCopiesLossy or more, and once while every
// receiver's path is known and loses less than listCopiesClean. A list
// lost with all its copies costs that receiver every shard of the block
// it covers (dropped unchecked, repaired whole): 4 % of blocks at 20 %
// loss with two copies, 0.8 % with three, for 1.3 % more wire; below
// 0.2 % loss one copy costs at most 0.2 % of blocks and saves 1.3 % of
// the wire (on a 100 Mbit/s link, 1.3 % of the time).
const (
	listCopiesOnce  = 1
	listCopiesTwice = 2
	listCopiesMax   = 3
	listCopiesLossy = 0.10
	listCopiesClean = 0.002
	// listLossBudget and listCopiesRoomMax: roomListCopies.
	listLossBudget    = 2.0
	listCopiesRoomMax = 4
)

// roomListCopies is how many copies of each list a room needs: the least
// c (at most listCopiesRoomMax) with K·Σ p_i^c ≤ listLossBudget over the
// receivers' path losses p_i, the shards a block can expect to be sent
// again for receivers that lost every copy of its list. The rule at the
// top of this file looks at the worst receiver; a room of a thousand at
// 5 % lost both copies at 2.5 receivers a block, and each such block went
// again whole: half the simulation's repair. Receivers whose path loss is
// not known yet count as the known ones do on average: a large group's
// first statuses are spread over seconds, so for its whole first pass most
// of its paths are unknown, and counting only the known ones sent lists
// twice to a thousand receivers at 5 %.
func roomListCopies(k int, losses []float64, unknown int) int {
	if len(losses) == 0 {
		return listCopiesOnce
	}
	room := float64(len(losses)+unknown) / float64(len(losses))
	for c := listCopiesOnce; c < listCopiesRoomMax; c++ {
		resend := 0.0
		for _, p := range losses {
			resend += math.Pow(p, float64(c))
		}
		if float64(k)*resend*room <= listLossBudget {
			return c
		}
	}
	return listCopiesRoomMax
}

// listCopiesFor is how many copies of each list to send for k data
// shards a block, given the known path losses of the receivers, sorted,
// and how many receivers have none known yet: what the worst path needs,
// and at least what the room needs.
func listCopiesFor(k int, sortedLosses []float64, unknown int) int {
	return max(worstPathCopies(sortedLosses, unknown), roomListCopies(k, sortedLosses, unknown))
}

// worstPathCopies is the copies the worst known path needs (the rule at
// the top of this file).
func worstPathCopies(sortedLosses []float64, unknown int) int {
	n := len(sortedLosses)
	switch {
	case n > 0 && sortedLosses[n-1] >= listCopiesLossy:
		return listCopiesMax
	case n > 0 && unknown == 0 && sortedLosses[n-1] < listCopiesClean:
		return listCopiesOnce
	}
	return listCopiesTwice
}

// windowShardLists signs and sends the hash lists of the first pass of
// blocks [from, to) with parity proactive parity shards, after the seal
// over them, in one batch and then its copy.
func (s *sender) windowShardLists(ctx context.Context, from, to, parity int, shards []blockShards) error {
	var lists [][]byte
	for b := from; b < to; b++ {
		l, err := s.lister.lists(s.layout.code(b), uint32(b), 0, s.layout.blockK(b)+parity, shards[b-from])
		if err != nil {
			return err
		}
		lists = append(lists, l...)
	}
	seals, err := s.lister.seals(lists) // ahead of the lists they cover (§6.5.2)
	if err != nil {
		return err
	}
	return s.sendListCopies(ctx, append(seals, lists...))
}

// sendListCopies sends lists, then the same lists again in separate
// writes (listCopies in all): separate writes are separate GSO trains, so
// one lost train (or datagram) does not take every copy, and all precede
// the shards they cover.
func (s *sender) sendListCopies(ctx context.Context, lists [][]byte) error {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	for range s.listCopies {
		if err := s.pacer.Wait(ctx, n); err != nil {
			return err
		}
		s.out.wire += int64(n)
		if _, err := s.out.conn.WriteBatch(lists, s.out.data); err != nil {
			return err
		}
	}
	return nil
}

// onShardHashes takes a hash list from the data group (mu held).
func (s *rsession) onShardHashes(b []byte) {
	if s.auth.onList(b, s.sender, s.sid, s.a.Blocks, s.blockVerified) == listRejected {
		s.rejected++
	}
}

// onListSeal takes a list seal from the data group (mu held).
func (s *rsession) onListSeal(b []byte) {
	if s.auth.onSeal(b, s.sender, s.sid) == listRejected {
		s.rejected++
	}
}

func (s *rsession) blockVerified(b uint32) bool { return s.sink != nil && s.sink.Has(int(b)) }

// shardVerdict says whether a shard whose tag verified may enter the
// decoder (signed: its hash is the one the sender signed), and whether it
// counts as delivered at all (mu held). A forged shard is counted as
// rejected and not delivered; one with no signed hash yet (its list was
// lost) was delivered but is dropped, and asked for again by NACK.
func (s *rsession) shardVerdict(block uint32, index byte, shard []byte) (signed, delivered bool) {
	switch s.auth.check(block, index, shard) {
	case shardSigned:
		return true, true
	case shardForged:
		s.rejected++
		return false, false
	default:
		s.dropped++
		return false, true
	}
}

// rebuiltSigned reports whether every data shard of block that the
// decoder rebuilt (indexes rebuilt, in a) has a signed hash held for it
// and matches it (mu held). Shards that arrived were checked on arrival.
func (s *rsession) rebuiltSigned(block uint32, rebuilt []int, a *fec.Assembler) bool {
	shards, err := a.Reconstruct() // decoded already: returns the shards
	if err != nil {
		return false
	}
	for _, i := range rebuilt {
		if s.auth.check(block, byte(i), shards[i]) != shardSigned {
			return false
		}
	}
	return true
}
