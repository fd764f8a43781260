package fec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// lossPattern picks, for a block with k data shards, the shard indices a
// receiver gets, in arrival order.
type lossPattern struct {
	name string
	pick func(rng *rand.Rand, k int) []int
}

func indexRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

var lossPatterns = []lossPattern{
	{"no loss", func(_ *rand.Rand, k int) []int { return indexRange(0, k) }},
	{"all data lost", func(_ *rand.Rand, k int) []int { return indexRange(k, 2*k) }},
	{"only the highest parity", func(_ *rand.Rand, k int) []int { return indexRange(MaxShards-k, MaxShards) }},
	{"random k of 256", func(rng *rand.Rand, k int) []int { return rng.Perm(MaxShards)[:k] }},
	{"random parity only", func(rng *rand.Rand, k int) []int {
		perm := rng.Perm(MaxShards - k)
		for i := range perm {
			perm[i] += k
		}
		return perm[:k]
	}},
	{"5% data lost then fresh parity", func(rng *rand.Rand, k int) []int { return dataLoss(rng, k, 5) }},
	{"20% data lost then fresh parity", func(rng *rand.Rand, k int) []int { return dataLoss(rng, k, 20) }},
	{"parity before data", func(rng *rand.Rand, k int) []int {
		got := dataLoss(rng, k, 30)
		rng.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		return got
	}},
}

// dataLoss drops ceil(percent% of k) random data shards, then adds as many
// parity shards from a random repair round, the way a sender's first pass
// plus one repair would arrive.
func dataLoss(rng *rand.Rand, k, percent int) []int {
	lost := (k*percent + 99) / 100
	got := rng.Perm(k)[lost:]
	first := k + rng.IntN(MaxShards-k-lost+1)
	return append(got, indexRange(first, first+lost)...)
}

func TestAssemblerRoundTrip(t *testing.T) {
	size := DefaultShardSize
	ks := []int{1, 2, 16, 64, 128}
	if testing.Short() {
		size, ks = 100, []int{1, 2, 16, 64}
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for _, k := range ks {
		c := mustNew(t, k, size)
		data := randomShards(rng, k, size)
		all := allShards(t, c, data)
		a := c.NewAssembler()
		for _, pattern := range lossPatterns {
			t.Run(fmt.Sprintf("k=%d/%s", k, pattern.name), func(t *testing.T) {
				a.Reset() // one Assembler reused across patterns, as a pool would
				indices := pattern.pick(rng, k)
				for n, index := range indices {
					if a.Done() {
						t.Fatalf("Done after %d of %d shards", n, k)
					}
					added, err := a.Add(index, all[index])
					if err != nil || !added {
						t.Fatalf("Add(%d) = %v, %v; want true, nil", index, added, err)
					}
				}
				if !a.Done() || a.Have() != k {
					t.Fatalf("after %d distinct shards: Done=%v Have=%d", k, a.Done(), a.Have())
				}
				got, err := a.Reconstruct()
				if err != nil {
					t.Fatalf("Reconstruct: %v", err)
				}
				for i := range data {
					if !bytes.Equal(got[i], data[i]) {
						t.Fatalf("data shard %d differs after rebuilding from %v", i, indices)
					}
				}
				block, err := a.Block()
				if err != nil || !bytes.Equal(block, bytes.Join(data, nil)) {
					t.Fatalf("Block() differs from the data (err %v)", err)
				}
				var lost []int
				for i := range k {
					if !slices.Contains(indices, i) {
						lost = append(lost, i)
					}
				}
				if rebuilt := slices.Sorted(slices.Values(a.Rebuilt())); !slices.Equal(rebuilt, lost) {
					t.Fatalf("Rebuilt() = %v, want the data shards that did not arrive, %v", rebuilt, lost)
				}
			})
		}
	}
}

func TestAssemblerIgnoresDuplicatesAndExtras(t *testing.T) {
	const k, size = 4, 16
	c := mustNew(t, k, size)
	data := randomShards(rand.New(rand.NewPCG(23, 24)), k, size)
	all := allShards(t, c, data)
	a := c.NewAssembler()

	steps := []struct {
		index     int
		shard     []byte
		wantAdded bool
		wantHave  int
	}{
		{200, all[200], true, 1},
		{200, all[200], false, 1}, // duplicate
		{1, all[1], true, 2},
		{0, all[0], true, 3},
		{1, make([]byte, size), false, 3}, // duplicate with other bytes: first copy wins
		{9, all[9], true, 4},
		{2, all[2], false, 4},     // extra after Done
		{255, all[255], false, 4}, // extra after Done
	}
	for n, step := range steps {
		added, err := a.Add(step.index, step.shard)
		if err != nil || added != step.wantAdded || a.Have() != step.wantHave {
			t.Fatalf("step %d Add(%d) = %v, %v with Have %d; want %v, nil with Have %d",
				n, step.index, added, err, a.Have(), step.wantAdded, step.wantHave)
		}
	}
	if a.MaxIndex() != 255 {
		t.Errorf("MaxIndex = %d, want 255 (extras count)", a.MaxIndex())
	}
	kept := func(i int) bool { return a.seen[i/64]&(1<<(i%64)) != 0 }
	missing := 0
	for i := range a.code.k {
		if !kept(i) {
			missing++
		}
	}
	if missing != 2 || !kept(200) || kept(2) {
		t.Errorf("missing=%d kept(200)=%v kept(2)=%v, want 2, true, false", missing, kept(200), kept(2))
	}
	got := mustRebuild(t, a, data)
	again, err := a.Reconstruct()
	if err != nil || &again[0][0] != &got[0][0] || !bytes.Equal(again[3], data[3]) {
		t.Fatalf("second Reconstruct changed the result (err %v)", err)
	}

	a.Reset()
	if a.Have() != 0 || a.Done() || a.MaxIndex() != -1 || kept(200) {
		t.Fatalf("after Reset: Have=%d Done=%v MaxIndex=%d kept(200)=%v", a.Have(), a.Done(), a.MaxIndex(), kept(200))
	}
}

func TestAssemblerRejectsBadShards(t *testing.T) {
	const k, size = 4, 16
	c := mustNew(t, k, size)
	tests := []struct {
		name  string
		index int
		shard []byte
		want  error
	}{
		{"negative index", -1, make([]byte, size), ErrBadIndex},
		{"index 256", 256, make([]byte, size), ErrBadIndex},
		{"short shard", 0, make([]byte, size-1), ErrShardSize},
		{"long shard", 5, make([]byte, size+1), ErrShardSize},
		{"nil shard", 5, nil, ErrShardSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := c.NewAssembler()
			added, err := a.Add(tc.index, tc.shard)
			if added || !errors.Is(err, tc.want) {
				t.Fatalf("Add = %v, %v; want false, %v", added, err, tc.want)
			}
			if a.Have() != 0 || a.MaxIndex() != -1 {
				t.Fatalf("rejected shard changed state: Have=%d MaxIndex=%d", a.Have(), a.MaxIndex())
			}
		})
	}
}

