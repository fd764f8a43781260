package node

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/herald-lan/herald/internal/syncbuf"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// A mixed room (SPEC.md §3.5): alice speaks versions 1..2 and says so in
// her version-1 beacon; her version-2 datagrams reach bob, who speaks 1.
// Bob drops them unparsed, counts them, and says once which peer runs
// which version.
func TestFutureVersionNamedOnce(t *testing.T) {
	memnet := multicast.NewMemNet(1)
	alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
	var logs syncbuf.Buffer
	bob, err := Open(Config{Home: t.TempDir(), Name: "bob", Network: memnet.Host(multicast.Link{}),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	beacons := bob.Subscribe(protocol.TypeBeacon, 8)
	runNode(t, alice)
	runNode(t, bob)
	b := beacon("alice")
	b.Flags |= protocol.BeaconVersionFlags(2)
	pkt, _ := alice.Signer.Append(nil, b)
	if err := alice.Send(pkt); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, beacons); got.Type != protocol.TypeBeacon {
		t.Fatal("no beacon")
	}
	for range 3 {
		v2, _ := alice.Signer.Append(nil, beacon("alice"))
		v2[4] = 2
		if err := alice.Send(v2); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "3 malformed datagrams", func() bool { return bob.Stats().Malformed == 3 })
	out := logs.String()
	if strings.Count(out, "protocol version this herald does not speak") != 1 ||
		!strings.Contains(out, "their_version=2") || !strings.Contains(out, "peer=alice") ||
		!strings.Contains(out, alice.ID.Fingerprint()) || !strings.Contains(out, "peer_speaks_up_to=2") {
		t.Errorf("want one line naming alice, her fingerprint and versions, got:\n%s", out)
	}
	if len(beacons) != 0 {
		t.Error("a version-2 datagram was delivered")
	}
}
