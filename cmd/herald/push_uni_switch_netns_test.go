package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// trustSender sets up trust as README says: each receiver lists its
// peers, then trusts the sender. It returns what each listed.
func (l *pushLab) trustSender() map[string][]peerRow {
	t := l.t
	t.Helper()
	fpS := l.fingerprint(l.lab.Sender)
	rows := l.peersOf(l.lab.Receivers, "4s", nil)
	for _, r := range l.lab.Receivers {
		if out, err := l.cmd(r, "trust", fpS).CombinedOutput(); err != nil {
			t.Fatalf("trust on %s: %v\n%s", r.Name, err, out)
		}
	}
	return rows
}

// pushedToAll is what pushToAll did: each receiver's path and time by
// fingerprint, the fingerprints in receiver order, and the file pushed.
type pushedToAll struct {
	paths   map[string]string
	seconds map[string]float64
	fps     []string
	file    string
}

// pushToAll runs a receive --once on every receiver and, settle later,
// a default push --json --to all of them of a random file of size bytes,
// and checks every file.
func (l *pushLab) pushToAll(size int, settle time.Duration) pushedToAll {
	t := l.t
	t.Helper()
	file := randomFile(t, t.TempDir(), "lesson.bin", size)
	var fps []string
	var dirs []string
	var receives []*receiveRun
	for _, r := range l.lab.Receivers {
		d := t.TempDir()
		dirs = append(dirs, d)
		fps = append(fps, l.fingerprint(r))
		c, out := l.start(r, "receive", "--once", "--dir", d)
		receives = append(receives, &receiveRun{host: r, wait: c.Wait, out: out.String})
	}
	time.Sleep(settle)
	out, err := l.cmd(l.lab.Sender, "push", "--json", "--to", strings.Join(fps, ","), file).CombinedOutput()
	if exitOf(err) != exitOK {
		t.Fatalf("push: exit %d\n%s", exitOf(err), out)
	}
	paths, seconds := receiverPaths(t, out)
	for i, rr := range receives {
		if err := rr.wait(); err != nil {
			t.Fatalf("receive on %s: %v\n%s", rr.host.Name, err, rr.out())
		}
		sameFile(t, file, filepath.Join(dirs[i], "lesson.bin"))
	}
	return pushedToAll{paths, seconds, fps, file}
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
	l.trustSender()
	paths := l.pushToAll(8<<20, time.Second).paths
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
	l.trustSender()
	paths := l.pushToAll(8<<20, time.Second).paths
	for _, r := range l.lab.Receivers {
		if got := paths[l.fingerprint(r)]; got != "multicast" {
			t.Errorf("%s reported on %q, want multicast", r.Name, got)
		}
	}

	lines := l.watch(mute, "listen")
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
