package identity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is a deterministic key for test peer i.
func testKey(i int) (ed25519.PublicKey, [32]byte) {
	var seed [32]byte
	binary.BigEndian.PutUint64(seed[:], uint64(i))
	pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	return pub, sha256.Sum256(pub) // any 32 bytes stand in for a box key
}

func openStore(t testing.TB, home string) *TrustStore {
	t.Helper()
	s, err := OpenTrustStore(home)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func observe(t testing.TB, s *TrustStore, name string, i int) (TrustState, error) {
	t.Helper()
	pub, box := testKey(i)
	return s.Observe(name, pub, box)
}

func TestTrustOnFirstUse(t *testing.T) {
	home := t.TempDir()
	s := openStore(t, home)
	alice, _ := testKey(1)
	steps := []struct {
		name    string
		act     func() (TrustState, error)
		want    TrustState
		wantErr error
	}{
		{"first sight is recorded", func() (TrustState, error) { return observe(t, s, "alice", 1) }, Unknown, nil},
		{"second sight is seen", func() (TrustState, error) { return observe(t, s, "alice", 1) }, Seen, nil},
		{"trust by name", func() (TrustState, error) { p, err := s.Trust("ALICE"); return p.State(), err }, Trusted, nil},
		{"trusted key stays trusted", func() (TrustState, error) { return observe(t, s, "alice", 1) }, Trusted, nil},
		{"other key under the name is refused", func() (TrustState, error) { return observe(t, s, "alice", 2) }, Changed, ErrKeyChanged},
		{"case does not dodge the binding", func() (TrustState, error) { return observe(t, s, "Alice", 2) }, Changed, ErrKeyChanged},
		{"known key under a new name keeps its state", func() (TrustState, error) { return observe(t, s, "alice2", 1) }, Trusted, nil},
		{"other peer is unknown", func() (TrustState, error) { return observe(t, s, "bob", 3) }, Unknown, nil},
		{"known key cannot take a bound name", func() (TrustState, error) { return observe(t, s, "bob", 1) }, Changed, ErrKeyChanged},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := st.act()
			if got != st.want || !errors.Is(err, st.wantErr) {
				t.Fatalf("state %v err %v, want %v %v", got, err, st.want, st.wantErr)
			}
		})
	}
	if p, _ := s.Lookup(alice); p.Name != "alice" {
		t.Errorf("peer renamed itself to %q; first name must stick", p.Name)
	}
	intruder, _ := testKey(2)
	if _, ok := s.Lookup(intruder); ok {
		t.Fatal("the refused key was recorded")
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}

	t.Run("persisted across reopen", func(t *testing.T) {
		r := openStore(t, home)
		if got, err := observe(t, r, "alice", 1); got != Trusted || err != nil {
			t.Fatalf("alice after reopen: %v %v", got, err)
		}
		if got, err := observe(t, r, "alice", 2); got != Changed || !errors.Is(err, ErrKeyChanged) {
			t.Fatalf("intruder after reopen: %v %v", got, err)
		}
		if got, _ := observe(t, r, "bob", 3); got != Seen {
			t.Fatalf("bob after reopen: %v", got)
		}
		if n := len(r.List()); n != 2 {
			t.Fatalf("%d peers after reopen, want 2", n)
		}
	})
}

