package protocol

// Private message kinds (SPEC.md §7.3).
const (
	// PrivateMessage carries one fragment of a private message.
	PrivateMessage = 1
	// PrivateReceipt acknowledges a whole private message: Fragment.Message
	// is the acknowledged id, K = N = 1, and the sealed plaintext is that
	// id again (ReceiptLen bytes), so only the recipient can make it.
	PrivateReceipt = 2
)

// ReceiptLen is the plaintext of a receipt: the acknowledged MessageID.
const ReceiptLen = 8

// Private is one fragment of a message to one peer, or a receipt for one
// (signed, control group). Recipient is the KeyID of the recipient's
// signing key, so others can drop it unopened. BoxKey is the sender's
// X25519 key, bound to the sender by the signature. Sealed is
// box.Seal(fragment, nonce Envelope.Nonce24(0), recipient's box key,
// sender's box key): SealOverhead bytes longer than the fragment.
type Private struct {
	Recipient [8]byte
	BoxKey    [32]byte
	Kind      byte
	Fragment
	Sealed []byte
}

func (Private) Type() Type { return TypePrivate }
func (m Private) Len() int { return privateFixedLen + len(m.Sealed) }

func (m Private) AppendBinary(b []byte) []byte {
	b = append(b, m.Recipient[:]...)
	b = append(b, m.BoxKey[:]...)
	b = append(b, m.Kind)
	b = m.Fragment.appendBinary(b)
	return append(b, m.Sealed...)
}

// ParsePrivate parses a private body without allocating; Sealed is a
// sub-slice. It checks Sealed is exactly one sealed fragment, and that a
// receipt has the one shape a receipt has.
func ParsePrivate(body []byte) (Private, error) {
	r := reader{b: body}
	m := Private{Recipient: r.array8(), BoxKey: r.array32(), Kind: r.u8(), Fragment: readFragment(&r)}
	m.Sealed = r.rest()
	if r.err != nil {
		return Private{}, r.err
	}
	switch {
	case m.Kind != PrivateMessage && m.Kind != PrivateReceipt,
		m.Kind == PrivateReceipt && (m.K != 1 || m.N != 1 || m.Length != ReceiptLen),
		!m.valid(),
		len(m.Sealed) != m.Size()+SealOverhead:
		return Private{}, ErrField
	}
	return m, nil
}
