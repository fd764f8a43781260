package fec

import "fmt"

// emptySlot marks an Assembler slot that holds no shard yet.
const emptySlot = -1

// Assembler collects the shards of ONE block at a receiver and rebuilds its
// data. It copies at most K() distinct shards into its own buffer and
// ignores duplicates and anything that arrives once it has K(). Memory is
// fixed at creation (K()*ShardSize() + K()*K() bytes): nothing a packet
// carries can grow it, and after NewAssembler no method allocates, so
// Assemblers can be pooled with Reset.
//
// An Assembler is not safe for concurrent use.
type Assembler struct {
	code *Code
	// block is the K() slots of ShardSize() bytes, contiguous so a rebuilt
	// block is one slice. Data shard i always lives in slot i; a parity
	// shard borrows the slot of a data shard that has not arrived, and is
	// moved aside if that data shard turns up after all. Once K() shards
	// are in, the parity shards therefore sit exactly in the slots of the
	// missing data, and decoding overwrites them in place.
	block  []byte
	shards [][]byte // slot views into block
	holds  []int16  // shard index held by each slot, or emptySlot
	seen   [MaxShards / 64]uint64
	have   int
	// maxIndex is the highest valid index offered to Add or kept, -1
	// before any.
	maxIndex int
	decoded  bool
	// pending is the slot the last Slot call handed out for pendingIndex,
	// or emptySlot.
	pending      int
	pendingIndex int

	// Decoding scratch, sized for the worst case (all data missing).
	missing []int  // slots of the missing data shards
	rows    []int  // parity index held in each missing slot
	matrix  []byte // len(missing)^2 coefficients of the missing data
}

// NewAssembler returns an empty Assembler for one block of this code.
func (c *Code) NewAssembler() *Assembler {
	a := &Assembler{
		code:    c,
		block:   make([]byte, c.BlockSize()),
		shards:  make([][]byte, c.k),
		holds:   make([]int16, c.k),
		missing: make([]int, 0, c.k),
		rows:    make([]int, 0, c.k),
		matrix:  make([]byte, c.k*c.k),
	}
	for i := range a.shards {
		a.shards[i] = a.block[i*c.shardSize : (i+1)*c.shardSize : (i+1)*c.shardSize]
	}
	a.Reset()
	return a
}

// Reset empties the Assembler for another block of the same code, keeping
// its memory. Slices returned by Reconstruct or Block become invalid.
func (a *Assembler) Reset() {
	for i := range a.holds {
		a.holds[i] = emptySlot
	}
	a.seen = [MaxShards / 64]uint64{}
	a.have = 0
	a.maxIndex = -1
	a.decoded = false
	a.pending = emptySlot
	a.missing, a.rows = a.missing[:0], a.rows[:0]
}

// Add offers shard number index (0..K()-1 data, K()..255 parity). It copies
// the shard and reports added=true if it was kept; a duplicate index, or
// any shard once Done, is ignored (false, nil). A shard that is not
// ShardSize() bytes or an index outside 0..255 is an error and is not kept.
func (a *Assembler) Add(index int, shard []byte) (added bool, err error) {
	if err := checkIndex(index); err != nil {
		return false, err
	}
	if len(shard) != a.code.shardSize {
		return false, fmt.Errorf("%w: shard %d has %d bytes, want %d", ErrShardSize, index, len(shard), a.code.shardSize)
	}
	a.maxIndex = max(a.maxIndex, index)
	slot := a.slotFor(index)
	if slot < 0 {
		return false, nil
	}
	copy(a.shards[slot], shard)
	a.keep(slot, index)
	return true, nil
}

// Slot is Add for a caller that writes the shard itself (decrypting it
// straight into place saves a copy of every shard): it returns the
// ShardSize() bytes shard index would be kept in, or nil where Add would
// ignore the index (a duplicate, or Done). Nothing counts until Keep(index):
// a shard the caller writes and then finds bad is simply not kept, and
// MaxIndex does not see it. Slot may move a parity shard into another
// empty slot to free a data shard's own. Reset, Add or another Slot
// cancel it.
func (a *Assembler) Slot(index int) ([]byte, error) {
	a.pending = emptySlot
	if err := checkIndex(index); err != nil {
		return nil, err
	}
	slot := a.slotFor(index)
	if slot < 0 {
		return nil, nil
	}
	a.pending, a.pendingIndex = slot, index
	return a.shards[slot], nil
}

