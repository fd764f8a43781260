package node

import (
	"sync/atomic"
	"testing"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// An observer has seen a packet before any subscriber gets it, and sees
// nothing once stopped.
func TestObserveRunsBeforeSubscribers(t *testing.T) {
	checkNoLeaks(t)
	memnet := multicast.NewMemNet(1)
	alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
	bob := testNode(t, "bob", memnet.Host(multicast.Link{}))
	var seen atomic.Int64
	stop := bob.Observe(protocol.TypeBeacon, func(Packet) { seen.Add(1) })
	beacons := bob.Subscribe(protocol.TypeBeacon, 8)
	runNode(t, alice)
	runNode(t, bob)

	send := func() {
		t.Helper()
		pkt, _ := alice.Signer.Append(nil, beacon("alice"))
		if err := alice.Send(pkt); err != nil {
			t.Fatal(err)
		}
	}
	for want := int64(1); want <= 3; want++ {
		send()
		receive(t, beacons)
		if got := seen.Load(); got != want {
			t.Fatalf("subscriber got beacon %d while the observer had seen %d", want, got)
		}
	}
	stop()
	send()
	receive(t, beacons)
	if got := seen.Load(); got != 3 {
		t.Errorf("observer saw %d beacons after stop, want 3", got)
	}
}

// A type with only an observer is handled, not counted as unhandled.
func TestObserveAloneIsHandled(t *testing.T) {
	memnet := multicast.NewMemNet(1)
	alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
	bob := testNode(t, "bob", memnet.Host(multicast.Link{}))
	got := make(chan Packet, 1)
	bob.Observe(protocol.TypeBeacon, func(p Packet) {
		select {
		case got <- p:
		default:
		}
	})
	runNode(t, alice)
	runNode(t, bob)
	pkt, _ := alice.Signer.Append(nil, beacon("alice"))
	if err := alice.Send(pkt); err != nil {
		t.Fatal(err)
	}
	receive(t, got)
	if n := bob.Stats().Unhandled[protocol.TypeBeacon]; n != 0 {
		t.Errorf("Unhandled[beacon] = %d, want 0", n)
	}
}
