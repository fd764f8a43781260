package presence

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

func TestPeersSeeEachOther(t *testing.T) {
	memnet := multicast.NewMemNet(1)
	alice := newMember(t, memnet, "alice", protocol.OfferListen).start(t)
	bob := newMember(t, memnet, "bob", protocol.OfferReceive).start(t)

	for _, pair := range []struct{ seer, seen *member }{{alice, bob}, {bob, alice}} {
		ev := nextEvent(t, pair.seer.p, Joined)
		id := pair.seen.node.ID
		got := ev.Peer
		if got.Name != id.Name || got.Fingerprint != id.Fingerprint() || !got.SignPub.Equal(id.SignPub) ||
			got.BoxPub != id.BoxPub || !got.Addr.IsValid() || got.Trust != TrustSeen || got.LastSeen.IsZero() {
			t.Errorf("%s sees %+v; want %s %s seen with box key and address", pair.seer.node.ID.Name, got, id.Name, id.Fingerprint())
		}
		if list := pair.seer.p.Peers(); len(list) != 1 || list[0].Fingerprint != id.Fingerprint() {
			t.Errorf("%s Peers() = %+v, want only %s", pair.seer.node.ID.Name, list, id.Name)
		}
	}
	if info, _ := alice.p.Lookup(bob.node.ID.SignPub); info.Offers != protocol.OfferReceive {
		t.Errorf("bob offers %#x, want OfferReceive", info.Offers)
	}

	alice.stop()
	store, err := identity.OpenTrustStore(alice.node.Home)
	if err != nil {
		t.Fatal(err)
	}
	if rec, ok := store.Lookup(bob.node.ID.SignPub); ok {
		t.Errorf("alice's trust.json after stop holds untrusted bob: %+v; strangers stay in memory", rec)
	}
}

