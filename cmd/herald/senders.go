package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
)

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
