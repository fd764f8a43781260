package push

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"
)

// ErrNoGrant means no grant entry was sealed for this receiver.
var ErrNoGrant = errors.New("push: this push is not sealed to us (not a recipient, or channel not joined)")

// sessionKeys are the AEADs derived from a session key (SPEC.md §6.3).
type sessionKeys struct {
	data     cipher.AEAD
	manifest cipher.AEAD
}

func deriveAEAD(key [32]byte, label string) cipher.AEAD {
	var k [chacha20poly1305.KeySize]byte
	if _, err := io.ReadFull(hkdf.New(sha256.New, key[:], nil, []byte(label)), k[:]); err != nil {
		panic(err) // hkdf cannot fail for 32 bytes
	}
	a, err := chacha20poly1305.New(k[:])
	if err != nil {
		panic(err)
	}
	return a
}

func newSessionKeys(key [32]byte) sessionKeys {
	return sessionKeys{
		data:     deriveAEAD(key, "herald push data v1"),
		manifest: deriveAEAD(key, "herald push manifest v1"),
	}
}

func randomKey() (k [32]byte) {
	if _, err := rand.Read(k[:]); err != nil {
		panic("push: no randomness: " + err.Error())
	}
	return k
}

// keyPolicy says how a sender seals the session key.
type keyPolicy struct {
	mode       byte
	channel    identity.Channel
	recipients []identity.Peer
}

// grantEntries is how many sealed copies of the key the policy needs.
func (p keyPolicy) grantEntries() int {
	if p.mode == protocol.KeyModeRecipients {
		return len(p.recipients)
	}
	return 1
}

// sealEntry seals key for entry i of a grant signed under env.
func (p keyPolicy) sealEntry(key [32]byte, i int, sub byte, env protocol.Envelope, senderBox *[32]byte) protocol.GrantEntry {
	var e protocol.GrantEntry
	nonce := env.Nonce24(sub)
	switch p.mode {
	case protocol.KeyModePublic:
		copy(e.Sealed[:], key[:])
	case protocol.KeyModeChannel:
		e.Recipient = p.channel.ID()
		ck := p.channel.Key(identity.PurposePush)
		copy(e.Sealed[:], secretbox.Seal(nil, key[:], &nonce, &ck))
	case protocol.KeyModeRecipients:
		r := p.recipients[i]
		e.Recipient = [8]byte(identity.KeyIDOf(r.SignPub))
		copy(e.Sealed[:], box.Seal(nil, key[:], &nonce, &r.BoxPub, senderBox))
	}
	return e
}

// openGrant finds and opens the entry meant for this receiver.
func openGrant(mode byte, g protocol.GrantView, env protocol.Envelope, me *identity.Identity, channels []identity.Channel) ([32]byte, error) {
	var key [32]byte
	myID := [8]byte(identity.KeyIDOf(me.SignPub))
	for i := range g.Count() {
		e := g.Entry(i)
		nonce := env.Nonce24(byte(i))
		var out []byte
		var ok bool
		switch mode {
		case protocol.KeyModePublic:
			copy(key[:], e.Sealed[:32])
			return key, nil
		case protocol.KeyModeChannel:
			for _, c := range channels {
				if c.ID() == e.Recipient {
					ck := c.Key(identity.PurposePush)
					out, ok = secretbox.Open(nil, e.Sealed[:], &nonce, &ck)
					break
				}
			}
		case protocol.KeyModeRecipients:
			if e.Recipient == myID {
				out, ok = box.Open(nil, e.Sealed[:], &nonce, &g.BoxKey, &me.BoxKey)
			}
		}
		if ok && len(out) == 32 {
			copy(key[:], out)
			return key, nil
		}
	}
	return key, ErrNoGrant
}
