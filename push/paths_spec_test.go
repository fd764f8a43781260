package push

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/herald-lan/herald/protocol"
)

// SPEC.md §3.6 and §6.4: the rules of the manifest that live in the
// receiver rather than the parser.

// TestSpecModeHighBits: mode bits above 0o777 are accepted and ignored.
func TestSpecModeHighBits(t *testing.T) {
	dir := t.TempDir()
	m := testManifest(8)
	m.Files[1].Mode = 0o104755 // setuid and a file-type bit on top of 0755
	s, err := openSink(dir, m, sha256.Sum256([]byte("mode")), 8)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WriteBlock(0, []byte("01234567")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Finish(placement{}); err != nil {
		t.Fatal(err)
	}
	want := fs.FileMode(0o755) &^ umask()
	st, err := os.Stat(filepath.Join(dir, "t", "fa"))
	if err != nil || st.Mode() != want {
		t.Fatalf("mode %v, %v; want %v (high bits ignored, umask applied)", st.Mode(), err, want)
	}
}

// TestSpecPathUnderFile: a path below a regular file rejects the push;
// a child listed before its parent, or without it, is accepted.
func TestSpecPathUnderFile(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []protocol.FileEntry
		ok    bool
	}{
		{"under a file", []protocol.FileEntry{{Kind: protocol.KindFile, Mode: 0o644, Path: "a"}, {Kind: protocol.KindFile, Mode: 0o644, Path: "a/b"}}, false},
		{"child before parent", []protocol.FileEntry{{Kind: protocol.KindFile, Mode: 0o644, Path: "d/b"}, {Kind: protocol.KindDir, Mode: 0o755, Path: "d"}}, true},
		{"parent not listed", []protocol.FileEntry{{Kind: protocol.KindFile, Mode: 0o644, Path: "x/y/z"}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := openSink(t.TempDir(), &protocol.Manifest{Files: c.files}, sha256.Sum256([]byte(c.name)), 8)
			if (err == nil) != c.ok {
				t.Fatalf("openSink: %v, want ok=%v", err, c.ok)
			}
			if s != nil {
				s.Close()
			}
		})
	}
}

// TestSpecPathNames: §6.4.2's device names are matched ASCII
// case-insensitively before the first dot; control means Unicode Cc.
func TestSpecPathNames(t *testing.T) {
	for p, ok := range map[string]bool{
		"con": false, "Con.txt": false, "nul.tar.gz": false, "lpt1.log": false, "CoM9": false,
		"CONSOLE": true, "com10": true, "acon.txt": true,
		"a\x7fb": false, "a\u0085b": false, "a\u200bb": true, "a\ue000b": true,
	} {
		if err := checkPath(p); (err == nil) != ok {
			t.Errorf("checkPath(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}