func TestTrustShowsAtOnce(t *testing.T) {
	memnet := multicast.NewMemNet(2)
	alice := newMember(t, memnet, "alice", 0).start(t)
	bob := newMember(t, memnet, "bob", 0).start(t)
	nextEvent(t, alice.p, Joined)
	if _, err := alice.node.Trust.Trust(bob.node.ID.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	if info, _ := alice.p.Lookup(bob.node.ID.SignPub); info.Trust != TrustTrusted {
		t.Errorf("trust = %v after Trust, want trusted", info.Trust)
	}
}

func TestLeavingBeaconRemovesPeer(t *testing.T) {
	memnet := multicast.NewMemNet(3)
	alice := newMember(t, memnet, "alice", 0)
	alice.p.tuning.expire = time.Hour // only the leaving beacon can remove bob
	alice.start(t)
	bob := newMember(t, memnet, "bob", 0).start(t)
	nextEvent(t, alice.p, Joined)
	bob.stop()
	ev := nextEvent(t, alice.p, Left)
	if ev.Peer.Fingerprint != bob.node.ID.Fingerprint() {
		t.Errorf("Left %s, want bob", ev.Peer.Fingerprint)
	}
	if _, ok := alice.p.Lookup(bob.node.ID.SignPub); ok {
		t.Error("bob still listed after leaving")
	}
}

func TestSilentPeerExpires(t *testing.T) {
	memnet := multicast.NewMemNet(4)
	alice := newMember(t, memnet, "alice", 0).start(t)
	in := newInjector(t, memnet, alice.node.Control)
	ghost := newStranger(t)
	in.beacon(ghost, protocol.Beacon{Name: "ghost"})
	joined := nextEvent(t, alice.p, Joined)
	left := nextEvent(t, alice.p, Left)
	if left.Peer.Fingerprint != joined.Peer.Fingerprint {
		t.Errorf("left %s, joined %s", left.Peer.Fingerprint, joined.Peer.Fingerprint)
	}
	if elapsed := left.Peer.LastSeen.Sub(joined.Peer.LastSeen); elapsed != 0 {
		t.Errorf("LastSeen moved by %v without a beacon", elapsed)
	}
	if len(alice.p.Peers()) != 0 {
		t.Errorf("Peers() = %+v after expiry", alice.p.Peers())
	}
}

func TestKeyChangeIsNeverTrusted(t *testing.T) {
	memnet := multicast.NewMemNet(5)
	alice := newMember(t, memnet, "alice", 0)
	realBob := newStranger(t)
	if _, err := alice.node.Trust.TrustKey("bob", realBob.pub, [32]byte{}); err != nil {
		t.Fatal(err)
	}
	alice.start(t)
	in := newInjector(t, memnet, alice.node.Control)

	for _, claimed := range []string{"bob", "BOB"} { // names fold case
		t.Run(claimed, func(t *testing.T) {
			impostor := newStranger(t)
			in.beacon(impostor, protocol.Beacon{Name: claimed})
			ev := nextEvent(t, alice.p, Changed)
			if !ev.Peer.SignPub.Equal(impostor.pub) || ev.Peer.Trust != TrustChanged {
				t.Errorf("Changed event %+v, want the impostor marked changed", ev.Peer)
			}
			in.beacon(impostor, protocol.Beacon{Name: claimed}) // a second beacon must not promote it
			waitFor(t, "second beacon", func() bool {
				info, _ := alice.p.Lookup(impostor.pub)
				return info.LastSeen.After(ev.Peer.LastSeen)
			})
			if info, _ := alice.p.Lookup(impostor.pub); info.Trust != TrustChanged {
				t.Errorf("impostor shown as %v, want changed", info.Trust)
			}
			if rec, _ := alice.node.Trust.Lookup(impostor.pub); rec.Trusted || rec.State() != identity.Changed {
				t.Errorf("changed key recorded as %+v, want an untrusted impostor", rec)
			}
		})
	}
	if n := strings.Count(alice.log.String(), "impostor"); n != 2 {
		t.Errorf("%d warnings logged, want one per changed key:\n%s", n, alice.log)
	}
}

func TestTableIsBounded(t *testing.T) {
	memnet := multicast.NewMemNet(6)
	alice := newMember(t, memnet, "alice", 0)
	alice.p.tuning.maxPeers = 3
	alice.p.tuning.expire = time.Hour
	alice.start(t)
	in := newInjector(t, memnet, alice.node.Control)
	var first stranger
	for i := range 5 {
		s := newStranger(t)
		if i == 0 {
			first = s
		}
		in.beacon(s, protocol.Beacon{Name: "peer" + string(rune('a'+i))})
		nextEvent(t, alice.p, Joined)
		time.Sleep(2 * time.Millisecond) // distinct LastSeen, so eviction order is defined
	}
	if got := len(alice.p.Peers()); got != 3 {
		t.Errorf("%d peers listed, want the bound 3", got)
	}
	if _, ok := alice.p.Lookup(first.pub); ok {
		t.Error("the peer seen longest ago was not the one evicted")
	}
}

func TestIgnoredBeacons(t *testing.T) {
	memnet := multicast.NewMemNet(7)
	alice := newMember(t, memnet, "alice", 0).start(t)
	in := newInjector(t, memnet, alice.node.Control)
	tests := []struct {
		name   string
		signer stranger
		beacon protocol.Beacon
	}{
		{"own identity from another process", stranger{pub: alice.node.ID.SignPub, signer: protocol.NewSigner(alice.node.ID.SignKey)}, protocol.Beacon{Name: "alice"}},
		{"empty name", newStranger(t), protocol.Beacon{Name: ""}},
		{"blank name", newStranger(t), protocol.Beacon{Name: "   "}},
		{"control characters in name", newStranger(t), protocol.Beacon{Name: "evil\x1b[2J"}},
		{"leaving stranger", newStranger(t), protocol.Beacon{Name: "gone", Flags: protocol.BeaconLeaving}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in.beacon(tt.signer, tt.beacon)
			marker := newStranger(t) // processed after the beacon under test
			in.beacon(marker, protocol.Beacon{Name: fmt.Sprintf("marker%d", i)})
			waitFor(t, "marker", func() bool { _, ok := alice.p.Lookup(marker.pub); return ok })
			if info, ok := alice.p.Lookup(tt.signer.pub); ok {
				t.Errorf("listed %+v", info)
			}
		})
	}
}

