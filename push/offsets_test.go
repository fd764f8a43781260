package push

import (
	"testing"

	"github.com/herald-lan/herald/protocol"
)

func TestFileHolding(t *testing.T) {
	// a (3 bytes), empty dir, empty file, b (2 bytes), c (1 byte)
	files := []protocol.FileEntry{{Size: 3}, {}, {}, {Size: 2}, {Size: 1}}
	start := []int64{0, 3, 3, 3, 5}
	for off, want := range []int{0, 0, 0, 3, 3, 4, -1, -1} {
		if got := fileHolding(files, start, int64(off)); got != want {
			t.Errorf("fileHolding(%d) = %d, want %d", off, got, want)
		}
	}
	if got := fileHolding(files, start, -1); got != -1 {
		t.Errorf("fileHolding(-1) = %d, want -1", got)
	}
	if got := fileHolding(nil, nil, 0); got != -1 {
		t.Errorf("no files: %d, want -1", got)
	}
}
