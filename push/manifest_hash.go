package push

import (
	"context"
	"fmt"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// Hashing the manifest while receivers register (SPEC.md §6.7). The
// announce needs only the manifest's length, which the block hashes do
// not change, so the sender announces at once and hashes the file
// meanwhile: hashing 200 MB took about 200 ms on two cores, all of it
// spent before the first announce, with every receiver idle.

// manifestHashing is the hashing goroutine's side of the sender: the
// manifest it fills in, and its result. The run goroutine reads the
// manifest only after receiving from done.
type manifestHashing struct {
	manifest *protocol.Manifest
	done     chan error // one result, then nothing
	cancel   context.CancelFunc
	waited   bool // done was received from
}

// startHashing hashes m's blocks on a goroutine of its own, stopped by
// ctx or stopHashing.
func (s *sender) startHashing(ctx context.Context, m *protocol.Manifest) {
	ctx, cancel := context.WithCancel(ctx)
	h := &s.hashing
	h.manifest, h.done, h.cancel = m, make(chan error, 1), cancel
	gate := s.cfg.hashGate
	go func() {
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
			}
		}
		h.done <- s.src.hashBlocks(ctx, s.layout, m)
	}()
}

// pending is the channel the hashing's result comes on; nil (never
// ready) once it came.
func (h *manifestHashing) pending() <-chan error {
	if h.waited {
		return nil
	}
	return h.done
}

// finished records the result received from pending, and returns it.
func (h *manifestHashing) finished(err error) error {
	h.waited = true
	h.cancel()
	return err
}

// stopHashing stops the hashing and waits for it to end, so nothing
// reads the source after Send returns.
func (s *sender) stopHashing() {
	h := &s.hashing
	if h.done == nil || h.waited {
		return
	}
	h.cancel()
	<-h.done
	h.waited = true
}

// awaitManifest waits for the block hashes, announcing and taking
// statuses meanwhile as register does, then seals the manifest. For a
// small push they are long done when registration ends.
func (s *sender) awaitManifest(ctx context.Context) error {
	h := &s.hashing
	nextAnnounce := s.n.Now()
	for !h.waited {
		if now := s.n.Now(); !now.Before(nextAnnounce) {
			if err := s.sendAnnounce(); err != nil {
				return err
			}
			nextAnnounce = now.Add(announceEvery)
		}
		t := time.NewTimer(nextAnnounce.Sub(s.n.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case err := <-h.pending():
			if err := h.finished(err); err != nil {
				t.Stop()
				return err
			}
		case m := <-s.statuses:
			s.handleStatus(m)
		case <-t.C:
		}
		t.Stop()
	}
	plain := h.manifest.AppendBinary(nil)
	if len(plain) != int(s.announce.ManifestLen) {
		return fmt.Errorf("push: manifest is %d bytes, %d announced", len(plain), s.announce.ManifestLen)
	}
	s.manifest = sealManifest(s.n.Signer, s.sid, s.keys, plain)
	s.out.cache.manifest = h.manifest.Hashes
	s.debug("manifest hashed", "blocks", len(h.manifest.Hashes))
	return nil
}

// manifestParts is how many chunks sealManifest cuts a manifest of n
// bytes into: the announce's ManifestParts, known before the hashes.
func manifestParts(n int) int {
	return (n + protocol.ManifestChunkLen - 1) / protocol.ManifestChunkLen
}
