package main

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
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
		mode      string
		scenarios int
		repeat    int
		fileMB    int
	}{
		{"quick", 2, 1, 50},
		{"full", 10, 3, 200},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			sc, rep, err := plan(tt.mode)
			if err != nil || len(sc) != tt.scenarios || rep != tt.repeat {
				t.Fatalf("plan = %d scenarios, %d repeats, %v", len(sc), rep, err)
			}
			for _, s := range sc {
				if s.FileMB != tt.fileMB || s.timeout() <= 30*time.Second {
					t.Errorf("scenario %s: file %d MB, timeout %v", s, s.FileMB, s.timeout())
				}
			}
		})
	}
	if _, _, err := plan("huge"); err == nil {
		t.Error("plan(huge) accepted")
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
	for _, a := range []string{blastGroup[:strings.IndexByte(blastGroup, ':')], udpcastRdv, udpcastData, uftpPublic, uftpPrivate} {
		if !scoped.Contains(netip.MustParseAddr(a)) {
			t.Errorf("%s outside %s", a, scoped)
		}
	}
}

func TestMarkdownReportsFailuresAndSkips(t *testing.T) {
	sc := scenario{Receivers: 3, RateMbit: 1000, FileMB: 50}
	md := markdown([]result{
		{Scenario: sc, Tool: "uftp", OK: true, Seconds: 1, GoodputMbit: 400, OfCeiling: 0.5},
		{Scenario: sc, Tool: "udpcast", Error: "timeout"},
		{Scenario: sc, Tool: "herald", Skipped: "not yet"},
	}, []string{"note"})
	for _, want := range []string{"| uftp | 1/1 | 1.00 | 400 | 50% |", "| udpcast | 0/1 |", "| herald | skipped |", "udpcast: timeout", "- note"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
