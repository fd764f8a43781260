package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// pushToAll sets up trust as README says (peers, then trust), runs a
// receive --once on every receiver and a default push --json --to all of
// them, checks every file, and returns each receiver's path by
// fingerprint.
func (l *pushLab) pushToAll(size int) map[string]string {
	t := l.t
	t.Helper()
	s := l.lab.Sender
	fpS := l.fingerprint(s)
	l.peersOf(l.lab.Receivers, "4s", nil)
	for _, r := range l.lab.Receivers {
		if out, err := l.cmd(r, "trust", fpS).CombinedOutput(); err != nil {
			t.Fatalf("trust on %s: %v\n%s", r.Name, err, out)
		}
	}
	file := randomFile(t, t.TempDir(), "lesson.bin", size)
	var fps, dirs []string
	var receives []*receiveRun
	for _, r := range l.lab.Receivers {
		d := t.TempDir()
		dirs = append(dirs, d)
		fps = append(fps, l.fingerprint(r))
		c, out := l.start(r, "receive", "--once", "--dir", d)
		receives = append(receives, &receiveRun{host: r, wait: c.Wait, out: out.String})
	}
	time.Sleep(time.Second)
	out, err := l.cmd(s, "push", "--json", "--to", strings.Join(fps, ","), file).CombinedOutput()
	if exitOf(err) != exitOK {
		t.Fatalf("push: exit %d\n%s", exitOf(err), out)
	}
	paths, _ := receiverPaths(t, out)
	for i, rr := range receives {
		if err := rr.wait(); err != nil {
			t.Fatalf("receive on %s: %v\n%s", rr.host.Name, err, rr.out())
		}
		sameFile(t, file, filepath.Join(dirs[i], "lesson.bin"))
	}
	return paths
}

// TestPushDataGroupDeafNetns: one of three receivers drops only the push
// data groups (239.255.73.0/24) and hears the control group: its node
// never asks for unicast, so the sender finds it by its statuses (no
// manifest though the manifest went out) and serves it by unicast. The
// default push completes on all three with identical files and the
// report shows that receiver on unicast, the others on multicast.
func TestPushDataGroupDeafNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("network namespaces; skipped with -short")
	}
	l := newPushLabAs(t, 3, "huni")
	deaf := l.lab.Receivers[1]
	l.inNS(deaf, "nft", "add", "rule", "inet", netlab.NftTable, "input", "ip", "daddr", "239.255.73.0/24", "drop")
	paths := l.pushToAll(8 << 20)
	for _, r := range l.lab.Receivers {
		want := "multicast"
		if r == deaf {
			want = "unicast"
		}
		if got := paths[l.fingerprint(r)]; got != want {
			t.Errorf("%s reported on %q, want %q", r.Name, got, want)
		}
	}
}

// TestMulticastOutBlockedNetns: one of three receivers cannot send
// multicast (its output chain drops 239.0.0.0/8) but hears it. Its
// statuses reach the sender by their unicast copies, so the default push
// completes on all three (all on multicast: it hears the data group); a
// listener on it shows an announcement, the sender's peers lists it
// (heard by unicast), and a private message to it gets its receipt back.
func TestMulticastOutBlockedNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("network namespaces; skipped with -short")
	}
	l := newPushLabAs(t, 3, "huni")
	s, mute := l.lab.Sender, l.lab.Receivers[0]
	l.inNS(mute, "nft", "insert", "rule", "inet", netlab.NftTable, "output", "ip", "daddr", "239.0.0.0/8", "drop")
	paths := l.pushToAll(8 << 20)
	for _, r := range l.lab.Receivers {
		if got := paths[l.fingerprint(r)]; got != "multicast" {
			t.Errorf("%s reported on %q, want multicast", r.Name, got)
		}
	}

	c := l.cmd(mute, "listen")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	lines := watchLines(stdout)
	time.Sleep(2 * time.Second)
	got := l.peersOf([]netlab.Host{s}, "5s", nil)
	if !listsVia(got[s.Name], l.fingerprint(mute), "unicast") {
		t.Errorf("the sender's peers does not list %s as heard by unicast: %+v", mute.Name, got[s.Name])
	}
	if out, err := l.cmd(s, "announce", "all hands at three").CombinedOutput(); exitOf(err) != exitOK {
		t.Fatalf("announce: exit %d\n%s", exitOf(err), out)
	}
	if !lines.waitFor("all hands at three", 10*time.Second) {
		t.Errorf("listener on %s did not show the announcement:\n%s", mute.Name, lines)
	}
	out, err := l.cmd(s, "send", "--to", l.fingerprint(mute), "--timeout", "15s", "psst").CombinedOutput()
	if exitOf(err) != exitOK {
		t.Errorf("send to %s: exit %d (want its receipt back)\n%s", mute.Name, exitOf(err), out)
	}
}