func TestBeaconsOnTheWire(t *testing.T) {
	memnet := multicast.NewMemNet(8)
	alice := newMember(t, memnet, "alice", protocol.OfferListen)
	listener, err := memnet.Host(multicast.Link{}).Listen(alice.node.Control)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	time.AfterFunc(5*time.Second, func() { listener.Close() }) // unblocks a read that would wait forever
	alice.start(t)

	read := func() protocol.Beacon {
		t.Helper()
		msgs := []multicast.Message{{Buf: make([]byte, protocol.MaxDatagram)}}
		if _, err := listener.ReadBatch(msgs); err != nil {
			t.Fatal(err)
		}
		s, err := protocol.ParseSigned(msgs[0].Buf[:msgs[0].N])
		if err != nil || !s.Verify() || s.Sender != [32]byte(alice.node.ID.SignPub) {
			t.Fatalf("not a beacon signed by alice: %v", err)
		}
		b, err := protocol.ParseBeacon(s.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i := range 2 {
		b := read()
		if b.Name != "alice" || b.BoxKey != alice.node.ID.BoxPub || b.Offers != protocol.OfferListen || b.Flags != 0 {
			t.Errorf("beacon %d = %+v", i, b)
		}
	}
	alice.p.SetOffers(protocol.OfferPush)
	for b := read(); b.Offers != protocol.OfferPush; b = read() {
	}
	alice.stop()
	for b := read(); b.Flags&protocol.BeaconLeaving == 0; b = read() {
	}
}

func TestNextIntervalStaysWithinJitter(t *testing.T) {
	p := &Presence{tuning: defaultTuning}
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := p.nextInterval()
		if d < Interval-Jitter || d > Interval+Jitter {
			t.Fatalf("interval %v outside %v ± %v", d, Interval, Jitter)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct intervals in 1000: no jitter", len(seen))
	}
}

func TestRunErrors(t *testing.T) {
	t.Run("twice", func(t *testing.T) {
		m := newMember(t, multicast.NewMemNet(9), "alice", 0).start(t)
		waitFor(t, "running", func() bool { return m.p.ran.Load() })
		if err := m.p.Run(context.Background()); !errors.Is(err, ErrRunning) {
			t.Errorf("second Run: %v, want ErrRunning", err)
		}
	})
	t.Run("no network", func(t *testing.T) {
		n, err := node.Open(node.Config{Home: t.TempDir(), Name: "alice", Network: refusingNetwork{}})
		if err != nil {
			t.Fatal(err)
		}
		p := New(n, 0)
		if err := p.Run(context.Background()); !errors.Is(err, node.ErrNetwork) {
			t.Errorf("Run: %v, want node.ErrNetwork", err)
		}
		if _, ok := <-p.Events(); ok {
			t.Error("Events open after Run returned")
		}
	})
}

type refusingNetwork struct{}

func (refusingNetwork) Listen(netip.AddrPort) (multicast.Conn, error) {
	return nil, errors.New("test: no multicast")
}

// A node that starts after the others hears each of them within the
// answer delay, not a whole beacon interval later.
func TestNewcomerIsAnswered(t *testing.T) {
	memnet := multicast.NewMemNet(9)
	alice := newMember(t, memnet, "alice", 0)
	alice.p.tuning = defaultTuning // real schedule: 3 s between beacons
	alice.start(t)
	time.Sleep(2 * defaultTuning.quick) // alice's start-up beacons are over
	bob := newMember(t, memnet, "bob", 0)
	bob.p.tuning = defaultTuning
	bob.start(t)
	start := time.Now()
	for time.Since(start) < defaultTuning.interval-defaultTuning.jitter {
		if _, ok := bob.p.Lookup(alice.node.ID.SignPub); ok {
			t.Logf("bob heard alice after %v", time.Since(start).Round(time.Millisecond))
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("bob heard alice only at her next regular beacon")
}
