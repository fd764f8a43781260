package protocol

import "encoding/binary"

// ManifestChunk carries one encrypted part of a push's manifest (signed,
// data group). Sealed is AEAD output (SPEC.md §6.4): chunk plaintext plus
// a 16-byte tag.
type ManifestChunk struct {
	Session SessionID
	Index   uint32
	Sealed  []byte
}

// MaxManifestSealed is the most sealed bytes a chunk may carry.
const MaxManifestSealed = ManifestChunkLen + 16

func (ManifestChunk) Type() Type { return TypeManifest }
func (m ManifestChunk) Len() int { return 8 + 4 + len(m.Sealed) }

func (m ManifestChunk) AppendBinary(b []byte) []byte {
	b = append(b, m.Session[:]...)
	b = binary.BigEndian.AppendUint32(b, m.Index)
	return append(b, m.Sealed...)
}

// ParseManifestChunk parses a chunk body; Sealed is a sub-slice.
func ParseManifestChunk(body []byte) (ManifestChunk, error) {
	r := reader{b: body}
	m := ManifestChunk{Session: SessionID(r.array8()), Index: r.u32()}
	m.Sealed = r.rest()
	if r.err != nil {
		return ManifestChunk{}, r.err
	}
	if len(m.Sealed) <= 16 || len(m.Sealed) > MaxManifestSealed {
		return ManifestChunk{}, ErrField
	}
	return m, nil
}
