package identity

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
)

// Public identity line (SPEC.md §8): what `herald id --export` prints and
// `herald trust --import` reads, like an SSH public key line:
//
//	herald-id1 <base64url(sign_pub || box_pub || sig), no padding> <name>
//
// sig is sign_key's Ed25519 signature over idLineLabel || sign_pub ||
// box_pub || name, so the line cannot be edited (another name, another
// box key) without the private key. The line proves nothing about who
// handed it over: trust it only from someone you trust.
const (
	idLinePrefix  = "herald-id1"
	idLineLabel   = "herald-id-v1|"
	idLineKeyLen  = ed25519.PublicKeySize + 32 + ed25519.SignatureSize // 128
	maxIDLineSize = len(idLinePrefix) + 1 + 171 + 1 + MaxPeerNameLen + 2
)

// PublicLine is the identity's public identity line.
func (id *Identity) PublicLine() string {
	blob := make([]byte, 0, idLineKeyLen)
	blob = append(blob, id.SignPub...)
	blob = append(blob, id.BoxPub[:]...)
	blob = append(blob, ed25519.Sign(id.SignKey, idLineMessage(id.SignPub, id.BoxPub, id.Name))...)
	return idLinePrefix + " " + base64.RawURLEncoding.EncodeToString(blob) + " " + id.Name
}

func idLineMessage(signPub ed25519.PublicKey, boxPub [32]byte, name string) []byte {
	m := make([]byte, 0, len(idLineLabel)+64+len(name))
	m = append(m, idLineLabel...)
	m = append(m, signPub...)
	m = append(m, boxPub[:]...)
	return append(m, name...)
}

// PublicIdentity is a verified public identity line.
type PublicIdentity struct {
	Name    string
	SignPub ed25519.PublicKey
	BoxPub  [32]byte
}

// Fingerprint is the fingerprint of the line's signing key.
func (p PublicIdentity) Fingerprint() string { return Fingerprint(p.SignPub) }

// IsIdentityLine reports whether s looks like a public identity line (it
// starts with the prefix), so callers can tell one from a fingerprint.
func IsIdentityLine(s string) bool {
	return strings.HasPrefix(strings.TrimSpace(s), idLinePrefix+" ")
}

// ParseIdentityLine reads and verifies a public identity line; any error
// matches ErrBadIdentityLine and says what is wrong.
func ParseIdentityLine(line string) (PublicIdentity, error) {
	line = strings.TrimSpace(line)
	if len(line) > maxIDLineSize {
		return PublicIdentity{}, fmt.Errorf("%w: %d bytes is too long", ErrBadIdentityLine, len(line))
	}
	prefix, rest, ok := strings.Cut(line, " ")
	if !ok || prefix != idLinePrefix {
		return PublicIdentity{}, fmt.Errorf("%w: does not start with %q", ErrBadIdentityLine, idLinePrefix)
	}
	keys, name, ok := strings.Cut(rest, " ")
	if !ok {
		return PublicIdentity{}, fmt.Errorf("%w: no name after the keys", ErrBadIdentityLine)
	}
	blob, err := base64.RawURLEncoding.DecodeString(keys)
	if err != nil || len(blob) != idLineKeyLen {
		return PublicIdentity{}, fmt.Errorf("%w: the key field must be %d bytes of unpadded base64url (got %d characters)",
			ErrBadIdentityLine, idLineKeyLen, len(keys))
	}
	if err := ValidatePeerName(name); err != nil {
		return PublicIdentity{}, fmt.Errorf("%w: %w", ErrBadIdentityLine, err)
	}
	p := PublicIdentity{Name: name, SignPub: ed25519.PublicKey(blob[:32])}
	copy(p.BoxPub[:], blob[32:64])
	if !ed25519.Verify(p.SignPub, idLineMessage(p.SignPub, p.BoxPub, name), blob[64:]) {
		return PublicIdentity{}, fmt.Errorf("%w: signature does not verify (the line was altered or cut)", ErrBadIdentityLine)
	}
	return p, nil
}
