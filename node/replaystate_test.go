package node

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// TestReplayAcrossRestart is issue 18 item 6: a packet a process accepted
// is refused by the next process on the same home, inside the skew
// window; and a late copy counts as a replay, not as a harmless copy.
func TestReplayAcrossRestart(t *testing.T) {
	memnet := multicast.NewMemNet(5)
	mallory := testNode(t, "mallory", memnet.Host(multicast.Link{}))
	home := t.TempDir()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	host := memnet.Host(multicast.Link{})
	pkt, _ := mallory.Signer.Append(nil, beacon("mallory"))

	first, err := Open(Config{Home: home, Name: "bob", Network: host, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	beacons := first.Subscribe(protocol.TypeBeacon, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	first.Join()
	go func() { done <- first.Run(ctx) }()
	send := rawSender(t, memnet.Host(multicast.Link{}), first.Control)
	send(pkt)
	receive(t, beacons)
	offset.Store(int64(10 * time.Second))
	send(pkt)
	waitFor(t, "late copy counted as a replay", func() bool { return first.Stats().Replayed == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	second, err := Open(Config{Home: home, Name: "bob", Network: host, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	beacons = second.Subscribe(protocol.TypeBeacon, 8)
	runNode(t, second)
	send(pkt)
	waitFor(t, "replay after restart refused", func() bool { return second.Stats().Replayed == 1 })
	if len(beacons) != 0 {
		t.Fatal("a captured packet was delivered again after a restart")
	}
	fresh, _ := mallory.Signer.Append(nil, beacon("mallory"))
	send(fresh)
	receive(t, beacons)
}

func TestOwnAndTrustedKeysProtected(t *testing.T) {
	n := testNode(t, "bob", multicast.NewMemNet(1).Host(multicast.Link{}))
	if !n.protectedKey([32]byte(n.ID.SignPub)) {
		t.Error("own key not protected")
	}
	if n.protectedKey([32]byte{1}) {
		t.Error("a stranger is protected")
	}
	alice := testNode(t, "alice", multicast.NewMemNet(2).Host(multicast.Link{}))
	if _, err := n.Trust.Observe("alice", alice.ID.SignPub, alice.ID.BoxPub); err != nil {
		t.Fatal(err)
	}
	key := [32]byte(alice.ID.SignPub)
	if n.protectedKey(key) {
		t.Error("a peer merely seen is protected")
	}
	if _, err := n.Trust.Trust(alice.ID.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	if !n.protectedKey(key) {
		t.Error("a trusted peer is not protected")
	}
}
