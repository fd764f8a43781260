package group

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunStopsTheRestAndWaits(t *testing.T) {
	var cleaned atomic.Bool
	background := func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // clean-up that must finish before Run returns
		cleaned.Store(true)
		return nil
	}
	main := func(context.Context) error { return nil }
	if err := Run(context.Background(), background, main); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !cleaned.Load() {
		t.Fatal("Run returned before the background function finished its clean-up")
	}
}

func TestRunReturnsFirstError(t *testing.T) {
	errFirst, errLater := errors.New("first"), errors.New("later")
	err := Run(context.Background(),
		func(context.Context) error { return errFirst },
		func(ctx context.Context) error { <-ctx.Done(); return errLater },
	)
	if !errors.Is(err, errFirst) {
		t.Fatalf("Run = %v, want %v", err, errFirst)
	}
}

func TestRunErrorOfBackgroundIsSeen(t *testing.T) {
	errNet := errors.New("network down")
	err := Run(context.Background(),
		func(context.Context) error { return errNet },
		func(ctx context.Context) error { <-ctx.Done(); return nil },
	)
	if !errors.Is(err, errNet) {
		t.Fatalf("Run = %v, want %v", err, errNet)
	}
}

func TestRunOuterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}
