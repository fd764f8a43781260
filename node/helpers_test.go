package node

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
)

// testNode opens a node with a fresh home on host, closed when the test
// ends.
func testNode(t *testing.T, name string, host multicast.Network) *Node {
	t.Helper()
	n, err := Open(Config{Home: t.TempDir(), Name: name, Network: host})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// runNode joins and runs n until the test ends, and checks Run's result.
func runNode(t *testing.T, n *Node) {
	t.Helper()
	if err := n.Join(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// receive waits for one packet on ch.
func receive(t *testing.T, ch <-chan Packet) Packet {
	t.Helper()
	select {
	case p, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet within 5 s")
	}
	return Packet{}
}

// rawSender is a bare conn on the shared network, for sending bytes the
// node under test must judge.
func rawSender(t *testing.T, host multicast.Network, group netip.AddrPort) func(pkt []byte) {
	t.Helper()
	conn, err := host.Listen(group)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return func(pkt []byte) {
		t.Helper()
		if _, err := conn.WriteBatch([][]byte{pkt}, group); err != nil {
			t.Fatal(err)
		}
	}
}

// checkNoLeaks fails if goroutines started by this test are still running
// after a grace period. Call it first in a test: it snapshots the count
// and checks it in Cleanup, after the other cleanups ran.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// failingNetwork refuses every Listen, like a host without multicast.
type failingNetwork struct{ err error }

func (f failingNetwork) Listen(netip.AddrPort) (multicast.Conn, error) { return nil, f.err }

var errNoMulticast = errors.New("test: no multicast here")
