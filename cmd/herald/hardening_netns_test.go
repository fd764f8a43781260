package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
	"github.com/herald-lan/herald/internal/syncbuf"
)

// Faults on a real (namespace) LAN: a sender that dies, a receiver whose
// disk fills, a total outage, and thirty lossy receivers. Each waits a
// bounded time and checks what a user would: exit codes, messages, the
// files, and that nothing incomplete sits under a final name.

// stagingOf waits until a staging directory appears in dir.
func stagingOf(t *testing.T, dir string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(dir, ".herald-*")); len(m) == 1 {
			return m[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no staging directory in %s within %v", dir, timeout)
	return ""
}

// waitExit waits for c at most timeout and returns its exit code.
func waitExit(t *testing.T, c *exec.Cmd, timeout time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return exitOf(err)
	case <-time.After(timeout):
		c.Process.Kill()
		<-done
		t.Fatalf("%s did not exit within %v", c.Path, timeout)
		return -1
	}
}

// The sender is SIGKILLed mid-transfer: each receiver stops after its
// --sender-timeout with a message that says so, keeps the staging folder
// for resume, and places nothing under the final name.
func TestHardeningNetnsSenderKilled(t *testing.T) {
	l := newPushLab(t, 2)
	file := randomFile(t, t.TempDir(), "image.bin", 30<<20)
	var fps, dirs []string
	var rcv []*exec.Cmd
	var outs []*syncbuf.Buffer
	for _, r := range l.lab.Receivers {
		d := t.TempDir()
		dirs = append(dirs, d)
		fps = append(fps, l.fingerprint(r))
		c, out := l.startSync(r, "receive", "--once", "--accept-any", "--sender-timeout", "3s", "--dir", d)
		rcv, outs = append(rcv, c), append(outs, out)
	}
	sender, _ := l.startSync(l.lab.Sender, "push", "--json", "--rate", "20M", "--to", strings.Join(fps, ","), file)
	for _, d := range dirs {
		stagingOf(t, d, 20*time.Second)
	}
	time.Sleep(time.Second) // some blocks verified
	sender.Process.Signal(syscall.SIGKILL)
	sender.Wait()
	killed := time.Now()
	for i, c := range rcv {
		code := waitExit(t, c, 15*time.Second)
		out := outs[i].String()
		if code != exitError || !strings.Contains(out, "sender silent for 3s") {
			t.Errorf("receiver %d: exit %d, want %d with a sender-silent message:\n%s", i, code, exitError, out)
		}
		if _, err := os.Stat(filepath.Join(dirs[i], "image.bin")); err == nil {
			t.Errorf("receiver %d placed a partial file under its final name", i)
		}
		if m, _ := filepath.Glob(filepath.Join(dirs[i], ".herald-*", "herald.state")); len(m) != 1 {
			t.Errorf("receiver %d did not keep its staging state for resume", i)
		}
	}
	t.Logf("receivers stopped %v after the sender was killed", time.Since(killed).Round(100*time.Millisecond))
}

// One receiver's disk fills up during the push: it stops with a clear
// error, the sender reports it as failed for lack of space, and the other
// receivers complete.
func TestHardeningNetnsDiskFull(t *testing.T) {
	l := newPushLab(t, 3)
	small := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs for the full disk: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", small).Run() })
	file := randomFile(t, t.TempDir(), "video.bin", 6<<20)
	dirs := []string{small, t.TempDir(), t.TempDir()}
	var fps []string
	var rcv []*exec.Cmd
	var outs []*syncbuf.Buffer
	for i, r := range l.lab.Receivers {
		fps = append(fps, l.fingerprint(r))
		c, out := l.startSync(r, "receive", "--once", "--accept-any", "--dir", dirs[i])
		rcv, outs = append(rcv, c), append(outs, out)
	}
	sender, sendOut := l.startSync(l.lab.Sender, "push", "--json", "--rate", "30M", "--give-up", "5s", "--to", strings.Join(fps, ","), file)
	stagingOf(t, small, 20*time.Second)
	// Admission saw 8 MiB free for 6 MiB; now something else takes 4 MiB.
	if err := os.WriteFile(filepath.Join(small, "other-program.dat"), make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, sender, 60*time.Second); code != exitPartial {
		t.Errorf("push exit %d, want %d (one receiver failed)\n%s", code, exitPartial, sendOut)
	}
	recs, rep := pushEvents(t, sendOut.String())
	failed := 0
	for _, r := range recs {
		if r.Status == "failed" && strings.Contains(r.Reason, "disk space") {
			failed++
		}
	}
	if rep.Completed != 2 || failed != 1 {
		t.Errorf("want 2 complete and 1 failed for disk space: %+v\n%s", recs, sendOut)
	}
	if code := waitExit(t, rcv[0], 15*time.Second); code != exitError || !strings.Contains(outs[0].String(), "no space left on device") {
		t.Errorf("full receiver: exit %d, want %d with ENOSPC:\n%s", code, exitError, outs[0])
	}
	if _, err := os.Stat(filepath.Join(small, "video.bin")); err == nil {
		t.Error("the full receiver placed a partial file")
	}
	for i := 1; i < 3; i++ {
		if code := waitExit(t, rcv[i], 15*time.Second); code != 0 {
			t.Errorf("receiver %d exit %d:\n%s", i, code, outs[i])
		}
		sameFile(t, file, filepath.Join(dirs[i], "video.bin"))
	}
}

