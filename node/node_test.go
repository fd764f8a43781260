package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

func beacon(name string) protocol.Beacon {
	return protocol.Beacon{BoxKey: [32]byte{1}, Name: name}
}

func TestOpenCreatesThenReloads(t *testing.T) {
	home := t.TempDir()
	net := multicast.NewMemNet(1).Host(multicast.Link{})
	first, err := Open(Config{Home: home, Name: "alice", Network: net})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Open(Config{Home: home, Name: "ignored", Network: net})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || second.Created {
		t.Errorf("Created = %v, %v; want true, false", first.Created, second.Created)
	}
	if first.ID.Fingerprint() != second.ID.Fingerprint() || second.ID.Name != "alice" {
		t.Errorf("reopened identity %q %s differs from %q %s", second.ID.Name, second.ID.Fingerprint(), first.ID.Name, first.ID.Fingerprint())
	}
	if first.Home != home {
		t.Errorf("Home = %q, want %q", first.Home, home)
	}
	if first.epoch == second.epoch {
		t.Error("two Opens share a Signer epoch; their packets would be taken for each other's own")
	}
}

func TestControlGroup(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		want    netip.AddrPort
		wantErr error
	}{
		{"default", Config{}, netip.MustParseAddrPort("239.255.72.1:4772"), nil},
		{"ipv6", Config{IPv6: true}, netip.MustParseAddrPort("[ff12::4852:4c44:1]:4772"), nil},
		{"port", Config{Port: 5000}, netip.MustParseAddrPort("239.255.72.1:5000"), nil},
		{"group wins over ipv6", Config{IPv6: true, Group: netip.MustParseAddr("239.1.2.3")}, netip.MustParseAddrPort("239.1.2.3:4772"), nil},
		{"unicast group", Config{Group: netip.MustParseAddr("198.18.0.1")}, netip.AddrPort{}, ErrConfig},
		{"bad port", Config{Port: 70000}, netip.AddrPort{}, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.controlGroup()
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("controlGroup() = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestOpenRejectsBadTTL(t *testing.T) {
	for _, ttl := range []int{-1, 256} {
		if _, err := Open(Config{Home: t.TempDir(), Name: "a", TTL: ttl}); !errors.Is(err, ErrConfig) {
			t.Errorf("TTL %d: err = %v, want ErrConfig", ttl, err)
		}
	}
}

func TestDefaultNameIsValid(t *testing.T) {
	if err := identity.ValidatePeerName(DefaultName()); err != nil {
		t.Errorf("DefaultName() = %q: %v", DefaultName(), err)
	}
}

func TestDeliversVerifiedPackets(t *testing.T) {
	checkNoLeaks(t)
	memnet := multicast.NewMemNet(1)
	alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
	bob := testNode(t, "bob", memnet.Host(multicast.Link{}))
	beacons := bob.Subscribe(protocol.TypeBeacon, 4)
	runNode(t, alice)
	runNode(t, bob)

	pkt, env := alice.Signer.Append(nil, beacon("alice"))
	if err := alice.Send(pkt); err != nil {
		t.Fatal(err)
	}
	got := receive(t, beacons)
	if !bytes.Equal(got.Raw, pkt) || got.Envelope != env || got.Type != protocol.TypeBeacon {
		t.Fatalf("got %x envelope %+v, want %x envelope %+v", got.Raw, got.Envelope, pkt, env)
	}
	if !got.Verify() {
		t.Error("delivered packet does not verify against its own Raw")
	}
	if !got.Src.IsValid() {
		t.Error("Src not set")
	}
	if b, err := protocol.ParseBeacon(got.Body); err != nil || b.Name != "alice" {
		t.Errorf("body: %+v, %v", b, err)
	}
	waitFor(t, "delivery counted", func() bool { return bob.Stats().Delivered[protocol.TypeBeacon] == 1 })
}

// An unsubscribed channel gets nothing more and is forgotten, so a node
// serving push after push does not collect dead queues.
func TestUnsubscribe(t *testing.T) {
	memnet := multicast.NewMemNet(1)
	alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
	bob := testNode(t, "bob", memnet.Host(multicast.Link{}))
	gone := bob.Subscribe(protocol.TypeBeacon, 4)
	kept := bob.Subscribe(protocol.TypeBeacon, 4)
	bob.Unsubscribe(gone)
	bob.Unsubscribe(gone) // twice is harmless
	if n := len(bob.subs.byType[protocol.TypeBeacon]); n != 1 {
		t.Fatalf("%d beacon subscribers after Unsubscribe, want 1", n)
	}
	runNode(t, alice)
	runNode(t, bob)
	pkt, _ := alice.Signer.Append(nil, beacon("alice"))
	if err := alice.Send(pkt); err != nil {
		t.Fatal(err)
	}
	receive(t, kept)
	select {
	case p := <-gone:
		t.Fatalf("unsubscribed channel got %v", p.Type)
	default:
	}
	bob.Unsubscribe(kept)
	if len(bob.subs.byType) != 0 {
		t.Fatalf("subscribers left: %v", bob.subs.byType)
	}
}

// TestRefusals feeds one node crafted datagrams and checks each lands in
// the documented counter and never reaches the subscriber.
func TestRefusals(t *testing.T) {
	memnet := multicast.NewMemNet(2)
	bob := testNode(t, "bob", memnet.Host(multicast.Link{}))
	mallory := testNode(t, "mallory", memnet.Host(multicast.Link{}))
	send := rawSender(t, memnet.Host(multicast.Link{}), bob.Control)
	beacons := bob.Subscribe(protocol.TypeBeacon, 64)
	runNode(t, bob)

	signed, _ := mallory.Signer.Append(nil, beacon("mallory"))
	forged := bytes.Clone(signed)
	forged[len(forged)-1] ^= 1
	old := mallory.Signer.Next()
	old.Time -= uint64((10 * time.Minute).Milliseconds())
	stale := mallory.Signer.AppendWith(nil, old, beacon("mallory"))
	own, _ := bob.Signer.Append(nil, beacon("bob"))
	data := protocol.AppendHeader(nil, protocol.TypeData)
	data = append(data, make([]byte, 40)...)

	tests := []struct {
		name    string
		pkt     []byte
		counter func(Stats) uint64
	}{
		{"garbage", []byte("hello, multicast"), func(s Stats) uint64 { return s.Malformed }},
		{"truncated", signed[:protocol.SignedOverhead-1], func(s Stats) uint64 { return s.Malformed }},
		{"unsigned type", data, func(s Stats) uint64 { return s.Malformed }},
		{"forged signature", forged, func(s Stats) uint64 { return s.BadSignature }},
		{"stale timestamp", stale, func(s Stats) uint64 { return s.Stale }},
		{"own packet", own, func(s Stats) uint64 { return s.Own }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.counter(bob.Stats())
			send(tt.pkt)
			waitFor(t, tt.name+" counted", func() bool { return tt.counter(bob.Stats()) == before+1 })
		})
	}
	t.Run("copy heard twice", func(t *testing.T) {
		send(signed)
		receive(t, beacons)
		send(signed)
		waitFor(t, "copy counted", func() bool { return bob.Stats().Duplicates == 1 })
		if r := bob.Stats().Replayed; r != 0 {
			t.Errorf("a copy heard at once counted as %d replays", r)
		}
	})
	t.Run("same key, other process", func(t *testing.T) {
		other := protocol.NewSigner(bob.ID.SignKey) // another epoch
		pkt, _ := other.Append(nil, beacon("bob"))
		send(pkt)
		if got := receive(t, beacons); !bytes.Equal(got.Raw, pkt) {
			t.Errorf("got %x, want the other process's packet", got.Raw)
		}
	})
	select {
	case p := <-beacons:
		t.Errorf("refused packet delivered: %x", p.Raw)
	default:
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	memnet := multicast.NewMemNet(3)
	alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
	bob := testNode(t, "bob", memnet.Host(multicast.Link{}))
	slow := bob.Subscribe(protocol.TypeBeacon, 1)
	fast := bob.Subscribe(protocol.TypeBeacon, 8)
	bob.Subscribe(protocol.TypeGroupMsg, 1) // other types are independent
	runNode(t, bob)
	for range 3 {
		pkt, _ := alice.Signer.Append(nil, beacon("alice"))
		if err := alice.Send(pkt); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "3 beacons offered to 2 subscribers", func() bool {
		s := bob.Stats()
		return s.Delivered[protocol.TypeBeacon]+s.Dropped[protocol.TypeBeacon] == 6
	})
	s := bob.Stats()
	if s.Delivered[protocol.TypeBeacon] != 4 || s.Dropped[protocol.TypeBeacon] != 2 {
		t.Errorf("delivered %v dropped %v; want 4 delivered (1 slow + 3 fast) and 2 dropped", s.Delivered, s.Dropped)
	}
	if len(slow) != 1 || len(fast) != 3 {
		t.Errorf("queues hold %d and %d packets, want 1 and 3", len(slow), len(fast))
	}
	if s.Unhandled[protocol.TypeBeacon] != 0 {
		t.Errorf("Unhandled = %v", s.Unhandled)
	}
}

func TestUnhandledTypeCounted(t *testing.T) {
	memnet := multicast.NewMemNet(4)
	alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
	bob := testNode(t, "bob", memnet.Host(multicast.Link{}))
	runNode(t, bob)
	pkt, _ := alice.Signer.Append(nil, beacon("alice"))
	if err := alice.Send(pkt); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "unhandled beacon", func() bool { return bob.Stats().Unhandled[protocol.TypeBeacon] == 1 })
}

func TestRunStopsCleanly(t *testing.T) {
	checkNoLeaks(t)
	memnet := multicast.NewMemNet(5)
	n := testNode(t, "alice", memnet.Host(multicast.Link{}))
	sub := n.Subscribe(protocol.TypeBeacon, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	pkt, _ := n.Signer.Append(nil, beacon("alice"))
	waitFor(t, "send while running", func() bool { return n.Send(pkt) == nil })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, ok := <-sub; ok {
		t.Error("subscription still open after Run returned")
	}
	if _, ok := <-n.Subscribe(protocol.TypeBeacon, 1); ok {
		t.Error("Subscribe after stop returned an open channel")
	}
	if err := n.Send(pkt); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after stop: %v, want ErrClosed", err)
	}
	if err := n.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Run: %v, want ErrClosed", err)
	}
}

