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

func fpOf(i int) string { pub, _ := testKey(i); return Fingerprint(pub) }

// openStore opens a store that looks at its file on every use, so tests
// of reloading need not wait reloadEvery.
func openStore(t testing.TB, home string) *TrustStore {
	t.Helper()
	s, err := OpenTrustStore(home)
	if err != nil {
		t.Fatal(err)
	}
	s.file.every = 0
	return s
}

func observe(t testing.TB, s *TrustStore, name string, i int) (TrustState, error) {
	t.Helper()
	pub, box := testKey(i)
	return s.Observe(name, pub, box)
}

func mustState(t *testing.T, s *TrustStore, name string, i int, want TrustState) {
	t.Helper()
	got, err := observe(t, s, name, i)
	if got != want || (want == Changed) != errors.Is(err, ErrKeyChanged) {
		t.Fatalf("Observe(%q, key %d) = %v, %v; want %v", name, i, got, err, want)
	}
}

// A room of cloned machines: every key calls itself root@vm. None is
// "changed", each is told apart by its label, and a reference by the
// shared name is ambiguous instead of picking one.
func TestSharedNamesAreLabels(t *testing.T) {
	s := openStore(t, t.TempDir())
	for i := range 4 {
		mustState(t, s, "root@vm", i, Unknown)
	}
	for i := range 4 {
		mustState(t, s, "root@vm", i, Seen)
		pub, _ := testKey(i)
		want := "root@vm·" + fpOf(i)[:4]
		if got := s.Label(pub, "root@vm"); got != want {
			t.Errorf("label of key %d = %q, want %q", i, got, want)
		}
	}
	if _, err := s.Trust("root@vm"); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), fpOf(2)) {
		t.Fatalf("trust by shared name: %v, want ambiguous listing the fingerprints", err)
	}
	if _, err := s.Trust(fpOf(2)); err != nil {
		t.Fatal(err)
	}
	mustState(t, s, "root@vm", 2, Trusted)
	// Now the name belongs to a trusted key: the other clones claiming it
	// are shown as changed, never as the trusted peer.
	mustState(t, s, "root@vm", 0, Changed)
	if p, _ := s.Lookup(mustPub(0)); p.State() != Changed || p.Trusted {
		t.Errorf("key 0 after claiming a trusted name: %+v", p)
	}
	pub1, _ := testKey(1)
	if got := s.Label(pub1, ""); !strings.Contains(got, "·") {
		t.Errorf("impostor label %q not disambiguated", got)
	}
}

func mustPub(i int) ed25519.PublicKey { pub, _ := testKey(i); return pub }

// Name squatting (issue 18.5): a squatter's beacon named "teacher" seen
// first takes nothing from the real teacher, whose fingerprint can be
// trusted; the squatter is then "changed", and a flood of fresh keys
// evicts no trusted key and never reaches the file.
func TestNameSquattingLosesToTheFingerprint(t *testing.T) {
	home := t.TempDir()
	s := openStore(t, home)
	const squatter, teacher = 100, 7
	mustState(t, s, "teacher", squatter, Unknown)
	mustState(t, s, "teacher", teacher, Unknown)
	if _, err := s.Trust(fpOf(teacher)); err != nil {
		t.Fatalf("trust the real teacher's fingerprint: %v", err)
	}
	mustState(t, s, "teacher", teacher, Trusted)
	mustState(t, s, "teacher", squatter, Changed)
	mustState(t, s, "TEACHER", squatter+1, Changed) // names fold case
	s.maxSeen = 50
	for i := range 500 {
		observe(t, s, fmt.Sprintf("flood%d", i), 1000+i)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if p, ok := s.Lookup(mustPub(teacher)); !ok || !p.Trusted {
		t.Fatalf("teacher after a flood: %+v %v", p, ok)
	}
	if n := len(s.List()); n > 51 {
		t.Errorf("%d keys in memory, bound is 50 untrusted + 1 trusted", n)
	}
	data, _ := os.ReadFile(filepath.Join(home, trustFile))
	if strings.Count(string(data), `"fingerprint"`) != 1 || strings.Contains(string(data), "flood") {
		t.Errorf("trust.json holds strangers:\n%s", data)
	}
	// A fresh key taking the name after the flood is still an impostor.
	mustState(t, s, "teacher", 5000, Changed)
}

// Trust ahead of time: a fingerprint never seen is pinned and becomes
// trusted when its key shows up, with the name it then claims.
func TestPinNeverSeenFingerprint(t *testing.T) {
	home := t.TempDir()
	s := openStore(t, home)
	typed := strings.ToLower(strings.ReplaceAll(fpOf(3), "-", " "))
	typed = strings.Replace(typed, "0", "o", 1)
	p, err := s.Trust(typed)
	if err != nil || !p.Pending() || p.Fingerprint != fpOf(3) {
		t.Fatalf("pin: %+v %v", p, err)
	}
	if _, err := s.Trust(fpOf(3)[:10]); err == nil {
		// a prefix of a pin matches the pin, which is fine; a prefix of
		// nothing must not pin
	}
	if _, err := s.Trust("K7QF-2MXA"); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("a fingerprint prefix of no key: %v, want ErrUnknownPeer", err)
	}
	// Another key, another fingerprint: not trusted by the pin.
	mustState(t, s, "teacher", 4, Unknown)
	// A second process opens the home before the key shows up.
	other := openStore(t, home)
	mustState(t, other, "teacher", 3, Trusted)
	if err := other.Save(); err != nil {
		t.Fatal(err)
	}
	reopened := openStore(t, home)
	got, ok := reopened.Lookup(mustPub(3))
	if !ok || !got.Trusted || got.Name != "teacher" || got.Pending() {
		t.Fatalf("after the pinned key showed up and was saved: %+v %v", got, ok)
	}
}

