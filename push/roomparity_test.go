package push

import (
	"math"
	"testing"
)

// The room's parity follows its size: a classroom keeps the median rule's
// parity (roomParity is below it), a room of a thousand gets enough that
// about roomShortReceivers of them lack a block.
func TestRoomParity(t *testing.T) {
	cases := []struct {
		k, group int
		loss     float64
		want     int
	}{
		{64, 10, 0.05, 5},    // below the median rule's 6: unchanged
		{64, 7, 0.03, 3},     // below its 4
		{64, 100, 0.05, 8},   // 100 × P(X > 8) ≤ 2
		{64, 1000, 0.05, 10}, // 1000 × P(X > 10) ≤ 2
		{64, 1000, 0, 0},
		{64, 1, 0.05, 0}, // one receiver: the median rule alone
	}
	for _, c := range cases {
		got := roomParity(c.k, c.group, c.loss, 255-c.k)
		if got != c.want {
			t.Errorf("roomParity(k %d, %d receivers, loss %.2f) = %d, want %d", c.k, c.group, c.loss, got, c.want)
			continue
		}
		if short := float64(c.group) * binomialTail(c.k+got, c.loss, got); c.loss > 0 && short > roomShortReceivers {
			t.Errorf("%d receivers at %.2f with parity %d: %.2f short a block", c.group, c.loss, got, short)
		}
	}
	if got := roomParity(64, 1_000_000, 0.5, 20); got != 20 {
		t.Errorf("limit not held: %d", got)
	}
}

// binomialTail against a direct sum.
func TestBinomialTail(t *testing.T) {
	for _, c := range []struct {
		n int
		q float64
		m int
	}{{70, 0.05, 6}, {74, 0.05, 10}, {200, 0.3, 80}, {10, 0.5, 9}, {10, 0.5, 10}} {
		want := 0.0
		for i := c.m + 1; i <= c.n; i++ {
			lg, _ := math.Lgamma(float64(c.n + 1))
			li, _ := math.Lgamma(float64(i + 1))
			lr, _ := math.Lgamma(float64(c.n - i + 1))
			want += math.Exp(lg - li - lr + float64(i)*math.Log(c.q) + float64(c.n-i)*math.Log(1-c.q))
		}
		if got := binomialTail(c.n, c.q, c.m); math.Abs(got-want) > 1e-9 {
			t.Errorf("binomialTail(%d, %.2f, %d) = %.12f, want %.12f", c.n, c.q, c.m, got, want)
		}
	}
}
