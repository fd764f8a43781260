package fec

import (
	"errors"
	"fmt"
)

// Limits and defaults. Every one of them is part of the wire format.
const (
	// DefaultShardSize fits one shard plus herald's headers in a 1500-byte
	// Ethernet MTU.
	DefaultShardSize = 1344
	// DefaultK is the default number of data shards per block.
	DefaultK = 64
	// MaxShards is the number of distinct shard indices (one byte).
	MaxShards = 256
	// MinK and MaxK bound the data shards per block. MaxK leaves at least
	// 128 parity indices for repair rounds.
	MinK = 1
	MaxK = 128
	// MinShardSize and MaxShardSize bound the shard size. MaxShardSize is
	// the one source of truth for herald's largest shard (SPEC.md §6.1,
	// §6.9): 19 bytes of data header + 1344 + 16 bytes of tag fit a
	// 1400-byte datagram. Package protocol refers to it. It also caps one
	// block's buffer at MaxK*MaxShardSize = 168 KiB. The minimum is 1
	// because a message fragment (SPEC.md §7.1) may be a single byte; a
	// push's own minimum (protocol.MinShardSize) is higher.
	MinShardSize = 1
	MaxShardSize = 1344
)

// Sentinel errors; functions wrap them with %w, so test with errors.Is.
var (
	// ErrBadParams: k or the shard size is outside the limits above.
	ErrBadParams = errors.New("fec: bad code parameters")
	// ErrBadIndex: a shard index outside 0..255, or a parity request
	// outside k..255.
	ErrBadIndex = errors.New("fec: bad shard index")
	// ErrShardSize: a shard is not exactly ShardSize bytes, or a block has
	// the wrong number of data shards or bytes.
	ErrShardSize = errors.New("fec: bad shard size")
	// ErrTooFewShards: Reconstruct was called before k distinct shards
	// arrived.
	ErrTooFewShards = errors.New("fec: too few shards")
)

// Code is the FEC code for one (k, shard size) pair. It is immutable and
// safe for concurrent use. It holds no tables: every generator coefficient
// is two lookups in the package's 766-byte field tables.
type Code struct {
	k         int
	shardSize int
}

// New returns the code with k data shards of shardSize bytes each.
func New(k, shardSize int) (*Code, error) {
	if k < MinK || k > MaxK {
		return nil, fmt.Errorf("%w: k=%d, want %d..%d", ErrBadParams, k, MinK, MaxK)
	}
	if shardSize < MinShardSize || shardSize > MaxShardSize {
		return nil, fmt.Errorf("%w: shard size %d, want %d..%d", ErrBadParams, shardSize, MinShardSize, MaxShardSize)
	}
	return &Code{k: k, shardSize: shardSize}, nil
}

// K returns the number of data shards per block.
func (c *Code) K() int { return c.k }

// ShardSize returns the size of every shard in bytes.
func (c *Code) ShardSize() int { return c.shardSize }

// BlockSize returns the data bytes per block: K()*ShardSize().
func (c *Code) BlockSize() int { return c.k * c.shardSize }

// checkShards reports whether shards has want entries of exactly
// c.shardSize bytes each.
func (c *Code) checkShards(what string, shards [][]byte, want int) error {
	if len(shards) != want {
		return fmt.Errorf("%w: %d %s shards, want %d", ErrShardSize, len(shards), what, want)
	}
	for i, s := range shards {
		if len(s) != c.shardSize {
			return fmt.Errorf("%w: %s shard %d has %d bytes, want %d", ErrShardSize, what, i, len(s), c.shardSize)
		}
	}
	return nil
}