// One live trust store (issue 13.4, 18.2): two stores on one home, as two
// processes; a trust or untrust by one is seen by the other, and the
// other's Save never writes back its stale copy.
func TestTrustChangesReachOtherStoreAndAreNotUndone(t *testing.T) {
	home := t.TempDir()
	listen := openStore(t, home) // a long-running process
	mustState(t, listen, "labadmin", 1, Unknown)
	cli := openStore(t, home) // `herald trust`
	if _, err := cli.Trust(fpOf(1)); err != nil {
		t.Fatal(err)
	}
	mustState(t, listen, "labadmin", 1, Trusted)
	// A fresh key's beacon, then the running process saves: the trust
	// must survive (it used to be written back as untrusted).
	mustState(t, listen, "fresh", 2, Unknown)
	if err := listen.Save(); err != nil {
		t.Fatal(err)
	}
	if p, _ := openStore(t, home).Lookup(mustPub(1)); !p.Trusted {
		t.Fatal("trust lost after the running process saved")
	}
	if _, err := cli.Untrust(fpOf(1)); err != nil {
		t.Fatal(err)
	}
	mustState(t, listen, "labadmin", 1, Seen)
	if _, err := listen.Trust(fpOf(2)); err != nil { // a change of its own
		t.Fatal(err)
	}
	if p, _ := openStore(t, home).Lookup(mustPub(1)); p.Trusted {
		t.Fatal("untrust undone by the other store's write")
	}
}

// Two writers at once (lock file, merge on write): every trust each of
// them makes is in the file at the end.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	home := t.TempDir()
	var wg sync.WaitGroup
	const writers, each = 4, 15
	for w := range writers {
		s := openStore(t, home)
		wg.Go(func() {
			for i := range each {
				if _, err := s.Trust(fpOf(w*100 + i)); err != nil {
					t.Error(err)
				}
				observe(t, s, "x", w*100+i)
				s.Save()
			}
		})
	}
	wg.Wait()
	s := openStore(t, home)
	n := 0
	for _, p := range s.List() {
		if p.Trusted {
			n++
		}
	}
	if n != writers*each {
		t.Fatalf("%d trusted keys in the file, want %d", n, writers*each)
	}
}

