package main

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/internal/netlab"
	"github.com/herald-lan/herald/internal/syncbuf"
)

// netnsChat is one `herald chat` on a namespace host, fed through a pipe
// (so it prints plain lines, as over a pipe or a dumb terminal).
type netnsChat struct {
	name   string
	fp     string
	cmd    *exec.Cmd
	typing io.WriteCloser
	out    syncbuf.Buffer
}

func startNetnsChat(t *testing.T, l *pushLab, h netlab.Host, channel string) *netnsChat {
	t.Helper()
	c := &netnsChat{name: strings.TrimPrefix(h.Name, l.lab.ID+"-"), fp: l.fingerprint(h), cmd: l.cmd(h, "chat", "--channel", channel)}
	in, typing := io.Pipe()
	c.cmd.Stdin, c.typing = in, typing
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		typing.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	return c
}

// waitLine waits until a printed line contains every one of parts.
func (c *netnsChat) waitLine(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(msgWait)
	for {
		for _, line := range strings.Split(c.out.String(), "\n") {
			if containsAll(line, parts) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("chat on %s printed no line with %q:\n%s", c.name, parts, c.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func (c *netnsChat) say(t *testing.T, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(c.typing, line); err != nil {
		t.Fatalf("chat on %s: %v", c.name, err)
	}
}

// TestMessagingNetnsConversation is the messaging issue's whole scenario
// on a namespace LAN: three hosts chat on an encrypted channel, one
// announces to all, one messages another privately (only the recipient
// reads it, and the sender gets the receipt), every line names its sender
// by the fingerprint that signed it, and `herald history` holds the
// conversation afterwards.
func TestMessagingNetnsConversation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and network namespaces; skipped with -short")
	}
	l := newPushLab(t, 2)
	s, r1, r2 := l.lab.Sender, l.lab.Receivers[0], l.lab.Receivers[1]
	out, err := l.cmd(s, "channel", "new", "team").Output()
	if err != nil {
		t.Fatalf("channel new: %v", err)
	}
	var code string
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "team-") {
			code = f
		}
	}
	if code == "" {
		t.Fatalf("no join code in %q", out)
	}
	for _, h := range []netlab.Host{r1, r2} {
		if out, err := l.cmd(h, "channel", "join", code).CombinedOutput(); err != nil {
			t.Fatalf("channel join on %s: %v\n%s", h.Name, err, out)
		}
	}

	chats := []*netnsChat{startNetnsChat(t, l, s, "team"), startNetnsChat(t, l, r1, "team"), startNetnsChat(t, l, r2, "team")}
	for _, c := range chats {
		for _, other := range chats {
			if other != c {
				c.waitLine(t, "* "+other.name+" ("+other.fp+") joined")
			}
		}
	}
	for _, c := range chats {
		c.say(t, "hello from "+c.name)
	}
	// s created the channel, so its members trust it as the channel's
	// owner; members are only seen by each other, and s sees them as such.
	for _, c := range chats {
		for _, other := range chats {
			if other != c {
				trust := "seen"
				if other == chats[0] {
					trust = "trusted"
				}
				c.waitLine(t, "#team "+other.name+" ("+other.fp+", "+trust+"): hello from "+other.name)
			}
		}
	}

	if out, err := l.cmd(s, "announce", "--channel", "team", "all hands at three").CombinedOutput(); exitOf(err) != exitOK {
		t.Fatalf("announce: exit %d\n%s", exitOf(err), out)
	}
	for _, c := range chats[1:] {
		c.waitLine(t, "#team announce s ("+chats[0].fp+", trusted): all hands at three") // the owner
	}

	if out, err := l.cmd(r1, "send", "--to", chats[2].fp, "psst, r2 only").CombinedOutput(); exitOf(err) != exitOK {
		t.Fatalf("send: exit %d (want %d: the receipt came back)\n%s", exitOf(err), exitOK, out)
	}
	chats[2].waitLine(t, "private r1 ("+chats[1].fp+", seen): psst, r2 only")
	time.Sleep(time.Second) // every copy has reached s by now: none may show
	if strings.Contains(chats[0].out.String(), "psst") {
		t.Fatalf("a bystander showed the private message:\n%s", chats[0].out.String())
	}

	for _, c := range chats {
		c.say(t, "/quit")
		c.typing.Close() // Wait also waits for the copy from the pipe to end
		if code := exitOf(c.cmd.Wait()); code != exitOK {
			t.Fatalf("chat on %s exit %d:\n%s", c.name, code, c.out.String())
		}
	}

	kept := func(h netlab.Host) []history.Entry {
		out, err := l.cmd(h, "history", "--json").Output()
		if err != nil {
			t.Fatalf("history on %s: %v", h.Name, err)
		}
		return jsonLines[history.Entry](t, string(out))
	}
	has := func(entries []history.Entry, kind, text, from string, outgoing bool) bool {
		for _, e := range entries {
			if e.Kind == kind && e.Text == text && e.Fingerprint == from && e.Outgoing == outgoing {
				return true
			}
		}
		return false
	}
	onR2 := kept(r2)
	for _, want := range []struct {
		kind, text, from string
		outgoing         bool
	}{
		{history.KindChat, "hello from s", chats[0].fp, false},
		{history.KindChat, "hello from r1", chats[1].fp, false},
		{history.KindChat, "hello from r2", chats[2].fp, true},
		{history.KindAnnounce, "all hands at three", chats[0].fp, false},
		{history.KindPrivate, "psst, r2 only", chats[1].fp, false},
	} {
		if !has(onR2, want.kind, want.text, want.from, want.outgoing) {
			t.Errorf("history on r2 lacks %+v; it holds %+v", want, onR2)
		}
	}
	if onS := kept(s); has(onS, history.KindPrivate, "psst, r2 only", chats[1].fp, false) {
		t.Errorf("history on s holds the private message: %+v", onS)
	}
	if onR1 := kept(r1); !has(onR1, history.KindPrivate, "psst, r2 only", chats[1].fp, true) {
		t.Errorf("history on r1 lacks the private message it sent: %+v", onR1)
	}
}
