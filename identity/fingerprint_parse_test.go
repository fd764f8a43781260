package identity

import (
	"crypto/ed25519"
	"strings"
	"testing"
)

func TestParseFingerprint(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	fp := Fingerprint(pub)
	for _, typed := range []string{fp, strings.ToLower(fp), strings.ReplaceAll(fp, "-", "")} {
		if got, ok := ParseFingerprint(typed); !ok || got != fp {
			t.Errorf("ParseFingerprint(%q) = %q, %v; want %q", typed, got, ok, fp)
		}
	}
	for _, bad := range []string{fp[:9], "alice", fp + "X", ""} {
		if got, ok := ParseFingerprint(bad); ok {
			t.Errorf("ParseFingerprint(%q) = %q, accepted", bad, got)
		}
	}
}
