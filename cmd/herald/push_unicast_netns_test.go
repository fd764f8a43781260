package main

import (
	"encoding/json"
	"os/exec"
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

	got := l.trustSender()
	for _, r := range l.lab.Receivers {
		if !listsVia(got[r.Name], fpS, map[bool]string{true: "unicast", false: "multicast"}[r == deaf]) {
			t.Fatalf("%s does not list the sender as expected: %+v", r.Name, got[r.Name])
		}
	}
	// 4 s: the sender's listen learns the deaf receiver asks for unicast.
	pushed := l.pushToAll(16<<20, 4*time.Second)
	paths, seconds, fps, file := pushed.paths, pushed.seconds, pushed.fps, pushed.file
	for i, r := range l.lab.Receivers {
		want := "multicast"
		if r == deaf {
			want = "unicast"
		}
		if paths[fps[i]] != want {
			t.Errorf("%s reported on %q, want %q", r.Name, paths[fps[i]], want)
		}
	}

	// For the record, not asserted (timing belongs to benchmarks): the
	// multicast receivers' time with and without the unicast one.
	var base []*exec.Cmd
	for _, r := range l.lab.Receivers[:2] {
		c, _ := l.start(r, "receive", "--once", "--dir", t.TempDir())
		base = append(base, c)
	}
	time.Sleep(time.Second)
	out, err := l.cmd(s, "push", "--json", "--to", strings.Join(fps[:2], ","), file).CombinedOutput()
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
