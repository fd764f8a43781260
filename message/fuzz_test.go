package message

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// rawBody signs arbitrary bytes as a body of typ, so the fuzzer reaches
// the engine past the signature check (which protocol's fuzzers cover).
type rawBody struct {
	typ protocol.Type
	b   []byte
}

func (r rawBody) Type() protocol.Type          { return r.typ }
func (r rawBody) Len() int                     { return len(r.b) }
func (r rawBody) AppendBinary(b []byte) []byte { return append(b, r.b...) }

// fuzzEngine is a receiving engine, not running, fed by hand.
type fuzzEngine struct {
	eng     *Engine
	channel identity.Channel
	hostile *protocol.Signer // the fuzzer's signing key
	hostKey [protocol.SenderLen]byte
	honest  *protocol.Signer // a real member of the channel
}

func newFuzzEngine(t testing.TB) *fuzzEngine {
	l := newLab(t, 7)
	ch := mustChannel(t, "class")
	n, err := node.Open(node.Config{Home: t.TempDir(), Name: "listener", Network: l.net.Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	// The honest sender posts once per input, thousands a second: its
	// bucket must not run dry (the limiter itself is tested elsewhere).
	eng, err := New(Config{Node: n, Channels: []identity.Channel{identity.OpenChannel(), ch}, Rate: 1e9, Burst: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	seed := func(b byte) ed25519.PrivateKey {
		return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
	}
	fe := &fuzzEngine{eng: eng, channel: ch, hostile: protocol.NewSigner(seed(1)), honest: protocol.NewSigner(seed(2))}
	copy(fe.hostKey[:], seed(1).Public().(ed25519.PublicKey))
	return fe
}

// feed verifies pkt like the node would and hands it to the engine.
func (f *fuzzEngine) feed(t testing.TB, pkt []byte) {
	s, err := protocol.ParseSigned(pkt)
	if err != nil || !s.Verify() {
		t.Fatalf("test packet does not verify: %v", err)
	}
	p := node.Packet{Signed: s, Raw: pkt}
	if s.Type == protocol.TypePrivate {
		f.eng.handlePrivate(p)
	} else {
		f.eng.handleGroup(p)
	}
}

// post returns the signed datagrams of a real message from signer.
func post(t testing.TB, signer *protocol.Signer, ch identity.Channel, text string) [][]byte {
	enc, err := encode(newMessageID(), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	sealer := newGroupSealer(ch, 0, enc)
	var out [][]byte
	for i := range enc.fragments {
		env := signer.Next()
		out = append(out, signer.AppendWith(nil, env, sealer.fragment(env, i)))
	}
	return out
}

// drain empties the engine's output and returns the texts shown.
func (f *fuzzEngine) drain() []string {
	var texts []string
	for {
		select {
		case m := <-f.eng.messages:
			texts = append(texts, m.Text)
		default:
			return texts
		}
	}
}

// FuzzEngineFragment feeds one signed message fragment with any body to
// a listening engine: a group fragment on the open channel (whose payload
// is plain, so the fuzzer reaches reassembly and text checks), on a
// secret channel, or a private fragment. Whatever it is: no panic, the
// engine's state stays within its bounds, and an honest member's message
// sent afterwards is shown exactly once with its true text.
func FuzzEngineFragment(f *testing.F) {
	fe := newFuzzEngine(f)
	for _, pkt := range append(post(f, fe.hostile, identity.OpenChannel(), "hello"),
		post(f, fe.hostile, fe.channel, textOf(1, 3000))...) {
		s, _ := protocol.ParseSigned(pkt)
		f.Add(byte(0), s.Body)
		f.Add(byte(1), s.Body)
	}
	f.Add(byte(2), bytes.Repeat([]byte{0xff}, 90))
	f.Fuzz(func(t *testing.T, how byte, body []byte) {
		typ := protocol.TypeGroupMsg
		if how%3 == 2 {
			typ = protocol.TypePrivate
		}
		pkt, _ := fe.hostile.Append(nil, rawBody{typ, body})
		if len(pkt) > protocol.MaxDatagram {
			return // never a datagram: the node drops it before parsing
		}
		fe.feed(t, pkt)
		fe.drain()
		if a := fe.eng.asm; len(a.partials) > a.maxTotal || a.perSender[fe.hostKey] > a.maxSender {
			t.Fatalf("reassembly grew past its bounds: %d partials, %d from one sender", len(a.partials), a.perSender[fe.hostKey])
		}
		if len(fe.eng.limiter.buckets) > MaxRateSenders {
			t.Fatalf("rate limiter holds %d senders", len(fe.eng.limiter.buckets))
		}
		want := textOf(int(how), 1+len(body)%2000)
		for _, p := range post(t, fe.honest, fe.channel, want) {
			fe.feed(t, p)
		}
		if got := fe.drain(); len(got) != 1 || got[0] != want {
			t.Fatalf("after %x the honest message showed as %d messages", body, len(got))
		}
	})
}
