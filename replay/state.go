package replay

import (
	"encoding/binary"
	"errors"
	"slices"
)

// Saved state (SPEC.md, "Replay protection across restarts"): a restarted
// process must not accept again what the previous one accepted. Keeping
// every window would cost up to MaxSenders*EpochsPerSender*136 bytes;
// instead each sender's newest accepted timestamp is kept, and after a
// restart every packet of that sender at or below it is refused. Only
// honest packets delayed past a restart are lost that way.
//
//	state  = magic "HRPL" | version 1 | count u32 | count * entry
//	entry  = key [32] | newest u64 (big endian, Unix ms)
const (
	stateMagic   = "HRPL"
	stateVersion = 1
	stateHeader  = 4 + 1 + 4
	stateEntry   = 32 + 8
)

// ErrBadState: LoadState was given bytes AppendState did not write.
var ErrBadState = errors.New("replay: bad saved state")

// savedSender is one entry of the saved state.
type savedSender struct {
	key    [32]byte
	newest uint64
}

// AppendState appends the state a later process needs (see above) for
// every sender whose packets are not yet stale, newest first, bounded by
// MaxProtected+MaxSenders entries.
func (g *Guard) AppendState(b []byte) []byte {
	nowMs := g.nowMillis()
	g.mu.Lock()
	list := make([]savedSender, 0, len(g.senders))
	for k, s := range g.senders {
		if newest := max(s.newest, s.floor); newest+g.skewMs >= nowMs {
			list = append(list, savedSender{k, newest})
		}
	}
	g.mu.Unlock()
	return appendSaved(b, list, g.cfg.MaxProtected+g.cfg.MaxSenders)
}

func appendSaved(b []byte, list []savedSender, limit int) []byte {
	slices.SortFunc(list, func(a, b savedSender) int { return int64Cmp(b.newest, a.newest) })
	list = list[:min(len(list), limit)]
	b = append(b, stateMagic...)
	b = append(b, stateVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(list)))
	for _, e := range list {
		b = append(b, e.key[:]...)
		b = binary.BigEndian.AppendUint64(b, e.newest)
	}
	return b
}

func int64Cmp(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseSaved(b []byte) ([]savedSender, error) {
	if len(b) < stateHeader || string(b[:4]) != stateMagic || b[4] != stateVersion {
		return nil, ErrBadState
	}
	n := int(binary.BigEndian.Uint32(b[5:]))
	b = b[stateHeader:]
	if n < 0 || len(b) != n*stateEntry {
		return nil, ErrBadState
	}
	out := make([]savedSender, n)
	for i := range out {
		e := b[i*stateEntry:]
		out[i] = savedSender{key: [32]byte(e[:32]), newest: binary.BigEndian.Uint64(e[32:])}
	}
	return out, nil
}

// MergeState combines two saved states (several processes share one
// home and one state file): per sender the higher timestamp wins. Either
// may be empty or unreadable, which counts as empty.
func (g *Guard) MergeState(a, b []byte) []byte {
	nowMs := g.nowMillis()
	best := map[[32]byte]uint64{}
	for _, in := range [][]byte{a, b} {
		list, _ := parseSaved(in)
		for _, e := range list {
			if e.newest+g.skewMs >= nowMs && e.newest > best[e.key] {
				best[e.key] = e.newest
			}
		}
	}
	list := make([]savedSender, 0, len(best))
	for k, v := range best {
		list = append(list, savedSender{k, v})
	}
	return appendSaved(nil, list, g.cfg.MaxProtected+g.cfg.MaxSenders)
}

// LoadState restores a saved state into a Guard, before its first
// Check: every listed sender's packets at or below its saved timestamp
// are refused. Stale entries are skipped; entries beyond the tables'
// room are dropped, protected keys first in line.
func (g *Guard) LoadState(b []byte) error {
	list, err := parseSaved(b)
	if err != nil {
		return err
	}
	nowMs := g.nowMillis()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range list {
		if e.newest+g.skewMs < nowMs || g.senders[e.key] != nil {
			continue
		}
		s := &sender{key: e.key, floor: e.newest, newest: e.newest, epochs: make([]*epochState, 0, g.cfg.EpochsPerSender)}
		switch {
		case g.isProtected != nil && g.isProtected(e.key) && g.protected < g.cfg.MaxProtected:
			s.protected = true
			g.protected++
		case g.strangers < g.cfg.MaxSenders:
			g.lru.pushBack(s)
			g.strangers++
		default:
			continue
		}
		g.senders[e.key] = s
	}
	return nil
}
