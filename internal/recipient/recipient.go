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
)

// retryEvery is how often Resolve looks again while it waits.
const retryEvery = 200 * time.Millisecond

// ErrNotSeen: a recipient is unknown, or known without the key to seal
// to, and was not heard within the wait.
var ErrNotSeen = errors.New("recipient not seen on the LAN")

// Resolve finds each ref's keys in the trust store, which knows every key
// presence has heard, trusted or not; a running presence fills it while
// Resolve retries, until wait has passed or ctx ends. A peer whose key
// changed is refused at once (identity.ErrKeyChanged), as is an
// ambiguous reference (identity.ErrAmbiguous).
func Resolve(ctx context.Context, trust *identity.TrustStore, refs []string, wait time.Duration) ([]identity.Peer, error) {
	deadline := time.Now().Add(wait)
	for {
		peers, err := resolveOnce(trust, refs)
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

func resolveOnce(trust *identity.TrustStore, refs []string) ([]identity.Peer, error) {
	peers := make([]identity.Peer, 0, len(refs))
	for _, ref := range refs {
		p, err := trust.Resolve(ref)
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