func TestAssemblerReconstructBeforeDone(t *testing.T) {
	c := mustNew(t, 3, 8)
	a := c.NewAssembler()
	for _, index := range []int{0, 100} {
		if _, err := a.Reconstruct(); !errors.Is(err, ErrTooFewShards) {
			t.Fatalf("Reconstruct with %d shards: err = %v, want ErrTooFewShards", a.Have(), err)
		}
		if _, err := a.Add(index, make([]byte, 8)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Block(); !errors.Is(err, ErrTooFewShards) {
		t.Fatalf("Block with 2 of 3: err = %v, want ErrTooFewShards", err)
	}
}

func TestAssemblerDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	const k = DefaultK
	c := mustNew(t, k, DefaultShardSize)
	data := randomShards(rand.New(rand.NewPCG(25, 26)), k, DefaultShardSize)
	all := allShards(t, c, data)
	indices := dataLoss(rand.New(rand.NewPCG(27, 28)), k, 20)
	a := c.NewAssembler()
	allocs := testing.AllocsPerRun(20, func() {
		a.Reset()
		for _, index := range indices {
			if _, err := a.Add(index, all[index]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.Reconstruct(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Reset+Add+Reconstruct allocate %.1f times per block, want 0", allocs)
	}
}

// TestAssemblerSlotKeep: shards written in place through Slot and Keep
// rebuild the block as Add's copies do; a slot written and not kept
// (a shard the caller found bad) changes nothing, also when the slot was
// a data shard's that a parity shard had borrowed; Keep needs its own
// Slot call, and Slot is nil where Add would ignore the shard.
func TestAssemblerSlotKeep(t *testing.T) {
	const k, size = 8, 32
	c := mustNew(t, k, size)
	rng := rand.New(rand.NewPCG(29, 30))
	data := randomShards(rng, k, size)
	all := allShards(t, c, data)
	a := c.NewAssembler()
	for _, pattern := range lossPatterns {
		t.Run(pattern.name, func(t *testing.T) {
			a.Reset()
			for _, index := range pattern.pick(rng, k) {
				bad, err := a.Slot(index) // a forgery written in place, never kept
				if err != nil || bad == nil {
					t.Fatalf("Slot(%d) = %v, %v before Done", index, bad, err)
				}
				copy(bad, bytes.Repeat([]byte{0xee}, size))
				buf, _ := a.Slot(index)
				copy(buf, all[index])
				if !a.Keep(index) {
					t.Fatalf("Keep(%d) refused", index)
				}
				if buf, _ := a.Slot(index); buf != nil {
					t.Fatalf("Slot(%d) of a kept index is not nil", index)
				}
			}
			mustRebuild(t, a, data)
		})
	}

	a.Reset()
	if _, err := a.Add(k+3, all[k+3]); err != nil { // borrows slot 0
		t.Fatal(err)
	}
	buf, _ := a.Slot(0) // moves it aside
	copy(buf, bytes.Repeat([]byte{0xee}, size))
	if a.Keep(1) || a.Have() != 1 || a.MaxIndex() != k+3 {
		t.Fatalf("Keep of another index kept something: Have %d, MaxIndex %d", a.Have(), a.MaxIndex())
	}
	if _, err := a.Slot(0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Add(1, all[1]); err != nil || a.Keep(0) {
		t.Fatalf("Keep after an Add between: kept (err %v)", err)
	}
	if _, err := a.Slot(MaxShards); !errors.Is(err, ErrBadIndex) {
		t.Fatalf("Slot(256): err %v, want ErrBadIndex", err)
	}
	for i := 2; i < k; i++ {
		if _, err := a.Add(i, all[i]); err != nil {
			t.Fatal(err)
		}
	}
	mustRebuild(t, a, data) // after a slot written and not kept
	if a.MaxIndex() != k+3 {
		t.Fatalf("MaxIndex %d, want %d", a.MaxIndex(), k+3)
	}
	if buf, _ := a.Slot(0); buf != nil {
		t.Fatal("Slot after Done is not nil")
	}
}

// mustRebuild fails unless a reconstructs exactly data; it returns the
// shards Reconstruct gave.
func mustRebuild(t *testing.T, a *Assembler, data [][]byte) [][]byte {
	t.Helper()
	got, err := a.Reconstruct()
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		if !bytes.Equal(got[i], data[i]) {
			t.Fatalf("data shard %d differs", i)
		}
	}
	return got
}
