package push

import (
	"crypto/sha256"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/protocol"
)

// A block's hash in the manifest (SPEC.md §6.4.1) is a hash of its data
// shards' hashes: SHA-256 over the SHA-256 of each data shard, cut as the
// block's code cuts it (the last shard zero padded). The sender must check
// every block it reads against the manifest (§6.5), and it hashes every
// data shard for its signed lists anyway (§6.5.1): with the block hash
// made of those, the check costs one SHA-256 of K·32 bytes, where a hash
// of the block's bytes cost a second pass over every byte sent (a tenth of
// the sender's CPU).

// shardSum is the full SHA-256 of one shard's plaintext; its first
// ShardHashLen bytes are the shard's hash in a list.
type shardSum = [sha256.Size]byte

// appendShardSums appends the SHA-256 of each shard to dst.
func appendShardSums(dst []shardSum, shards [][]byte) []shardSum {
	for _, s := range shards {
		dst = append(dst, sha256.Sum256(s))
	}
	return dst
}

// blockHashOfSums is the manifest's hash of a block whose data shards
// have these sums, in index order.
func blockHashOfSums(sums []shardSum) [protocol.HashLen]byte {
	var cat [fec.MaxK * sha256.Size]byte
	for i, s := range sums[:min(len(sums), fec.MaxK)] {
		copy(cat[i*sha256.Size:], s[:])
	}
	return sha256.Sum256(cat[:min(len(sums), fec.MaxK)*sha256.Size])
}

// blockHash is the manifest's hash of a block's bytes as code cuts them,
// without writing the padding into block (a file's last block is read
// into a buffer that may be shorter than the code's block).
func blockHash(code *fec.Code, block []byte) [protocol.HashLen]byte {
	var sums [fec.MaxK]shardSum
	var pad [protocol.MaxShardSize]byte
	size := code.ShardSize()
	for i := range code.K() {
		lo := min(i*size, len(block))
		shard := block[lo:min(lo+size, len(block))]
		if len(shard) < size {
			copy(pad[:size], shard)
			clear(pad[len(shard):size])
			shard = pad[:size]
		}
		sums[i] = sha256.Sum256(shard)
	}
	return blockHashOfSums(sums[:code.K()])
}
