package fec

import "fmt"

// BlockCount returns how many blocks a total-byte file is cut into:
// ceil(total/blockSize), 0 for an empty file. It panics if blockSize < 1.
func BlockCount(total int64, blockSize int) int64 {
	if blockSize < 1 {
		panic("fec: BlockCount with blockSize < 1")
	}
	if total <= 0 {
		return 0
	}
	return (total-1)/int64(blockSize) + 1
}

// BlockRange returns the file offset and byte length of block i of a
// total-byte file. Every block but the last is blockSize bytes. It panics
// if blockSize < 1 or i is not a block of the file.
func BlockRange(total int64, blockSize int, i int64) (offset int64, length int) {
	if i < 0 || i >= BlockCount(total, blockSize) {
		panic(fmt.Sprintf("fec: BlockRange block %d of %d", i, BlockCount(total, blockSize)))
	}
	offset = i * int64(blockSize)
	return offset, int(min(total-offset, int64(blockSize)))
}

// ShardCount returns the data shards needed for length bytes:
// ceil(length/shardSize). It panics if shardSize < 1.
func ShardCount(length, shardSize int) int {
	if shardSize < 1 {
		panic("fec: ShardCount with shardSize < 1")
	}
	return (length + shardSize - 1) / shardSize
}

// BlockK returns the number of data shards block i of a total-byte file is
// coded with, for a file sent with k data shards of shardSize bytes: k for
// every full block, and ShardCount(length, shardSize) for a short last
// block, so a small file or tail does not cost k shards of padding. Sender
// and receiver both derive it; it panics like BlockRange.
func BlockK(total int64, k, shardSize int, i int64) int {
	_, length := BlockRange(total, k*shardSize, i)
	return ShardCount(length, shardSize)
}

// Split zero-pads buf[n:BlockSize()] and returns the K() data shards as
// views into buf, appended to dst[:0] (pass a reused dst to avoid the
// allocation). buf must hold at least BlockSize() bytes, n of them data.
// With a Code from New(BlockK(...), shardSize) this is the padding SPEC.md
// prescribes for the last block.
func (c *Code) Split(dst [][]byte, buf []byte, n int) ([][]byte, error) {
	size := c.BlockSize()
	if len(buf) < size {
		return nil, fmt.Errorf("%w: block buffer %d bytes, want >= %d", ErrShardSize, len(buf), size)
	}
	if n < 0 || n > size {
		return nil, fmt.Errorf("%w: %d data bytes in a %d-byte block", ErrShardSize, n, size)
	}
	clear(buf[n:size])
	dst = dst[:0]
	for i := range c.k {
		dst = append(dst, buf[i*c.shardSize:(i+1)*c.shardSize:(i+1)*c.shardSize])
	}
	return dst, nil
}
