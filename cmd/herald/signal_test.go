package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopGrace is how long a service may take to stop after SIGTERM
// (systemd's default is 90 s; herald promises far less).
const stopGrace = 2 * time.Second

// startWatched starts cmd with stdout and stderr going to one watcher.
func startWatched(t *testing.T, cmd *exec.Cmd) (*lineWatcher, <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.Close()
		waited <- err
	}()
	return watchLines(pr), waited
}

// terminate sends SIGTERM and checks the process exits 0 within
// stopGrace, without a panic or goroutine dump.
func terminate(t *testing.T, cmd *exec.Cmd, out *lineWatcher, waited <-chan error) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case err := <-waited:
		if code := exitOf(err); code != exitOK {
			t.Errorf("exit %d after SIGTERM, want 0 (%v)\n%s", code, err, out)
		}
	case <-time.After(stopGrace):
		cmd.Process.Kill()
		<-waited
		t.Fatalf("still running %v after SIGTERM\n%s", stopGrace, out)
	}
	<-out.done
	if s := out.String(); strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
		t.Errorf("output after SIGTERM has a panic or goroutine dump:\n%s", s)
	}
	t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
}

// The long-running commands a service manager starts stop at once and
// exit 0 on SIGTERM, idle or in the middle of a push. They run in a
// namespace lab, where they may use real multicast.
func TestServicesStopOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and network namespaces; skipped with -short")
	}
	l := newPushLab(t, 1)
	receiver := l.lab.Receivers[0]
	tests := []struct {
		name  string
		args  []string
		ready string
	}{
		{"receive", []string{"receive", "--dir", "DIR"}, "waiting for pushes"},
		{"listen", []string{"listen"}, "listening on"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" idle", func(t *testing.T) {
			dir := t.TempDir()
			args := slicesReplace(tt.args, "DIR", dir)
			cmd := l.cmd(receiver, args...)
			out, waited := startWatched(t, cmd)
			if !out.waitFor(tt.ready, 10*time.Second) {
				cmd.Process.Kill()
				t.Fatalf("%s never said %q:\n%s", tt.name, tt.ready, out)
			}
			time.Sleep(300 * time.Millisecond) // sockets joined, presence beaconing
			terminate(t, cmd, out, waited)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("idle receive left %d entries in --dir: %v", len(entries), entries)
			}
		})
	}

	// Mid-push: the receiver stops at once. Its staging folder stays, so
	// the same push resumes later (receive --help), and no partial file
	// appears under the pushed name.
	t.Run("receive during a push", func(t *testing.T) {
		dir := t.TempDir()
		src := randomFile(t, t.TempDir(), "lesson.bin", 8<<20)
		recv := l.cmd(receiver, "receive", "--accept-any", "--dir", dir)
		recvOut, recvWaited := startWatched(t, recv)
		if !recvOut.waitFor("waiting for pushes", 10*time.Second) {
			recv.Process.Kill()
			t.Fatalf("receive not ready:\n%s", recvOut)
		}
		send := l.cmd(l.lab.Sender, "push", "--no-encrypt", "--rate", "16M", "--min-receivers", "1", "--wait", "10s", src)
		sendOut, sendWaited := startWatched(t, send)
		defer func() {
			send.Process.Signal(syscall.SIGTERM)
			select {
			case <-sendWaited:
			case <-time.After(10 * time.Second):
				send.Process.Kill()
				<-sendWaited
			}
		}()
		if !recvOut.waitFor("ETA", 20*time.Second) {
			t.Fatalf("no progress at the receiver:\n%s\nsender:\n%s", recvOut, sendOut)
		}
		terminate(t, recv, recvOut, recvWaited)
		entries, _ := os.ReadDir(dir)
		staging := 0
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".herald-") {
				staging++
				continue
			}
			t.Errorf("interrupted receive left %q in --dir; only its staging folder may stay", e.Name())
		}
		if staging != 1 {
			t.Errorf("%d staging folders in --dir, want the one kept for resuming", staging)
		}
		if _, err := os.Stat(filepath.Join(dir, "lesson.bin")); err == nil {
			t.Error("a partial lesson.bin was placed")
		}
	})
}

// slicesReplace returns s with every old replaced by new.
func slicesReplace(s []string, old, new string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = v
		if v == old {
			out[i] = new
		}
	}
	return out
}
