package identity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

// ParseFingerprint reads a full fingerprint as a person types it (any
// case, dashes and spaces optional, O read as 0, I and L as 1) and
// returns it in canonical form, "K7QF-2MXA-9D3B-WZ4E-H6TN". Anything
// else, a prefix included, is an error matching ErrBadFingerprint. It is
// the one parser of fingerprints: every command that takes one calls it.
func ParseFingerprint(s string) (string, error) {
	symbols, ok := canonicalCrockford(s)
	switch {
	case !ok:
		return "", fmt.Errorf("%w: %q has a character outside 0-9, A-Z (without U)", ErrBadFingerprint, s)
	case len(symbols) != fingerprintChars:
		return "", fmt.Errorf("%w: %q has %d characters, a fingerprint has %d", ErrBadFingerprint, s, len(symbols), fingerprintChars)
	}
	// The last character carries 5 of the 100 bits, all significant, so
	// every 20-character string is some fingerprint.
	return groupFingerprint(symbols), nil
}

// shortFingerprint is the first group of a fingerprint: enough to tell
// apart the few keys a room shows under one name, never enough to trust.
func shortFingerprint(fp string) string {
	if len(fp) < fingerprintGroupLen {
		return fp
	}
	return fp[:fingerprintGroupLen]
}
