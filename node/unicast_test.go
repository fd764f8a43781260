package node

import (
	"errors"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// unicastNode opens a node on its own MemNet (so no other node hears its
// multicast) with a unicast socket on loopback.
func unicastNode(t *testing.T, name string, peers ...netip.AddrPort) *Node {
	t.Helper()
	return unicastNodeAt(t, name, time.Now, peers...)
}

// unicastNodeAt is unicastNode with its clock.
func unicastNodeAt(t *testing.T, name string, now func() time.Time, peers ...netip.AddrPort) *Node {
	t.Helper()
	n, err := Open(Config{Home: t.TempDir(), Name: name, Network: multicast.NewMemNet(1).Host(multicast.Link{}),
		Unicast: netip.MustParseAddrPort("127.0.0.1:0"), Peers: peers, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// Two nodes that cannot hear each other's multicast find each other
// through one static peer, each asks the other for unicast (bob once it
// has not heard alice on the group for DeafAfter), and a control packet
// then reaches the deaf side by unicast (SPEC §5.2).
func TestStaticPeerAndUnicastFallback(t *testing.T) {
	checkNoLeaks(t)
	var ahead atomic.Int64 // bob's clock runs this far ahead
	bob := unicastNodeAt(t, "bob", func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) })
	if err := bob.Join(); err != nil {
		t.Fatal(err)
	}
	bobAddr := bob.UnicastAddr()
	if !bobAddr.IsValid() || bobAddr.Port() == 0 {
		t.Fatalf("bob's unicast address %v", bobAddr)
	}
	alice := unicastNode(t, "alice", netip.AddrPortFrom(bobAddr.Addr(), bobAddr.Port()))
	bobBeacons := bob.Subscribe(protocol.TypeBeacon, 16)
	aliceBeacons := alice.Subscribe(protocol.TypeBeacon, 16)
	runNode(t, alice)
	runNode(t, bob)

	if err := alice.SendBeacon(beacon("alice")); err != nil {
		t.Fatal(err)
	}
	got := receive(t, bobBeacons)
	b, _ := protocol.ParseBeacon(got.Body)
	if !got.Unicast || b.Flags&protocol.BeaconUnicastWanted == 0 {
		t.Fatalf("bob got unicast=%v flags=%#x; want a unicast beacon asking for unicast", got.Unicast, b.Flags)
	}
	// bob does not know alice from the group: it answers by unicast, and
	// asks for unicast only once alice has gone unheard for DeafAfter (a
	// lossy link loses single multicast beacons).
	if err := bob.SendBeacon(beacon("bob")); err != nil {
		t.Fatal(err)
	}
	got = receive(t, aliceBeacons)
	b, _ = protocol.ParseBeacon(got.Body)
	if !got.Unicast || b.Flags&protocol.BeaconUnicastWanted != 0 {
		t.Fatalf("alice got unicast=%v flags=%#x at once; want bob's unicast beacon not yet asking for unicast", got.Unicast, b.Flags)
	}
	if d, ok := bob.UnicastFlagDue(); !ok || d <= 0 || d > DeafAfter {
		t.Fatalf("bob's flag due in %v (%v), want within DeafAfter", d, ok)
	}
	ahead.Store(int64(DeafAfter))
	if d, ok := bob.UnicastFlagDue(); ok {
		t.Fatalf("bob's flag still due in %v after DeafAfter", d)
	}
	if err := bob.SendBeacon(beacon("bob")); err != nil {
		t.Fatal(err)
	}
	got = receive(t, aliceBeacons)
	b, _ = protocol.ParseBeacon(got.Body)
	if !got.Unicast || b.Flags&protocol.BeaconUnicastWanted == 0 || got.Src != bobAddr {
		t.Fatalf("alice got unicast=%v flags=%#x from %v; want bob's flagged unicast beacon from %v", got.Unicast, b.Flags, got.Src, bobAddr)
	}
	reach := bob.Reach()
	if len(reach) != 1 || !reach[0].Deaf || reach[0].Unicast.IsZero() || !reach[0].Multicast.IsZero() {
		t.Fatalf("bob's reach %+v; want alice heard by unicast only, deaf to our multicast", reach)
	}
	// Any control packet bob sends now reaches alice by unicast too.
	pkt, _ := bob.Signer.Append(nil, beacon("bob-again"))
	if err := bob.Send(pkt); err != nil {
		t.Fatal(err)
	}
	got = receive(t, aliceBeacons)
	if !got.Unicast || string(got.Raw) != string(pkt) {
		t.Fatalf("alice got %x unicast=%v; want bob's packet by unicast", got.Raw, got.Unicast)
	}
	if s := bob.Stats(); s.UnicastSent < 2 || s.UnicastFailed != 0 {
		t.Errorf("bob's unicast counters %+v", s)
	}
}

// A peer heard on the group gets no unicast beyond the one answer to a
// newcomer, and a peer that said it hears us again is no longer served by
// unicast.
func TestUnicastTargets(t *testing.T) {
	u := newUnicastPaths([]netip.AddrPort{netip.MustParseAddrPort("198.18.0.9:4772")})
	now := time.Unix(1000, 0)
	alice := [protocol.SenderLen]byte{1}
	aliceGroup := netip.MustParseAddrPort("198.18.0.2:4772")
	aliceUni := netip.MustParseAddrPort("198.18.0.2:4772")
	u.observeBeacon(alice, 1, aliceGroup, false, 0, now)
	first := u.beaconTargets(now)
	want := []beaconTarget{{netip.MustParseAddrPort("198.18.0.9:4772"), true}, {aliceGroup, false}}
	if len(first) != 2 || first[0] != want[0] || first[1] != want[1] {
		t.Fatalf("first targets %v, want %v (static peer, flagged; newcomer once, unflagged)", first, want)
	}
	if next := u.beaconTargets(now.Add(time.Second)); len(next) != 1 {
		t.Fatalf("second targets %v, want only the static peer", next)
	}
	u.observeBeacon(alice, 1, aliceUni, true, protocol.BeaconUnicastWanted, now.Add(2*time.Second))
	if deaf := u.deafPeers(now.Add(2 * time.Second)); len(deaf) != 1 || deaf[0] != aliceUni {
		t.Fatalf("deaf %v, want alice", deaf)
	}
	u.observeBeacon(alice, 1, aliceUni, true, 0, now.Add(3*time.Second))
	if deaf := u.deafPeers(now.Add(3 * time.Second)); len(deaf) != 0 {
		t.Fatalf("deaf %v after alice said she hears us", deaf)
	}
	u.observeBeacon(alice, 1, aliceUni, true, protocol.BeaconUnicastWanted, now.Add(4*time.Second))
	if deaf := u.deafPeers(now.Add(4*time.Second + UnicastExpire + time.Second)); len(deaf) != 0 {
		t.Fatalf("deaf %v after the request expired", deaf)
	}
}

func TestStaticPeersChecked(t *testing.T) {
	for _, p := range []string{"239.1.2.3:4772", "0.0.0.0:4772", "[2001:db8::1]:4772"} {
		_, err := Open(Config{Home: t.TempDir(), Name: "a", Peers: []netip.AddrPort{netip.MustParseAddrPort(p)}})
		if !errors.Is(err, ErrConfig) {
			t.Errorf("peer %s: err %v, want ErrConfig", p, err)
		}
	}
	n, err := Open(Config{Home: t.TempDir(), Name: "a", Peers: []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("198.18.0.2"), 0)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.StaticPeers(); len(got) != 1 || got[0].Port() != protocol.DefaultPort {
		t.Errorf("StaticPeers %v, want the control port filled in", got)
	}
}

// Data-group datagrams that reach the unicast socket go to the session
// listening for them, unverified and unparsed beyond the session id;
// signed control packets still take the pipeline.
func TestUnicastDataSink(t *testing.T) {
	checkNoLeaks(t)
	n := unicastNode(t, "bob")
	beacons := n.Subscribe(protocol.TypeBeacon, 4)
	runNode(t, n)
	waitFor(t, "unicast socket", func() bool { return n.UnicastAddr().IsValid() })
	sid := protocol.SessionID{1, 2, 3}
	dc, err := n.ListenUnicastData(sid)
	if err != nil {
		t.Fatal(err)
	}
	sender := unicastNode(t, "alice")
	if err := sender.Join(); err != nil {
		t.Fatal(err)
	}
	data := append(protocol.AppendDataHeader(nil, sid, 7, 1), make([]byte, protocol.MinShardSize+protocol.DataTagLen)...)
	other := append(protocol.AppendDataHeader(nil, protocol.SessionID{9}, 7, 1), make([]byte, protocol.MinShardSize+protocol.DataTagLen)...)
	for _, pkt := range [][]byte{other, data} {
		if err := sender.SendTo(pkt, n.UnicastAddr()); err != nil {
			t.Fatal(err)
		}
	}
	msgs := []multicast.Message{{Buf: make([]byte, protocol.MaxDatagram)}}
	got, err := dc.ReadBatch(msgs)
	if err != nil || got != 1 || string(msgs[0].Buf[:msgs[0].N]) != string(data) {
		t.Fatalf("ReadBatch = %d, %v, %x; want the session's data packet", got, err, msgs[0].Buf[:msgs[0].N])
	}
	b, _ := sender.Signer.Append(nil, beacon("alice"))
	if err := sender.SendTo(b, n.UnicastAddr()); err != nil {
		t.Fatal(err)
	}
	if p := receive(t, beacons); !p.Unicast {
		t.Error("beacon not delivered as unicast")
	}
	dc.Close()
	if _, err := dc.ReadBatch(msgs); err == nil {
		t.Error("ReadBatch after Close succeeded")
	}
}

// A peer first heard by unicast is asked for unicast only after DeafAfter
// unheard on the group; any packet of its heard on the group (a push's
// announce, not only a beacon) means we hear it, and does not stand in
// for the beacon that makes it a newcomer.
func TestUnicastAskedOnlyAfterDeafAfter(t *testing.T) {
	u := newUnicastPaths(nil)
	now := time.Unix(1000, 0)
	alice, carol := [protocol.SenderLen]byte{1}, [protocol.SenderLen]byte{2}
	aliceUni := netip.MustParseAddrPort("198.18.0.2:4772")
	carolUni := netip.MustParseAddrPort("198.18.0.3:4772")
	u.observeBeacon(alice, 1, aliceUni, true, 0, now)
	u.observeBeacon(carol, 1, carolUni, true, 0, now)
	if got := u.beaconTargets(now.Add(DeafAfter / 2)); len(got) != 2 || got[0].wanted || got[1].wanted {
		t.Fatalf("targets %v halfway through DeafAfter, want both unflagged", got)
	}
	if d, ok := u.flagDue(now.Add(DeafAfter / 2)); !ok || d != DeafAfter/2 {
		t.Fatalf("flag due in %v (%v), want %v", d, ok, DeafAfter/2)
	}
	u.observeGroup(carol, now.Add(DeafAfter*3/4)) // carol's announce reached us on the group
	got := u.beaconTargets(now.Add(DeafAfter))
	if len(got) != 1 || got[0] != (beaconTarget{aliceUni, true}) {
		t.Fatalf("targets %v after DeafAfter, want alice flagged (carol is heard)", got)
	}
	if d, ok := u.flagDue(now.Add(DeafAfter)); ok {
		t.Fatalf("flag due in %v with none waiting", d)
	}
	carolGroup := netip.MustParseAddrPort("198.18.0.3:4771")
	u.observeBeacon(carol, 1, carolGroup, false, 0, now.Add(2*DeafAfter))
	if got := u.beaconTargets(now.Add(2 * DeafAfter)); !slices.Contains(got, beaconTarget{carolGroup, false}) {
		t.Fatalf("targets %v, want carol's first group beacon answered once as a newcomer", got)
	}
}

// A new process of a key heard on the group (a short-lived send after a
// listen of the same home) is a newcomer again: it has not heard us, and
// if we cannot send multicast our one unicast copy is how it learns of us.
func TestNewProcessOfAKnownPeerIsANewcomer(t *testing.T) {
	u := newUnicastPaths(nil)
	now := time.Unix(1000, 0)
	alice := [protocol.SenderLen]byte{1}
	listen := netip.MustParseAddrPort("198.18.0.2:4772")
	send := netip.MustParseAddrPort("198.18.0.2:40001")
	u.observeBeacon(alice, 7, listen, false, 0, now)
	if got := u.beaconTargets(now); len(got) != 1 || got[0] != (beaconTarget{listen, false}) {
		t.Fatalf("targets %v, want alice's listen once", got)
	}
	u.observeBeacon(alice, 7, listen, false, 0, now.Add(time.Second))
	if got := u.beaconTargets(now.Add(time.Second)); len(got) != 0 {
		t.Fatalf("targets %v for a process already told of us", got)
	}
	u.observeBeacon(alice, 8, send, false, 0, now.Add(2*time.Second))
	if got := u.beaconTargets(now.Add(2 * time.Second)); len(got) != 1 || got[0] != (beaconTarget{send, false}) {
		t.Fatalf("targets %v, want alice's new process once", got)
	}
}
