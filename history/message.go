package history

import (
	"encoding/hex"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/protocol"
)

// FromMessage is the storable form of a received message. The CLI and
// herald ui both record through it, so their history reads the same.
func FromMessage(m message.Message) Entry {
	e := Entry{
		Time: m.Time, Kind: m.Kind.String(), Channel: m.Channel,
		Sender: m.Sender, Fingerprint: m.Fingerprint, Trust: m.Trust.String(),
		Priority: m.Priority, ID: hex.EncodeToString(m.ID[:]), Text: m.Text,
	}
	if m.Private {
		e.Kind, e.Peer, e.PeerName = KindPrivate, m.Fingerprint, m.Sender
	}
	return e
}

// Outgoing is the storable form of a message me sent now.
func Outgoing(me *identity.Identity, kind, channel string, id protocol.MessageID, text string) Entry {
	return Entry{
		Time: time.Now(), Kind: kind, Channel: channel, Outgoing: true,
		Sender: me.Name, Fingerprint: me.Fingerprint(), Trust: identity.Trusted.String(),
		ID: hex.EncodeToString(id[:]), Text: text,
	}
}
