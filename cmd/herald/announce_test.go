package main

import (
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/netlab"
	"github.com/herald-lan/herald/internal/syncbuf"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// TestAnnounceReachesListener: announce on a joined channel reaches a
// listener holding the channel, marked as an announcement of high
// priority, named by the beacon announce sends first; the history keeps it.
func TestAnnounceReachesListener(t *testing.T) {
	net := multicast.NewMemNet(3)
	home := t.TempDir()
	herald(t, "--home", home, "--name", "teacher", "id")
	teacher := identityOf(t, home)
	code := jsonLines[channelJSON](t, herald(t, "--home", home, "channel", "new", "--json", "class").stdout)[0].JoinCode
	class, err := identity.ParseJoinCode(code)
	if err != nil {
		t.Fatal(err)
	}
	pupil := startMsgPeer(t, net, "pupil", message.Config{Channels: []identity.Channel{class}})

	res := cliRun{args: []string{"--home", home, "announce", "--channel", "class", "--priority", "high", "exam in 5 minutes"},
		network: net.Host(multicast.Link{})}.exec(t)
	if res.code != exitOK || !strings.HasPrefix(res.stdout, "announced on #class (id ") {
		t.Fatalf("announce: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	m := pupil.next(t)
	if m.Text != "exam in 5 minutes" || m.Kind != message.KindAnnounce || !m.Priority || m.Channel != "class" ||
		m.Fingerprint != teacher.Fingerprint || m.Sender != "teacher" {
		t.Fatalf("pupil shows %+v", m)
	}
	kept := jsonLines[historyEntryJSON](t, herald(t, "--home", home, "history", "--json").stdout)
	if len(kept) != 1 || !kept[0].Outgoing || kept[0].Text != "exam in 5 minutes" || kept[0].Channel != "class" {
		t.Fatalf("history holds %+v", kept)
	}
}

func TestAnnounceStdin(t *testing.T) {
	net := multicast.NewMemNet(4)
	home := t.TempDir()
	pupil := startMsgPeer(t, net, "pupil", message.Config{})
	res := cliRun{args: []string{"--home", home, "--name", "t", "announce", "-"}, stdin: "load 0.42\n\n",
		network: net.Host(multicast.Link{})}.exec(t)
	if res.code != exitOK || !strings.Contains(res.stderr, openChannelNote) {
		t.Fatalf("announce -: exit %d, stderr %q", res.code, res.stderr)
	}
	if m := pupil.next(t); m.Text != "load 0.42" || m.Channel != "open" {
		t.Fatalf("pupil shows %q on %q", m.Text, m.Channel)
	}
}

func TestAnnounceUsageErrors(t *testing.T) {
	home := t.TempDir()
	herald(t, "--home", home, "--name", "t", "id")
	cases := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"no text", []string{"announce"}, ""},
		{"empty text", []string{"announce", ""}, ""},
		{"empty stdin", []string{"announce", "-"}, "\n"},
		{"too long", []string{"announce", "-"}, strings.Repeat("x", protocol.MaxMessageLen+1)},
		{"not UTF-8", []string{"announce", "a\xffb"}, ""},
		{"bad priority", []string{"announce", "--priority", "urgent", "x"}, ""},
		{"negative retain", []string{"announce", "--retain", "-1s", "x"}, ""},
		{"unknown channel", []string{"announce", "--channel", "nope", "x"}, ""},
		{"flag after text", []string{"announce", "x", "--retain", "1m"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := cliRun{args: append([]string{"--home", home}, c.args...), stdin: c.stdin,
				network: multicast.NewMemNet(1).Host(multicast.Link{})}.exec(t)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want %d (usage)\n%s", res.code, exitUsage, res.stderr)
			}
		})
	}
}

// netnsListener is `herald listen --json` running in one lab namespace.
type netnsListener struct {
	cmd         *exec.Cmd
	out, stderr syncbuf.Buffer
}

func startNetnsListener(t *testing.T, l *pushLab, h netlab.Host) *netnsListener {
	t.Helper()
	nl := &netnsListener{cmd: l.cmd(h, "listen", "--json")}
	nl.cmd.Stdout, nl.cmd.Stderr = &nl.out, &nl.stderr
	if err := nl.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nl.cmd.Process.Kill()
		nl.cmd.Wait()
	})
	return nl
}

