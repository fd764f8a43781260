package identity

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Name limits.
const (
	// MaxPeerNameLen is the longest peer name in bytes; it matches the
	// protocol's name field.
	MaxPeerNameLen = 64
	// MaxChannelNameLen is the longest channel name, kept short because
	// it is written into join codes.
	MaxChannelNameLen = 32
	// openChannelName names the well-known unencrypted channel; no
	// secret channel may take it.
	openChannelName = "open"
)

// ValidatePeerName checks a self-chosen peer name: 1 to MaxPeerNameLen
// bytes of UTF-8, not only spaces, with no control characters (a name is
// printed to terminals and must not move the cursor).
func ValidatePeerName(name string) error {
	switch {
	case len(name) > MaxPeerNameLen:
		return fmt.Errorf("%w: peer name is %d bytes, at most %d", ErrBadName, len(name), MaxPeerNameLen)
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("%w: peer name is empty", ErrBadName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: peer name is not UTF-8", ErrBadName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: peer name %q has control characters", ErrBadName, name)
	}
	return nil
}

// foldName is the form under which peer names are bound to keys:
// "Alice" and "alice" are the same name, so one cannot impersonate the
// other.
func foldName(name string) string { return strings.ToLower(name) }

// NormalizeChannelName lower-cases name and checks it: 1 to
// MaxChannelNameLen characters from a-z, 0-9 and '_'. Join codes are
// case-insensitive and ignore dashes and spaces, so names cannot depend
// on case or contain those. It does not reject the reserved name "open".
func NormalizeChannelName(name string) (string, error) {
	if len(name) == 0 || len(name) > MaxChannelNameLen {
		return "", fmt.Errorf("%w: channel name must be 1 to %d characters", ErrBadName, MaxChannelNameLen)
	}
	name = strings.ToLower(name)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return "", fmt.Errorf("%w: channel name %q may only use a-z, 0-9 and _", ErrBadName, name)
		}
	}
	return name, nil
}

// normalizeSecretChannelName is NormalizeChannelName that also refuses
// the name of the open channel, which has no secret.
func normalizeSecretChannelName(name string) (string, error) {
	name, err := NormalizeChannelName(name)
	if err != nil {
		return "", err
	}
	if name == openChannelName {
		return "", fmt.Errorf("%w: %q is reserved for the unencrypted open channel", ErrBadName, name)
	}
	return name, nil
}
