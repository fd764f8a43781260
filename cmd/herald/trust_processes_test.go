package main

import (
	"context"
	"crypto/ed25519"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
)

// TestTrustFromManyProcessesAtOnce runs `herald trust` in 12 processes at
// once on one home: with the lock file and merge on write, every one of
// the 12 keys is trusted at the end (a plain load-modify-save loses most
// of them).
func TestTrustFromManyProcessesAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := buildHerald(ctx, t)
	home := t.TempDir()
	herald(t, "--home", home, "id")
	const n = 12
	fps := make([]string, n)
	for i := range fps {
		pub, _, _ := ed25519.GenerateKey(nil)
		fps[i] = identity.Fingerprint(pub)
	}
	var wg sync.WaitGroup
	for _, fp := range fps {
		wg.Go(func() {
			if out, err := exec.CommandContext(ctx, bin, "--home", home, "trust", fp).CombinedOutput(); err != nil {
				t.Errorf("trust %s: %v\n%s", fp, err, out)
			}
		})
	}
	wg.Wait()
	store, err := identity.OpenTrustStore(home)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, fp := range fps {
		if p, ok := store.LookupFingerprint(fp); !ok || !p.Trusted {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d concurrent trusts lost", missing, n)
	}
}
