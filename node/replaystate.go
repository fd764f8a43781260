package node

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"time"
)

// Replay state across restarts (SPEC.md §4.3): a process that restarts
// within the skew window must not accept again a captured packet the
// previous one accepted. The guard's compact state (replay.AppendState)
// is saved to <home>/replay.state every replaySaveEvery while Run runs
// and when it stops, merged with what other processes of the same home
// saved, and loaded by Open.
const (
	replayStateFile = "replay.state"
	replaySaveEvery = 5 * time.Second
	maxReplayState  = 1 << 20 // larger files are not ours: ignored
)

// protectedKey is the replay guard's default protection hook: this
// node's own key and every trusted peer keep their slots whatever a
// flood of fresh keys does. The trust layer may replace it
// (Replay.SetProtected), e.g. to add channel owners.
func (n *Node) protectedKey(key [32]byte) bool {
	if string(n.ID.SignPub) == string(key[:]) {
		return true
	}
	p, ok := n.Trust.Lookup(ed25519.PublicKey(key[:]))
	return ok && p.Trusted
}

func (n *Node) replayStatePath() string { return filepath.Join(n.Home, replayStateFile) }

// loadReplayState restores the guard from the home's saved state. A
// missing or unreadable file means a fresh start; it is not an error,
// since the skew window alone still bounds replays.
func (n *Node) loadReplayState() {
	b, err := readBounded(n.replayStatePath(), maxReplayState)
	if err != nil {
		return
	}
	if err := n.Replay.LoadState(b); err != nil {
		n.Logger.Warn("node: saved replay state ignored", "file", n.replayStatePath(), "err", err)
	}
}

// saveReplayState merges the guard's state into the home's file
// (write to a temporary file, then rename, so a reader never sees half).
func (n *Node) saveReplayState() {
	path := n.replayStatePath()
	old, _ := readBounded(path, maxReplayState)
	merged := n.Replay.MergeState(old, n.Replay.AppendState(nil))
	tmp, err := os.CreateTemp(n.Home, replayStateFile+".*")
	if err != nil {
		n.warnReplaySave(path, err)
		return
	}
	_, err = tmp.Write(merged)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	n.warnReplaySave(path, err)
}

// warnReplaySave logs the first failure to save, and nothing more until
// a save succeeds: a read-only home must not fill a service's log.
func (n *Node) warnReplaySave(path string, err error) {
	if err == nil {
		n.replaySaveFailing.Store(false)
		return
	}
	if !n.replaySaveFailing.Swap(true) {
		n.Logger.Warn("node: replay state not saved; a restart within 2 minutes may accept replays of packets seen before it", "file", path, "err", err)
	}
}

// saveReplayLoop saves the state every replaySaveEvery until ctx ends,
// then once more.
func (n *Node) saveReplayLoop(ctx context.Context) {
	t := time.NewTicker(replaySaveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			n.saveReplayState()
			return
		case <-t.C:
			n.saveReplayState()
		}
	}
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, os.ErrInvalid
	}
	b := make([]byte, st.Size())
	_, err = f.ReadAt(b, 0)
	if err != nil && st.Size() > 0 {
		return nil, err
	}
	return b, nil
}
