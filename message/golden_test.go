package message

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
)

var update = flag.Bool("update", false, "rewrite golden vectors in testdata/")

// goldenKeys are the fixed keys of the sealed vectors SPEC.md §7.8 cites:
// signing seed 32 x 0x42 (as protocol's vectors), sender box key
// 32 x 0x11, recipient box key 32 x 0x22, channel "class" with secret
// 32 x 0x07.
type goldenKeys struct {
	signer         *protocol.Signer
	fromKey, toKey [32]byte
	fromPub, toPub [32]byte
	toSign         ed25519.PublicKey
	channel        identity.Channel
}

func newGoldenKeys(t *testing.T) goldenKeys {
	k := goldenKeys{
		signer:  protocol.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x42}, 32))),
		channel: identity.Channel{Name: "class", Secret: [32]byte(bytes.Repeat([]byte{7}, 32))},
		toSign:  ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x43}, 32)).Public().(ed25519.PublicKey),
	}
	k.fromKey, k.toKey = [32]byte(bytes.Repeat([]byte{0x11}, 32)), [32]byte(bytes.Repeat([]byte{0x22}, 32))
	for _, p := range []struct{ pub, key *[32]byte }{{&k.fromPub, &k.fromKey}, {&k.toPub, &k.toKey}} {
		pub, err := curve25519.X25519(p.key[:], curve25519.Basepoint)
		if err != nil {
			t.Fatal(err)
		}
		*p.pub = [32]byte(pub)
	}
	return k
}

// goldenEnv is envelope number counter of the vectors' sender.
func (k goldenKeys) env(counter uint64) protocol.Envelope {
	return protocol.Envelope{Sender: k.signer.Sender(), Epoch: 0x0102030405060708, Counter: counter, Time: 1_790_000_000_000}
}

var goldenID = protocol.MessageID{0x6d, 0x73, 0x67, 0, 0, 0, 0, 1}

func checkGolden(t *testing.T, name string, pkts [][]byte) {
	t.Helper()
	var b strings.Builder
	for _, p := range pkts {
		b.WriteString(hex.EncodeToString(p) + "\n")
	}
	path := filepath.Join("testdata", name+".hex")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create)", err)
	}
	if b.String() != string(want) {
		t.Errorf("%s: packets changed:\n got %s\nwant %s", name, b.String(), want)
	}
}

// TestGoldenSealed pins the sealed packets byte for byte, then opens them
// with nothing but the spec's recipe (secretbox or box, nonce from the
// envelope), as an independent receiver would.
func TestGoldenSealed(t *testing.T) {
	k := newGoldenKeys(t)
	text := []byte("hello, class")
	enc, err := encode(goldenID, text)
	if err != nil {
		t.Fatal(err)
	}
	if enc.frag.K != 1 || enc.frag.N != 2 {
		t.Fatalf("a %d-byte text cut into K=%d N=%d, want 1 and 2", len(text), enc.frag.K, enc.frag.N)
	}
	open := func(t *testing.T, pkt []byte) protocol.Signed {
		s, err := protocol.ParseSigned(pkt)
		if err != nil || !s.Verify() {
			t.Fatalf("golden packet does not verify: %v", err)
		}
		return s
	}

	t.Run("group", func(t *testing.T) {
		sealer := newGroupSealer(k.channel, protocol.GroupAnnounce, enc)
		var pkts [][]byte
		for i := range int(enc.frag.N) {
			env := k.env(uint64(i + 1))
			pkts = append(pkts, k.signer.AppendWith(nil, env, sealer.fragment(env, i)))
		}
		checkGolden(t, "sealed-group", pkts)
		key := k.channel.Key(identity.PurposeMessage)
		for i, pkt := range pkts {
			s := open(t, pkt)
			m, err := protocol.ParseGroupMsg(s.Body)
			if err != nil || m.Channel != k.channel.ID() || int(m.Index) != i {
				t.Fatalf("fragment %d: %+v %v", i, m, err)
			}
			nonce := s.Nonce24(0)
			plain, ok := secretbox.Open(nil, m.Payload, &nonce, &key)
			// With K = 1 the parity row's coefficient is 1/(1 XOR 0) = 1:
			// the parity fragment equals the data fragment.
			if !ok || !bytes.Equal(plain, text) {
				t.Fatalf("fragment %d opens to %q, %v", i, plain, ok)
			}
		}
	})
	t.Run("private", func(t *testing.T) {
		to := Recipient{SignPub: k.toSign, BoxPub: k.toPub}
		sealer := newPrivateSealer(&k.fromKey, &k.fromPub, to, enc)
		env := k.env(3)
		pkt := k.signer.AppendWith(nil, env, sealer.fragment(env, 0))
		// The receipt comes from the recipient (SPEC.md §7.3): its own
		// signing key (seed 32 x 0x43), its own epoch, boxed back from its
		// box key to the original sender's.
		toSigner := protocol.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x43}, 32)))
		renv := protocol.Envelope{Sender: [32]byte(k.toSign), Epoch: 0x0807060504030201, Counter: 1, Time: 1_790_000_000_000}
		receipt := toSigner.AppendWith(nil, renv, receiptBody(renv, k.signer.Sender(), &k.fromPub, &k.toKey, &k.toPub, goldenID))
		checkGolden(t, "sealed-private", [][]byte{pkt, receipt})

		s := open(t, pkt)
		m, err := protocol.ParsePrivate(s.Body)
		if err != nil || m.Recipient != identity.KeyIDOf(k.toSign) || m.BoxKey != k.fromPub {
			t.Fatalf("%+v %v", m, err)
		}
		nonce := s.Nonce24(0)
		if plain, ok := box.Open(nil, m.Sealed, &nonce, &m.BoxKey, &k.toKey); !ok || !bytes.Equal(plain, text) {
			t.Fatalf("recipient opens %q, %v", plain, ok)
		}
		s = open(t, receipt)
		if s.Sender != [32]byte(k.toSign) {
			t.Fatal("receipt not signed by the recipient")
		}
		r, err := protocol.ParsePrivate(s.Body)
		nonce = s.Nonce24(0)
		sender := k.signer.Sender()
		if err != nil || r.Recipient != identity.KeyIDOf(sender[:]) || r.BoxKey != k.toPub {
			t.Fatalf("receipt %+v %v", r, err)
		}
		if plain, ok := box.Open(nil, r.Sealed, &nonce, &r.BoxKey, &k.fromKey); !ok || !bytes.Equal(plain, goldenID[:]) {
			t.Fatalf("receipt opens to %x, %v, %v", plain, ok, err)
		}
	})
}