func TestCloseStopsRun(t *testing.T) {
	checkNoLeaks(t)
	n := testNode(t, "alice", multicast.NewMemNet(6).Host(multicast.Link{}))
	done := make(chan error, 1)
	go func() { done <- n.Run(context.Background()) }()
	waitFor(t, "running", func() bool { n.mu.Lock(); defer n.mu.Unlock(); return n.state == running })
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}

func TestSendBeforeRunThenClose(t *testing.T) {
	checkNoLeaks(t)
	memnet := multicast.NewMemNet(7)
	alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
	bob := testNode(t, "bob", memnet.Host(multicast.Link{}))
	beacons := bob.Subscribe(protocol.TypeBeacon, 1)
	runNode(t, bob)
	pkt, _ := alice.Signer.Append(nil, beacon("alice"))
	if err := alice.Send(pkt); err != nil {
		t.Fatalf("Send before Run: %v", err)
	}
	receive(t, beacons)
	if err := alice.Close(); err != nil {
		t.Fatal(err)
	}
	if err := alice.Send(pkt); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
}

func TestSendRejectsOversize(t *testing.T) {
	n := testNode(t, "alice", multicast.NewMemNet(8).Host(multicast.Link{}))
	if err := n.Send(make([]byte, protocol.MaxDatagram+1)); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

func TestNetworkFailure(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"listen refused", Config{Network: failingNetwork{errNoMulticast}}},
		{"no such interface", Config{Iface: "herald-test-nonexistent0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeaks(t)
			tt.cfg.Home, tt.cfg.Name = t.TempDir(), "alice"
			n, err := Open(tt.cfg)
			if err != nil {
				t.Fatalf("Open must not touch the network: %v", err)
			}
			if err := n.Run(context.Background()); !errors.Is(err, ErrNetwork) {
				t.Errorf("Run: %v, want ErrNetwork", err)
			}
			if _, err := n.Listen(n.Control); !errors.Is(err, ErrNetwork) {
				t.Errorf("Listen: %v, want ErrNetwork", err)
			}
		})
	}
}

