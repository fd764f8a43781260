package recipient

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
)

func TestResolve(t *testing.T) {
	store, err := identity.OpenTrustStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bobPub, _, _ := ed25519.GenerateKey(nil)
	if _, err := store.Observe("bob", bobPub, [32]byte{1}); err != nil {
		t.Fatal(err)
	}
	strangerPub, _, _ := ed25519.GenerateKey(nil)
	strangerFP := identity.Fingerprint(strangerPub)
	ctx := context.Background()

	got, err := Resolve(ctx, store, []string{"bob", strings.ToLower(identity.Fingerprint(bobPub))}, 0)
	if err != nil || len(got) != 2 || !got[0].SignPub.Equal(bobPub) || !got[1].SignPub.Equal(bobPub) {
		t.Fatalf("Resolve = %+v, %v; want bob by name and by fingerprint", got, err)
	}
	if _, err := Resolve(ctx, store, []string{"carol"}, 0); !errors.Is(err, ErrNotSeen) {
		t.Fatalf("unknown name: %v, want ErrNotSeen", err)
	}
	start := time.Now()
	if _, err := Resolve(ctx, store, []string{strangerFP}, 300*time.Millisecond); !errors.Is(err, ErrNotSeen) || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("not heard: %v after %v, want ErrNotSeen after the wait", err, time.Since(start))
	}
}
