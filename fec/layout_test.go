package fec

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestBlockLayout(t *testing.T) {
	const k, size = 4, 10 // block size 40
	tests := []struct {
		total      int64
		wantBlocks int64
		lastOffset int64
		lastLength int
		lastK      int
	}{
		{0, 0, 0, 0, 0},
		{1, 1, 0, 1, 1},
		{10, 1, 0, 10, 1},
		{11, 1, 0, 11, 2},
		{40, 1, 0, 40, 4},
		{41, 2, 40, 1, 1},
		{79, 2, 40, 39, 4},
		{80, 2, 40, 40, 4},
		{1 << 40, 1<<40/40 + 1, (1 << 40 / 40) * 40, int((1 << 40) % 40), 2},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.total), func(t *testing.T) {
			blocks := BlockCount(tc.total, k*size)
			if blocks != tc.wantBlocks {
				t.Fatalf("BlockCount = %d, want %d", blocks, tc.wantBlocks)
			}
			if blocks == 0 {
				return
			}
			var covered int64
			for _, i := range []int64{0, blocks - 1} {
				off, n := BlockRange(tc.total, k*size, i)
				if i < blocks-1 && (off != i*k*size || n != k*size) {
					t.Fatalf("block %d = [%d,+%d), want a full block at %d", i, off, n, i*k*size)
				}
				if i < blocks-1 && BlockK(tc.total, k, size, i) != k {
					t.Fatalf("full block %d coded with k=%d", i, BlockK(tc.total, k, size, i))
				}
				covered = off + int64(n)
			}
			off, n := BlockRange(tc.total, k*size, blocks-1)
			if off != tc.lastOffset || n != tc.lastLength || covered != tc.total {
				t.Fatalf("last block [%d,+%d), want [%d,+%d) ending at %d", off, n, tc.lastOffset, tc.lastLength, tc.total)
			}
			if got := BlockK(tc.total, k, size, blocks-1); got != tc.lastK {
				t.Fatalf("last block k = %d, want %d", got, tc.lastK)
			}
		})
	}
}

func TestLayoutPanicsOnMisuse(t *testing.T) {
	tests := []struct {
		name string
		call func()
	}{
		{"zero block size", func() { BlockCount(10, 0) }},
		{"block past the end", func() { BlockRange(10, 4, 3) }},
		{"negative block", func() { BlockRange(10, 4, -1) }},
		{"zero shard size", func() { ShardCount(10, 0) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.call()
		})
	}
}

func TestSplitPadsWithZeros(t *testing.T) {
	const k, size = 3, 4
	c := mustNew(t, k, size)
	buf := bytes.Repeat([]byte{0xFF}, 20) // dirty from a previous block
	copy(buf, "hello")
	shards, err := c.Split(make([][]byte, 0, k), buf, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{[]byte("hell"), {'o', 0, 0, 0}, {0, 0, 0, 0}}
	if len(shards) != k {
		t.Fatalf("Split returned %d shards, want %d", len(shards), k)
	}
	for i := range want {
		if !bytes.Equal(shards[i], want[i]) {
			t.Fatalf("shard %d = %x, want %x", i, shards[i], want[i])
		}
	}
	if buf[12] != 0xFF {
		t.Fatal("Split wrote past BlockSize")
	}
	for _, tc := range []struct {
		name string
		buf  []byte
		n    int
	}{
		{"short buffer", make([]byte, k*size-1), 0},
		{"negative length", make([]byte, k*size), -1},
		{"length past block", make([]byte, 2*k*size), k*size + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Split(nil, tc.buf, tc.n); !errors.Is(err, ErrShardSize) {
				t.Fatalf("Split error = %v, want ErrShardSize", err)
			}
		})
	}
}
