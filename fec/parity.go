package fec

import (
	"fmt"

	"github.com/klauspost/reedsolomon"
)

// sliceMath is klauspost's SIMD multiply(-accumulate) of a byte slice by a
// constant in GF(2^8)/0x11D, the field of this package.
var sliceMath reedsolomon.LowLevel

// Parity writes the parity shards with indices first..first+len(out)-1 of
// the block whose data shards are data (len K(), each ShardSize() bytes)
// into out (each ShardSize() bytes, caller-allocated). Every index must lie
// in K()..255. Each row depends on its index alone, so rows from separate
// calls combine freely: that is what lets repair rounds send fresh parity.
// Parity never allocates and is safe for concurrent use; out must not
// overlap data.
//
// Rows are computed one at a time with klauspost's slice kernels rather
// than its Encoder: an Encoder codes a fixed set of rows and allocates per
// call, and measured per row it is barely faster (see fec.md).
func (c *Code) Parity(data [][]byte, first int, out [][]byte) error {
	if err := c.checkShards("data", data, c.k); err != nil {
		return err
	}
	if err := c.checkShards("parity", out, len(out)); err != nil {
		return err
	}
	if len(out) == 0 {
		return nil
	}
	if last := first + len(out) - 1; first < c.k || last >= MaxShards {
		return fmt.Errorf("%w: parity %d..%d, want %d..%d", ErrBadIndex, first, last, c.k, MaxShards-1)
	}
	for i, shard := range out {
		row := first + i
		sliceMath.GalMulSlice(coefficient(row, 0), data[0], shard)
		for col := 1; col < c.k; col++ {
			sliceMath.GalMulSliceXor(coefficient(row, col), data[col], shard)
		}
	}
	return nil
}
