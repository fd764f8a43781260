package multicast

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Pacer clock whose sleeps advance time instantly, each one
// late by the factor oversleep, like a timer on a busy machine.
type fakeClock struct {
	t         time.Time
	oversleep float64
	sleeps    []time.Duration
}

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(time.Duration(float64(d) * (1 + c.oversleep)))
	return ctx.Err()
}

func newFakePacer(bps, oversleep float64) (*Pacer, *fakeClock) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0), oversleep: oversleep}
	return newPacerWithClock(bps, clk.now, clk.sleep), clk
}

func TestPacerLongRunRate(t *testing.T) {
	for _, tc := range []struct {
		bps       float64
		size      int
		oversleep float64
	}{
		{8e6, 1200, 0},     // 1 MB/s, ~1 datagram per ms
		{1e9, 1200, 0},     // 125 MB/s, ~100 datagrams per burst
		{1e9, 1200, 0.5},   // timers 50% late must not cost rate
		{1e6, 1500, 0},     // datagram larger than the 250-byte bucket
		{100e6, 9000, 0.2}, // jumbo frames
		{64e3, 65000, 0.1}, // one 64 KB datagram every ~8 s
	} {
		t.Run(fmt.Sprintf("%gbps/%dB/late%.0f%%", tc.bps, tc.size, tc.oversleep*100), func(t *testing.T) {
			p, clk := newFakePacer(tc.bps, tc.oversleep)
			start := clk.t
			const packets = 2000
			for range packets {
				if err := p.Wait(context.Background(), tc.size); err != nil {
					t.Fatal(err)
				}
			}
			elapsed := clk.t.Sub(start).Seconds()
			// The first bucketful is free and the last sleep may end up to one
			// interval (plus lateness) past the exact finishing time.
			bytesPerSec := tc.bps / 8
			bucket := bytesPerSec * PacerBurstInterval.Seconds() * pacerBucketIntervals
			exact := (packets*float64(tc.size) - bucket) / bytesPerSec
			lo := exact - float64(tc.size)/bytesPerSec
			hi := exact + PacerBurstInterval.Seconds()*(1+tc.oversleep) + float64(tc.size)/bytesPerSec
			if elapsed < lo || elapsed > hi {
				t.Errorf("sending %d x %d B took %.4fs of clock, want %.4f..%.4fs", packets, tc.size, elapsed, lo, hi)
			}
			for _, d := range clk.sleeps {
				if d < PacerBurstInterval {
					t.Fatalf("slept %v, below the %v burst interval", d, PacerBurstInterval)
				}
			}
		})
	}
}

func TestPacerBurstAfterIdleIsBounded(t *testing.T) {
	for _, bps := range []float64{8e6, 1e9} {
		t.Run(fmt.Sprintf("%gbps", bps), func(t *testing.T) {
			p, clk := newFakePacer(bps, 0)
			clk.t = clk.t.Add(10 * time.Second) // idle: credit must not pile up
			const size = 1000
			free := 0
			for len(clk.sleeps) == 0 {
				p.Wait(context.Background(), size)
				free++
			}
			bucket := max(bps/8*PacerBurstInterval.Seconds()*pacerBucketIntervals, 2*size)
			if got := float64((free - 1) * size); got > bucket {
				t.Errorf("after 10s idle %d bytes went unpaced, bucket is %.0f", (free-1)*size, bucket)
			}
		})
	}
}

func TestPacerSetRate(t *testing.T) {
	p, clk := newFakePacer(8e6, 0)
	for _, tc := range []struct {
		bps      float64
		wantRate float64
		paced    bool
	}{
		{16e6, 16e6, true},
		{0, 0, false},
		{-5, 0, false},
		{80e6, 80e6, true},
	} {
		p.SetRate(tc.bps)
		if p.Rate() != tc.wantRate {
			t.Errorf("SetRate(%g): Rate() = %g, want %g", tc.bps, p.Rate(), tc.wantRate)
		}
		clk.sleeps = nil
		start := clk.t
		for range 500 {
			p.Wait(context.Background(), 1000)
		}
		if paced := len(clk.sleeps) > 0; paced != tc.paced {
			t.Errorf("rate %g: paced = %v, want %v", tc.bps, paced, tc.paced)
		}
		if tc.paced {
			// 500 kB minus the initial bucket at the new rate.
			want := (500e3 - tc.wantRate/8*2e-3) / (tc.wantRate / 8)
			if got := clk.t.Sub(start).Seconds(); math.Abs(got-want)/want > 0.05 {
				t.Errorf("rate %g: 500 kB took %.4fs, want %.4fs", tc.bps, got, want)
			}
		}
	}
}

func TestPacerWaitHonoursContext(t *testing.T) {
	p := NewPacer(8000) // 1000 B/s, 2-byte bucket: a 1000-byte datagram needs a second
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.Wait(ctx, 1000); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want DeadlineExceeded", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("Wait returned %v after its context ended", waited)
	}
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if err := NewPacer(0).Wait(canceled, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("unlimited Wait on canceled ctx = %v, want Canceled", err)
	}
	var nilPacer *Pacer
	if err := nilPacer.Wait(context.Background(), 1e6); err != nil || nilPacer.Rate() != 0 {
		t.Errorf("nil Pacer: Wait = %v, Rate = %g; want nil, 0", err, nilPacer.Rate())
	}
}

// TestPacerConcurrent runs real waiters; it checks for races and that
// concurrent callers are all served, not timing.
func TestPacerConcurrent(t *testing.T) {
	p := NewPacer(400e6) // 50 MB/s: 400 kB takes ~8 ms
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				if err := p.Wait(context.Background(), 1000); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() { p.SetRate(800e6) })
	wg.Wait()
}

func BenchmarkPacerWait(b *testing.B) {
	p := NewPacer(0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p.Wait(ctx, 1200)
	}
}
