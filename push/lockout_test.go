package push

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// TestKeyFloodDoesNotLockOutTrustedSender is issue 18 item 3 on the
// engine: signed beacons from ~4300 fresh keys (from 70 addresses) fill
// the receivers' replay tables while the trusted teacher is quiet long
// enough to expire there; the teacher's next push must still complete.
// Receivers' clocks run 119 s ahead, and the flood's timestamps with
// them, so the flood stays live for two minutes while the teacher
// expires after a real second or two.
func TestKeyFloodDoesNotLockOutTrustedSender(t *testing.T) {
	const ahead = 119 * time.Second
	clock := &testClock{}
	clock.advance(ahead)
	l := newMemLabClock(t, 2, clock.now)
	for _, r := range l.receivers {
		if _, err := r.Trust.Observe("teacher", l.sender.ID.SignPub, l.sender.ID.BoxPub); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Trust.Trust(l.sender.ID.Fingerprint()); err != nil {
			t.Fatal(err)
		}
	}
	logs := serve(t, l, func(_ int, c *ReceiveConfig) { c.AcceptAny = false })
	startPush(t, l, 64<<10, nil).check(t, l, logs, 0, 1)
	time.Sleep(2 * time.Second) // the teacher is now expired in the receivers' guards

	const hosts, perHost = 70, 62
	for h := range hosts {
		rg := newRogue(t, l)
		ctl := rg.listen(rg.ctl)
		var batch [][]byte
		for range perHost {
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			s := protocol.NewSigner(key)
			env := s.Next()
			env.Time = uint64(time.Now().Add(ahead).UnixMilli())
			batch = append(batch, s.AppendWith(nil, env, protocol.Beacon{Name: "teacher"}))
		}
		ctl.WriteBatch(batch, rg.ctl)
		if h%8 == 7 {
			time.Sleep(20 * time.Millisecond) // let the readers keep up
		}
	}
	time.Sleep(500 * time.Millisecond)
	for i, r := range l.receivers {
		st := r.Stats()
		t.Logf("receiver %d: %d senders tracked (%d protected), %d refused as too many", i, r.Replay.Senders(), r.Replay.Protected(), st.TooManySenders)
	}
	p := startPush(t, l, 64<<10, func(c *SendConfig) { c.Wait = 5 * time.Second })
	p.check(t, l, logs, 0, 1)
}
