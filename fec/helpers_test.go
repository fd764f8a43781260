package fec

import (
	"math/rand/v2"
	"testing"
)

// referenceParity computes parity row r byte by byte with the scalar field,
// straight from the SPEC formula, independent of klauspost's kernels.
func referenceParity(data [][]byte, r int) []byte {
	out := make([]byte, len(data[0]))
	for c, shard := range data {
		coef := coefficient(r, c)
		for i, b := range shard {
			out[i] ^= gfMul(coef, b)
		}
	}
	return out
}

// randomShards returns n random shards of size bytes.
func randomShards(rng *rand.Rand, n, size int) [][]byte {
	shards := make([][]byte, n)
	for i := range shards {
		shards[i] = make([]byte, size)
		for j := range shards[i] {
			shards[i][j] = byte(rng.Uint32())
		}
	}
	return shards
}

// allShards returns the full codeword: the data shards followed by parity
// shards k..255, the parity computed in one Parity call.
func allShards(t testing.TB, c *Code, data [][]byte) [][]byte {
	t.Helper()
	parity := make([][]byte, MaxShards-c.K())
	for i := range parity {
		parity[i] = make([]byte, c.ShardSize())
	}
	if err := c.Parity(data, c.K(), parity); err != nil {
		t.Fatalf("Parity: %v", err)
	}
	return append(append([][]byte{}, data...), parity...)
}

func mustNew(t testing.TB, k, size int) *Code {
	t.Helper()
	c, err := New(k, size)
	if err != nil {
		t.Fatalf("New(%d, %d): %v", k, size, err)
	}
	return c
}
