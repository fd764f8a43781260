package identity

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestChannelStore(t *testing.T) {
	home := t.TempDir()
	s, err := OpenChannelStore(home)
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Default(); !d.IsOpen() {
		t.Fatalf("default with nothing joined is %+v, want open", d)
	}
	lab, _ := NewChannel("lab", "")
	ops, _ := NewChannel("ops", "")
	relabeled := lab
	relabeled.Secret[0] ^= 1
	upper := ops
	upper.Name = "OPS"
	steps := []struct {
		name string
		err  error
		do   func() error
	}{
		{"add lab", nil, func() error { return s.Add(lab) }},
		{"add ops", nil, func() error { return s.Add(ops) }},
		{"add lab again", nil, func() error { return s.Add(lab) }},
		{"add ops in upper case", nil, func() error { return s.Add(upper) }},
		{"other secret under lab", ErrChannelExists, func() error { return s.Add(relabeled) }},
		{"open cannot be added", ErrBadName, func() error { return s.Add(OpenChannel()) }},
		{"zero secret cannot be added", ErrBadName, func() error { return s.Add(Channel{Name: "zero"}) }},
		{"invalid name", ErrBadName, func() error { return s.Add(Channel{Name: "a b", Secret: [32]byte{1}}) }},
		{"remove unknown", ErrUnknownChannel, func() error { return s.Remove("nope") }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); !errors.Is(err, st.err) {
				t.Fatalf("err %v, want %v", err, st.err)
			}
		})
	}
	if got := s.List(); len(got) != 2 || !sameChannel(got[0], lab) || !sameChannel(got[1], ops) {
		t.Fatalf("List = %+v, want [lab ops]", got)
	}
	if d := s.Default(); !sameChannel(d, lab) {
		t.Fatalf("Default = %q, want the first joined", d.Name)
	}
	if c, ok := s.Get("OPS"); !ok || !sameChannel(c, ops) {
		t.Fatalf("Get(OPS) = %+v %v", c, ok)
	}
	if c, ok := s.Get("Open"); !ok || !c.IsOpen() {
		t.Fatalf("Get(open) = %+v %v", c, ok)
	}
	if _, ok := s.Get("nope"); ok {
		t.Fatal("Get of an unjoined channel succeeded")
	}

	r, err := OpenChannelStore(home)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.List(); len(got) != 2 || !sameChannel(got[0], lab) || !sameChannel(got[1], ops) {
		t.Fatalf("after reopen: %+v", got)
	}
	if err := r.Remove("LAB"); err != nil {
		t.Fatal(err)
	}
	if d := r.Default(); !sameChannel(d, ops) {
		t.Fatalf("default after leaving lab = %q", d.Name)
	}
	r2, _ := OpenChannelStore(home)
	if got := r2.List(); len(got) != 1 || !sameChannel(got[0], ops) {
		t.Fatalf("removal not persisted: %+v", got)
	}
	if info, _ := os.Stat(filepath.Join(home, channelsFile)); info.Mode().Perm() != 0o600 {
		t.Fatalf("channels file mode %v", info.Mode())
	}
}

func TestChannelStoreKeepsMemoryAndDiskInStep(t *testing.T) {
	home := t.TempDir()
	s, _ := OpenChannelStore(home)
	lab, _ := NewChannel("lab", "")
	// A directory where the file should be makes the save fail.
	if err := os.Mkdir(filepath.Join(home, channelsFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(lab); err == nil {
		t.Fatal("Add succeeded although the file could not be written")
	}
	if len(s.List()) != 0 {
		t.Fatal("memory holds a channel the disk does not")
	}
}

func TestOpenChannelStoreRejects(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		want          error
	}{
		{"group readable", `{"version":1}`, 0o640, ErrInsecurePermissions},
		{"not json", `{`, 0o600, ErrCorrupt},
		{"future version", `{"version":3}`, 0o600, ErrCorrupt},
		{"seed does not give the secret", `{"version":2,"channels":[{"name":"a","secret":"` + b64(make([]byte, 32)) + `","seed":"` + b64(make([]byte, 16)) + `"}]}`, 0o600, ErrCorrupt},
		{"bad owner", `{"version":2,"channels":[{"name":"a","secret":"` + b64(make([]byte, 32)) + `","owners":["K7QF"]}]}`, 0o600, ErrCorrupt},
		{"short secret", `{"version":1,"channels":[{"name":"a","secret":"AAAA"}]}`, 0o600, ErrCorrupt},
		{"reserved name", `{"version":1,"channels":[{"name":"open","secret":"` + b64(make([]byte, 32)) + `"}]}`, 0o600, ErrCorrupt},
		{"listed twice", `{"version":1,"channels":[{"name":"a","secret":"` + b64(make([]byte, 32)) + `"},{"name":"A","secret":"` + b64(make([]byte, 32)) + `"}]}`, 0o600, ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			path := filepath.Join(home, channelsFile)
			os.WriteFile(path, []byte(tc.content), tc.mode)
			os.Chmod(path, tc.mode)
			if _, err := OpenChannelStore(home); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}
