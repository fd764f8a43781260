package push

import (
	"encoding/hex"
	"sort"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
)

// repairQueue holds, per block, how many fresh shards are owed. Bounded
// by the block count; pops in block order so the oldest holes close first.
type repairQueue struct {
	need  map[int]int
	order []int
}

func newRepairQueue(blocks int) *repairQueue { return &repairQueue{need: map[int]int{}} }

func (q *repairQueue) want(b, n int) {
	if old, ok := q.need[b]; ok {
		q.need[b] = max(old, n)
		return
	}
	q.need[b] = n
	q.order = append(q.order, b)
}

func (q *repairQueue) pop() (b, n int, ok bool) {
	if len(q.order) == 0 {
		return 0, 0, false
	}
	sort.Ints(q.order)
	b = q.order[0]
	q.order = q.order[1:]
	n = q.need[b]
	delete(q.need, b)
	return b, n, true
}

func (q *repairQueue) empty() bool { return len(q.order) == 0 }

// blockCache keeps the data shards of recently used blocks, so repairs
// of recent blocks do not re-read the disk. Fixed size: it never grows.
type blockCache struct {
	slots []cacheSlot
	tick  uint64
}

type cacheSlot struct {
	block  int
	used   uint64
	buf    []byte
	shards [][]byte
}

func newBlockCache(n, blockSize int) *blockCache {
	c := &blockCache{slots: make([]cacheSlot, n)}
	for i := range c.slots {
		c.slots[i] = cacheSlot{block: -1, buf: make([]byte, blockSize)}
	}
	return c
}

// get returns block b's data shards (zero padded), reading it if needed.
func (c *blockCache) get(s *sender, b int) ([][]byte, error) {
	c.tick++
	victim := 0
	for i := range c.slots {
		if c.slots[i].block == b {
			c.slots[i].used = c.tick
			return c.slots[i].shards, nil
		}
		if c.slots[i].used < c.slots[victim].used {
			victim = i
		}
	}
	sl := &c.slots[victim]
	n := s.blockLen(b)
	sl.block = -1
	if _, err := s.src.ReadAt(sl.buf[:n], int64(b)*int64(s.bsize)); err != nil {
		return nil, err
	}
	shards, err := s.code(b).Split(sl.shards[:0], sl.buf, n)
	if err != nil {
		return nil, err
	}
	sl.block, sl.used, sl.shards = b, c.tick, shards
	return shards, nil
}

// batch is a reusable set of packet buffers for one WriteBatch.
type batch struct {
	bufs    [][]byte
	pkts    [][]byte
	n       int
	size    int
	scratch []byte
}

func newBatch(n int) *batch {
	b := &batch{bufs: make([][]byte, n), pkts: make([][]byte, 0, n), scratch: make([]byte, protocol.MaxShardSize)}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, 0, protocol.MaxDatagram)
	}
	return b
}

func (b *batch) next() []byte      { return b.bufs[b.n][:0] }
func (b *batch) push(p []byte)     { b.pkts = append(b.pkts, p); b.n++; b.size += len(p) }
func (b *batch) full() bool        { return b.n == len(b.bufs) }
func (b *batch) len() int          { return b.n }
func (b *batch) bytes() int        { return b.size }
func (b *batch) packets() [][]byte { return b.pkts }
func (b *batch) reset()            { b.pkts = b.pkts[:0]; b.n = 0; b.size = 0 }

// rateControl is the auto rate (SPEC.md §6.7): it grows 25 % every 100 ms
// until the first congestion and 5 % after it, while the worst reported loss stays within 5 points of the lowest loss
// seen in the last 3 s (random loss the FEC absorbs), and when it is above
// that in two samples in a row, or 15 points above it once (congestion),
// it cuts the rate to what got
// through, at least by 15 %. Not safe for concurrent use.
type rateControl struct {
	fixed   bool
	rate    float64
	max     float64
	last    time.Time
	start   time.Time
	history [30]lossSample // the last 3 s of samples
	n       int
	over    int  // consecutive samples above the baseline band
	cut     bool // congestion seen once: grow gently from now on
}

type lossSample struct {
	at   time.Time
	loss uint16
}

func newRateControl(fixed, ceiling float64) *rateControl {
	if fixed > 0 {
		return &rateControl{fixed: true, rate: fixed, max: fixed}
	}
	return &rateControl{rate: defaultRate, max: ceiling}
}

