package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// pushLab is a namespace LAN with a built herald and a home per host.
type pushLab struct {
	t     *testing.T
	lab   *netlab.Lab
	bin   string
	homes map[string]string // netns name -> home
	ctx   context.Context
}

func newPushLab(t *testing.T, receivers int) *pushLab {
	t.Helper()
	return newPushLabAs(t, receivers, "hpush")
}

// newPushLabAs is newPushLab with prefix starting the namespace names.
func newPushLabAs(t *testing.T, receivers int, prefix string) *pushLab {
	t.Helper()
	if err := netlab.Available(); err != nil {
		t.Skipf("namespace tests need root, ip and nft: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	bin := filepath.Join(t.TempDir(), "herald")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	lab, err := netlab.New(ctx, netlab.Config{Receivers: receivers, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	l := &pushLab{t: t, lab: lab, bin: bin, homes: map[string]string{}, ctx: ctx}
	for _, h := range lab.Hosts() {
		l.homes[h.Name] = t.TempDir()
		herald(t, "--home", l.homes[h.Name], "--name", strings.TrimPrefix(h.Name, lab.ID+"-"), "id")
	}
	return l
}

func (l *pushLab) cmd(h netlab.Host, args ...string) *exec.Cmd {
	full := append([]string{"--home", l.homes[h.Name], "--iface", h.Iface}, args...)
	return l.lab.Command(l.ctx, h, l.bin, full...)
}

// start runs a command in the background, capturing its output.
func (l *pushLab) start(h netlab.Host, args ...string) (*exec.Cmd, *bytes.Buffer) {
	var out bytes.Buffer
	c := l.cmd(h, args...)
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		l.t.Fatal(err)
	}
	return c, &out
}

// watch runs a long-lived command (listen, chat) in the background and
// returns a watcher of its standard output; it is killed at cleanup.
func (l *pushLab) watch(h netlab.Host, args ...string) *lineWatcher {
	c := l.cmd(h, args...)
	stdout, err := c.StdoutPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	return watchLines(stdout)
}

func (l *pushLab) fingerprint(h netlab.Host) string {
	return identityOf(l.t, l.homes[h.Name]).Fingerprint
}

func exitOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func randomFile(t *testing.T, dir, name string, size int) string {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
		t.Fatalf("%s and %s differ (%v %v)", a, b, err1, err2)
	}
}

type reportLine struct {
	Event     string  `json:"event"`
	Status    string  `json:"status"`
	Reason    string  `json:"reason"`
	Completed int     `json:"completed"`
	WireBytes int64   `json:"wire_bytes"`
	Bytes     int64   `json:"bytes"`
	Percent   float64 `json:"percent"`
}

func pushEvents(t *testing.T, out string) (receivers []reportLine, report reportLine) {
	for _, line := range strings.Split(out, "\n") {
		var r reportLine
		if json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		switch r.Event {
		case "receiver":
			receivers = append(receivers, r)
		case "report":
			report = r
		}
	}
	return receivers, report
}

// A folder pushed, encrypted to three receivers at 5% loss each, arrives
// identical at all three and the report says so.
func TestPushNetnsThreeReceiversLossy(t *testing.T) {
	l := newPushLab(t, 3)
	src := filepath.Join(t.TempDir(), "lesson")
	randomFile(t, src, "video.bin", 20<<20)
	randomFile(t, src, "notes/readme.txt", 5000)
	var fps []string
	var rcv []*exec.Cmd
	var dirs []string
	for _, r := range l.lab.Receivers {
		l.lab.SetLoss(r, 50)
		fps = append(fps, l.fingerprint(r))
		d := t.TempDir()
		dirs = append(dirs, d)
		c, _ := l.start(r, "receive", "--once", "--accept-any", "--dir", d)
		rcv = append(rcv, c)
	}
	out, err := l.cmd(l.lab.Sender, "push", "--json", "--rate", "300M", "--to", strings.Join(fps, ","), src).CombinedOutput()
	if exitOf(err) != 0 {
		t.Fatalf("push exit %d:\n%s", exitOf(err), out)
	}
	recs, rep := pushEvents(t, string(out))
	if rep.Completed != 3 || len(recs) != 3 {
		t.Fatalf("report: %+v %+v\n%s", rep, recs, out)
	}
	for i, c := range rcv {
		if err := c.Wait(); err != nil {
			t.Fatalf("receiver %d: %v", i, err)
		}
		sameFile(t, filepath.Join(src, "video.bin"), filepath.Join(dirs[i], "lesson", "video.bin"))
		sameFile(t, filepath.Join(src, "notes/readme.txt"), filepath.Join(dirs[i], "lesson", "notes/readme.txt"))
	}
	t.Logf("wire %.3fx of %d bytes", float64(rep.WireBytes)/float64(rep.Bytes), rep.Bytes)
}

