package identity

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestPublicLineRoundTrip(t *testing.T) {
	id, err := generate("teacher room 4")
	if err != nil {
		t.Fatal(err)
	}
	line := id.PublicLine()
	if strings.Count(line, "\n") != 0 || !IsIdentityLine(line) {
		t.Fatalf("line %q", line)
	}
	p, err := ParseIdentityLine("  " + line + "\n")
	if err != nil || p.Name != id.Name || !p.SignPub.Equal(id.SignPub) || p.BoxPub != id.BoxPub || p.Fingerprint() != id.Fingerprint() {
		t.Fatalf("parsed %+v, %v", p, err)
	}
}

func TestParseIdentityLineRejects(t *testing.T) {
	id, _ := generate("teacher")
	other, _ := generate("mallory")
	line := id.PublicLine()
	fields := strings.SplitN(line, " ", 3)
	blob, _ := base64.RawURLEncoding.DecodeString(fields[1])
	flipped := append([]byte(nil), blob...)
	flipped[100] ^= 1
	otherBox := append([]byte(nil), blob...)
	copy(otherBox[32:64], other.BoxPub[:])
	for _, tc := range []struct{ name, line, says string }{
		{"renamed", fields[0] + " " + fields[1] + " principal", "signature"},
		{"bad signature", fields[0] + " " + base64.RawURLEncoding.EncodeToString(flipped) + " teacher", "signature"},
		{"box key swapped", fields[0] + " " + base64.RawURLEncoding.EncodeToString(otherBox) + " teacher", "signature"},
		{"short", fields[0] + " " + fields[1][:100] + " teacher", "128 bytes"},
		{"long", fields[0] + " " + fields[1] + "AAAA teacher", "128 bytes"},
		{"no name", fields[0] + " " + fields[1], "no name"},
		{"other prefix", "ssh-ed25519 " + fields[1] + " teacher", "herald-id1"},
		{"control characters in name", fields[0] + " " + fields[1] + " a\x1bb", "control"},
		{"huge", line + strings.Repeat("x", 500), "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIdentityLine(tc.line)
			if !errors.Is(err, ErrBadIdentityLine) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err %v, want ErrBadIdentityLine saying %q", err, tc.says)
			}
		})
	}
}

func FuzzParseIdentityLine(f *testing.F) {
	id, _ := generate("fuzz")
	f.Add(id.PublicLine())
	f.Fuzz(func(t *testing.T, line string) {
		if p, err := ParseIdentityLine(line); err == nil && len(p.SignPub) != 32 {
			t.Fatal("accepted a line without a 32-byte key")
		}
	})
}

func TestParseFingerprint(t *testing.T) {
	fp := fpOf(1)
	for _, in := range []string{fp, strings.ToLower(fp), strings.ReplaceAll(fp, "-", ""), strings.ReplaceAll(fp, "-", " ")} {
		if got, err := ParseFingerprint(in); err != nil || got != fp {
			t.Errorf("ParseFingerprint(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", fp[:9], fp + "A", "U" + fp[1:], "root@vm"} {
		if _, err := ParseFingerprint(in); !errors.Is(err, ErrBadFingerprint) {
			t.Errorf("ParseFingerprint(%q): %v", in, err)
		}
	}
}
