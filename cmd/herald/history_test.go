package main

import (
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/history"
)

func TestHistoryCommand(t *testing.T) {
	home := t.TempDir()
	herald(t, "--home", home, "--name", "me", "id")
	me := identityOf(t, home).Fingerprint
	const alice, bob = "AAAA-AAAA-AAAA-AAAA-AAAA", "BBBB-BBBB-BBBB-BBBB-BBBB"
	now := time.Now()
	rec := history.NewRecorder(home+"/"+history.FileName, nil)
	for _, e := range []history.Entry{
		{Time: now.Add(-3 * time.Hour), Kind: "chat", Channel: "open", Sender: "alice", Fingerprint: alice, Trust: "seen", Text: "old"},
		{Time: now.Add(-time.Hour), Kind: "announce", Channel: "open", Sender: "bob", Fingerprint: bob, Trust: "trusted", Text: "recent"},
		{Time: now.Add(-time.Minute), Kind: "private", Sender: "alice", Fingerprint: alice, Peer: alice, Trust: "seen", Text: "to me"},
		{Time: now, Kind: "private", Outgoing: true, Sender: "me", Fingerprint: me, Peer: bob, PeerName: "bob", Text: "to bob"},
	} {
		rec.Record(e)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"all", nil, "old,recent,to me,to bob"},
		{"channel", []string{"--channel", "open"}, "old,recent"},
		{"since", []string{"--since", "90m"}, "recent,to me,to bob"},
		{"peer fingerprint, both directions", []string{"--peer", strings.ToLower(bob)}, "recent,to bob"},
		{"private", []string{"--private"}, "to me,to bob"},
		{"limit", []string{"--limit", "1"}, "to bob"},
		{"own name", []string{"--peer", "me"}, "to bob"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--home", home, "history", "--json"}, c.args...)
			var texts []string
			for _, e := range jsonLines[history.Entry](t, herald(t, args...).stdout) {
				texts = append(texts, e.Text)
			}
			if got := strings.Join(texts, ","); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	t.Run("text lines", func(t *testing.T) {
		out := herald(t, "--home", home, "history", "--channel", "open").stdout
		if !strings.Contains(out, "#open announce bob ("+bob+", trusted): recent\n") {
			t.Fatalf("unexpected text output:\n%s", out)
		}
	})
	t.Run("unknown peer", func(t *testing.T) {
		res := cliRun{args: []string{"--home", home, "history", "--peer", "nobody"}}.exec(t)
		if res.code != exitUsage {
			t.Fatalf("exit %d, want %d: %s", res.code, exitUsage, res.stderr)
		}
	})
	t.Run("empty store", func(t *testing.T) {
		res := herald(t, "--home", t.TempDir(), "history")
		if res.stdout != "" || !strings.Contains(res.stderr, "no messages") {
			t.Fatalf("stdout %q stderr %q", res.stdout, res.stderr)
		}
	})
}
