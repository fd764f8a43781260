package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/internal/textsafe"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/push"
)

// TestPrintPathsEscapeHostileText is issue 18 item 7: names, paths and
// messages from the wire reach neither the terminal nor JSON raw.
func TestPrintPathsEscapeHostileText(t *testing.T) {
	evil := "report\u202etxt.exe"
	name := "t\u0435acher\u200b" // Cyrillic е and a zero-width space
	events := []push.Event{
		{Kind: push.EventOffered, Name: name, Sender: "FP", Total: 10},
		{Kind: push.EventComplete, Paths: []string{evil}, Rejected: 3, Injected: 1},
		{Kind: push.EventFailed, Err: errors.New("bad \x1b[2J" + evil)},
	}
	var human, js bytes.Buffer
	hv := newEventPrinter(&human, false, false)
	jv := newEventPrinter(&js, true, false)
	for _, e := range events {
		e.Time = time.Now()
		hv.event(e)
		jv.event(e)
	}
	line := history.Entry{Time: time.Now(), Kind: history.KindChat, Channel: "class", Sender: name, Fingerprint: "FP", Trust: "seen", Text: "hi\u2067there\nline two"}.Line()
	human.WriteString(line)
	for _, out := range []string{human.String(), js.String()} {
		for _, r := range out {
			if textsafe.Hidden(r) && r != '\n' {
				t.Fatalf("raw %U in output:\n%s", r, out)
			}
		}
	}
	for _, want := range []string{`report\u202etxt.exe`, "(lookalike)", "refused 3 forged/malformed datagrams, 1 blocks spoiled", "\n    line two"} {
		if !strings.Contains(human.String(), want) {
			t.Errorf("human output lacks %q:\n%s", want, human.String())
		}
	}
	var sawCounters bool
	for _, l := range strings.Split(strings.TrimSpace(js.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if ps, ok := m["paths"].([]any); ok && ps[0] != evil {
			t.Errorf("JSON changed the path: %q", ps[0])
		}
		if m["rejected"] == 3.0 && m["injected"] == 1.0 {
			sawCounters = true
		}
	}
	if !sawCounters {
		t.Errorf("JSON lacks rejected/injected:\n%s", js.String())
	}
}

// TestListenSummaryShowsStaleNotCopies is issue 18 item 9 and issue 19
// item 4: the exit summary names stale packets and never herald's own
// copies.
func TestListenSummaryShowsStaleNotCopies(t *testing.T) {
	var b bytes.Buffer
	reportRejections(&b, message.Stats{Stale: 4, Repeats: 30})
	if got := b.String(); !strings.Contains(got, "4 stale") || strings.Contains(got, "replayed") {
		t.Fatalf("summary: %q", got)
	}
}

// TestReceiveClean is issue 19 item 5: `receive --clean` removes the
// staging folders of unfinished pushes and says which.
func TestReceiveClean(t *testing.T) {
	dir := t.TempDir()
	staging := filepath.Join(dir, ".herald-0123456789abcdef")
	os.MkdirAll(filepath.Join(staging, "lesson"), 0o700)
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644)
	res := herald(t, "--home", t.TempDir(), "receive", "--clean", "--dir", dir)
	if !strings.Contains(res.stdout, staging) {
		t.Fatalf("stdout %q does not name %s", res.stdout, staging)
	}
	if _, err := os.Stat(staging); err == nil {
		t.Fatal("staging folder still there")
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil {
		t.Fatal("another file was removed")
	}
	res = herald(t, "--home", t.TempDir(), "receive", "--clean", "--dir", dir)
	if !strings.Contains(res.stderr, "no unfinished pushes") {
		t.Fatalf("second clean: %q", res.stderr)
	}
}
