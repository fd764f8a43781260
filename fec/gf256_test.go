package fec

import (
	"testing"

	"github.com/klauspost/reedsolomon"
)

func TestFieldMatchesKlauspost(t *testing.T) {
	// klauspost's kernels do the heavy lifting, so our scalar field must be
	// the same field: same inverses means same polynomial.
	for a := 1; a < 256; a++ {
		if got, want := gfInv(byte(a)), reedsolomon.Inv(byte(a)); got != want {
			t.Fatalf("gfInv(%#x) = %#x, klauspost says %#x", a, got, want)
		}
		if got := gfMul(byte(a), gfInv(byte(a))); got != 1 {
			t.Fatalf("%#x * inv = %#x, want 1", a, got)
		}
	}
	// Spot values for a reimplementation: 2^8 reduces by 0x11D to 0x1D.
	tests := []struct{ a, b, want byte }{
		{0x80, 0x02, 0x1D},
		{0x00, 0x53, 0x00},
		{0x01, 0xC4, 0xC4},
		{0x02, 0x8E, 0x01}, // 1/2 = 0x8E
	}
	for _, tc := range tests {
		if got := gfMul(tc.a, tc.b); got != tc.want {
			t.Errorf("gfMul(%#x, %#x) = %#x, want %#x", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestFieldMultiplicationIsSlowMultiplication(t *testing.T) {
	// Carry-less multiply then reduce, the textbook definition.
	slow := func(a, b byte) byte {
		var p int
		x, y := int(a), int(b)
		for y != 0 {
			if y&1 != 0 {
				p ^= x
			}
			x <<= 1
			if x&0x100 != 0 {
				x ^= gfPolynomial
			}
			y >>= 1
		}
		return byte(p)
	}
	for a := range 256 {
		for b := range 256 {
			if got, want := gfMul(byte(a), byte(b)), slow(byte(a), byte(b)); got != want {
				t.Fatalf("gfMul(%#x, %#x) = %#x, want %#x", a, b, got, want)
			}
		}
	}
}

func TestCoefficientNeverZero(t *testing.T) {
	for k := MinK; k <= MaxK; k++ {
		for r := k; r < MaxShards; r++ {
			for c := range k {
				if coefficient(r, c) == 0 {
					t.Fatalf("coefficient(%d, %d) = 0", r, c)
				}
			}
		}
	}
}
