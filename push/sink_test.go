package push

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/herald-lan/herald/protocol"
)

func testManifest(sizes ...uint64) *protocol.Manifest {
	m := &protocol.Manifest{Files: []protocol.FileEntry{{Kind: protocol.KindDir, Mode: 0o755, Path: "t"}}}
	var total uint64
	for i, s := range sizes {
		m.Files = append(m.Files, protocol.FileEntry{Kind: protocol.KindFile, Mode: 0o644, Size: s, Path: "t/f" + string(rune('a'+i))})
		total += s
	}
	m.Hashes = make([][protocol.HashLen]byte, (total+7)/8) // tests use 8-byte blocks
	return m
}

// Blocks spanning file boundaries land in the right files; nothing is
// placed before Finish, and a second push of the same name is numbered.
func TestSinkWritesAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	m := testManifest(5, 0, 12, 3)
	stream := []byte("0123456789abcdefghij")
	for round, want := range []string{"t", "t (1)"} {
		s, err := openSink(dir, m, sha256.Sum256([]byte{byte(round)}), 8)
		if err != nil {
			t.Fatal(err)
		}
		for b := 2; b >= 0; b-- { // out of order on purpose
			end := min(len(stream), (b+1)*8)
			if err := s.WriteBlock(b, stream[b*8:end]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, want)); err == nil {
			t.Fatal("file placed before Finish")
		}
		placed, _, err := s.Finish(placement{})
		if err != nil || len(placed) != 1 || placed[0] != want {
			t.Fatalf("Finish = %v, %v", placed, err)
		}
		s.Close()
		got := []byte{}
		for _, f := range []string{"fa", "fb", "fc", "fd"} {
			b, err := os.ReadFile(filepath.Join(dir, want, f))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b...)
		}
		if !bytes.Equal(got, stream) {
			t.Fatalf("%s: got %q", want, got)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("staging left behind: %v", entries)
	}
}

// A symlink planted in the target dir cannot redirect writes outside it.
func TestSinkRefusesSymlinkEscape(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	m := testManifest(4)
	cid := sha256.Sum256([]byte("x"))
	if err := os.Symlink(outside, filepath.Join(dir, stagingName(cid))); err != nil {
		t.Fatal(err)
	}
	if s, err := openSink(dir, m, cid, 8); err == nil {
		s.WriteBlock(0, []byte("evil"))
		s.Close()
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote outside the target: %v", entries)
	}
}

// State survives a restart: verified blocks are remembered.
func TestSinkResumeState(t *testing.T) {
	dir := t.TempDir()
	m := testManifest(20)
	cid := sha256.Sum256([]byte("resume"))
	s, err := openSink(dir, m, cid, 8)
	if err != nil {
		t.Fatal(err)
	}
	s.WriteBlock(0, []byte("01234567"))
	s.WriteBlock(2, []byte("abcd"))
	if err := s.SaveState(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = openSink(dir, m, cid, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Has(0) || s.Has(1) || !s.Has(2) || s.Count() != 2 {
		t.Fatalf("resumed state wrong: count %d", s.Count())
	}
	buf := make([]byte, 8)
	if err := s.ReadBlock(0, buf); err != nil || string(buf) != "01234567" {
		t.Fatalf("ReadBlock = %q %v", buf, err)
	}
}

// --overwrite on a folder replaces the files the push carries and keeps
// the others.
func TestSinkOverwriteMergesFolders(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "t"), 0o755)
	os.WriteFile(filepath.Join(dir, "t", "fa"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(dir, "t", "keep"), []byte("mine"), 0o644)
	m := testManifest(5)
	s, err := openSink(dir, m, sha256.Sum256([]byte("ow")), 8)
	if err != nil {
		t.Fatal(err)
	}
	s.WriteBlock(0, []byte("fresh"))
	if _, _, err := s.Finish(placement{overwrite: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, "t", "fa")); string(b) != "fresh" {
		t.Fatalf("fa = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "t", "keep")); string(b) != "mine" {
		t.Fatalf("unrelated file lost: %q", b)
	}
}
