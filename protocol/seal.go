package protocol

import "crypto/sha256"

// List seals (SPEC.md §6.5.2). A receiver would verify one Ed25519
// signature per shard hash list, i.e. per block: at the default block of
// 84 KiB that is a quarter of its CPU. A seal, signed, carries the
// digests of the bodies of a window's lists; a receiver holding it takes
// each list whose body matches a digest without verifying the list's own
// signature (which stays, for receivers without the seal).
const (
	// ListDigestLen is the truncated SHA-256 of one list body.
	ListDigestLen = 16
	// sealFixedLen is session and count.
	sealFixedLen = 8 + 1
	// MaxListDigests is how many digests one seal carries (79).
	MaxListDigests = (MaxSignedBody - sealFixedLen) / ListDigestLen
)

// ListDigest is the digest a seal carries for a shard hash list: SHA-256
// of the list's body (ShardHashes encoded, as signed), cut to 16 bytes.
func ListDigest(body []byte) (d [ListDigestLen]byte) {
	sum := sha256.Sum256(body)
	copy(d[:], sum[:])
	return d
}

// ListSeal is the sender's signed set of list digests for one session
// (signed, data group). Digests holds Count digests back to back.
type ListSeal struct {
	Session SessionID
	Digests []byte
}

// Count is the number of digests in the seal.
func (m ListSeal) Count() int { return len(m.Digests) / ListDigestLen }

// Digest returns digest i (0 <= i < Count).
func (m ListSeal) Digest(i int) [ListDigestLen]byte {
	return [ListDigestLen]byte(m.Digests[i*ListDigestLen:])
}

func (ListSeal) Type() Type { return TypeListSeal }
func (m ListSeal) Len() int { return sealFixedLen + len(m.Digests) }

func (m ListSeal) AppendBinary(b []byte) []byte {
	b = append(b, m.Session[:]...)
	b = append(b, byte(m.Count()))
	return append(b, m.Digests...)
}

// ParseListSeal parses a seal body without allocating; Digests is a
// sub-slice. It rejects an empty seal and more than MaxListDigests.
func ParseListSeal(body []byte) (ListSeal, error) {
	r := reader{b: body}
	m := ListSeal{Session: SessionID(r.array8())}
	n := int(r.u8())
	if r.err != nil {
		return ListSeal{}, r.err
	}
	if n == 0 || n > MaxListDigests {
		return ListSeal{}, ErrField
	}
	m.Digests = r.take(n * ListDigestLen)
	if err := r.done(); err != nil {
		return ListSeal{}, err
	}
	return m, nil
}
