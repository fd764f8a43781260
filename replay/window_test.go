package replay

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestWindow(t *testing.T) {
	const size = 128
	type step struct {
		counter uint64
		want    error
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"counter 0 is refused", []step{{0, errCounterZero}, {1, nil}, {0, errCounterZero}}},
		{"in order", []step{{1, nil}, {2, nil}, {3, nil}}},
		{"duplicate", []step{{1, nil}, {1, errDuplicate}, {2, nil}, {1, errDuplicate}}},
		{"out of order within the window", []step{{10, nil}, {5, nil}, {7, nil}, {5, errDuplicate}, {9, nil}, {10, errDuplicate}}},
		{"exactly the window behind", []step{{2000, nil}, {2000 - size, errBelowWindow}, {2000 - size + 1, nil}, {2000 - size + 1, errDuplicate}}},
		{"first counter high, then low", []step{{1000, nil}, {1, errBelowWindow}, {1000 - size + 1, nil}}},
		{"far jump", []step{{1, nil}, {1 << 40, nil}, {1, errBelowWindow}, {1<<40 - size + 1, nil}, {1<<40 + 1, nil}}},
		{"top of the counter space", []step{{^uint64(0), nil}, {^uint64(0), errDuplicate}, {^uint64(0) - size + 1, nil}, {^uint64(0) - size, errBelowWindow}}},
		// Walk the ring so blocks are reused: bits from the previous lap
		// must be gone, bits still in the window must stay.
		{"ring reuse", []step{
			{63, nil}, {64, nil}, {127, nil}, {191, nil}, {255, nil},
			{319, nil},            // block 4 reuses ring slot 1 (blocks 1 and 4 mod 3)
			{255, errDuplicate},   // still inside the window, still marked
			{192, nil},            // 319-192 = 127 < 128
			{191, errBelowWindow}, // 319-191 = 128
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindow(size)
			for i, s := range tc.steps {
				if err := w.accept(s.counter); !errors.Is(err, s.want) {
					t.Fatalf("step %d: accept(%d) = %v, want %v", i, s.counter, err, s.want)
				}
			}
		})
	}
}

// TestWindowMatchesModel drives the ring bitmap and a plain set with the
// same random counters (small steps, reorders, duplicates, jumps).
func TestWindowMatchesModel(t *testing.T) {
	for _, size := range []int{64, 128, 1024} {
		t.Run("", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(size), 7))
			w := newWindow(size)
			seen := map[uint64]bool{}
			var top uint64
			for i := range 50000 {
				var c uint64
				switch r := rng.IntN(100); {
				case r < 50:
					c = top + uint64(rng.IntN(4)) // next few, or a duplicate of top
				case r < 85:
					c = top - min(top, uint64(rng.IntN(size+70))) // around the lower edge
				case r < 97:
					c = top + uint64(rng.IntN(3*size)) // jump within a few laps
				default:
					c = top + uint64(rng.IntN(1<<20)) // far jump
				}
				want := c != 0 && !seen[c] && (c > top || top-c < uint64(size))
				got := w.accept(c) == nil
				if got != want {
					t.Fatalf("op %d: accept(%d) with top %d = %v, model says %v", i, c, top, got, want)
				}
				if got {
					seen[c] = true
					top = max(top, c)
				}
			}
		})
	}
}
