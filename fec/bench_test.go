package fec

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkParity measures a sender: bytes are the block's data bytes, so
// MB/s is how fast file data gets its parity.
func BenchmarkParity(b *testing.B) {
	const k = DefaultK
	c := mustNew(b, k, DefaultShardSize)
	data := randomShards(rand.New(rand.NewPCG(31, 32)), k, DefaultShardSize)
	for _, parity := range []int{4, 16} {
		out := make2(parity, DefaultShardSize)
		b.Run(fmt.Sprintf("k=%d/parity=%d", k, parity), func(b *testing.B) {
			b.SetBytes(int64(c.BlockSize()))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Parity(data, k+7, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReconstruct measures a receiver that lost a share of the data
// shards and got fresh parity instead: Reset, k Adds (copies) and decode.
func BenchmarkReconstruct(b *testing.B) {
	const k = DefaultK
	c := mustNew(b, k, DefaultShardSize)
	rng := rand.New(rand.NewPCG(33, 34))
	all := allShards(b, c, randomShards(rng, k, DefaultShardSize))
	for _, percent := range []int{0, 5, 20, 100} {
		var indices []int
		if percent == 100 {
			indices = indexRange(k, 2*k)
		} else {
			indices = dataLoss(rng, k, percent)
		}
		a := c.NewAssembler()
		b.Run(fmt.Sprintf("k=%d/missing=%d%%", k, percent), func(b *testing.B) {
			b.SetBytes(int64(c.BlockSize()))
			b.ReportAllocs()
			for b.Loop() {
				a.Reset()
				for _, index := range indices {
					if _, err := a.Add(index, all[index]); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := a.Reconstruct(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
