package presence

import (
	"crypto/ed25519"
	"net/netip"
	"slices"
	"time"

	"github.com/herald-lan/herald/identity"
)

// Trust is how far a peer in the table is believed.
type Trust int

const (
	// TrustSeen: known key, not (yet) trusted by the user.
	TrustSeen Trust = iota
	// TrustTrusted: the user compared fingerprints and trusted the key.
	TrustTrusted
	// TrustChanged: an untrusted key claims a trusted peer's name. It
	// might be an impostor; it is never shown as that peer.
	TrustChanged
)

func (t Trust) String() string {
	switch t {
	case TrustSeen:
		return "seen"
	case TrustTrusted:
		return "trusted"
	case TrustChanged:
		return "changed"
	}
	return "invalid"
}

// PeerInfo is a copy of what the table knows about one peer.
type PeerInfo struct {
	// Name is the name the key claims in its latest beacon. A label,
	// never an identity: compare Fingerprint.
	Name string
	// Label is how to print the peer (identity.Label): Name, with a short
	// fingerprint when another key uses the same name.
	Label       string
	Fingerprint string
	SignPub     ed25519.PublicKey
	BoxPub      [32]byte
	Addr        netip.AddrPort // source of the latest beacon
	Trust       Trust
	LastSeen    time.Time
	Offers      byte // protocol.Offer* bits
	// UnicastOnly: its beacons reach us only by unicast (a static peer,
	// or a host whose multicast does not reach us; SPEC §5.2).
	UnicastOnly bool
	// Channels names the channels we hold that the peer proved it holds
	// too within the expiry (SPEC.md §5.4), sorted. The open channel,
	// which everyone holds, is never listed.
	Channels []string
}

// Holds reports whether the peer proved it holds the channel name; every
// peer holds the open channel.
func (i PeerInfo) Holds(name string) bool {
	return name == identity.OpenChannel().Name || slices.Contains(i.Channels, name)
}

// EventKind says what happened to a peer.
type EventKind int

const (
	// Joined: a peer appeared (first beacon, or back after expiring).
	Joined EventKind = iota
	// Left: the peer said it is leaving, expired, or was evicted.
	Left
	// Changed: an untrusted key appeared with a trusted peer's name.
	Changed
)

func (k EventKind) String() string {
	switch k {
	case Joined:
		return "joined"
	case Left:
		return "left"
	case Changed:
		return "changed"
	}
	return "invalid"
}

// Event reports a change in the peer table.
type Event struct {
	Kind EventKind
	Peer PeerInfo
}
