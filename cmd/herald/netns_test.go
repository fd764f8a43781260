package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// TestPeersAcrossNamespaces runs the real binary in two network
// namespaces joined by a bridge and checks that `herald peers` in each
// lists the other's fingerprint: beacons cross a real network stack.
func TestPeersAcrossNamespaces(t *testing.T) {
	if err := netlab.Available(); err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("builds a binary and network namespaces; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "herald")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	lab, err := netlab.New(ctx, netlab.Config{Receivers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("closing lab: %v", err)
		}
	})

	type side struct {
		host netlab.Host
		home string
		wait string
		fp   string
		out  []byte
		err  error
		diag string // stderr
	}
	sides := []*side{
		{host: lab.Sender, home: t.TempDir(), wait: "2s"},
		{host: lab.Receivers[0], home: t.TempDir(), wait: "3s"}, // outlives the other: must still list it
	}
	for i, s := range sides {
		out, err := exec.CommandContext(ctx, bin, "--home", s.home, "--name", []string{"alpha", "beta"}[i], "id", "--json").Output()
		if err != nil {
			t.Fatalf("herald id: %v", err)
		}
		s.fp = jsonLines[idJSON](t, string(out))[0].Fingerprint
	}
	var wg sync.WaitGroup
	for _, s := range sides {
		wg.Go(func() {
			cmd := lab.Command(ctx, s.host, bin, "--home", s.home, "--iface", s.host.Iface, "peers", "--wait", s.wait, "--json")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			s.out, s.err = cmd.Output()
			s.diag = stderr.String()
		})
	}
	wg.Wait()
	for i, s := range sides {
		other := sides[1-i]
		if s.err != nil {
			t.Fatalf("peers in %s: %v: %s", s.host.Name, s.err, s.diag)
		}
		rows := jsonLines[peerRow](t, string(s.out))
		if len(rows) != 1 || rows[0].Fingerprint != other.fp || !strings.HasPrefix(rows[0].Address, other.host.Addr.String()+":") {
			t.Errorf("%s lists %+v, want only %s from %s", s.host.Name, rows, other.fp, other.host.Addr)
		}
	}
}
