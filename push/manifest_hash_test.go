package push

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
)

// The sender announces and registers receivers while it hashes the
// manifest (SPEC §6.7, Registration): with the hashing held, both
// receivers register; once it is let go, the push completes.
func TestPushRegistersWhileHashing(t *testing.T) {
	l := newMemLab(t, 2, multicast.Link{})
	src := writeTree(t, 300_000, 11)
	source, err := NewSource([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	results := l.startReceivers(t, nil)
	var joined, joinedHeld atomic.Int32
	gate := make(chan struct{})
	go func() {
		defer close(gate)
		for deadline := time.Now().Add(10 * time.Second); joined.Load() < 2 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		joinedHeld.Store(joined.Load())
	}()
	rep, err := Send(l.ctx, SendConfig{Node: l.sender, Source: source, Recipients: l.recipients(), hashGate: gate,
		OnEvent: func(e Event) {
			if e.Kind == EventJoined {
				joined.Add(1)
			}
		}})
	if err != nil || !rep.OK() {
		t.Fatalf("push: %v, %+v", err, rep)
	}
	if n := joinedHeld.Load(); n != 2 {
		t.Fatalf("%d receivers registered while the hashing was held, want 2", n)
	}
	l.checkReceived(t, results, src)
}

// A file that cannot be read ends the push as soon as hashing finds it,
// not after --wait for receivers that are not there.
func TestPushUnreadableFileFailsAtOnce(t *testing.T) {
	l := newMemLab(t, 1, multicast.Link{})
	src := writeTree(t, 300_000, 12)
	source, err := NewSource([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, "big.bin")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Send(l.ctx, SendConfig{Node: l.sender, Source: source, Recipients: l.recipients(), Wait: time.Minute})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("push ended with %v, want the hashing's read error", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("the read error took %v to end the push: it waited for receivers", took)
	}
}
