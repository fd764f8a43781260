package push

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// blockedWrite is how long a WriteBatch may take before the time counts
// as blocked: a batch normally goes out in well under a millisecond, so
// longer means the socket's send buffer (or the qdisc behind it) is full.
const blockedWrite = 2 * time.Millisecond

// shardOutput is the sender's shard output: the data socket, the batch
// being filled, the cache of recently read blocks, and per block the next
// fresh shard index and when a shard of it last left. Owned by the
// sender's run goroutine; not safe for concurrent use.
type shardOutput struct {
	nonce    [12]byte // the shard being sealed; a field, since a local passed to the AEAD escapes (one allocation a datagram)
	conn     multicast.Conn
	data     netip.AddrPort // the session's data group
	batch    *batch
	cache    *blockCache
	nextIdx  []uint16 // next shard index to send, per block
	lastSent []int64  // unix nanos of the last send, per block

	wire int64 // UDP payload bytes written, every kind
	// wireAtSample is wire at the last send sample.
	wireAtSample int64
	written      int64         // data bytes written since the last send sample
	count        int64         // ... and datagrams
	total        uint64        // datagrams written, ever
	sends        counterLog    // total over time
	blocked      time.Duration // time blocked in writes since the last send sample
}

func newShardOutput(conn multicast.Conn, data netip.AddrPort, l layout) *shardOutput {
	return &shardOutput{conn: conn, data: data, batch: newBatch(batchLen), cache: newBlockCache(interleave*4, l.blockSize()),
		nextIdx: make([]uint16, l.blocks), lastSent: make([]int64, l.blocks)}
}

// takeSendSample returns what was written and blocked since the last call,
// and the rate written over the last rateWindow.
func (o *shardOutput) takeSendSample(now time.Time) sendSample {
	s := sendSample{bytes: o.written, blocked: o.blocked, rate: o.sends.rate(now)}
	if o.count > 0 {
		// Every byte paced (hash lists, manifest chunks: 3.5 % more at
		// the default K) per shard datagram: the rates derived from shards
		// counted at receivers are then rates of the whole stream. Counted
		// by shard bytes alone, what got through read 3.5 % below the
		// link, and a cut to it left a 100 Mbit/s link idle.
		s.perDatagram = float64(o.wire-o.wireAtSample) / float64(o.count)
	}
	o.written, o.count, o.blocked, o.wireAtSample = 0, 0, 0, o.wire
	return s
}

// queueShard seals shard idx of block b (computing parity when idx is
// beyond the data shards) into the outgoing batch, flushing a full batch.
func (s *sender) queueShard(ctx context.Context, b, idx int, data [][]byte) error {
	o := s.out
	idx %= protocol.MaxK * 2 // index space 0..255
	code := s.layout.code(b)
	var shard []byte
	if idx < code.K() {
		shard = data[idx]
	} else {
		shard = o.batch.scratch[:code.ShardSize()]
		if err := code.Parity(data, idx, [][]byte{shard}); err != nil {
			return err
		}
	}
	pkt := o.batch.next()
	pkt = protocol.AppendDataHeader(pkt, s.sid, uint32(b), byte(idx))
	o.nonce = protocol.DataNonce(uint32(b), byte(idx))
	pkt = s.keys.data.Seal(pkt, o.nonce[:], shard, pkt[:protocol.DataHeaderLen])
	o.batch.push(pkt)
	o.lastSent[b] = s.n.Now().UnixNano()
	if o.batch.full() {
		return s.flush(ctx)
	}
	return nil
}

// flush paces and writes the batch; between batches it looks at the
// feedback, so the rate follows the receivers within a tick.
func (s *sender) flush(ctx context.Context) error {
	o := s.out
	if o.batch.len() == 0 {
		return nil
	}
	if err := s.pacer.Wait(ctx, pacedBytes(o.conn, o.batch.bytes())); err != nil {
		return err
	}
	s.drainStatuses()
	s.adapt()
	if s.dataStart.IsZero() {
		s.dataStart = s.n.Now()
	}
	before := time.Now() // wall time: how long the kernel kept us, whatever the node's clock says
	_, err := o.conn.WriteBatch(o.batch.packets(), o.data)
	if took := time.Since(before); took > blockedWrite {
		o.blocked += took
	}
	o.wire += int64(o.batch.bytes())
	o.written += int64(o.batch.bytes())
	o.count += int64(o.batch.len())
	o.total += uint64(o.batch.len())
	o.sends.add(s.n.Now(), o.total, rateWindow/8)
	o.batch.reset()
	return err
}

// block returns block b's data shards (zero padded) and their sums,
// from the cache or the source.
func (s *sender) block(b int) (blockShards, error) { return s.out.cache.get(s.src, s.layout, b) }

// repairQueue holds, per block, how many fresh shards are owed. Bounded
// by the block count; pops in block order so the oldest holes close first.
type repairQueue struct {
	need  map[int]int
	order []int
}

func newRepairQueue() *repairQueue { return &repairQueue{need: map[int]int{}} }

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
	// manifest is the SHA-256 of every block as the manifest signed it;
	// a block read from the disk must still match (nil: not checked).
	manifest [][protocol.HashLen]byte
}

// ErrContentChanged means a file changed while it was being pushed: a
// block read for sending no longer matches the manifest. The sender
// stops rather than sign shards of other content (receivers write a
// block on its shards' signed hashes, SPEC.md §6.5).
var ErrContentChanged = errors.New("push: the content changed while pushing; push again once it is no longer being written")

type cacheSlot struct {
	block int
	used  uint64
	buf   []byte
	blockShards
}

// blockShards are a block's data shards (zero padded) and their SHA-256
// sums, which the hash lists are cut from (shardauth.go).
type blockShards struct {
	shards [][]byte
	sums   []shardSum
}

func newBlockCache(n, blockSize int) *blockCache {
	c := &blockCache{slots: make([]cacheSlot, n)}
	for i := range c.slots {
		c.slots[i] = cacheSlot{block: -1, buf: make([]byte, blockSize)}
	}
	return c
}

// get returns block b's data shards (zero padded) and their sums,
// reading and hashing it if needed.
func (c *blockCache) get(src *Source, l layout, b int) (blockShards, error) {
	c.tick++
	victim := 0
	for i := range c.slots {
		if c.slots[i].block == b {
			c.slots[i].used = c.tick
			return c.slots[i].blockShards, nil
		}
		if c.slots[i].used < c.slots[victim].used {
			victim = i
		}
	}
	sl := &c.slots[victim]
	off, n := l.blockRange(b)
	sl.block = -1
	if _, err := src.ReadAt(sl.buf[:n], off); err != nil {
		return blockShards{}, err
	}
	shards, err := l.code(b).Split(sl.shards[:0], sl.buf, n)
	if err != nil {
		return blockShards{}, err
	}
	sl.shards, sl.sums = shards, appendShardSums(sl.sums[:0], shards)
	if c.manifest != nil && blockHashOfSums(sl.sums) != c.manifest[b] {
		return blockShards{}, fmt.Errorf("%w (block %d)", ErrContentChanged, b)
	}
	sl.block, sl.used = b, c.tick
	return sl.blockShards, nil
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
