package logonce

import (
	"log/slog"
	"strings"
	"testing"
)

func TestWarningSaidOnce(t *testing.T) {
	var b strings.Builder
	log := slog.New(New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})))
	for range 3 {
		log.Warn("multicast: receive buffer clamped", "want", 4<<20, "got", 425984)
		log.Debug("push: progress")
	}
	log.Warn("multicast: receive buffer clamped", "want", 8<<20, "got", 425984) // another condition
	out := b.String()
	if n := strings.Count(out, "receive buffer clamped"); n != 2 {
		t.Errorf("warning printed %d times, want once per distinct condition (2):\n%s", n, out)
	}
	if n := strings.Count(out, "push: progress"); n != 3 {
		t.Errorf("debug lines are not deduplicated: got %d of 3", n)
	}
}