func (r *rateControl) current() float64 { return r.rate }

// baseline is the lowest loss (per mille) reported in the last 3 s.
func (r *rateControl) baseline() uint16 {
	base := uint16(1000)
	for _, s := range r.history[:min(r.n, len(r.history))] {
		if time.Since(s.at) < 3*time.Second {
			base = min(base, s.loss)
		}
	}
	return base
}

// steadyLoss is the loss (per mille) that FEC should cover: the latest
// worst loss, but at most 2 points above the baseline. Above that it is a
// burst or congestion, which parity sent later cannot undo (repair does)
// and the rate handles.
func (r *rateControl) steadyLoss(latest uint16) uint16 {
	if r.n == 0 {
		return latest
	}
	return min(latest, r.baseline()+20)
}

// update feeds the latest worst loss (per mille) while data flows; it
// reports a change of rate.
func (r *rateControl) update(loss uint16) bool {
	if time.Since(r.last) < 100*time.Millisecond {
		return false
	}
	r.last = time.Now()
	if r.start.IsZero() {
		r.start = r.last
	}
	if r.last.Sub(r.start) < 150*time.Millisecond {
		return false // the first reports describe intervals before data flowed
	}
	r.history[r.n%len(r.history)] = lossSample{at: r.last, loss: loss}
	r.n++
	if r.fixed {
		return false // the history still serves parity (steadyLoss)
	}
	base := r.baseline()
	old := r.rate
	if loss > base+50 {
		r.over++
	} else {
		r.over = 0
	}
	if r.over >= 2 || loss > base+150 { // one noisy interval is not congestion; a collapse is
		through := r.rate * (1 - float64(loss-base)/1000)
		r.rate = max(min(r.rate*0.85, through), 1e6)
		r.cut, r.over = true, 0
	} else if r.over == 0 {
		grow := 1.25 // until the first congestion, like TCP's slow start
		if r.cut {
			grow = 1.05
		}
		r.rate = min(r.rate*grow, r.max)
	}
	return r.rate != old
}

// report builds the per-receiver outcome.
func (s *sender) report() *Report {
	r := &Report{Session: hex.EncodeToString(s.sid[:]), Bytes: s.src.Size(), Elapsed: time.Since(s.start),
		WireBytes: s.wire, Repair: s.repairN, Expected: s.expected()}
	for _, p := range s.peers {
		rr := ReceiverReport{Name: p.name, Fingerprint: identity.Fingerprint(p.key[:]), Loss: float64(p.maxLoss) / 1000}
		if s.blocks > 0 {
			rr.Percent = 100 * float64(p.complete) / float64(s.blocks)
		}
		switch {
		case p.state == protocol.StateComplete:
			rr.Status, rr.Percent, rr.Elapsed = "complete", 100, p.done.Sub(s.start)
			r.Completed++
		case p.state == protocol.StateRefused:
			rr.Status, rr.Reason = "refused", reasonText(p.reason)
		case p.state == protocol.StateFailed:
			rr.Status, rr.Reason = "failed", reasonText(p.reason)
		case time.Since(p.heard) > silentAfter:
			rr.Status = "no answer"
		default:
			rr.Status = "partial"
		}
		r.Receivers = append(r.Receivers, rr)
	}
	for _, want := range s.cfg.Recipients {
		var k [32]byte
		copy(k[:], want.SignPub)
		if _, ok := s.peers[k]; !ok {
			r.Receivers = append(r.Receivers, ReceiverReport{Name: want.Name, Fingerprint: want.Fingerprint, Status: "no answer"})
		}
	}
	sort.Slice(r.Receivers, func(i, j int) bool { return r.Receivers[i].Name < r.Receivers[j].Name })
	return r
}

func reasonText(r byte) string {
	switch r {
	case protocol.ReasonUntrusted:
		return "does not trust this sender"
	case protocol.ReasonNoKey:
		return "cannot decrypt (not a recipient / channel not joined)"
	case protocol.ReasonDiskFull:
		return "not enough disk space"
	case protocol.ReasonWrite:
		return "write error"
	case protocol.ReasonTooLarge:
		return "exceeds receiver limits"
	case protocol.ReasonBusy:
		return "too many pushes at once"
	}
	return ""
}
