package node

import (
	"crypto/ed25519"
	"errors"
	"net/netip"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
)

// Versions (SPEC.md §3.5): a datagram of another protocol version is
// dropped unparsed; the user hears once per (address, version) per
// VersionWarnEvery which peer runs which version, named from the
// version-1 beacons that came from its address.
const (
	VersionWarnEvery = 10 * time.Minute
	maxVersionPeers  = 256 // addresses remembered, for warnings and for names
)

type beaconName struct {
	name, fingerprint string
	maxVersion        int
}

// versionWatch is the reader goroutine's own state: no lock.
type versionWatch struct {
	warned map[versionKey]time.Time
	names  map[netip.Addr]beaconName
}

type versionKey struct {
	addr    netip.Addr
	version byte
}

// noteBeacon remembers who beacons from src, so a later datagram of
// another version from there can be named. Bounded: a full table is
// cleared, which only costs names in warnings.
func (w *versionWatch) noteBeacon(src netip.Addr, sender [protocol.SenderLen]byte, b protocol.Beacon) {
	if old, ok := w.names[src]; ok && old.name == b.Name && old.maxVersion == b.MaxVersion() {
		return
	}
	if w.names == nil || len(w.names) >= maxVersionPeers {
		w.names = map[netip.Addr]beaconName{}
	}
	w.names[src] = beaconName{name: b.Name, fingerprint: identity.Fingerprint(ed25519.PublicKey(sender[:])), maxVersion: b.MaxVersion()}
}

// warnVersion says once per address and version per VersionWarnEvery
// that a peer sends a protocol version this herald does not speak.
func (n *Node) warnVersion(src netip.AddrPort, err error) {
	var ve *protocol.VersionError
	if !errors.As(err, &ve) {
		return
	}
	w, now := &n.versions, n.now()
	key := versionKey{src.Addr().Unmap(), ve.Version}
	if last, ok := w.warned[key]; ok && now.Sub(last) < VersionWarnEvery {
		return
	}
	if w.warned == nil || len(w.warned) >= maxVersionPeers {
		w.warned = map[versionKey]time.Time{}
	}
	w.warned[key] = now
	args := []any{"addr", src.Addr(), "their_version", ve.Version, "our_version", protocol.Version}
	if p, ok := w.names[key.addr]; ok {
		args = append(args, "peer", p.name, "fingerprint", p.fingerprint, "peer_speaks_up_to", p.maxVersion)
	}
	n.Logger.Warn("node: a peer sends a herald protocol version this herald does not speak; its datagrams are ignored: update herald on one side", args...)
}
