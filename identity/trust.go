package identity

import (
	"crypto/ed25519"
	"time"
)

// TrustState is what the trust store knows about a key presented under
// a name.
type TrustState int

const (
	// Unknown: first time this key was seen; it is now recorded.
	Unknown TrustState = iota
	// Seen: known key, not trusted by the user.
	Seen
	// Trusted: known key the user trusted (after comparing fingerprints).
	Trusted
	// Changed: the name is bound to another key. The packet MUST be
	// refused; the new key is not recorded.
	Changed
)

func (s TrustState) String() string {
	switch s {
	case Unknown:
		return "unknown"
	case Seen:
		return "seen"
	case Trusted:
		return "trusted"
	case Changed:
		return "changed"
	}
	return "invalid"
}

// Peer is a copy of what the store knows about one key; changing it
// changes nothing in the store.
type Peer struct {
	Name        string // name the key was first seen with
	SignPub     ed25519.PublicKey
	BoxPub      [32]byte // latest box key the peer signed
	Fingerprint string
	Trusted     bool
	FirstSeen   time.Time
	LastSeen    time.Time
}

// State is the TrustState of a recorded peer.
func (p Peer) State() TrustState {
	if p.Trusted {
		return Trusted
	}
	return Seen
}
