package identity

import (
	"crypto/ed25519"
	"time"
)

// TrustState is what the trust store knows about a key.
type TrustState int

const (
	// Unknown: first time this key was seen; it is now remembered (in
	// memory only, see TrustStore).
	Unknown TrustState = iota
	// Seen: known key, not trusted by the user.
	Seen
	// Trusted: a key the user trusted (or pinned by fingerprint).
	Trusted
	// Changed: an untrusted key claims the name of a trusted peer. It is
	// shown with a warning and never as that peer.
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
// changes nothing in the store. The key is the identity; Name is only the
// latest name the key claimed (or the name an imported identity line
// gave), a label for people.
type Peer struct {
	Name string
	// SignPub is nil for a fingerprint pinned before its key was seen
	// (Pending).
	SignPub     ed25519.PublicKey
	BoxPub      [32]byte // latest box key the peer signed (zero if never seen)
	Fingerprint string
	Trusted     bool
	// Impostor: the key claimed the name of a trusted peer (another key).
	// Sticky while the store remembers the key.
	Impostor  bool
	FirstSeen time.Time
	LastSeen  time.Time
}

// State is the TrustState of a recorded peer.
func (p Peer) State() TrustState {
	switch {
	case p.Trusted:
		return Trusted
	case p.Impostor:
		return Changed
	}
	return Seen
}

// Pending reports a trusted fingerprint whose key has not been seen yet.
func (p Peer) Pending() bool { return p.SignPub == nil }
