package multicast

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestBufferPoolBounded(t *testing.T) {
	p := NewBufferPool(2, 1500)
	a, ok1 := p.TryGet()
	b, ok2 := p.TryGet()
	if !ok1 || !ok2 || len(a) != 1500 || len(b) != 1500 {
		t.Fatalf("first two TryGet: %v %v len %d %d", ok1, ok2, len(a), len(b))
	}
	if _, ok := p.TryGet(); ok {
		t.Fatal("third TryGet succeeded on a pool of 2")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := p.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get on exhausted pool = %v, want DeadlineExceeded", err)
	}
	p.Put(make([]byte, 10)) // foreign size: ignored
	if _, ok := p.TryGet(); ok {
		t.Fatal("a foreign buffer was accepted into the pool")
	}
	p.Put(a[:3])
	got, err := p.Get(context.Background())
	if err != nil || len(got) != 1500 || &got[0] != &a[0] {
		t.Fatalf("Get after Put returned len %d, err %v, same buffer %v", len(got), err, err == nil && &got[0] == &a[0])
	}
}

func TestReadLoopStopsOnCancel(t *testing.T) {
	mn := NewMemNet(1)
	c, err := mn.Host(Link{}).Listen(testGroupA)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- ReadLoop(ctx, c, 4, 16, func(b []byte, src netip.AddrPort) { got <- string(b) })
	}()
	c.WriteBatch([][]byte{[]byte("a"), []byte("bb"), []byte("0123456789abcdefXYZ")}, testGroupA)
	var seen []string
	for range 3 {
		select {
		case s := <-got:
			seen = append(seen, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("handled only %q", seen)
		}
	}
	if want := []string{"a", "bb", "0123456789abcdef"}; !slices.Equal(seen, want) {
		t.Errorf("handled %q, want %q (truncated to bufSize)", seen, want)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ReadLoop = %v, want nil after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadLoop still running 5s after cancel")
	}
	if _, err := c.WriteBatch(seqPayloads(1), testGroupA); err == nil {
		t.Error("conn still open after ReadLoop's context ended")
	}
}
