package protocol

import "encoding/binary"

// Grant sizes (SPEC.md §6.3).
const (
	SealedKeyLen  = 32 + 16 // session key plus box/secretbox overhead
	GrantEntryLen = 8 + SealedKeyLen
	grantFixedLen = 8 + 32 + 2 + 1
	// MaxGrantEntries fit one signed datagram.
	MaxGrantEntries = (MaxSignedBody - grantFixedLen) / GrantEntryLen
)

// GrantEntry is the session key sealed for one recipient (or channel).
type GrantEntry struct {
	Recipient [8]byte // recipient key id, channel id, or zero for KeyModePublic
	Sealed    [SealedKeyLen]byte
}

// Grant carries sealed session keys (signed, control group). The nonce
// of entry i is Envelope.Nonce24(byte(i)).
type Grant struct {
	Session SessionID
	BoxKey  [32]byte // sender's X25519 key, bound to it by the signature
	Index   uint16   // which of Announce.Grants this is
	Entries []GrantEntry
}

func (Grant) Type() Type { return TypeGrant }
func (m Grant) Len() int { return grantFixedLen + len(m.Entries)*GrantEntryLen }

func (m Grant) AppendBinary(b []byte) []byte {
	b = append(b, m.Session[:]...)
	b = append(b, m.BoxKey[:]...)
	b = binary.BigEndian.AppendUint16(b, m.Index)
	b = append(b, byte(len(m.Entries)))
	for _, e := range m.Entries {
		b = append(b, e.Recipient[:]...)
		b = append(b, e.Sealed[:]...)
	}
	return b
}

// GrantView is a parsed Grant whose entries stay in the packet buffer.
type GrantView struct {
	Session SessionID
	BoxKey  [32]byte
	Index   uint16
	entries []byte
}

// Count is the number of entries.
func (g GrantView) Count() int { return len(g.entries) / GrantEntryLen }

// Entry returns entry i (0 <= i < Count).
func (g GrantView) Entry(i int) GrantEntry {
	var e GrantEntry
	s := g.entries[i*GrantEntryLen:]
	copy(e.Recipient[:], s[:8])
	copy(e.Sealed[:], s[8:GrantEntryLen])
	return e
}

// ParseGrant parses a Grant body without allocating.
func ParseGrant(body []byte) (GrantView, error) {
	r := reader{b: body}
	g := GrantView{Session: SessionID(r.array8()), BoxKey: r.array32(), Index: r.u16()}
	n := int(r.u8())
	if n == 0 || n > MaxGrantEntries || g.Index >= MaxGrants {
		if r.err != nil {
			return GrantView{}, r.err
		}
		return GrantView{}, ErrField
	}
	g.entries = r.take(n * GrantEntryLen)
	if err := r.done(); err != nil {
		return GrantView{}, err
	}
	return g, nil
}

// Fits reports whether the grant belongs to announce a: same session and
// an Index below a.Grants. A receiver ignores a grant that does not fit
// (SPEC.md §3.6), so it can never count towards "every grant seen".
func (g GrantView) Fits(a Announce) bool { return g.Session == a.Session && g.Index < a.Grants }