func TestObserveIsLazyAndSaveIsReliable(t *testing.T) {
	home := t.TempDir()
	s := openStore(t, home)
	observe(t, s, "lazy", 1)
	if n := len(openStore(t, home).List()); n != 0 {
		t.Fatalf("Observe wrote to disk (%d peers) before Save", n)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if n := len(openStore(t, home).List()); n != 1 {
		t.Fatalf("%d peers after Save, want 1", n)
	}
	info, err := os.Stat(filepath.Join(home, trustFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("trust file: %v, %v", info, err)
	}
}

func TestUntrustAndForget(t *testing.T) {
	home := t.TempDir()
	s := openStore(t, home)
	observe(t, s, "carol", 1)
	if _, err := s.Trust("carol"); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Untrust("carol"); err != nil || p.Trusted {
		t.Fatalf("untrust: %+v %v", p, err)
	}
	if got, _ := observe(t, openStore(t, home), "carol", 1); got != Seen {
		t.Fatalf("untrust not saved at once: %v", got)
	}
	if _, err := s.Forget("carol"); err != nil {
		t.Fatal(err)
	}
	if got, err := observe(t, s, "carol", 2); got != Unknown || err != nil {
		t.Fatalf("new key after Forget: %v %v, want Unknown", got, err)
	}
	if _, err := s.Forget("nobody"); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("forget unknown: %v", err)
	}
}

// keysSharingPrefix finds two test keys whose fingerprints share the
// first minFingerprintPrefix characters (deterministic search).
func keysSharingPrefix(t *testing.T) (int, int) {
	seen := map[string]int{}
	for i := range 1 << 14 {
		pub, _ := testKey(i)
		p := Fingerprint(pub)[:minFingerprintPrefix]
		if j, ok := seen[p]; ok {
			return j, i
		}
		seen[p] = i
	}
	t.Fatal("no fingerprint prefix collision found")
	return 0, 0
}

func TestResolve(t *testing.T) {
	s := openStore(t, t.TempDir())
	a, b := keysSharingPrefix(t)
	pubA, _ := testKey(a)
	pubB, _ := testKey(b)
	fpA, fpB := Fingerprint(pubA), Fingerprint(pubB)
	observe(t, s, "alpha", a)
	observe(t, s, "beta", b)
	// A peer naming itself like alpha's fingerprint prefix, and one
	// naming itself with alpha's whole fingerprint.
	squatter := strings.ToLower(fpA[:4])
	observe(t, s, squatter, 90001)
	observe(t, s, fpA, 90002)
	sharedFirst := fpA[:4]
	common := len(sharedFirst)
	for common < len(fpA) && fpA[common] == fpB[common] {
		common++
	}
	for _, tc := range []struct {
		ref     string
		want    string // peer name, or "" when an error is expected
		wantErr error
	}{
		{fpB, "beta", nil},
		{strings.ToLower(strings.ReplaceAll(fpB, "-", "")), "beta", nil},
		{" " + strings.ReplaceAll(fpB, "-", " ") + " ", "beta", nil},
		{fpB[:common+1], "beta", nil},
		{"BETA", "beta", nil},
		{fpA, "alpha", nil}, // a full fingerprint beats the squatter named like it
		{sharedFirst, "", ErrAmbiguous},
		{squatter, "", ErrAmbiguous},
		{fpB[:3], "", ErrUnknownPeer},
		{"gamma", "", ErrUnknownPeer},
		{"", "", ErrUnknownPeer},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			p, err := s.Resolve(tc.ref)
			if !errors.Is(err, tc.wantErr) || p.Name != tc.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q, %v", tc.ref, p.Name, err, tc.want, tc.wantErr)
			}
		})
	}
	// Crockford misreadings of a fingerprint still resolve.
	misread := strings.NewReplacer("0", "O", "1", "l").Replace(fpB)
	if p, err := s.Resolve(misread); err != nil || p.Name != "beta" {
		t.Fatalf("Resolve(%q) = %q, %v", misread, p.Name, err)
	}
}