// A receiver killed mid-push resumes when the same content is pushed
// again, and the second push sends a fraction of the file.
func TestPushNetnsResume(t *testing.T) {
	l := newPushLab(t, 1)
	r := l.lab.Receivers[0]
	file := randomFile(t, t.TempDir(), "image.bin", 40<<20)
	dir := t.TempDir()
	fp := l.fingerprint(r)
	rc, _ := l.start(r, "receive", "--once", "--accept-any", "--dir", dir)
	push1, out1 := l.start(l.lab.Sender, "push", "--json", "--rate", "40M", "--give-up", "3s", "--to", fp, file)
	time.Sleep(5 * time.Second) // about half the file at 40 Mbit/s
	rc.Process.Signal(syscall.SIGKILL)
	rc.Wait()
	if code := exitOf(push1.Wait()); code != 5 {
		t.Fatalf("first push: exit %d, want 5 (partial)\n%s", code, out1)
	}
	if _, err := os.Stat(filepath.Join(dir, "image.bin")); err == nil {
		t.Fatal("partial file placed under its final name")
	}
	rc2, _ := l.start(r, "receive", "--once", "--accept-any", "--dir", dir)
	out2, err := l.cmd(l.lab.Sender, "push", "--json", "--rate", "40M", "--to", fp, file).CombinedOutput()
	if exitOf(err) != 0 {
		t.Fatalf("second push exit %d:\n%s", exitOf(err), out2)
	}
	rc2.Wait()
	sameFile(t, file, filepath.Join(dir, "image.bin"))
	_, rep := pushEvents(t, string(out2))
	if frac := float64(rep.WireBytes) / float64(rep.Bytes); frac > 0.8 {
		t.Fatalf("resumed push sent %.2fx of the file; want a fraction", frac)
	} else {
		t.Logf("resumed push sent %.2fx of the file", frac)
	}
}

// Only --to recipients can decrypt, and an untrusted sender is refused;
// the report lists the recipients only.
func TestPushNetnsRefusals(t *testing.T) {
	l := newPushLab(t, 3)
	file := randomFile(t, t.TempDir(), "secret.txt", 100_000)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	var rcv []*exec.Cmd
	for i, r := range l.lab.Receivers {
		args := []string{"receive", "--once", "--dir", dirs[i]}
		if i < 2 {
			args = append(args, "--accept-any")
		}
		c, _ := l.start(r, args...)
		rcv = append(rcv, c)
	}
	t.Cleanup(func() {
		for _, c := range rcv {
			c.Process.Kill()
			c.Wait()
		}
	})
	r0, r2 := l.fingerprint(l.lab.Receivers[0]), l.fingerprint(l.lab.Receivers[2])
	out, err := l.cmd(l.lab.Sender, "push", "--json", "--wait", "4s", "--to", r0+","+r2, file).CombinedOutput()
	if code := exitOf(err); code != 5 {
		t.Fatalf("push exit %d, want 5 (r2 refuses)\n%s", code, out)
	}
	recs, rep := pushEvents(t, string(out))
	refused := 0
	for _, r := range recs {
		if r.Status == "refused" {
			refused++
		}
	}
	// r1 is not a recipient: it was never asked, so the report does not
	// list it (issue 19: a --to push counts only its recipients).
	if rep.Completed != 1 || refused != 1 || len(recs) != 2 {
		t.Fatalf("want r0 complete, r2 (untrusted) refused and r1 (not a recipient) not listed: %+v\n%s", recs, out)
	}
	sameFile(t, file, filepath.Join(dirs[0], "secret.txt"))
	for _, d := range dirs[1:] {
		if _, err := os.Stat(filepath.Join(d, "secret.txt")); err == nil {
			t.Fatalf("%s received a push it should not have", d)
		}
	}
}