// A receiver hears nothing for 5 seconds in the middle of the push (its
// statuses still go out): the push recovers and completes.
func TestHardeningNetnsOutage(t *testing.T) {
	l := newPushLab(t, 2)
	file := randomFile(t, t.TempDir(), "lesson.bin", 20<<20)
	var fps, dirs []string
	var rcv []*exec.Cmd
	for _, r := range l.lab.Receivers {
		d := t.TempDir()
		dirs = append(dirs, d)
		fps = append(fps, l.fingerprint(r))
		c, _ := l.startSync(r, "receive", "--once", "--accept-any", "--dir", d)
		rcv = append(rcv, c)
	}
	sender, out := l.startSync(l.lab.Sender, "push", "--json", "--rate", "40M", "--to", strings.Join(fps, ","), file)
	stagingOf(t, dirs[0], 20*time.Second)
	time.Sleep(500 * time.Millisecond)
	cut := l.lab.Receivers[0]
	if err := l.lab.SetLoss(cut, 1000); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	if err := l.lab.SetLoss(cut, 0); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, sender, 90*time.Second); code != 0 {
		t.Fatalf("push exit %d after a 5 s outage:\n%s", code, out)
	}
	for i, c := range rcv {
		if code := waitExit(t, c, 15*time.Second); code != 0 {
			t.Errorf("receiver %d exit %d", i, code)
		}
		sameFile(t, file, filepath.Join(dirs[i], "lesson.bin"))
	}
	_, rep := pushEvents(t, out.String())
	t.Logf("with a 5 s outage: wire %.2fx of %d bytes", float64(rep.WireBytes)/float64(rep.Bytes), rep.Bytes)
}

// Thirty receivers, each losing 5% of what it receives: every one
// completes; the log reports what each sent back (statuses and NACKs).
func TestHardeningNetnsThirtyReceivers(t *testing.T) {
	const n = 30
	l := newPushLab(t, n)
	file := randomFile(t, t.TempDir(), "handout.bin", 6<<20)
	var fps, dirs []string
	var rcv []*exec.Cmd
	for _, r := range l.lab.Receivers {
		if err := l.lab.SetLoss(r, 50); err != nil {
			t.Fatal(err)
		}
		d := t.TempDir()
		dirs = append(dirs, d)
		fps = append(fps, l.fingerprint(r))
		c, _ := l.startSync(r, "receive", "--once", "--accept-any", "--dir", d)
		rcv = append(rcv, c)
	}
	time.Sleep(time.Second) // receivers up; their start-up beacons are not feedback
	before := make([]uint64, n)
	for i, r := range l.lab.Receivers {
		c, err := l.lab.Counters(l.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		before[i] = c.TxPackets
	}
	out, err := l.cmd(l.lab.Sender, "push", "--json", "--rate", "30M", "--wait", "20s", "--to", strings.Join(fps, ","), file).CombinedOutput()
	if code := exitOf(err); code != 0 {
		t.Fatalf("push exit %d:\n%s", code, out)
	}
	recs, rep := pushEvents(t, string(out))
	if rep.Completed != n || len(recs) != n {
		t.Fatalf("completed %d of %d: %+v", rep.Completed, n, recs)
	}
	sent := make([]uint64, n)
	for i, r := range l.lab.Receivers {
		c, err := l.lab.Counters(l.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		sent[i] = c.TxPackets - before[i]
		if code := waitExit(t, rcv[i], 15*time.Second); code != 0 {
			t.Errorf("receiver %d exit %d", i, code)
		}
		sameFile(t, file, filepath.Join(dirs[i], "handout.bin"))
	}
	slices.Sort(sent)
	var total uint64
	for _, s := range sent {
		total += s
	}
	t.Logf("%d receivers at 5%% loss, %d bytes: wire %.2fx, datagrams sent per receiver during the push (statuses incl. NACKs, a few beacons): min %d, median %d, max %d, mean %.0f",
		n, rep.Bytes, float64(rep.WireBytes)/float64(rep.Bytes), sent[0], sent[n/2], sent[n-1], float64(total)/n)
}

// startSync is pushLab.start with output the test may read while the
// command runs.
func (l *pushLab) startSync(h netlab.Host, args ...string) (*exec.Cmd, *syncbuf.Buffer) {
	out := &syncbuf.Buffer{}
	c := l.cmd(h, args...)
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() {
		if c.ProcessState == nil {
			c.Process.Kill()
		}
	})
	return c, out
}
