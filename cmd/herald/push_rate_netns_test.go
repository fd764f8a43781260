package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// receiverLine is one receiver row of `push --json`, with the figures
// the rate-control work added.
type receiverLine struct {
	Event       string  `json:"event"`
	Name        string  `json:"name"`
	Fingerprint string  `json:"fingerprint"`
	Status      string  `json:"status"`
	Seconds     float64 `json:"seconds"`
	Loss        float64 `json:"loss"`
	Reason      string  `json:"reason"`
	Path        string  `json:"path"`
}

// The room from issue 12: five receivers on the 1 Gbit/s lab, one of them
// dropping 20 % of its incoming UDP. With the default (auto) rate every
// receiver completes, the files are identical, and the report reads the
// loss each receiver saw: about 20 % for the lossy one, near 0 for the rest.
// Trust is set up as README's walkthrough does: the sender makes a
// channel, each receiver joins it with the join code (which carries the
// sender's fingerprint as owner), and the push goes to the channel.
// Before the rate controller told path loss from congestion, the auto
// rate fell to ~1 Mbit/s and nobody completed in 600 s.
func TestPushNetnsOneLossyReceiverDefaultRate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and a 6-namespace lab; skipped with -short")
	}
	l := newPushLab(t, 5)
	file := randomFile(t, t.TempDir(), "lesson.bin", 40<<20)
	code := l.channelCode(l.lab.Sender, "class")
	var fps, dirs []string
	var rcv []*exec.Cmd
	for i, r := range l.lab.Receivers {
		if i == 4 {
			if err := l.lab.SetLoss(r, 200); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := l.cmd(r, "channel", "join", code).CombinedOutput(); err != nil {
			t.Fatalf("channel join on %s: %v\n%s", r.Name, err, out)
		}
		fps = append(fps, l.fingerprint(r))
		d := t.TempDir()
		dirs = append(dirs, d)
		c, _ := l.start(r, "receive", "--once", "--dir", d)
		rcv = append(rcv, c)
	}
	t.Cleanup(func() {
		for _, c := range rcv {
			c.Process.Kill()
			c.Wait()
		}
	})
	start := time.Now()
	// README: `channel new` makes the channel the default, so push needs
	// no --channel; --min-receivers waits for the whole room.
	out, err := l.cmd(l.lab.Sender, "push", "--json", "--min-receivers", "5", file).CombinedOutput()
	took := time.Since(start)
	if code := exitOf(err); code != 0 {
		t.Fatalf("push exit %d after %v:\n%s", code, took, out)
	}
	var recs []receiverLine
	for _, line := range strings.Split(string(out), "\n") {
		var r receiverLine
		if json.Unmarshal([]byte(line), &r) == nil && r.Event == "receiver" {
			recs = append(recs, r)
		}
	}
	if len(recs) != 5 {
		t.Fatalf("%d receiver lines, want 5:\n%s", len(recs), out)
	}
	lossy := fps[4]
	for _, r := range recs {
		if r.Status != "complete" {
			t.Errorf("%s: %s (%s)", r.Name, r.Status, r.Reason)
		}
		// The lossy receiver's figure is the 20 % nftables drops plus
		// whatever its own socket dropped beyond what the kernel's counter
		// shows: with GRO that counter counts coalesced buffers, not
		// datagrams (SPEC §9), so on a CPU-starved CI run (other packages
		// test beside this one) the figure was seen at 29.7 %. The band
		// says the report reads this receiver's loss, not the room's worst
		// interval (75 % before) nor the clean receivers' 0 %.
		lo, hi := 0.0, 0.02
		if r.Fingerprint == lossy {
			lo, hi = 0.15, 0.35
		}
		if r.Loss < lo || r.Loss > hi {
			t.Errorf("%s: report says loss %.1f %%, want %.0f-%.0f %%", r.Name, 100*r.Loss, 100*lo, 100*hi)
		}
		t.Logf("%s %s by %s in %.2fs, loss %.1f %% %s", r.Name, r.Status, r.Path, r.Seconds, 100*r.Loss, r.Reason)
	}
	for i, c := range rcv {
		if err := c.Wait(); err != nil {
			t.Fatalf("receiver %d: %v", i, err)
		}
		sameFile(t, file, filepath.Join(dirs[i], "lesson.bin"))
	}
	t.Logf("push took %v", took)
}

// channelCode runs `herald channel new name` on h and returns the join
// code it prints, as a teacher reads it off the screen.
func (l *pushLab) channelCode(h netlab.Host, name string) string {
	l.t.Helper()
	out, err := l.cmd(h, "channel", "new", name).CombinedOutput()
	if err != nil {
		l.t.Fatalf("channel new on %s: %v\n%s", h.Name, err, out)
	}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, name+"-") && len(f) > 40 {
			return f
		}
	}
	l.t.Fatalf("no join code in the output of channel new:\n%s", out)
	return ""
}
