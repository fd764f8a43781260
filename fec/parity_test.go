package fec

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/reedsolomon"
)

func testKs(t *testing.T) []int {
	if testing.Short() {
		return []int{1, 2, 16, 64}
	}
	return []int{1, 2, 3, 16, 17, 64, 100, 127, 128}
}

func TestNewRejectsBadParams(t *testing.T) {
	tests := []struct {
		name    string
		k, size int
	}{
		{"k zero", 0, DefaultShardSize},
		{"k negative", -1, DefaultShardSize},
		{"k above max", MaxK + 1, DefaultShardSize},
		{"shard size zero", DefaultK, 0},
		{"shard size above max", DefaultK, MaxShardSize + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.k, tc.size); !errors.Is(err, ErrBadParams) {
				t.Fatalf("New(%d, %d) error = %v, want ErrBadParams", tc.k, tc.size, err)
			}
		})
	}
	c := mustNew(t, DefaultK, DefaultShardSize)
	if c.K() != DefaultK || c.ShardSize() != DefaultShardSize || c.BlockSize() != DefaultK*DefaultShardSize {
		t.Fatalf("accessors = %d, %d, %d", c.K(), c.ShardSize(), c.BlockSize())
	}
}

func TestParityMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range testKs(t) {
		for _, size := range []int{1, 33, 200} {
			c := mustNew(t, k, size)
			data := randomShards(rng, k, size)
			all := allShards(t, c, data)
			for r := k; r < MaxShards; r++ {
				if want := referenceParity(data, r); !bytes.Equal(all[r], want) {
					t.Fatalf("k=%d size=%d row %d: Parity differs from the scalar formula", k, size, r)
				}
			}
		}
	}
}

func TestParityMatchesKlauspostCauchy(t *testing.T) {
	// klauspost's own Cauchy matrix with 256 total shards is, row for row,
	// 1/(r XOR c): an independent implementation of our wire format.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range testKs(t) {
		c := mustNew(t, k, 64)
		data := randomShards(rng, k, 64)
		ours := allShards(t, c, data)

		enc, err := reedsolomon.New(k, MaxShards-k, reedsolomon.WithCauchyMatrix())
		if err != nil {
			t.Fatal(err)
		}
		theirs := append(append([][]byte{}, data...), randomShards(rng, MaxShards-k, 64)...)
		if err := enc.Encode(theirs); err != nil {
			t.Fatal(err)
		}
		for r := k; r < MaxShards; r++ {
			if !bytes.Equal(ours[r], theirs[r]) {
				t.Fatalf("k=%d row %d differs from klauspost WithCauchyMatrix", k, r)
			}
		}
	}
}

func TestParityFreshWindowsCombine(t *testing.T) {
	// A sender asks for arbitrary runs of rows in successive repair rounds;
	// every run must equal the same rows of the full codeword, including
	// runs that start or end inside a cached window or span several.
	const k, size = 64, 96
	c := mustNew(t, k, size)
	rng := rand.New(rand.NewPCG(5, 6))
	data := randomShards(rng, k, size)
	full := allShards(t, c, data)
	runs := []struct{ first, count int }{
		{k, 4}, {k + 4, 1}, {k + 5, 11}, {k + 15, 2}, {k + 17, 40},
		{k + 57, 100}, {k + 157, MaxShards - (k + 157)}, {MaxShards - 1, 1},
	}
	for _, run := range runs {
		out := randomShards(rng, run.count, size) // garbage must be overwritten
		if err := c.Parity(data, run.first, out); err != nil {
			t.Fatalf("Parity(%d, %d): %v", run.first, run.count, err)
		}
		for i, shard := range out {
			if !bytes.Equal(shard, full[run.first+i]) {
				t.Fatalf("run %d+%d: row %d differs from the one-call codeword", run.first, run.count, run.first+i)
			}
		}
	}
}

func TestParityRejectsBadArguments(t *testing.T) {
	const k, size = 4, 8
	c := mustNew(t, k, size)
	data := randomShards(rand.New(rand.NewPCG(7, 8)), k, size)
	tests := []struct {
		name  string
		data  [][]byte
		first int
		out   [][]byte
		want  error
	}{
		{"first is a data index", data, k - 1, make2(1, size), ErrBadIndex},
		{"last past 255", data, 250, make2(7, size), ErrBadIndex},
		{"first past 255", data, 256, make2(1, size), ErrBadIndex},
		{"too few data shards", data[:k-1], k, make2(1, size), ErrShardSize},
		{"short data shard", [][]byte{data[0], data[1], data[2], data[3][:size-1]}, k, make2(1, size), ErrShardSize},
		{"short output", data, k, [][]byte{make([]byte, size-1)}, ErrShardSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Parity(tc.data, tc.first, tc.out); !errors.Is(err, tc.want) {
				t.Fatalf("Parity error = %v, want %v", err, tc.want)
			}
		})
	}
	if err := c.Parity(data, k, nil); err != nil {
		t.Fatalf("Parity with no outputs: %v", err)
	}
}

func make2(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, size)
	}
	return out
}

func TestParityConcurrent(t *testing.T) {
	// Code is documented safe for concurrent use; run under -race.
	const k, size = 16, 128
	c := mustNew(t, k, size)
	data := randomShards(rand.New(rand.NewPCG(9, 10)), k, size)
	full := allShards(t, c, data)
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			out := make2(7, size)
			first := k + g*20
			if err := c.Parity(data, first, out); err != nil {
				errs <- err
				return
			}
			for i := range out {
				if !bytes.Equal(out[i], full[first+i]) {
					errs <- errors.New("concurrent Parity produced a wrong row")
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestParityDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	c := mustNew(t, DefaultK, DefaultShardSize)
	data := randomShards(rand.New(rand.NewPCG(11, 12)), DefaultK, DefaultShardSize)
	out := make2(5, DefaultShardSize)
	allocs := testing.AllocsPerRun(50, func() {
		if err := c.Parity(data, DefaultK+13, out); err != nil { // spans two windows
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Parity allocates %.1f times per call, want 0", allocs)
	}
}
