package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestProgressInTmux runs `herald demo` (an in-memory LAN: no network)
// in tmux panes of several widths and reads the screen back: the push
// bar is redrawn in place on one line that fits the width, with no
// escape sequence left visible.
func TestProgressInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and drives tmux; skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt install tmux)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := buildHerald(ctx, t)
	dir := t.TempDir()
	bar := regexp.MustCompile(`^push \[[#.]{5,}\] +\d+%`)

	for _, width := range []int{100, 60, 30} {
		t.Run(fmt.Sprintf("width %d", width), func(t *testing.T) {
			// A private server per pane: the user's tmux is never touched,
			// and no server is left exiting when the next one starts.
			sock := filepath.Join(dir, fmt.Sprintf("tmux-%d.sock", width))
			tmux := func(args ...string) string {
				t.Helper()
				out, err := exec.CommandContext(ctx, "tmux", append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			defer exec.Command("tmux", "-S", sock, "kill-server").Run()
			session := fmt.Sprintf("w%d", width)
			shell := fmt.Sprintf("HERALD_HOME=%s %s demo; echo EXIT=$?; sleep 60", shellQuote(dir), shellQuote(bin))
			tmux("new-session", "-d", "-s", session, "-x", fmt.Sprint(width), "-y", "100", shell)
			var screen string
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				// -J joins lines the terminal wrapped, so a bar too wide
				// for the pane would show as one overlong line.
				screen = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", session)
				if strings.Contains(screen, "EXIT=") || time.Now().After(deadline) {
					break
				}
			}
			if !strings.Contains(screen, "EXIT=0") {
				t.Fatalf("demo did not exit 0:\n%s", screen)
			}
			if strings.Contains(screen, "\x1b") || strings.Contains(screen, "[K") || strings.Contains(screen, "\r") {
				t.Errorf("escape sequences visible on screen:\n%q", screen)
			}
			var bars []string
			for _, line := range strings.Split(screen, "\n") {
				if strings.HasPrefix(line, "push ") {
					bars = append(bars, strings.TrimRight(line, " "))
				}
			}
			if len(bars) != 1 {
				t.Fatalf("%d progress lines on screen, want the one redrawn in place:\n%s", len(bars), screen)
			}
			if n := utf8.RuneCountInString(bars[0]); n >= width {
				t.Errorf("progress line is %d columns in a %d-column pane (it wrapped): %q", n, width, bars[0])
			}
			if width >= 100 && !bar.MatchString(bars[0]) {
				t.Errorf("no bar drawn at width %d: %q", width, bars[0])
			}
		})
	}
}

// With stdout not a terminal (herald demo | cat), progress is plain
// lines: no carriage returns, no escape sequences.
func TestProgressWithoutTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := buildHerald(ctx, t)
	cmd := exec.CommandContext(ctx, bin, "demo")
	cmd.Env = append(cmd.Environ(), "HERALD_HOME="+t.TempDir())
	out, err := cmd.Output() // a pipe, as in `herald demo | cat`
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if strings.ContainsAny(string(out), "\r\x1b") {
		t.Errorf("piped output has carriage returns or escape sequences:\n%q", out)
	}
	if !regexp.MustCompile(`(?m)^push +\d+% `).Match(out) {
		t.Errorf("piped output has no plain progress line:\n%s", out)
	}
}
