package main

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSameContent(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := make([]byte, 3<<20+7) // crosses the 1 MiB read buffer
	for i := range big {
		big[i] = byte(i * 7)
	}
	src := write("src", big)
	flipped := append([]byte(nil), big...)
	flipped[2<<20+3] ^= 1
	tests := []struct {
		name string
		got  string
		want error
	}{
		{"identical", write("same", big), nil},
		{"one bit flipped", write("flip", flipped), errMismatch},
		{"truncated", write("short", big[:len(big)-1]), errMismatch},
		{"longer", write("long", append(append([]byte(nil), big...), 0)), errMismatch},
		{"missing", filepath.Join(dir, "absent"), errMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := sameContent(src, tt.got); !errors.Is(err, tt.want) {
				t.Fatalf("sameContent = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		mode       string
		scenarios  int
		repeat     int
		fileMB     int
		heraldOnly bool
	}{
		{"quick", 2, 1, 50, false},
		{"full", 12, 3, 200, false},
		{"memory", 2, 1, memoryFileMB, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			p, err := plan(tt.mode)
			if err != nil || len(p.scenarios) != tt.scenarios || p.repeat != tt.repeat || p.heraldOnly != tt.heraldOnly || p.ceiling == tt.heraldOnly {
				t.Fatalf("plan = %d scenarios, %d repeats, herald only %v, ceiling %v, %v", len(p.scenarios), p.repeat, p.heraldOnly, p.ceiling, err)
			}
			for _, s := range p.scenarios {
				if s.FileMB != tt.fileMB || s.timeout() <= 30*time.Second {
					t.Errorf("scenario %s: file %d MB, timeout %v", s, s.FileMB, s.timeout())
				}
			}
			for _, s := range p.withFileMB(7).scenarios {
				if s.FileMB != 7 {
					t.Errorf("withFileMB(7): scenario %s", s)
				}
			}
		})
	}
	if _, err := plan("huge"); err == nil {
		t.Error("plan(huge) accepted")
	}
}

// TestFullPlanHasReceiverBaseline: the 10-receiver target compares with 1
// receiver in the same conditions, so both must be in the full matrix.
func TestFullPlanHasReceiverBaseline(t *testing.T) {
	p, _ := plan("full")
	for _, ten := range p.scenarios {
		if ten.Receivers != 10 {
			continue
		}
		one := ten
		one.Receivers = 1
		if !slices.Contains(p.scenarios, one) {
			t.Errorf("full plan has %s but not %s", ten, one)
		}
	}
}

func TestUftpClientID(t *testing.T) {
	if got := uftpClientID(netip.MustParseAddr("198.18.0.2")); got != "0xC6120002" {
		t.Fatalf("uftpClientID = %s", got)
	}
}

// TestToolsStayInAdminScope: every multicast address a tool is told to use
// is in 239/8, and no tool is left on its default group.
func TestToolsStayInAdminScope(t *testing.T) {
	scoped := netip.MustParsePrefix("239.0.0.0/8")
	for _, a := range []string{blastGroup[:strings.IndexByte(blastGroup, ':')], rawGroup[:strings.IndexByte(rawGroup, ':')], udpcastRdv, udpcastData, uftpPublic, uftpPrivate} {
		if !scoped.Contains(netip.MustParseAddr(a)) {
			t.Errorf("%s outside %s", a, scoped)
		}
	}
}
