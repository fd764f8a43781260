package identity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// KeyID is a short handle for a public key: the first 8 bytes of
// SHA-256(public key). It names keys in memory and on the wire where 32
// bytes would be wasteful; it is not meant to resist deliberate
// collisions, so never trust a key by its KeyID.
type KeyID [8]byte

// KeyIDOf returns the KeyID of pub.
func KeyIDOf(pub ed25519.PublicKey) KeyID {
	sum := sha256.Sum256(pub)
	var id KeyID
	copy(id[:], sum[:])
	return id
}

// String is the KeyID in lower-case hex.
func (k KeyID) String() string { return hex.EncodeToString(k[:]) }

// Fingerprint layout: 5 groups of 4 Crockford characters, 100 bits.
const (
	fingerprintGroups    = 5
	fingerprintGroupLen  = 4
	fingerprintChars     = fingerprintGroups * fingerprintGroupLen // 20
	fingerprintHashBytes = (fingerprintChars*5 + 7) / 8            // 13 bytes cover 100 bits
	// minFingerprintPrefix is the shortest fingerprint prefix accepted as
	// a peer reference (20 bits), so a short name is not read as one.
	minFingerprintPrefix = 4
)

// Fingerprint is what two people compare to authenticate a key: the
// first 100 bits of SHA-256(pub) in Crockford base32, in 5 dash-separated
// groups of 4, e.g. "K7QF-2MXA-9D3B-WZ4E-H6TN". 100 bits make finding a
// second key with the same fingerprint cost about 2^100 hashes.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return groupFingerprint(crockford.EncodeToString(sum[:fingerprintHashBytes])[:fingerprintChars])
}

func groupFingerprint(symbols string) string {
	var b strings.Builder
	for i := 0; i < len(symbols); i += fingerprintGroupLen {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(symbols[i : i+fingerprintGroupLen])
	}
	return b.String()
}

// fingerprintSymbols strips a fingerprint, or a typed prefix of one, to
// its canonical characters; ok is false when ref cannot be one.
func fingerprintSymbols(ref string) (string, bool) {
	s, ok := canonicalCrockford(ref)
	if !ok || len(s) == 0 || len(s) > fingerprintChars {
		return "", false
	}
	return s, true
}

// ParseFingerprint reads a complete fingerprint as a person may type it
// (any case, dashes or not, Crockford's look-alike letters) and returns
// it in the canonical form Fingerprint prints; ok is false for anything
// else, a prefix included.
func ParseFingerprint(ref string) (fp string, ok bool) {
	s, ok := fingerprintSymbols(ref)
	if !ok || len(s) != fingerprintChars {
		return "", false
	}
	return groupFingerprint(s), true
}
