package push

import (
	"crypto/ed25519"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// nacked reports whether block b is in the next status's NACKs.
func nacked(s *rsession, b uint32) bool {
	st, _, _ := s.statusLocked()
	return slices.ContainsFunc(st.Nacks, func(n protocol.Nack) bool { return n.Block == b })
}

// TestSuppressionOnlyFromAdmittedReceivers is issue 18 item 4: another
// key's NACKs keep this receiver quiet about a block only if that key is
// a recipient the sender's grants name (or, in an open push, one this
// receiver trusts), and only once per packet.
func TestSuppressionOnlyFromAdmittedReceivers(t *testing.T) {
	s, p, lab := sessionWithManifest(t)
	s.sentThrough = p.announce.Blocks         // the first pass is over: every block is due
	s.lastData = time.Now().Add(-time.Minute) // and no repair is flowing (that would hold NACKs)
	status := func(key ed25519.PrivateKey) []byte {
		st := protocol.Status{Session: p.sid, State: protocol.StateReceiving}
		for b := range p.announce.Blocks {
			st.Nacks = append(st.Nacks, protocol.Nack{Block: b})
		}
		pkt, _ := protocol.NewSigner(key).Append(nil, st)
		return pkt
	}
	_, outsider, _ := ed25519.GenerateKey(rand.Reader)
	_, peer, _ := ed25519.GenerateKey(rand.Reader)

	for _, mode := range []byte{protocol.KeyModeRecipients, protocol.KeyModePublic} {
		s.a.KeyMode = mode
		clear(s.suppress)
		s.onFeedback(status(outsider), lab.src)
		if len(s.suppress) != 0 || !nacked(s, 0) {
			t.Fatalf("mode %d: an outsider's NACKs suppressed ours", mode)
		}
	}
	s.a.KeyMode = protocol.KeyModeRecipients
	s.recipients[identity.KeyIDOf(peer.Public().(ed25519.PublicKey))] = true
	pkt := status(peer)
	s.onFeedback(pkt, lab.src)
	if len(s.suppress) != int(p.announce.Blocks) || nacked(s, 0) {
		t.Fatalf("a recipient's fresh NACKs did not suppress ours (%d suppressed)", len(s.suppress))
	}
	clear(s.suppress)
	s.onFeedback(pkt, lab.src) // the same packet replayed
	if len(s.suppress) != 0 {
		t.Fatal("a replayed status suppressed our NACKs")
	}
}

// TestHashFailureRepairBackoff: a block spoiled by forged shards is not
// NACKed again at once, and all such blocks share a budget (issue 18,
// repair amplification).
func TestHashFailureRepairBackoff(t *testing.T) {
	s, p, lab := sessionWithManifest(t)
	s.sentThrough = p.announce.Blocks
	// Only the sender's own signed junk still fails a block's hash, and
	// only with a rebuilt shard it did not sign (SPEC.md §6.5, §6.5.1):
	// junk for indexes 1..K, so the decoder rebuilds shard 0.
	lists, forged := senderSignedForgery(t, p, 0, 1, testPushK)
	s.auth = newShardBook()
	for _, d := range append(lists, forged...) {
		s.onData(d, lab.src)
	}
	if s.badBlocks != 1 {
		t.Fatalf("%d blocks failed their hash, want 1", s.badBlocks)
	}
	s.lastData = time.Now().Add(-time.Minute) // no repair flowing (that would hold NACKs)
	if nacked(s, 0) {
		t.Fatal("a block that just failed its hash is NACKed at once")
	}
	if !nacked(s, 1) {
		t.Fatal("other blocks are not NACKed")
	}
	time.Sleep(s.r.cfg.StatusEvery*2 + 20*time.Millisecond)
	if !nacked(s, 0) {
		t.Fatal("the failed block is never asked for again")
	}
	if nacked(s, 0) {
		t.Fatal("the failed block is asked for in every status")
	}
	now := time.Now()
	s.failBudget = newTokenBucket(failNacksPerSec, failNacksBurst, now)
	allowed := 0
	for b := range uint32(1000) {
		s.hashFailed[b] = hashFailure{count: 1}
		if s.mayNackFailed(b, now) {
			allowed++
		}
	}
	if allowed != failNacksBurst {
		t.Fatalf("%d failed blocks NACKed at once, want the burst of %d", allowed, failNacksBurst)
	}
}

// NACK backoff (SPEC.md §6.6): of a group that all need the same repair,
// about one draws a wait in the first fifth of the window, whatever the
// group's size, so the first NACK's repair can keep the rest quiet. A
// uniform wait would let a fifth of the group answer.
func TestNackDelayKeepsEarlyAnswersFlat(t *testing.T) {
	if nackDelay(1) != 0 || nackDelay(0) != 0 {
		t.Fatal("a group of one waits before asking")
	}
	for _, group := range []int{10, 100, 1000} {
		window := nackBackoff(group)
		early, trials := 0, 200
		for range trials {
			for range group {
				d := nackDelay(group)
				if d < 0 || d >= window {
					t.Fatalf("group %d: delay %v outside [0, %v)", group, d, window)
				}
				if d < window/5 {
					early++
				}
			}
		}
		if mean := float64(early) / float64(trials); mean > 3 {
			t.Errorf("group %d: %.1f receivers answer in the first fifth of the window, want about 1", group, mean)
		}
	}
}

// Timers scale with the group (SPEC.md §6.6): the group's periodic
// statuses stay near statusBudget a second, the sender waits at least
// silentPeriods of them before it counts a receiver gone, and the room
// the rate controller counts is the receivers expected to report in a
// tick.
func TestStatusTimersScaleWithGroup(t *testing.T) {
	for _, c := range []struct {
		group  int
		period time.Duration
	}{{0, 100 * time.Millisecond}, {8, 100 * time.Millisecond}, {64, 256 * time.Millisecond}, {512, 2048 * time.Millisecond}, {1 << 14, maxStatusPeriod}} {
		if got := statusPeriod(defaultStatusEvery, c.group); got != c.period {
			t.Errorf("group %d: period %v, want %v", c.group, got, c.period)
		}
		if got := silentAfter(c.group); got < silentAfterMin || got < silentPeriods*c.period {
			t.Errorf("group %d: silent after %v, less than %d periods of %v", c.group, got, silentPeriods, c.period)
		}
		if got := completeLinger(defaultStatusEvery, c.group); got < completePeriods*c.period {
			t.Errorf("group %d: complete repeated for %v, less than %d periods", c.group, got, completePeriods)
		}
	}
	tab := &receiverTable{peers: map[[32]byte]*peerState{}}
	for i := range 1000 {
		p := &peerState{id: i, state: protocol.StateReceiving}
		p.key[0], p.key[1] = byte(i), byte(i>>8)
		tab.peers[p.key] = p
		tab.order = append(tab.order, p)
	}
	tab.group = protocol.Announce{}.WithGroupSize(1000).GroupSize()
	if got := tab.room(); got < 40 || got > 60 {
		t.Errorf("1000 receivers reporting every %v: room %d per tick, want about 49", statusPeriod(defaultStatusEvery, tab.group), got)
	}
	tab.group = 8
	if got := tab.room(); got != 1000 {
		t.Errorf("a room whose statuses come every tick counts %d, want all 1000", got)
	}
}

// The sender's feedback hand-off (SPEC.md §6.7): when half full, a
// routine status from a receiver verified moments ago is shed before its
// signature is checked; NACKs, state changes and receivers not verified
// lately still go through; a forged status never does, busy or not.
func TestSenderShedsRoutineStatusesWhenBusy(t *testing.T) {
	l := newMemLab(t, 0, multicast.Link{})
	s := newBareSender(t, l.sender, 8, 4)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	signer := protocol.NewSigner(key)
	status := func(state byte, nacks int) []byte {
		st := protocol.Status{Session: s.sid, State: state}
		for b := range nacks {
			st.Nacks = append(st.Nacks, protocol.Nack{Block: uint32(b)})
		}
		pkt, _ := signer.Append(nil, st)
		return pkt
	}
	now := time.Now()
	take := func(pkt []byte) bool {
		before := len(s.statuses)
		if m, ok := s.verifyStatus(pkt, now); ok {
			s.handOff(m)
		}
		return len(s.statuses) > before
	}
	if !take(status(protocol.StateReceiving, 0)) {
		t.Fatal("a status was not handed over while the hand-off was empty")
	}
	for len(s.statuses) < cap(s.statuses)/2 {
		s.statuses <- statusMsg{}
	}
	if take(status(protocol.StateReceiving, 0)) || s.readerShed.Load() != 1 {
		t.Fatalf("busy: a routine status of a receiver verified moments ago was not shed (shed %d)", s.readerShed.Load())
	}
	if !take(status(protocol.StateReceiving, 2)) || !take(status(protocol.StateComplete, 0)) {
		t.Fatal("busy: a status with NACKs or a completion was shed")
	}
	now = now.Add(shedRecent)
	if !take(status(protocol.StateReceiving, 0)) {
		t.Fatal("busy: a receiver not verified for shedRecent was shed (it would be counted silent)")
	}
	forged := status(protocol.StateComplete, 0)
	forged[len(forged)-1] ^= 1
	if take(forged) {
		t.Fatal("a forged status was handed over")
	}
	for len(s.statuses) < cap(s.statuses) {
		s.statuses <- statusMsg{}
	}
	shed := s.readerShed.Load()
	if take(status(protocol.StateComplete, 3)) || s.readerShed.Load() != shed+1 {
		t.Fatal("a full hand-off took a status, or dropped it without counting")
	}
	// A receiver not verified lately is verified even now, and counted
	// alive though the full hand-off drops its status.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	signer = protocol.NewSigner(other)
	var otherKey [32]byte
	copy(otherKey[:], other.Public().(ed25519.PublicKey))
	if take(status(protocol.StateReceiving, 0)) || !s.table.alive.get(otherKey).Equal(now) {
		t.Fatal("a full hand-off: a receiver not heard lately was not counted alive")
	}
	forged = status(protocol.StateReceiving, 0)
	forged[len(forged)-1] ^= 1
	s.table.alive.set(otherKey, time.Time{})
	if take(forged); !s.table.alive.get(otherKey).IsZero() {
		t.Fatal("a forged status counted its key alive")
	}
}
