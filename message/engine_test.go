package message

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
)

// checkExactlyOnce asserts p showed every text in want once and nothing else.
func checkExactlyOnce(t *testing.T, name string, got []Message, want map[string]bool) {
	t.Helper()
	seen := make(map[string]int)
	for _, m := range got {
		seen[m.Text]++
	}
	for text := range want {
		if seen[text] != 1 {
			t.Errorf("%s showed %.20q %d times, want once", name, text, seen[text])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s showed %d messages, want %d", name, len(got), len(want))
	}
}

// TestAnnounceUnderLoss: one sender, 10 listeners each losing 10% of
// datagrams; every listener shows every message exactly once.
func TestAnnounceUnderLoss(t *testing.T) {
	l := newLab(t, 42)
	ch := mustChannel(t, "class")
	chans := []identity.Channel{ch}
	sender := l.peer("teacher", peerOpts{cfg: Config{Channels: chans}})
	var listeners []*peer
	for i := range 10 {
		listeners = append(listeners, l.peer(fmt.Sprintf("pupil%d", i),
			peerOpts{link: multicast.Link{Loss: 0.10}, cfg: Config{Channels: chans}}))
	}
	sizes := []int{1, 40, 300, protocol.MaxFragmentSize, 3000, 9000}
	want := make(map[string]bool)
	for i := range 24 {
		text := textOf(i, sizes[i%len(sizes)])
		want[text] = true
		if _, err := sender.eng.Post(l.ctx, Post{Channel: ch, Text: text, Announce: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range listeners {
		p.waitFor(t, len(want))
	}
	time.Sleep(50 * time.Millisecond) // late repeats must not show twice
	for _, p := range listeners {
		got := p.messages()
		checkExactlyOnce(t, p.node.ID.Name, got, want)
		for _, m := range got {
			if m.Kind != KindAnnounce || m.Channel != "class" || m.Fingerprint != sender.node.ID.Fingerprint() {
				t.Fatalf("message shown as %v on %q from %s", m.Kind, m.Channel, m.Fingerprint)
			}
		}
		if s := p.eng.Stats(); s.Repeats == 0 || s.WrongKey != 0 || s.Malformed != 0 {
			t.Fatalf("%s stats %+v: want repeats counted and nothing refused", p.node.ID.Name, s)
		}
	}
}

// TestLargestMessage sends a 64 KiB message over a lossy link.
func TestLargestMessage(t *testing.T) {
	l := newLab(t, 7)
	sender := l.peer("a", peerOpts{})
	listener := l.peer("b", peerOpts{link: multicast.Link{Loss: 0.05}})
	text := strings.Repeat("0123456789abcdef", protocol.MaxMessageLen/16)
	if _, err := sender.eng.Post(l.ctx, Post{Channel: identity.OpenChannel(), Text: text}); err != nil {
		t.Fatal(err)
	}
	got := listener.waitFor(t, 1)
	if len(got[0].Text) != protocol.MaxMessageLen || got[0].Text != text {
		t.Fatalf("got %d bytes, want the %d sent", len(got[0].Text), len(text))
	}
	if got[0].Channel != "open" || got[0].Kind != KindChat {
		t.Fatalf("shown as %v on %q", got[0].Kind, got[0].Channel)
	}
	if _, err := sender.eng.Post(l.ctx, Post{Channel: identity.OpenChannel(), Text: text + "x"}); !errors.Is(err, ErrTooLong) {
		t.Fatalf("a message over the limit: got %v, want ErrTooLong", err)
	}
}

// TestManySenders: 100 senders announce at once; every listener shows
// every message exactly once.
func TestManySenders(t *testing.T) {
	if testing.Short() {
		t.Skip("100 identities take a while to create")
	}
	l := newLab(t, 100)
	var listeners []*peer
	for i := range 4 {
		listeners = append(listeners, l.peer(fmt.Sprintf("l%d", i), peerOpts{link: multicast.Link{Loss: 0.01}}))
	}
	// Senders hear nothing: 100 nodes each verifying everyone's packets
	// would test the CPU, not the engine.
	var senders []*peer
	for i := range 100 {
		senders = append(senders, l.peer(fmt.Sprintf("s%d", i), peerOpts{link: multicast.Link{Loss: 1}, cfg: Config{Repeats: 1}}))
	}
	want := make(map[string]bool)
	var wg sync.WaitGroup
	for i, s := range senders {
		text := textOf(i, 200+i*37)
		want[text] = true
		wg.Go(func() {
			if _, err := s.eng.Post(l.ctx, Post{Channel: identity.OpenChannel(), Text: text, Announce: true}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, p := range listeners {
		p.waitFor(t, len(want))
	}
	time.Sleep(50 * time.Millisecond)
	for _, p := range listeners {
		checkExactlyOnce(t, p.node.ID.Name, p.messages(), want)
	}
}

// TestRefusals sends one bad packet of each kind and checks each is
// refused, counted where a user would look, and never shown.
func TestRefusals(t *testing.T) {
	l := newLab(t, 3)
	ch := mustChannel(t, "lab")
	chans := []identity.Channel{ch}
	rx := l.peer("rx", peerOpts{presence: true, cfg: Config{Channels: chans}})
	alice := l.peer("alice", peerOpts{cfg: Config{Channels: chans, Repeats: -1}})
	raw := l.rawSender(rx.node.Control)

	// A genuine packet from alice, sealed for the channel.
	genuine := func(text string) []byte {
		enc, err := encode(newMessageID(), []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		enc.frag.N = enc.frag.K // one fragment is the whole message
		env := alice.node.Signer.Next()
		nonce := env.Nonce24(0)
		key := ch.Key(identity.PurposeMessage)
		body := protocol.GroupMsg{Channel: ch.ID(), Fragment: enc.frag,
			Payload: secretbox.Seal(nil, enc.fragments[0], &nonce, &key)}
		return alice.node.Signer.AppendWith(nil, env, body)
	}

	t.Run("forged signature", func(t *testing.T) {
		pkt := genuine("forged")
		pkt[len(pkt)-protocol.SignatureLen-1] ^= 1 // last payload byte
		before := rx.eng.Stats().BadSignature
		raw.send(t, pkt)
		eventually(t, "bad signature counted", func() bool { return rx.eng.Stats().BadSignature == before+1 })
	})
	t.Run("wrong channel key", func(t *testing.T) {
		// mallory knows the public channel id but not the secret.
		mallory := l.peer("mallory", peerOpts{})
		wrong := mustChannel(t, "lab").Key(identity.PurposeMessage)
		env := mallory.node.Signer.Next()
		nonce := env.Nonce24(0)
		text := []byte("let me in")
		frag := protocol.FragmentFor(newMessageID(), len(text))
		frag.N = 1
		body := protocol.GroupMsg{Channel: ch.ID(), Fragment: frag, Payload: secretbox.Seal(nil, text, &nonce, &wrong)}
		raw.send(t, mallory.node.Signer.AppendWith(nil, env, body))
		eventually(t, "wrong key counted", func() bool { return rx.eng.Stats().WrongKey == 1 })
	})
	t.Run("replayed packet", func(t *testing.T) {
		pkt := genuine("said once")
		raw.send(t, pkt)
		rx.waitFor(t, 1)
		// A copy moments after the original is what herald's own repeat
		// rounds look like: counted as a duplicate, not shown again.
		before := rx.eng.Stats().Duplicates
		raw.send(t, pkt)
		eventually(t, "copy counted", func() bool { return rx.eng.Stats().Duplicates == before+1 })
		if got := rx.eng.Stats().Shown; got != 1 {
			t.Fatalf("shown %d times, want once", got)
		}
	})
	t.Run("changed key", func(t *testing.T) {
		// rx trusts the real alice; an impostor now uses her name. Its
		// message is shown, marked changed, never as alice.
		if _, err := rx.node.Trust.TrustKey("alice", alice.node.ID.SignPub, alice.node.ID.BoxPub); err != nil {
			t.Fatal(err)
		}
		impostor := l.peer("alice", peerOpts{presence: true, cfg: Config{Channels: chans, Repeats: -1}})
		eventually(t, "impostor marked changed", func() bool {
			info, ok := rx.pres.Lookup(impostor.node.ID.SignPub)
			return ok && info.Trust == presence.TrustChanged
		})
		if _, err := impostor.eng.Post(l.ctx, Post{Channel: ch, Text: "I am alice"}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "changed key counted", func() bool { return rx.eng.Stats().ChangedKey >= 1 })
		got := rx.waitFor(t, 2)
		if m := got[1]; m.Text != "I am alice" || m.Trust != identity.Changed || m.Sender == "alice" || !strings.HasPrefix(m.Sender, "alice·") {
			t.Fatalf("impostor shown as %q from %q (%v); want changed and disambiguated", m.Text, m.Sender, m.Trust)
		}
		// The real alice still gets through, named and trusted.
		if _, err := alice.eng.Post(l.ctx, Post{Channel: ch, Text: "really alice"}); err != nil {
			t.Fatal(err)
		}
		got = rx.waitFor(t, 3)
		if m := got[2]; m.Text != "really alice" || !strings.HasPrefix(m.Sender, "alice") || m.Trust != identity.Trusted {
			t.Fatalf("genuine alice shown as %q from %q (%v)", m.Text, m.Sender, m.Trust)
		}
	})
	time.Sleep(50 * time.Millisecond)
	for _, m := range rx.messages() {
		if m.Text != "said once" && m.Text != "really alice" && m.Text != "I am alice" {
			t.Errorf("refused message shown: %q", m.Text)
		}
	}
	if n := len(rx.messages()); n != 3 {
		t.Errorf("showed %d messages, want 3", n)
	}
}

func TestRateLimit(t *testing.T) {
	l := newLab(t, 5)
	rx := l.peer("rx", peerOpts{cfg: Config{Rate: 1, Burst: 5}})
	tx := l.peer("tx", peerOpts{cfg: Config{Repeats: -1}})
	for i := range 10 {
		if _, err := tx.eng.Post(l.ctx, Post{Channel: identity.OpenChannel(), Text: textOf(i, 10)}); err != nil {
			t.Fatal(err)
		}
	}
	// Every fragment of a refused message is refused: 2 per message here.
	eventually(t, "rate limited counted", func() bool { return rx.eng.Stats().RateLimited >= 2*4 })
	time.Sleep(50 * time.Millisecond)
	if s := rx.eng.Stats(); s.Shown < 5 || s.Shown > 6 {
		t.Fatalf("shown %d of 10 from one sender with burst 5, want 5 (6 if a second passed)", s.Shown)
	}
}

// TestRetainedShownOnce: a retained message is re-sent; a listener that
// was there from the start shows it once, and one that starts later
// gets it from a re-send, also once.
func TestRetainedShownOnce(t *testing.T) {
	l := newLab(t, 9)
	early := l.peer("early", peerOpts{})
	tx := l.peer("tx", peerOpts{cfg: Config{RetainFirst: 50 * time.Millisecond}})
	done := make(chan error, 1)
	go func() {
		_, err := tx.eng.Post(l.ctx, Post{Channel: identity.OpenChannel(), Text: "wifi password changed", Announce: true, Retain: 600 * time.Millisecond})
		done <- err
	}()
	early.waitFor(t, 1)
	late := l.peer("late", peerOpts{})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := late.waitFor(t, 1)
	if !got[0].Retained {
		t.Fatal("retained flag lost")
	}
	time.Sleep(50 * time.Millisecond)
	for _, p := range []*peer{early, late} {
		if n := len(p.messages()); n != 1 {
			t.Fatalf("%s showed the retained message %d times", p.node.ID.Name, n)
		}
	}
}

// TestPrivate: only the recipient can read a private message, and its
// receipt completes SendPrivate, through loss.
func TestPrivate(t *testing.T) {
	l := newLab(t, 11)
	a := l.peer("a", peerOpts{cfg: Config{ReceiptRetry: 50 * time.Millisecond}})
	b := l.peer("b", peerOpts{link: multicast.Link{Loss: 0.2}})
	c := l.peer("c", peerOpts{})
	spy := l.rawSender(a.node.Control)
	captured := make(chan [][]byte, 1)
	go func() { captured <- spy.capture(t, protocol.TypePrivate, 1) }()

	text := strings.Repeat("secret ", 500) // several fragments
	to := Recipient{SignPub: b.node.ID.SignPub, BoxPub: b.node.ID.BoxPub}
	if _, err := a.eng.SendPrivate(l.ctx, to, text); err != nil {
		t.Fatalf("SendPrivate: %v", err)
	}
	got := b.waitFor(t, 1)
	if m := got[0]; !m.Private || m.Kind != KindPrivate || m.Text != text || m.Fingerprint != a.node.ID.Fingerprint() {
		t.Fatalf("recipient shows %+v", m)
	}
	if s := a.eng.Stats(); s.ReceiptsGot != 1 || s.Sent != 1 {
		t.Fatalf("sender stats %+v: want one receipt", s)
	}
	eventually(t, "bystander ignores it", func() bool { return c.eng.Stats().NotForUs > 0 })
	if len(c.messages()) != 0 {
		t.Fatal("a bystander showed a private message")
	}

	// The sealed fragment opens with the recipient's key only.
	pkt := (<-captured)[0]
	s, err := protocol.ParseSigned(pkt)
	if err != nil {
		t.Fatal(err)
	}
	m, err := protocol.ParsePrivate(s.Body)
	if err != nil {
		t.Fatal(err)
	}
	nonce := s.Nonce24(0)
	if _, ok := box.Open(nil, m.Sealed, &nonce, &m.BoxKey, &c.node.ID.BoxKey); ok {
		t.Fatal("a bystander's key opened the private fragment")
	}
	plain, ok := box.Open(nil, m.Sealed, &nonce, &m.BoxKey, &b.node.ID.BoxKey)
	if !ok {
		t.Fatal("the recipient's key did not open its fragment")
	}
	if m.Index < m.K && !strings.HasPrefix(text[int(m.Index)*m.Size():], string(bytes.TrimRight(plain, "\x00"))) {
		t.Fatal("the opened fragment is not the text")
	}
}

func TestPrivateTimesOut(t *testing.T) {
	l := newLab(t, 13)
	a := l.peer("a", peerOpts{cfg: Config{ReceiptTimeout: 300 * time.Millisecond, ReceiptRetry: 50 * time.Millisecond}})
	gone := l.peer("gone", peerOpts{cfg: Config{IgnorePrivate: true}}) // up, but will not acknowledge
	start := time.Now()
	_, err := a.eng.SendPrivate(l.ctx, Recipient{SignPub: gone.node.ID.SignPub, BoxPub: gone.node.ID.BoxPub}, "hello?")
	if !errors.Is(err, ErrNoReceipt) {
		t.Fatalf("got %v, want ErrNoReceipt", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("ReceiptTimeout not honoured")
	}
	if _, err := a.eng.SendPrivate(l.ctx, Recipient{SignPub: gone.node.ID.SignPub}, "x"); !errors.Is(err, ErrRecipient) {
		t.Fatalf("recipient without a box key: got %v, want ErrRecipient", err)
	}
}

func TestRunTwice(t *testing.T) {
	n, err := node.Open(node.Config{Home: t.TempDir(), Name: "p", Network: multicast.NewMemNet(1).Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Node: n})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if err := e.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run: got %v, want ErrRunning", err)
	}
	if _, ok := <-e.Messages(); ok {
		t.Fatal("Messages open after Run returned")
	}
}
