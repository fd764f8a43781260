package node

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/syncbuf"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/replay"
)

// A receiver whose clock is off by less than the replay window takes the
// packets; beyond it, it drops them, counts them Stale and says once,
// naming the sender and the offset, that the clocks are the problem.
func TestClockSkew(t *testing.T) {
	for _, tt := range []struct {
		name   string
		offset time.Duration
		stale  bool
	}{
		{"within the window", replay.DefaultMaxSkew - 10*time.Second, false},
		{"behind, beyond the window", -replay.DefaultMaxSkew - time.Minute, true},
		{"ahead, beyond the window", replay.DefaultMaxSkew + time.Minute, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			memnet := multicast.NewMemNet(1)
			alice := testNode(t, "alice", memnet.Host(multicast.Link{}))
			var logs syncbuf.Buffer
			bob, err := Open(Config{Home: t.TempDir(), Name: "bob", Network: memnet.Host(multicast.Link{}),
				Now:    func() time.Time { return time.Now().Add(tt.offset) },
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { bob.Close() })
			beacons := bob.Subscribe(protocol.TypeBeacon, 8)
			runNode(t, alice)
			runNode(t, bob)
			for range 3 {
				pkt, _ := alice.Signer.Append(nil, beacon("alice"))
				if err := alice.Send(pkt); err != nil {
					t.Fatal(err)
				}
			}
			if !tt.stale {
				receive(t, beacons)
				if s := bob.Stats().Stale; s != 0 {
					t.Errorf("Stale = %d within the window", s)
				}
				return
			}
			waitFor(t, "3 stale packets", func() bool { return bob.Stats().Stale == 3 })
			if len(beacons) != 0 {
				t.Error("a packet outside the skew window was delivered")
			}
			out := logs.String()
			if strings.Count(out, "clock is outside the allowed skew") != 1 || !strings.Contains(out, "stale packets claiming to be from") || !strings.Contains(out, alice.ID.Fingerprint()) {
				t.Errorf("want one clock warning naming alice (%s), got:\n%s", alice.ID.Fingerprint(), out)
			}
		})
	}
}
