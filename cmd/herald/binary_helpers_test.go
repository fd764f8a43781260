package main

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildHerald builds the herald binary into a test folder with extra
// `go build` flags and returns its path. The build cache makes a rebuild
// cost about a link.
func buildHerald(ctx context.Context, t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	args := append(append([]string{"build", "-o", bin}, flags...), ".")
	if out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// lineWatcher collects what a process writes, line by line, and lets a
// test wait for a line containing some text.
type lineWatcher struct {
	mu    sync.Mutex
	lines []string
	added chan struct{} // closed and replaced on every line
	done  chan struct{} // closed at EOF
}

func watchLines(r io.Reader) *lineWatcher {
	w := &lineWatcher{added: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			close(w.added)
			w.added = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	return w
}

// waitFor returns once a line contains want, false after timeout or EOF.
func (w *lineWatcher) waitFor(want string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		for _, l := range w.lines {
			if strings.Contains(l, want) {
				w.mu.Unlock()
				return true
			}
		}
		added := w.added
		w.mu.Unlock()
		select {
		case <-added:
		case <-w.done:
			return w.has(want)
		case <-deadline:
			return false
		}
	}
}

func (w *lineWatcher) has(want string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}
