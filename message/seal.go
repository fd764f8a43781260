package message

import (
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
)

// groupSealer makes the packet bodies of one post: fragment i under
// envelope env is sealed with secretbox under the channel's message key
// and nonce env.Nonce24(0), or left in clear on the open channel. Not
// safe for concurrent use.
type groupSealer struct {
	body protocol.GroupMsg
	key  [32]byte
	open bool
	enc  *encoded
}

func newGroupSealer(c identity.Channel, flags byte, enc *encoded) *groupSealer {
	return &groupSealer{
		body: protocol.GroupMsg{Channel: wireChannelID(c), Flags: flags, Fragment: enc.frag},
		key:  c.Key(identity.PurposeMessage),
		open: c.IsOpen(),
		enc:  enc,
	}
}

func (s *groupSealer) fragment(env protocol.Envelope, index int) protocol.Body {
	s.body.Index = byte(index)
	s.body.Payload = s.enc.fragments[index]
	if !s.open {
		nonce := env.Nonce24(0)
		s.body.Payload = secretbox.Seal(nil, s.enc.fragments[index], &nonce, &s.key)
	}
	return s.body
}

// privateSealer makes the packet bodies of one private message: fragment
// i under envelope env is box-sealed from the sender's box key to the
// recipient's, nonce env.Nonce24(0). Not safe for concurrent use.
type privateSealer struct {
	body   protocol.Private
	shared [32]byte
	enc    *encoded
}

func newPrivateSealer(fromBoxKey, fromBoxPub *[32]byte, to Recipient, enc *encoded) *privateSealer {
	s := &privateSealer{
		body: protocol.Private{Recipient: identity.KeyIDOf(to.SignPub), BoxKey: *fromBoxPub,
			Kind: protocol.PrivateMessage, Fragment: enc.frag},
		enc: enc,
	}
	box.Precompute(&s.shared, &to.BoxPub, fromBoxKey)
	return s
}

func (s *privateSealer) fragment(env protocol.Envelope, index int) protocol.Body {
	nonce := env.Nonce24(0)
	s.body.Index = byte(index)
	s.body.Sealed = box.SealAfterPrecomputation(nil, s.enc.fragments[index], &nonce, &s.shared)
	return s.body
}

// receiptBody acknowledges message id to the peer with box key toBox.
func receiptBody(env protocol.Envelope, to [protocol.SenderLen]byte, toBox, fromBoxKey, fromBoxPub *[32]byte, id protocol.MessageID) protocol.Private {
	nonce := env.Nonce24(0)
	return protocol.Private{
		Recipient: identity.KeyIDOf(to[:]), BoxKey: *fromBoxPub, Kind: protocol.PrivateReceipt,
		Fragment: protocol.Fragment{Message: id, K: 1, N: 1, Length: protocol.ReceiptLen},
		Sealed:   box.Seal(nil, id[:], &nonce, toBox, fromBoxKey),
	}
}
