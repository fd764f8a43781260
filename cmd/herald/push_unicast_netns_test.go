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

// TestPushUnicastFallbackNetns: three receivers, one of which drops all
// incoming multicast (unicast allowed). Trust is set up as README says
// (peers, then trust); the sender has a long-running listen, as a
// teacher's machine does. The default push then completes on all three
// with identical files, and the report shows the deaf receiver served by
// unicast and the others by multicast.
func TestPushUnicastFallbackNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("network namespaces; skipped with -short")
	}
	l := newPushLab(t, 3)
	s, deaf := l.lab.Sender, l.lab.Receivers[2]
	l.dropMulticastIn(deaf)
	listen, _ := l.start(s, "listen")
	t.Cleanup(func() { listen.Process.Kill(); listen.Wait() })
	fpS := l.fingerprint(s)

	got := l.peersOf(l.lab.Receivers, "4s", nil)
	for _, r := range l.lab.Receivers {
		if !listsVia(got[r.Name], fpS, map[bool]string{true: "unicast", false: "multicast"}[r == deaf]) {
			t.Fatalf("%s does not list the sender as expected: %+v", r.Name, got[r.Name])
		}
		if out, err := l.cmd(r, "trust", fpS).CombinedOutput(); err != nil {
			t.Fatalf("trust on %s: %v\n%s", r.Name, err, out)
		}
	}
	file := randomFile(t, t.TempDir(), "lesson.bin", 16<<20)
	var fps, dirs []string
	var receives []*receiveRun
	for _, r := range l.lab.Receivers {
		d := t.TempDir()
		dirs = append(dirs, d)
		fps = append(fps, l.fingerprint(r))
		c, out := l.start(r, "receive", "--once", "--dir", d)
		receives = append(receives, &receiveRun{host: r, wait: c.Wait, out: out.String})
	}
	time.Sleep(4 * time.Second) // the sender's listen learns the deaf receiver asks for unicast
	out, err := l.cmd(s, "push", "--json", "--to", strings.Join(fps, ","), file).CombinedOutput()
	if exitOf(err) != exitOK {
		t.Fatalf("push: exit %d\n%s", exitOf(err), out)
	}
	paths, seconds := receiverPaths(t, out)
	for i, r := range l.lab.Receivers {
		want := "multicast"
		if r == deaf {
			want = "unicast"
		}
		if paths[fps[i]] != want {
			t.Errorf("%s reported on %q, want %q\n%s", r.Name, paths[fps[i]], want, out)
		}
	}
	for i, rr := range receives {
		if err := rr.wait(); err != nil {
			t.Fatalf("receive on %s: %v\n%s", rr.host.Name, err, rr.out())
		}
		sameFile(t, file, filepath.Join(dirs[i], "lesson.bin"))
	}

	// For the record, not asserted (timing belongs to benchmarks): the
	// multicast receivers' time with and without the unicast one.
	var base []*exec.Cmd
	for _, r := range l.lab.Receivers[:2] {
		c, _ := l.start(r, "receive", "--once", "--dir", t.TempDir())
		base = append(base, c)
	}
	time.Sleep(time.Second)
	out, err = l.cmd(s, "push", "--json", "--to", strings.Join(fps[:2], ","), file).CombinedOutput()
	if exitOf(err) != exitOK {
		t.Fatalf("push without the deaf receiver: exit %d\n%s", exitOf(err), out)
	}
	for _, c := range base {
		c.Wait()
	}
	_, without := receiverPaths(t, out)
	for _, fp := range fps[:2] {
		t.Logf("%s: %.2fs beside a unicast receiver, %.2fs without (%.2fx)", fp, seconds[fp], without[fp], seconds[fp]/without[fp])
	}
}

// receiverPaths reads each receiver's path and time from push --json.
func receiverPaths(t *testing.T, out []byte) (paths map[string]string, seconds map[string]float64) {
	t.Helper()
	paths, seconds = map[string]string{}, map[string]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		var ev struct {
			Event, Fingerprint, Path, Status string
			Seconds                          float64
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "receiver" {
			paths[ev.Fingerprint], seconds[ev.Fingerprint] = ev.Path, ev.Seconds
			t.Logf("%s: %s by %s in %.2fs", ev.Fingerprint, ev.Status, ev.Path, ev.Seconds)
		}
	}
	return paths, seconds
}

type receiveRun struct {
	host netlab.Host
	wait func() error
	out  func() string
}
