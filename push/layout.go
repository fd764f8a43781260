package push

import (
	"github.com/herald-lan/herald/fec"
)

// layout is how a push's byte stream is cut into FEC blocks (SPEC.md §6.9):
// every block holds K shards of ShardSize bytes except the last, which
// holds only the shards its bytes need and has its own code. Sender,
// source (manifest hashing) and receiving session share it, so the three
// cannot disagree on a block's length or K. Immutable: safe for
// concurrent use.
type layout struct {
	total  int64
	blocks int
	full   *fec.Code // every block but a short last one
	last   *fec.Code // the last block (== full when it is whole)
}

// newLayout cuts total bytes into blocks of k shards of shardSize bytes.
func newLayout(total int64, k, shardSize int) (layout, error) {
	full, err := fec.New(k, shardSize)
	if err != nil {
		return layout{}, err
	}
	l := layout{total: total, blocks: int(fec.BlockCount(total, full.BlockSize())), full: full, last: full}
	if l.blocks > 0 {
		if bk := fec.BlockK(total, k, shardSize, int64(l.blocks-1)); bk != k {
			if l.last, err = fec.New(bk, shardSize); err != nil {
				return layout{}, err
			}
		}
	}
	return l, nil
}

// blockSize is the byte length of a full block, K·ShardSize.
func (l layout) blockSize() int { return l.full.BlockSize() }

// code is block b's code: the last block's K may be smaller.
func (l layout) code(b int) *fec.Code {
	if b == l.blocks-1 {
		return l.last
	}
	return l.full
}

// blockK is block b's number of data shards.
func (l layout) blockK(b int) int { return l.code(b).K() }

// blockRange is block b's offset and length in the stream.
func (l layout) blockRange(b int) (offset int64, length int) {
	return fec.BlockRange(l.total, l.blockSize(), int64(b))
}

// blockLen is block b's length in bytes.
func (l layout) blockLen(b int) int {
	_, n := l.blockRange(b)
	return n
}
