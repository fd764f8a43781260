package push

import (
	"crypto/ed25519"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
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
	p := newTestPush(t)
	lab := newRSessionLab(t, t.TempDir())
	s := lab.session(t, p, t.TempDir())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range p.chunks {
		s.onData(c, lab.src)
	}
	s.sentThrough = p.announce.Blocks // the first pass is over: every block is due
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
	p := newTestPush(t)
	lab := newRSessionLab(t, t.TempDir())
	s := lab.session(t, p, t.TempDir())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range p.chunks {
		s.onData(c, lab.src)
	}
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