// waitMessage waits for one printed message and returns every one printed.
func (nl *netnsListener) waitMessage(t *testing.T, within time.Duration) []history.Entry {
	t.Helper()
	deadline := time.Now().Add(within)
	for strings.TrimSpace(nl.out.String()) == "" {
		if time.Now().After(deadline) {
			t.Fatalf("listener printed nothing within %v; stderr:\n%s", within, nl.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return jsonLines[history.Entry](t, nl.out.String())
}

// stop interrupts the listener like Ctrl-C and checks it exits 0.
func (nl *netnsListener) stop(t *testing.T) {
	t.Helper()
	nl.cmd.Process.Signal(syscall.SIGINT)
	if code := exitOf(nl.cmd.Wait()); code != exitOK {
		t.Fatalf("listen exit %d: %s", code, nl.stderr.String())
	}
}

// waitListeners runs `herald peers` on the sender until every receiver's
// listen is heard, so an announcement cannot race their start.
func waitListeners(t *testing.T, l *pushLab, fps []string) {
	t.Helper()
	deadline := time.Now().Add(msgWait)
	for {
		out, _ := l.cmd(l.lab.Sender, "peers", "--wait", "1s", "--json").Output()
		heard := 0
		for _, row := range jsonLines[peerRow](t, string(out)) {
			if slices.Contains(fps, row.Fingerprint) && slices.Contains(row.Offers, "listen") {
				heard++
			}
		}
		if heard == len(fps) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sender heard %d of %d listeners:\n%s", heard, len(fps), out)
		}
	}
}

// TestAnnounceNetnsThreeListeners: an announcement crosses a real bridge
// to three listeners in their own namespaces, one of them losing 10% of
// its packets, and each prints it exactly once.
func TestAnnounceNetnsThreeListeners(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and network namespaces; skipped with -short")
	}
	l := newPushLab(t, 3)
	if err := l.lab.SetLoss(l.lab.Receivers[0], 100); err != nil {
		t.Fatal(err)
	}
	var listeners []*netnsListener
	var fps []string
	for _, r := range l.lab.Receivers {
		fps = append(fps, l.fingerprint(r))
		listeners = append(listeners, startNetnsListener(t, l, r))
	}
	waitListeners(t, l, fps)
	sender := l.fingerprint(l.lab.Sender)
	out, err := l.cmd(l.lab.Sender, "announce", "--priority", "high", "fire drill at 10:00").CombinedOutput()
	if exitOf(err) != exitOK {
		t.Fatalf("announce exit %d:\n%s", exitOf(err), out)
	}
	for i, nl := range listeners {
		nl.waitMessage(t, msgWait)
		time.Sleep(500 * time.Millisecond) // repeats arrive; none may print
		nl.stop(t)
		got := jsonLines[history.Entry](t, nl.out.String())
		if len(got) != 1 || got[0].Text != "fire drill at 10:00" || got[0].Fingerprint != sender || !got[0].Priority || got[0].Sender != "s" {
			t.Fatalf("listener %d printed %+v", i+1, got)
		}
	}
}

// TestAnnounceNetnsRetain: with --retain, a listener started 10 s after
// the announcement still gets it, once.
func TestAnnounceNetnsRetain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and network namespaces, and waits 15 s; skipped with -short")
	}
	l := newPushLab(t, 1)
	announce := l.cmd(l.lab.Sender, "announce", "--retain", "20s", "the wifi password changed")
	var announceOut syncbuf.Buffer
	announce.Stdout, announce.Stderr = &announceOut, &announceOut
	start := time.Now()
	if err := announce.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)
	nl := startNetnsListener(t, l, l.lab.Receivers[0])
	got := nl.waitMessage(t, 15*time.Second) // next re-send: 15 s after the start
	if len(got) != 1 || got[0].Text != "the wifi password changed" || got[0].Sender != "s" {
		t.Fatalf("late listener printed %+v (named by the beacon before each re-send)", got)
	}
	if code := exitOf(announce.Wait()); code != exitOK {
		t.Fatalf("announce exit %d:\n%s", code, announceOut.String())
	}
	t.Logf("late listener got the retained announcement %.1fs after it was first sent", time.Since(start).Seconds())
	nl.stop(t)
	if got := jsonLines[history.Entry](t, nl.out.String()); len(got) != 1 {
		t.Fatalf("retained announcement printed %d times", len(got))
	}
}
