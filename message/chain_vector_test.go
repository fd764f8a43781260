package message

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
	"golang.org/x/crypto/nacl/box"
)

// TestChainedMessageVector checks this package against
// protocol/testdata/chain-message.txt (SPEC.md §11.1), which is written
// from SPEC.md's recipes alone: for every datagram, encode and the
// sealers produce the same body under the datagram's own envelope, and
// the receipt is bob's, opening for alice.
func TestChainedMessageVector(t *testing.T) {
	raw, err := os.ReadFile("../protocol/testdata/chain-message.txt")
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]byte{}
	var pkts []protocol.Signed
	var labels []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "value":
			values[f[1]], _ = hex.DecodeString(f[2])
		case len(f) == 6 && f[0] == "datagram":
			b, _ := hex.DecodeString(f[5])
			p, err := protocol.ParseSigned(b)
			if err != nil || !p.Verify() {
				t.Fatalf("%s: %v", f[4], err)
			}
			pkts, labels = append(pkts, p), append(labels, f[4])
		}
	}
	class := identity.Channel{Name: "class", Secret: [32]byte(values["channel.secret"])}
	aliceBox, bobBox := [32]byte(values["alice.box_private"]), [32]byte(values["bob.box_private"])
	alicePub, bobPub := [32]byte(values["alice.box_pub"]), [32]byte(values["bob.box_pub"])
	bobSign := ed25519.PublicKey(values["bob.sign_pub"])
	aliceSign := values["alice.sign_pub"]
	var group, private *encoded
	var gs *groupSealer
	var ps *privateSealer
	checked := 0
	for i, p := range pkts {
		var want protocol.Body
		switch {
		case strings.HasPrefix(labels[i], "group_fragment_"):
			m, err := protocol.ParseGroupMsg(p.Body)
			if err != nil {
				t.Fatal(err)
			}
			if group == nil {
				group, _ = encode(m.Message, values["group.text"])
				gs = newGroupSealer(class, m.Flags, group)
			}
			want = gs.fragment(p.Envelope, int(m.Index))
		case strings.HasPrefix(labels[i], "private_fragment_"):
			m, err := protocol.ParsePrivate(p.Body)
			if err != nil {
				t.Fatal(err)
			}
			if private == nil {
				private, _ = encode(m.Message, values["private.text"])
				ps = newPrivateSealer(&aliceBox, &alicePub, Recipient{SignPub: bobSign, BoxPub: bobPub}, private)
			}
			want = ps.fragment(p.Envelope, int(m.Index))
		case labels[i] == "private_receipt":
			if !bytes.Equal(p.Sender[:], bobSign) {
				t.Fatal("the receipt is not signed by the recipient")
			}
			want = receiptBody(p.Envelope, [32]byte(aliceSign), &alicePub, &bobBox, &bobPub, private.frag.Message)
			r, _ := protocol.ParsePrivate(p.Body)
			nonce := p.Nonce24(0)
			if id, ok := box.Open(nil, r.Sealed, &nonce, &r.BoxKey, &aliceBox); !ok || !bytes.Equal(id, private.frag.Message[:]) {
				t.Fatal("alice cannot open bob's receipt")
			}
		default:
			continue
		}
		if !bytes.Equal(want.AppendBinary(nil), p.Body) {
			t.Fatalf("%s: this package's body differs from the vector", labels[i])
		}
		checked++
	}
	if group == nil || group.frag.K < 2 || private == nil || private.frag.K < 2 || checked != int(group.frag.N+private.frag.N)+1 {
		t.Fatalf("checked %d datagrams; the vector must hold K>1 group and private messages and a receipt", checked)
	}
}
