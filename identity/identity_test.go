package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	home := filepath.Join(t.TempDir(), "herald")
	id, created, err := LoadOrCreate(home, "alice")
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created=%v err=%v", created, err)
	}
	if id.Name != "alice" {
		t.Fatalf("new identity named %q", id.Name)
	}
	for path, want := range map[string]os.FileMode{home: 0o700, filepath.Join(home, identityFile): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s mode %04o, want %04o", path, got, want)
		}
	}
	again, created, err := LoadOrCreate(home, "ignored")
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created=%v err=%v", created, err)
	}
	if !again.SignPub.Equal(id.SignPub) || again.BoxKey != id.BoxKey || again.Name != "alice" {
		t.Fatal("reloaded identity differs from the created one")
	}
	if again.Fingerprint() != id.Fingerprint() || again.KeyID() != id.KeyID() {
		t.Fatal("fingerprint or key id not stable across reload")
	}
}

func TestLoadOrCreateRefusesInsecureFile(t *testing.T) {
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true}, {0o400, true},
		{0o640, false}, {0o604, false}, {0o660, false}, {0o644, false}, {0o620, false}, {0o602, false},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			home := t.TempDir()
			if _, _, err := LoadOrCreate(home, "bob"); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(home, identityFile)
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreate(home, "bob")
			if tc.ok {
				if err != nil {
					t.Fatalf("mode %v refused: %v", tc.mode, err)
				}
				return
			}
			if !errors.Is(err, ErrInsecurePermissions) {
				t.Fatalf("mode %v: err %v, want ErrInsecurePermissions", tc.mode, err)
			}
			if !strings.Contains(err.Error(), "chmod 600 "+path) {
				t.Errorf("error does not say how to fix it: %v", err)
			}
		})
	}
}

func TestLoadOrCreateRejectsCorruptFile(t *testing.T) {
	seed := make([]byte, 32)
	valid := func(mutate func(*identityFileV1)) string {
		f := identityFileV1{Version: identityV1, Name: "carol", SignSeed: seed, BoxKey: seed}
		mutate(&f)
		b, _ := json.Marshal(f)
		return string(b)
	}
	for _, tc := range []struct{ name, content string }{
		{"not json", "{"},
		{"future version", valid(func(f *identityFileV1) { f.Version = 2 })},
		{"short seed", valid(func(f *identityFileV1) { f.SignSeed = seed[:31] })},
		{"long box key", valid(func(f *identityFileV1) { f.BoxKey = make([]byte, 33) })},
		{"control char name", valid(func(f *identityFileV1) { f.Name = "car\x1bol" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			if err := os.WriteFile(filepath.Join(home, identityFile), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := LoadOrCreate(home, "x"); err == nil {
				t.Fatal("corrupt identity file accepted")
			}
			// The broken file must be left for the user to inspect.
			got, _ := os.ReadFile(filepath.Join(home, identityFile))
			if string(got) != tc.content {
				t.Fatal("corrupt identity file was overwritten")
			}
		})
	}
}

func TestLoadOrCreateConcurrentCreatorsShareOneIdentity(t *testing.T) {
	home := t.TempDir()
	const n = 8
	ids := make([]*Identity, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i], _, errs[i] = LoadOrCreate(home, "racer") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !ids[i].SignPub.Equal(ids[0].SignPub) {
			t.Fatalf("creator %d got a different identity", i)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(home, ".*tmp*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
}

func TestLoadOrCreateBadDefaultName(t *testing.T) {
	if _, _, err := LoadOrCreate(t.TempDir(), ""); !errors.Is(err, ErrBadName) {
		t.Fatalf("empty name: %v, want ErrBadName", err)
	}
}

func TestIdentitySaveRenames(t *testing.T) {
	home := t.TempDir()
	id, _, err := LoadOrCreate(home, "dave")
	if err != nil {
		t.Fatal(err)
	}
	id.Name = "David"
	if err := id.Save(home); err != nil {
		t.Fatal(err)
	}
	again, _, err := LoadOrCreate(home, "x")
	if err != nil || again.Name != "David" || !again.SignPub.Equal(id.SignPub) {
		t.Fatalf("after rename: %+v, %v", again, err)
	}
	id.Name = ""
	if err := id.Save(home); !errors.Is(err, ErrBadName) {
		t.Fatalf("empty name saved: %v", err)
	}
}

func TestDefaultHome(t *testing.T) {
	t.Setenv("HERALD_HOME", "/some/where")
	if h, err := DefaultHome(); err != nil || h != "/some/where" {
		t.Fatalf("with HERALD_HOME: %q %v", h, err)
	}
	t.Setenv("HERALD_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "/cfg")
	t.Setenv("HOME", "/home/u")
	h, err := DefaultHome()
	if err != nil || !strings.HasSuffix(h, string(filepath.Separator)+"herald") {
		t.Fatalf("default: %q %v", h, err)
	}
}

func TestGoldenIdentity(t *testing.T) {
	v := loadVectors(t)
	home := t.TempDir()
	file := map[string]any{"version": 1, "name": "golden", "sign_seed": unhex(t, v.SignSeed), "box_key": unhex(t, v.BoxKey)}
	data, _ := json.Marshal(file)
	if err := os.WriteFile(filepath.Join(home, identityFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	id, created, err := LoadOrCreate(home, "x")
	if err != nil || created {
		t.Fatalf("load golden: created=%v err=%v", created, err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"sign_pub", hex.EncodeToString(id.SignPub), v.SignPub},
		{"key_id", id.KeyID().String(), v.KeyID},
		{"fingerprint", id.Fingerprint(), v.Fingerprint},
		{"box_pub", hex.EncodeToString(id.BoxPub[:]), v.BoxPub},
	} {
		t.Run(c.what, func(t *testing.T) {
			if c.got != c.want {
				t.Fatalf("got %s, want %s", c.got, c.want)
			}
		})
	}
}

func TestFingerprintShape(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$`)
	seen := map[string]bool{}
	for range 100 {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		fp := Fingerprint(pub)
		if !shape.MatchString(fp) {
			t.Fatalf("fingerprint %q has the wrong shape", fp)
		}
		if seen[fp] {
			t.Fatalf("fingerprint %q repeated", fp)
		}
		seen[fp] = true
	}
}

func BenchmarkFingerprint(b *testing.B) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	b.ReportAllocs()
	for b.Loop() {
		Fingerprint(pub)
	}
}
