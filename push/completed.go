package push

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// The received log (SPEC.md §6.8, "Completed pushes"): a receiver
// remembers every push it completed, in <home>/received.json, so that
//   - an announce of a push it already completed is answered "complete"
//     and never admitted again, while the sender still announces it (a
//     slow receiver keeps the push alive) and after a restart;
//   - the same content (manifest hash) from the same sender into the same
//     folder is not placed a second time under another session id;
//   - a re-push of a name this sender placed replaces it (the old copy is
//     kept as "<name> (previous)"), while a name that someone else placed
//     gets " (1)" as before.
//
// Only pushes that completed are logged, and only an admitted sender can
// complete one, so strangers cannot fill it; it is still bounded.
const (
	receivedFile   = "received.json"
	maxReceived    = 1024
	receivedMaxAge = 30 * 24 * time.Hour
	maxReceivedLog = 4 << 20 // a larger file is not ours: ignored
)

// receivedPush is one completed push.
type receivedPush struct {
	Sender  string    `json:"sender"`  // signing key, hex
	Session string    `json:"session"` // session id, hex
	Content string    `json:"content"` // SHA-256 of the manifest, hex
	Dir     string    `json:"dir"`     // absolute target folder
	Names   []string  `json:"names"`   // top-level names placed in Dir
	Backups []string  `json:"backups,omitempty"`
	At      time.Time `json:"at"`
}

// receivedLog is the in-memory copy of the file. Safe for concurrent use.
type receivedLog struct {
	path string
	mu   sync.Mutex
	list []receivedPush // oldest first
}

func openReceivedLog(home string) *receivedLog {
	l := &receivedLog{path: filepath.Join(home, receivedFile)}
	l.list = readReceived(l.path)
	return l
}

func readReceived(path string) []receivedPush {
	st, err := os.Stat(path)
	if err != nil || st.Size() > maxReceivedLog {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var list []receivedPush
	if json.Unmarshal(b, &list) != nil {
		return nil
	}
	return list
}

func hexKey(k [32]byte) string { return hex.EncodeToString(k[:]) }

// hasSession reports whether the push (sender, sid) was completed here.
func (l *receivedLog) hasSession(sender [32]byte, sid protocol.SessionID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, id := hexKey(sender), sid.String()
	for _, p := range l.list {
		if p.Sender == s && p.Session == id {
			return true
		}
	}
	return false
}

// sameContent returns the names placed by an earlier push of the same
// content from the same sender into dir, if no later push placed any of
// them again. The caller still checks the files against the manifest:
// the user may have changed them since.
func (l *receivedLog) sameContent(sender [32]byte, content [32]byte, dir string) ([]string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, c := hexKey(sender), hex.EncodeToString(content[:])
	for i := len(l.list) - 1; i >= 0; i-- {
		p := l.list[i]
		if p.Sender != s || p.Content != c || p.Dir != dir || len(p.Names) == 0 {
			continue
		}
		for _, later := range l.list[i+1:] {
			if later.Dir == dir && slices.ContainsFunc(later.Names, func(n string) bool { return slices.Contains(p.Names, n) }) {
				return nil, false
			}
		}
		return slices.Clone(p.Names), true
	}
	return nil, false
}

// placedBy reports whether the newest push that placed name in dir came
// from sender, and whether backup was made by a push here.
func (l *receivedLog) placedBy(sender [32]byte, dir, name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.list) - 1; i >= 0; i-- {
		p := l.list[i]
		if p.Dir == dir && slices.Contains(p.Names, name) {
			return p.Sender == hexKey(sender)
		}
	}
	return false
}

// isBackup reports whether name in dir is a backup a push made.
func (l *receivedLog) isBackup(dir, name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.list {
		if p.Dir == dir && slices.Contains(p.Backups, name) {
			return true
		}
	}
	return false
}

// add records a completed push and saves the log, merged with what other
// processes of this home saved meanwhile.
func (l *receivedLog) add(p receivedPush) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	merged := readReceived(l.path)
	for _, q := range l.list {
		if !slices.ContainsFunc(merged, func(m receivedPush) bool { return m.Sender == q.Sender && m.Session == q.Session }) {
			merged = append(merged, q)
		}
	}
	merged = append(merged, p)
	slices.SortStableFunc(merged, func(a, b receivedPush) int { return a.At.Compare(b.At) })
	cut := time.Now().Add(-receivedMaxAge)
	merged = slices.DeleteFunc(merged, func(q receivedPush) bool { return q.At.Before(cut) })
	if len(merged) > maxReceived {
		merged = merged[len(merged)-maxReceived:]
	}
	l.list = merged
	b, err := json.MarshalIndent(merged, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(l.path), receivedFile+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), l.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
