package node

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// Deaf-peer memory (SPEC.md §5.2): peers that asked for unicast are kept
// in the home for DeafMemory, so a short-lived process (announce, send)
// serves them from its first packet, before their next beacon.
const (
	deafFile = "unicast-peers.json"
	// DeafMemory is how long a remembered deaf peer is served by unicast
	// by a process that has not heard from it itself.
	DeafMemory = 10 * time.Minute
	// maxDeafFile bounds what is read from the file.
	maxDeafFile = 64 << 10
)

// deafRecord is one line of the memory file.
type deafRecord struct {
	Addr string    `json:"addr"`
	Key  string    `json:"key"`
	Seen time.Time `json:"seen"`
}

// loadDeaf reads the remembered deaf peers of home into u as routes that
// want unicast, stamped now: they last UnicastExpire unless renewed.
func (u *unicastPaths) loadDeaf(home string, now time.Time) {
	f, err := os.Open(filepath.Join(home, deafFile))
	if err != nil {
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDeafFile))
	if err != nil {
		return
	}
	var recs []deafRecord
	if json.Unmarshal(b, &recs) != nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, r := range recs {
		addr, err1 := netip.ParseAddrPort(r.Addr)
		key, err2 := hex.DecodeString(r.Key)
		if err1 != nil || err2 != nil || len(key) != protocol.SenderLen || now.Sub(r.Seen) > DeafMemory || len(u.routes) >= MaxUnicastRoutes {
			continue
		}
		u.routes[addr] = &route{key: [protocol.SenderLen]byte(key), last: now, wants: now}
		u.remembered = append(u.remembered, r)
	}
}

// saveDeaf writes the deaf peers heard since the last save, merged with
// the file's other fresh records, if any were heard. Best effort: a home
// that cannot be written only loses the shortcut.
func (u *unicastPaths) saveDeaf(home string, now time.Time) {
	u.mu.Lock()
	if !u.deafDirty {
		u.mu.Unlock()
		return
	}
	u.deafDirty, u.lastSave = false, now
	cleared := make(map[string]time.Time, len(u.cleared))
	for a, t := range u.cleared {
		cleared[a.String()] = t
	}
	clear(u.cleared)
	byAddr := make(map[string]deafRecord)
	for _, r := range u.remembered {
		byAddr[r.Addr] = r
	}
	for dst, r := range u.routes {
		if !r.wants.IsZero() {
			byAddr[dst.String()] = deafRecord{Addr: dst.String(), Key: hex.EncodeToString(r.key[:]), Seen: r.wants}
		}
	}
	u.mu.Unlock()
	if b, err := os.ReadFile(filepath.Join(home, deafFile)); err == nil && len(b) <= maxDeafFile {
		var old []deafRecord
		if json.Unmarshal(b, &old) == nil {
			for _, r := range old {
				if cur, ok := byAddr[r.Addr]; !ok || cur.Seen.Before(r.Seen) {
					byAddr[r.Addr] = r
				}
			}
		}
	}
	recs := make([]deafRecord, 0, len(byAddr))
	for _, r := range byAddr {
		if t, ok := cleared[r.Addr]; ok && !t.Before(r.Seen) {
			continue // it said it hears us again
		}
		if now.Sub(r.Seen) <= DeafMemory && len(recs) < MaxUnicastRoutes {
			recs = append(recs, r)
		}
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(home, deafFile+".*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), filepath.Join(home, deafFile)) != nil {
		os.Remove(tmp.Name())
	}
}