func TestMigrateVersion1(t *testing.T) {
	home := t.TempDir()
	pubA, boxA := testKey(1)
	pubB, _ := testKey(2)
	v1 := fmt.Sprintf(`{"version":1,"peers":[
		{"name":"alice","fingerprint":"x","sign_pub":%q,"box_pub":%q,"trusted":true,"first_seen":"2026-01-01T00:00:00Z","last_seen":"2026-01-02T00:00:00Z"},
		{"name":"stranger","sign_pub":%q,"box_pub":%q,"trusted":false}]}`, b64(pubA), b64(boxA[:]), b64(pubB), b64(boxA[:]))
	path := filepath.Join(home, trustFile)
	if err := os.WriteFile(path, []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, home)
	list := s.List()
	if len(list) != 1 || list[0].Name != "alice" || !list[0].Trusted || list[0].BoxPub != boxA || list[0].FirstSeen.IsZero() {
		t.Fatalf("migrated store: %+v; want only alice, trusted, with her box key", list)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"version": 2`) || strings.Contains(string(data), "stranger") {
		t.Fatalf("file not rewritten as version 2 without strangers:\n%s", data)
	}
	mustState(t, s, "alice", 1, Trusted)
	mustState(t, s, "alice", 3, Changed)
}

func TestUntrustAndForget(t *testing.T) {
	s := openStore(t, t.TempDir())
	mustState(t, s, "bob", 1, Unknown)
	if _, err := s.Trust("bob"); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Untrust("bob"); err != nil || p.Trusted {
		t.Fatalf("untrust: %+v %v", p, err)
	}
	mustState(t, s, "bob", 1, Seen)
	if _, err := s.Forget("bob"); err != nil {
		t.Fatal(err)
	}
	mustState(t, s, "bob", 1, Unknown)
	if _, err := s.Trust(fpOf(9)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Untrust(fpOf(9)); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.LookupFingerprint(fpOf(9)); ok {
		t.Error("an untrusted pin is still listed")
	}
}

func keysSharingPrefix(t *testing.T) (int, int) {
	seen := map[string]int{}
	for i := range 1 << 14 {
		p := fpOf(i)[:minFingerprintPrefix]
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
	fpA := fpOf(a)
	mustState(t, s, "alice", a, Unknown)
	mustState(t, s, fpOf(b)[:4], b, Unknown) // names itself like a's prefix
	for _, tc := range []struct {
		ref  string
		want string
		err  error
	}{
		{fpA, fpA, nil},
		{strings.ToLower(strings.ReplaceAll(fpA, "-", "")), fpA, nil},
		{"ALICE", fpA, nil},
		{fpA[:4], "", ErrAmbiguous},
		{fpA[:9], fpA, nil},
		{"nobody", "", ErrUnknownPeer},
		{fpOf(99999), "", ErrUnknownPeer},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			p, err := s.Resolve(tc.ref)
			if !errors.Is(err, tc.err) || (tc.err == nil && p.Fingerprint != tc.want) {
				t.Fatalf("Resolve(%q) = %s, %v; want %s, %v", tc.ref, p.Fingerprint, err, tc.want, tc.err)
			}
		})
	}
}

func TestObserveRejectsBadInput(t *testing.T) {
	s := openStore(t, t.TempDir())
	pub, box := testKey(1)
	for _, tc := range []struct {
		name string
		pub  ed25519.PublicKey
		want error
	}{
		{"", pub, ErrBadName},
		{"a\x1b[2J", pub, ErrBadName},
		{strings.Repeat("x", MaxPeerNameLen+1), pub, ErrBadName},
		{"ok", pub[:31], ErrBadKey},
	} {
		if _, err := s.Observe(tc.name, tc.pub, box); !errors.Is(err, tc.want) {
			t.Errorf("Observe(%q): %v, want %v", tc.name, err, tc.want)
		}
	}
	if len(s.List()) != 0 {
		t.Error("a refused observation was recorded")
	}
}

func TestOpenTrustStoreRejects(t *testing.T) {
	pubA, _ := testKey(1)
	entry := func(fp string, pub []byte) string {
		return fmt.Sprintf(`{"fingerprint":%q,"sign_pub":%q}`, fp, b64(pub))
	}
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		want          error
	}{
		{"world readable", `{"version":2}`, 0o644, ErrInsecurePermissions},
		{"not json", `[`, 0o600, ErrCorrupt},
		{"future version", `{"version":9}`, 0o600, ErrCorrupt},
		{"short key", `{"version":2,"peers":[` + entry(fpOf(1), pubA[:8]) + `]}`, 0o600, ErrCorrupt},
		{"key under another fingerprint", `{"version":2,"peers":[` + entry(fpOf(2), pubA) + `]}`, 0o600, ErrCorrupt},
		{"listed twice", `{"version":2,"peers":[` + entry(fpOf(1), pubA) + `,` + entry(fpOf(1), pubA) + `]}`, 0o600, ErrCorrupt},
		{"bad fingerprint", `{"version":2,"peers":[{"fingerprint":"K7QF"}]}`, 0o600, ErrCorrupt},
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

func TestObserveUpdatesNameBoxKeyAndLastSeen(t *testing.T) {
	s := openStore(t, t.TempDir())
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	pub, _ := testKey(1)
	s.Observe("old", pub, [32]byte{1})
	clock = clock.Add(time.Minute)
	s.Observe("new", pub, [32]byte{2})
	p, _ := s.Lookup(pub)
	if p.Name != "new" || p.BoxPub != [32]byte{2} || !p.LastSeen.Equal(clock) || p.FirstSeen.Equal(clock) {
		t.Fatalf("after a rename: %+v", p)
	}
}

func BenchmarkObserveKnown(b *testing.B) {
	s := openStore(b, b.TempDir())
	s.file.every = reloadEvery
	pub, box := testKey(1)
	s.Observe("bench", pub, box)
	b.ReportAllocs()
	for b.Loop() {
		s.Observe("bench", pub, box)
	}
}

// Issue 18 #8: 4200 fresh keys beaconing (the measured flood) leave
// trust.json exactly as it was (only the trusted teacher) and at most
// MaxSeen strangers in memory.
func TestBeaconFloodDoesNotGrowTrustFile(t *testing.T) {
	home := t.TempDir()
	s := openStore(t, home)
	s.file.every = reloadEvery
	mustState(t, s, "teacher", 1, Unknown)
	if _, err := s.Trust(fpOf(1)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, trustFile)
	before, _ := os.ReadFile(path)
	for i := range 4200 {
		observe(t, s, "root@vm", 10_000+i)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatalf("trust.json changed under a flood: %d -> %d bytes", len(before), len(after))
	}
	if n := len(s.List()); n > MaxSeen+1 {
		t.Fatalf("%d keys in memory, bound %d", n, MaxSeen+1)
	}
	t.Logf("4200 fresh keys: trust.json %d bytes before and after, %d keys in memory", len(after), len(s.List()))
}
