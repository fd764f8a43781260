package message

import (
	"crypto/ed25519"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
)

// Kind is what sort of message a Message is.
type Kind int

const (
	KindChat Kind = iota
	KindAnnounce
	KindPrivate
)

func (k Kind) String() string {
	switch k {
	case KindChat:
		return "chat"
	case KindAnnounce:
		return "announce"
	case KindPrivate:
		return "private"
	}
	return "invalid"
}

// Message is one complete message as received, ready to show. It is a
// plain value; SenderKey is its own copy.
type Message struct {
	Time     time.Time // when it was complete here
	Sent     time.Time // the sender's clock on the fragment that started it
	ID       protocol.MessageID
	Kind     Kind
	Channel  string // channel name; empty for private messages
	Private  bool
	Priority bool
	Retained bool
	// Sender is identity.Label of the key: the name it claims, with a
	// short fingerprint when several keys use that name; the fingerprint
	// alone for a key never heard. A label, never an identity:
	// Fingerprint is.
	Sender      string
	Fingerprint string
	SenderKey   ed25519.PublicKey
	Trust       identity.TrustState // Trusted also for a channel owner; Changed: claims a trusted peer's name
	Text        string
}
