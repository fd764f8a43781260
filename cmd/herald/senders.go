package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
)

// senderList is what receive accepts besides trusted keys and channel
// owners. The --from-file files are read again when they change (checked
// at most every reloadSenders), so an admin's edit of the authorized
// senders file reaches a running service without a restart; a file that
// became unreadable or invalid keeps the last good list, with a warning.
// Safe for concurrent use.
type senderList struct {
	n     *node.Node
	refs  []string
	files []string
	warn  io.Writer

	mu      sync.Mutex
	fps     []string
	stamps  []time.Time // ModTime of each file when read
	checked time.Time
}

const reloadSenders = time.Second

func newSenderList(n *node.Node, refs, files []string, warn io.Writer) (*senderList, error) {
	l := &senderList{n: n, refs: refs, files: files, warn: warn}
	fps, stamps, err := l.read()
	if err != nil {
		return nil, err
	}
	l.fps, l.stamps, l.checked = fps, stamps, time.Now()
	return l, nil
}

func (l *senderList) read() ([]string, []time.Time, error) {
	stamps := make([]time.Time, len(l.files))
	for i, f := range l.files {
		if st, err := os.Stat(f); err == nil {
			stamps[i] = st.ModTime()
		}
	}
	fps, err := senderFingerprints(l.n, l.refs, l.files)
	return fps, stamps, err
}

// fingerprints is push.ReceiveConfig.FromFingerprints.
func (l *senderList) fingerprints() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.files) == 0 || time.Since(l.checked) < reloadSenders {
		return l.fps
	}
	l.checked = time.Now()
	changed := false
	for i, f := range l.files {
		if st, err := os.Stat(f); err != nil || !st.ModTime().Equal(l.stamps[i]) {
			changed = true
		}
	}
	if !changed {
		return l.fps
	}
	fps, stamps, err := l.read()
	l.stamps = stamps // one warning per change, not one per announce
	if err != nil {
		fmt.Fprintf(l.warn, "herald: keeping the previous senders list: %v\n", err)
		return l.fps
	}
	l.fps = fps
	return l.fps
}

// senderFingerprints turns what receive is told to accept (--from values,
// and --from-file files an admin deploys) into fingerprints. A value is
// a full fingerprint (its key need not have been seen: provisioning
// works while the sender is off), a public identity line (herald id
// --export), or a name or fingerprint prefix that exactly one known key
// matches. A file holds fingerprints or identity lines, one a line, with
// # comments.
func senderFingerprints(n *node.Node, refs, files []string) ([]string, error) {
	var fps []string
	for _, ref := range refs {
		fp, err := senderFingerprint(ref)
		if err != nil {
			p, rerr := n.Trust.Resolve(ref)
			if rerr != nil {
				return nil, fmt.Errorf("--from %q: %w (give a full fingerprint or an identity line)", ref, rerr)
			}
			fp = p.Fingerprint
		}
		fps = append(fps, fp)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--from-file: %w", err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			fp, err := senderFingerprint(line)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", file, i+1, err)
			}
			fps = append(fps, fp)
		}
	}
	return fps, nil
}

// senderFingerprint reads a full fingerprint or a public identity line.
func senderFingerprint(s string) (string, error) {
	if identity.IsIdentityLine(s) {
		id, err := identity.ParseIdentityLine(s)
		if err != nil {
			return "", err
		}
		return id.Fingerprint(), nil
	}
	return identity.ParseFingerprint(s)
}

// checkSenders validates the config key "from": comma-separated full
// fingerprints or identity lines (names could name another key tomorrow).
func checkSenders(v string) (string, error) {
	for _, ref := range splitList([]string{v}) {
		if _, err := senderFingerprint(ref); err != nil {
			return "", fmt.Errorf("%q: %w (give full fingerprints or identity lines, comma-separated)", ref, err)
		}
	}
	return v, nil
}