func TestObserveRejectsBadInput(t *testing.T) {
	s := openStore(t, t.TempDir())
	pub, box := testKey(1)
	for _, tc := range []struct {
		name, peer string
		pub        ed25519.PublicKey
		want       error
	}{
		{"empty name", "", pub, ErrBadName},
		{"blank name", "   ", pub, ErrBadName},
		{"long name", strings.Repeat("x", MaxPeerNameLen+1), pub, ErrBadName},
		{"escape in name", "a\x1b[2Jb", pub, ErrBadName},
		{"invalid utf8", "a\xffb", pub, ErrBadName},
		{"short key", "ok", pub[:31], ErrBadKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Observe(tc.peer, tc.pub, box); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	if len(s.List()) != 0 {
		t.Fatal("bad input was recorded")
	}
}

func TestObserveUpdatesBoxKeyAndLastSeen(t *testing.T) {
	s := openStore(t, t.TempDir())
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	pub, box := testKey(1)
	s.Observe("dan", pub, box)
	clock = clock.Add(time.Hour)
	newBox := [32]byte{1}
	s.Observe("dan", pub, newBox)
	p, _ := s.Lookup(pub)
	if p.BoxPub != newBox || !p.LastSeen.Equal(clock) || !p.FirstSeen.Equal(clock.Add(-time.Hour)) {
		t.Fatalf("peer after second sighting: %+v", p)
	}
	p.SignPub[0] ^= 1
	if q, _ := s.Lookup(pub); !q.SignPub.Equal(pub) {
		t.Fatal("Lookup returned the store's own key slice")
	}
}

func TestTrustStoreBounded(t *testing.T) {
	s := openStore(t, t.TempDir())
	s.maxPeers = 3
	clock := time.Unix(1e9, 0)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	observe(t, s, "keep", 0)
	s.Trust("keep")
	observe(t, s, "old", 1)
	observe(t, s, "new", 2)
	if got, err := observe(t, s, "newest", 3); got != Unknown || err != nil {
		t.Fatalf("at capacity: %v %v", got, err)
	}
	names := []string{}
	for _, p := range s.List() {
		names = append(names, p.Name)
	}
	if fmt.Sprint(names) != "[keep new newest]" {
		t.Fatalf("after eviction: %v, want the oldest untrusted gone", names)
	}
	s.Trust("new")
	s.Trust("newest")
	if _, err := observe(t, s, "more", 4); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("all trusted and full: %v, want ErrStoreFull", err)
	}
}

func TestOpenTrustStoreRejects(t *testing.T) {
	pubA, _ := testKey(1)
	pubB, _ := testKey(2)
	peer := func(name string, pub ed25519.PublicKey) string {
		return fmt.Sprintf(`{"name":%q,"sign_pub":%q,"box_pub":%q}`, name, b64(pub), b64(make([]byte, 32)))
	}
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		want          error
	}{
		{"world readable", `{"version":1}`, 0o644, ErrInsecurePermissions},
		{"not json", `[`, 0o600, ErrCorrupt},
		{"future version", `{"version":9}`, 0o600, ErrCorrupt},
		{"short key", `{"version":1,"peers":[` + peer("a", pubA[:8]) + `]}`, 0o600, ErrCorrupt},
		{"name bound twice", `{"version":1,"peers":[` + peer("a", pubA) + `,` + peer("A", pubB) + `]}`, 0o600, ErrCorrupt},
		{"key listed twice", `{"version":1,"peers":[` + peer("a", pubA) + `,` + peer("b", pubA) + `]}`, 0o600, ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			path := filepath.Join(home, trustFile)
			if err := os.WriteFile(path, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tc.mode)
			if _, err := OpenTrustStore(home); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTrustStoreConcurrentUse(t *testing.T) {
	s := openStore(t, t.TempDir())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				observe(t, s, fmt.Sprintf("p%d", (w*50+i)%60), (w*50+i)%60)
				if i%10 == 0 {
					if err := s.Save(); err != nil {
						t.Error(err)
					}
					s.List()
					s.Resolve("p1")
				}
			}
		})
	}
	wg.Wait()
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if n := len(s.List()); n != 60 {
		t.Fatalf("%d peers, want 60", n)
	}
}

func BenchmarkObserveKnown(b *testing.B) {
	s := openStore(b, b.TempDir())
	pub, box := testKey(1)
	s.Observe("bench", pub, box)
	b.ReportAllocs()
	for b.Loop() {
		s.Observe("bench", pub, box)
	}
}
