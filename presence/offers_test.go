package presence

import (
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// A student runs receive and listen: two processes of one identity, each
// beaconing its own offer. The peer offers both, and stopping one keeps
// the peer listed with what the other offers.
func TestOffersOfSeveralProcessesAdd(t *testing.T) {
	memnet := multicast.NewMemNet(9)
	alice := newMember(t, memnet, "alice", 0)
	alice.p.tuning.expire = time.Hour
	alice.start(t)
	in := newInjector(t, memnet, alice.node.Control)
	student := newStranger(t)
	in.beacon(student, protocol.Beacon{Name: "student", Offers: protocol.OfferReceive})
	nextEvent(t, alice.p, Joined)
	in.beacon(student, protocol.Beacon{Name: "student", Offers: protocol.OfferListen})
	want := byte(protocol.OfferReceive | protocol.OfferListen)
	waitOffers(t, alice, student, want)

	in.beacon(student, protocol.Beacon{Name: "student", Offers: protocol.OfferListen, Flags: protocol.BeaconLeaving})
	waitOffers(t, alice, student, protocol.OfferReceive)

	in.beacon(student, protocol.Beacon{Name: "student", Offers: protocol.OfferReceive, Flags: protocol.BeaconLeaving})
	if ev := nextEvent(t, alice.p, Left); ev.Peer.Fingerprint == "" {
		t.Fatal("no Left event once the last process left")
	}
}

func waitOffers(t *testing.T, m *member, s stranger, want byte) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, ok := m.p.Lookup(s.pub)
		if ok && info.Offers == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("offers %#x (listed %v), want %#x", info.Offers, ok, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
