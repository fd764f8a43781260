// Package recipient turns what a person typed after --to (names,
// fingerprints, prefixes of them) into the keys a push or a private
// message is sealed to, waiting a little for peers not heard yet.
package recipient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/presence"
)

// retryEvery is how often Resolve looks again while it waits.
const retryEvery = 200 * time.Millisecond

// ErrNotSeen: a recipient is unknown, or known without the key to seal
// to, and was not heard within the wait.
var ErrNotSeen = errors.New("recipient not seen on the LAN")

// Heard is what presence heard: peers by their beacons. *presence.Presence
// is one; nil hears nobody.
type Heard interface{ Peers() []presence.PeerInfo }

// Resolve finds each ref's keys in the trust store, or among the peers
// heard (then only by complete fingerprint: a name is a label anyone can
// claim). It retries until wait has passed or ctx ends. A peer whose key
// changed is refused at once (identity.ErrKeyChanged), as is an
// ambiguous reference (identity.ErrAmbiguous).
func Resolve(ctx context.Context, trust *identity.TrustStore, heard Heard, refs []string, wait time.Duration) ([]identity.Peer, error) {
	deadline := time.Now().Add(wait)
	for {
		peers, err := resolveOnce(trust, heard, refs)
		if err == nil || !errors.Is(err, ErrNotSeen) || errors.Is(err, identity.ErrAmbiguous) || !time.Now().Before(deadline) {
			return peers, err
		}
		t := time.NewTimer(retryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func resolveOnce(trust *identity.TrustStore, heard Heard, refs []string) ([]identity.Peer, error) {
	peers := make([]identity.Peer, 0, len(refs))
	for _, ref := range refs {
		p, err := trust.Resolve(ref)
		if err != nil {
			p, err = byFullFingerprint(heard, ref, err)
		}
		if err == nil && p.State() == identity.Changed {
			return nil, fmt.Errorf("%s: %w; refusing to seal to it", ref, identity.ErrKeyChanged)
		}
		if err != nil || p.BoxPub == ([32]byte{}) {
			if err == nil {
				err = errors.New("its encryption key was never heard")
			}
			return nil, fmt.Errorf("%w: %q: %w", ErrNotSeen, ref, err)
		}
		peers = append(peers, p)
	}
	return peers, nil
}

// byFullFingerprint finds a peer heard on the LAN by its complete
// fingerprint when the trust store has no record of it (for instance
// because its name collides with a known peer's).
func byFullFingerprint(heard Heard, ref string, notFound error) (identity.Peer, error) {
	want, ok := identity.ParseFingerprint(ref)
	if heard == nil || !ok {
		return identity.Peer{}, notFound
	}
	for _, p := range heard.Peers() {
		if p.Fingerprint == want {
			return identity.Peer{Name: p.Name, SignPub: p.SignPub, BoxPub: p.BoxPub, Fingerprint: p.Fingerprint}, nil
		}
	}
	return identity.Peer{}, notFound
}
