package identity

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, tc := range []struct {
		name    string
		data    string
		replace bool
		want    string
		err     error
	}{
		{"create", "one", false, "one", nil},
		{"no replace keeps the old file", "two", false, "one", fs.ErrExist},
		{"replace", "three", true, "three", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := writeFileAtomic(path, []byte(tc.data), tc.replace); !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tc.want {
				t.Fatalf("content %q %v, want %q", got, err, tc.want)
			}
			info, _ := os.Stat(path)
			if info.Mode().Perm() != privateMode {
				t.Fatalf("mode %v", info.Mode())
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Fatalf("directory holds %d entries, temporary files left behind", len(entries))
			}
		})
	}
}

func TestReadPrivateFileBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, make([]byte, maxPrivateFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readPrivateFile(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("oversized file: %v, want ErrCorrupt", err)
	}
}