// Keep takes the shard written into the buffer the last Slot(index)
// returned, as Add takes a copy. It reports false, keeping nothing, when
// that call was not Slot(index) or something came between.
func (a *Assembler) Keep(index int) bool {
	slot := a.pending
	a.pending = emptySlot
	if slot == emptySlot || a.pendingIndex != index {
		return false
	}
	a.maxIndex = max(a.maxIndex, index)
	a.keep(slot, index)
	return true
}

func checkIndex(index int) error {
	if index < 0 || index >= MaxShards {
		return fmt.Errorf("%w: %d, want 0..%d", ErrBadIndex, index, MaxShards-1)
	}
	return nil
}

// slotFor returns the slot a new shard index goes in, moving a parity
// shard that borrowed a data shard's slot aside, or -1 if index is held
// already or the block is Done.
func (a *Assembler) slotFor(index int) int {
	a.pending = emptySlot
	if a.Done() || a.seen[index/64]&(1<<(index%64)) != 0 {
		return -1
	}
	if index >= a.code.k {
		return a.freeSlot()
	}
	if a.holds[index] != emptySlot { // a parity shard borrowed it
		spare := a.freeSlot()
		copy(a.shards[spare], a.shards[index])
		a.holds[spare] = a.holds[index]
		a.holds[index] = emptySlot
	}
	return index
}

// keep records that slot holds shard index.
func (a *Assembler) keep(slot, index int) {
	a.holds[slot] = int16(index)
	a.seen[index/64] |= 1 << (index % 64)
	a.have++
}

// freeSlot returns an empty slot; one exists because have < K(). Lower
// slots come first: data arrives in order, so a low gap is likely a loss
// rather than a shard still in flight, and its slot will not be reclaimed.
func (a *Assembler) freeSlot() int {
	for slot, held := range a.holds {
		if held == emptySlot {
			return slot
		}
	}
	panic("fec: Assembler has no free slot below K shards") // unreachable
}

// Have returns the number of distinct shards kept, at most K().
func (a *Assembler) Have() int { return a.have }

// Done reports whether K() distinct shards are in, so Reconstruct succeeds.
func (a *Assembler) Done() bool { return a.have == a.code.k }

// MaxIndex returns the highest valid shard index ever offered to Add (kept
// or not) or kept through Keep since the last Reset, or -1 if none. A
// receiver can tell from it which parity indices the sender has already
// used.
func (a *Assembler) MaxIndex() int { return a.maxIndex }

// Reconstruct returns the K() data shards of the block, decoding in place
// only if some data shard is missing. It fails with ErrTooFewShards before
// Done. The slices alias the Assembler's buffer: they stay valid until
// Reset, and repeated calls return them without decoding again.
func (a *Assembler) Reconstruct() ([][]byte, error) {
	if !a.Done() {
		return nil, fmt.Errorf("%w: have %d of %d", ErrTooFewShards, a.have, a.code.k)
	}
	if !a.decoded {
		if err := a.decode(); err != nil {
			return nil, err
		}
		a.decoded = true
	}
	return a.shards, nil
}

// Rebuilt returns the indexes of the data shards the decoder rebuilt (the
// others arrived as they are), once Reconstruct or Block succeeded; nil
// before. It aliases the Assembler until Reset.
func (a *Assembler) Rebuilt() []int {
	if !a.decoded {
		return nil
	}
	return a.missing
}

// Block is Reconstruct returning the data as one K()*ShardSize() slice,
// padding included; it aliases the Assembler's buffer until Reset.
func (a *Assembler) Block() ([]byte, error) {
	if _, err := a.Reconstruct(); err != nil {
		return nil, err
	}
	return a.block, nil
}
