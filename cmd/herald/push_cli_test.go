package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

// receiverOn runs a library receiver (--accept-any, --once) on its own
// simulated host and returns its directory.
func receiverOn(t *testing.T, net *multicast.MemNet) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	nd, err := node.Open(node.Config{Home: t.TempDir(), Name: "student", Network: net.Host(multicast.Link{Loss: 0.02})})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	done := make(chan struct{})
	go func() {
		defer close(done)
		nd.RunWith(ctx, func(ctx context.Context) error {
			return push.Receive(ctx, push.ReceiveConfig{Node: nd, Dir: dir, AcceptAny: true, Once: true})
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return dir
}

// The push command's exit codes and report, through the real CLI.
func TestPushCLIExitCodes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(file, []byte(strings.Repeat("herald ", 30_000)), 0o644)
	t.Run("complete", func(t *testing.T) {
		net := multicast.NewMemNet(3)
		dir := receiverOn(t, net)
		res := cliRun{args: []string{"--home", t.TempDir(), "push", "--json", "--no-encrypt", "--min-receivers", "1", "--wait", "5s", file},
			network: net.Host(multicast.Link{})}.exec(t)
		if res.code != exitOK {
			t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stdout, `"event":"report"`) || !strings.Contains(res.stdout, `"completed":1`) {
			t.Fatalf("no report in %s", res.stdout)
		}
		waitForPath(t, filepath.Join(dir, "notes.txt"))
	})
	t.Run("fewer receivers than required", func(t *testing.T) {
		net := multicast.NewMemNet(4)
		receiverOn(t, net)
		res := cliRun{args: []string{"--home", t.TempDir(), "push", "--no-encrypt", "--min-receivers", "2", "--wait", "1s", file},
			network: net.Host(multicast.Link{})}.exec(t)
		if res.code != exitPartial || !strings.Contains(res.stdout, "complete") {
			t.Fatalf("exit %d, want %d\n%s\n%s", res.code, exitPartial, res.stdout, res.stderr)
		}
	})
	t.Run("nobody answers", func(t *testing.T) {
		net := multicast.NewMemNet(5)
		res := cliRun{args: []string{"--home", t.TempDir(), "push", "--no-encrypt", "--wait", "500ms", file},
			network: net.Host(multicast.Link{})}.exec(t)
		if res.code != exitTimeout {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitTimeout, res.stderr)
		}
	})
	t.Run("open channel needs --no-encrypt", func(t *testing.T) {
		res := cliRun{args: []string{"--home", t.TempDir(), "push", file}, network: multicast.NewMemNet(6).Host(multicast.Link{})}.exec(t)
		if res.code != exitTrust || !strings.Contains(res.stderr, "--no-encrypt") {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitTrust, res.stderr)
		}
	})
	t.Run("flag after file", func(t *testing.T) {
		res := cliRun{args: []string{"--home", t.TempDir(), "push", file, "--no-encrypt"}}.exec(t)
		if res.code != exitUsage {
			t.Fatalf("exit %d, want %d", res.code, exitUsage)
		}
	})
}

func waitForPath(t *testing.T, p string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	t.Fatalf("%s never appeared", p)
}
