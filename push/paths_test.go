package push

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPath(t *testing.T) {
	good := []string{"a", "lesson/notes.txt", "dir/sub/file.tar.gz", "ünïcode/名前.txt", ".hidden"}
	bad := []string{"", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/.", `a\b`, "a\x00b", "a\nb", "CON",
		"con.txt", "dir/LPT1.log", "trailing.", "trailing ", "c:evil", ".herald-0011/x", "a/\u0085b"}
	for _, p := range good {
		if err := checkPath(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for _, p := range bad {
		if err := checkPath(p); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("%q accepted", p)
		}
	}
}

// A staging-folder name is refused with its own reason, not the one for
// empty or dot elements (issue 18 item 9).
func TestCheckPathStagingReason(t *testing.T) {
	err := checkPath("lesson/.herald-0011/x")
	if err == nil || !strings.Contains(err.Error(), "staging") || strings.Contains(err.Error(), "empty") {
		t.Fatalf("reason: %v", err)
	}
}
