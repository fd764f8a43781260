package multicast

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

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

// flakyConn fails its first reads with a transient error, then delivers
// one datagram, then reports closed.
type flakyConn struct {
	Conn
	fails atomic.Int32
	reads atomic.Int32
}

var errTransient = errors.New("no buffer space available")

func (c *flakyConn) ReadBatch(ms []Message) (int, error) {
	c.reads.Add(1)
	if c.fails.Add(-1) >= 0 {
		return 0, errTransient
	}
	if c.reads.Load() == 4 {
		ms[0].N = copy(ms[0].Buf, "ok")
		return 1, nil
	}
	return 0, net.ErrClosed
}

func (c *flakyConn) Close() error { return nil }

// A transient read error backs off and reads again; errors that persist
// are returned to the owner instead of spinning.
func TestReadLoopBacksOff(t *testing.T) {
	c := &flakyConn{}
	c.fails.Store(3)
	var got []string
	start := time.Now()
	err := ReadLoop(context.Background(), c, 1, 16, func(b []byte, _ netip.AddrPort) { got = append(got, string(b)) })
	if err != nil || len(got) != 1 || got[0] != "ok" {
		t.Fatalf("ReadLoop = %v, got %v; want nil and the datagram after 3 transient errors", err, got)
	}
	if took := time.Since(start); took < (1+2+4)*readBackoffMin {
		t.Errorf("3 failures took %v: no back-off", took)
	}
	c = &flakyConn{}
	c.fails.Store(1 << 20)
	if err := ReadLoop(context.Background(), c, 1, 16, func([]byte, netip.AddrPort) {}); !errors.Is(err, errTransient) {
		t.Fatalf("persistent errors: ReadLoop = %v, want the error", err)
	}
	if n := c.reads.Load(); n != readErrorsMax {
		t.Errorf("persistent errors: %d reads, want %d", n, readErrorsMax)
	}
}
