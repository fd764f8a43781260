package hook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/syncbuf"
)

func TestRunnerRunsInOrderWithEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	var errw syncbuf.Buffer
	r := NewRunner(&errw)
	for _, word := range []string{"one", "two"} {
		r.Run(Command{What: "--exec", Args: []string{"sh", "-c", `echo "$HERALD_X" >> out`}, Env: []string{"HERALD_X=" + word}, Dir: dir})
	}
	r.Close()
	got, err := os.ReadFile(filepath.Join(dir, "out"))
	if err != nil || string(got) != "one\ntwo\n" {
		t.Fatalf("out holds %q (%v), want one then two; stderr %q", got, err, errw.String())
	}
}

func TestRunnerQueueIsBounded(t *testing.T) {
	var errw syncbuf.Buffer
	r := newRunner(&errw, 1, 5*time.Second)
	release := filepath.Join(t.TempDir(), "go")
	wait := Command{What: "--exec", Args: []string{"sh", "-c", "while [ ! -e " + release + " ]; do sleep 0.01; done"}}
	queued := 0
	for range 5 {
		if r.Run(wait) {
			queued++
		}
	}
	os.WriteFile(release, nil, 0o600)
	r.Close()
	// One runs, one waits in the queue; the rest were skipped at once.
	if queued > 2 || !strings.Contains(errw.String(), "skipped one") {
		t.Fatalf("queued %d of 5 with a queue of 1; stderr %q", queued, errw.String())
	}
}

func TestRunnerKillsAfterTimeout(t *testing.T) {
	var errw syncbuf.Buffer
	r := newRunner(&errw, 1, 100*time.Millisecond)
	start := time.Now()
	r.Run(Command{What: "--exec", Args: []string{"sleep", "30"}})
	r.Close()
	if time.Since(start) > 10*time.Second || !strings.Contains(errw.String(), "killed after") {
		t.Fatalf("a hung hook was not killed: took %v, stderr %q", time.Since(start), errw.String())
	}
}
