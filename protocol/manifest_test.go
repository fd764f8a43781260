package protocol

import (
	"bytes"
	"errors"
	"testing"
)

func sampleManifest() *Manifest {
	return &Manifest{
		Files: []FileEntry{
			{Kind: KindDir, Mode: 0o755, Path: "lesson"},
			{Kind: KindFile, Mode: 0o644, Size: 100, Path: "lesson/a.txt"},
			{Kind: KindFile, Mode: 0o600, Size: 50, Path: "lesson/b.bin"},
		},
		Hashes: [][HashLen]byte{{1}, {2}},
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := sampleManifest()
	enc := m.AppendBinary(nil)
	if len(enc) != m.Len() {
		t.Fatalf("Len %d != encoded %d", m.Len(), len(enc))
	}
	got, err := ParseManifest(enc, 150, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.AppendBinary(nil), enc) {
		t.Fatal("round trip changed the manifest")
	}
	for n := range len(enc) {
		if _, err := ParseManifest(enc[:n], 150, 2); err == nil {
			t.Fatalf("prefix %d parsed", n)
		}
	}
}

func TestManifestRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m *Manifest)
		total  uint64
		blocks uint32
	}{
		{"size sum differs", func(m *Manifest) {}, 151, 2},
		{"block count differs", func(m *Manifest) {}, 150, 3},
		{"dir with size", func(m *Manifest) { m.Files[0].Size = 1; m.Files[1].Size = 99 }, 150, 2},
		{"NUL in path", func(m *Manifest) { m.Files[1].Path = "a\x00b" }, 150, 2},
		{"empty path", func(m *Manifest) { m.Files[1].Path = "" }, 150, 2},
		{"bad kind", func(m *Manifest) { m.Files[1].Kind = 9 }, 150, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := sampleManifest()
			c.mutate(m)
			if _, err := ParseManifest(m.AppendBinary(nil), c.total, c.blocks); !errors.Is(err, ErrField) {
				t.Fatalf("got %v, want ErrField", err)
			}
		})
	}
	// A file count far beyond the input is refused before allocating.
	huge := []byte{0x00, 0x03, 0x0d, 0x40}
	if _, err := ParseManifest(huge, 0, 0); !errors.Is(err, ErrField) {
		t.Fatalf("huge count: %v", err)
	}
}
