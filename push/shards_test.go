package push

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestBlockCacheRefusesChangedContent: a block the sender reads must
// still match the manifest it signed; a file rewritten in place (same
// size) during the push stops the sender with ErrContentChanged instead
// of having it sign shards of other content.
func TestBlockCacheRefusesChangedContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lesson.bin")
	content := make([]byte, 3*testPushK*testPushShard)
	for i := range content {
		content[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := NewSource([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	l, err := newLayout(src.Size(), testPushK, testPushShard)
	if err != nil {
		t.Fatal(err)
	}
	m, err := src.newManifest(l)
	if err == nil {
		err = src.hashBlocks(context.Background(), l, m)
	}
	if err != nil {
		t.Fatal(err)
	}
	c := newBlockCache(1, l.blockSize())
	c.manifest = m.Hashes
	if _, err := c.get(src, l, 0); err != nil {
		t.Fatalf("unchanged block: %v", err)
	}
	content[len(content)-1] ^= 1 // the last block changes, the size does not
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.get(src, l, 0); err != nil {
		t.Fatalf("block 0, cached and unchanged: %v", err)
	}
	if _, err := c.get(src, l, 2); !errors.Is(err, ErrContentChanged) {
		t.Fatalf("changed block: err %v, want ErrContentChanged", err)
	}
	c.manifest = nil
	if _, err := c.get(src, l, 2); err != nil {
		t.Fatalf("without a manifest nothing is checked: %v", err)
	}
}