func TestRunWith(t *testing.T) {
	t.Run("work ends first, node stops after", func(t *testing.T) {
		checkNoLeaks(t)
		memnet := multicast.NewMemNet(9)
		alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
		bob := testNode(t, "bob", memnet.Host(multicast.Link{}))
		beacons := bob.Subscribe(protocol.TypeBeacon, 4)
		runNode(t, bob)
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // already cancelled: work still gets to send on its way out
		err := alice.RunWith(ctx, func(ctx context.Context) error {
			<-ctx.Done()
			pkt, _ := alice.Signer.Append(nil, beacon("leaving"))
			return alice.Send(pkt)
		})
		if err != nil {
			t.Fatalf("RunWith: %v", err)
		}
		receive(t, beacons)
	})
	t.Run("node fails, work is cancelled", func(t *testing.T) {
		checkNoLeaks(t)
		n, err := Open(Config{Home: t.TempDir(), Name: "a", Network: failingNetwork{errNoMulticast}})
		if err != nil {
			t.Fatal(err)
		}
		err = n.RunWith(context.Background(), func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		})
		if !errors.Is(err, ErrNetwork) {
			t.Errorf("RunWith: %v, want ErrNetwork", err)
		}
	})
}

func TestSenderTrust(t *testing.T) {
	n := testNode(t, "alice", multicast.NewMemNet(10).Host(multicast.Link{}))
	known, _, _ := ed25519.GenerateKey(nil)
	trusted, _, _ := ed25519.GenerateKey(nil)
	stranger, _, _ := ed25519.GenerateKey(nil)
	for name, pub := range map[string]ed25519.PublicKey{"bob": known, "carol": trusted} {
		if _, err := n.Trust.Observe(name, pub, [32]byte{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Trust.Trust("carol"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		pub         ed25519.PublicKey
		wantName    string
		wantTrusted bool
	}{
		{"self", n.ID.SignPub, "alice", true},
		{"seen", known, "bob", false},
		{"trusted", trusted, "carol", true},
		{"stranger", stranger, identity.Fingerprint(stranger), false}, // a key never heard shows as its fingerprint
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, fp, ok := n.SenderTrust(tt.pub)
			if name != tt.wantName || ok != tt.wantTrusted || fp != identity.Fingerprint(tt.pub) {
				t.Errorf("SenderTrust = %q %q %v; want %q %q %v", name, fp, ok, tt.wantName, identity.Fingerprint(tt.pub), tt.wantTrusted)
			}
		})
	}
}
