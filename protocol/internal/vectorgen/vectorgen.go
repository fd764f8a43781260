// Package vectorgen writes herald's chained golden vectors (SPEC.md
// §11.1): one push and one message exchange, every datagram in the order
// sent, with the keys, plaintexts and derived values beside them, so an
// implementation can replay them and must arrive at the same files and
// texts.
//
// The generator builds every datagram from SPEC.md's recipes and the
// primitives alone (HKDF, ChaCha20-Poly1305, secretbox, box, Ed25519, the
// fec code), not from package push or message, so the vectors check those
// packages rather than repeat them. Fixed seeds make the output the same
// on every run; protocol's TestChainedVectors compares it with the
// committed files.
package vectorgen

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/herald-lan/herald/protocol"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/hkdf"
)

// T0 is the timestamp of the first datagram, Unix ms; each later signed
// datagram is 1 ms later.
const T0 = 1_790_000_000_000

// out writes the line format of SPEC.md §11.1:
//
//	# comment
//	value NAME HEX
//	file PATH KIND MODE(octal) SIZE SHA256
//	datagram SEQ FROM GROUP LABEL HEX
type out struct {
	b   strings.Builder
	seq int
	now uint64
}

func (o *out) comment(format string, a ...any) { fmt.Fprintf(&o.b, "# "+format+"\n", a...) }
func (o *out) value(name string, v []byte)     { fmt.Fprintf(&o.b, "value %s %x\n", name, v) }

// datagram records one datagram. A label ending in "(lost)" is one the
// replaying receiver must not use: it stands for a loss in transit.
func (o *out) datagram(from, group, label string, pkt []byte) {
	if len(pkt) > protocol.MaxDatagram {
		panic(fmt.Sprintf("vectorgen: %s is %d bytes", label, len(pkt)))
	}
	o.seq++
	fmt.Fprintf(&o.b, "datagram %d %s %s %s %s\n", o.seq, from, group, strings.ReplaceAll(label, " ", "_"), hex.EncodeToString(pkt))
}

// node is one fixed identity: an Ed25519 seed, an X25519 private key and
// an epoch; counters start at 1.
type node struct {
	name    string
	sign    ed25519.PrivateKey
	boxPriv [32]byte
	boxPub  [32]byte
	epoch   uint64
	counter uint64
	signer  *protocol.Signer
}

func newNode(name string, seed, box byte, epoch uint64) *node {
	n := &node{name: name, sign: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)), epoch: epoch}
	n.boxPriv = [32]byte(bytes.Repeat([]byte{box}, 32))
	pub, err := curve25519.X25519(n.boxPriv[:], curve25519.Basepoint)
	if err != nil {
		panic(err)
	}
	n.boxPub = [32]byte(pub)
	n.signer = protocol.NewSigner(n.sign) // only AppendWith is used: the envelope is ours
	return n
}

func (n *node) pub() [32]byte { return [32]byte(n.sign.Public().(ed25519.PublicKey)) }

func (n *node) keyID() [8]byte {
	h := sha256.Sum256(n.sign.Public().(ed25519.PublicKey))
	return [8]byte(h[:8])
}

// env is the node's next envelope at the output's clock.
func (n *node) env(o *out) protocol.Envelope {
	n.counter++
	o.now++
	return protocol.Envelope{Sender: n.pub(), Epoch: n.epoch, Counter: n.counter, Time: T0 + o.now - 1}
}

// signed appends body under a fresh envelope and returns the datagram.
func (n *node) signed(o *out, body protocol.Body) []byte {
	return n.signer.AppendWith(nil, n.env(o), body)
}

func (n *node) describe(o *out) {
	o.comment("node %s: Ed25519 seed 32 x %02x, X25519 private 32 x %02x, epoch %016x", n.name, n.sign.Seed()[0], n.boxPriv[0], n.epoch)
	o.value(n.name+".sign_seed", n.sign.Seed())
	o.value(n.name+".sign_pub", n.sign.Public().(ed25519.PublicKey))
	kid := n.keyID()
	o.value(n.name+".key_id", kid[:])
	o.value(n.name+".box_private", n.boxPriv[:])
	o.value(n.name+".box_pub", n.boxPub[:])
}

// hkdf32 is HKDF-SHA256 with an empty salt (SPEC.md §1.1).
func hkdfN(key []byte, info string, n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(hkdf.New(sha256.New, key, nil, []byte(info)), b); err != nil {
		panic(err)
	}
	return b
}

// pattern fills n bytes deterministically from a label (SHA-256 in
// counter mode), so file contents need no randomness.
func pattern(label string, n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", label, i)))
		b = append(b, h[:]...)
	}
	return b[:n]
}
