package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/herald-lan/herald/multicast"
)

func TestIDCreateThenShow(t *testing.T) {
	home := t.TempDir()
	first := herald(t, "--home", home, "--name", "alice", "id")
	if !strings.Contains(first.stderr, "created a new identity") {
		t.Errorf("first run does not say it created an identity: %q", first.stderr)
	}
	fp := regexp.MustCompile(`fingerprint:\s+(\S+)`).FindStringSubmatch(first.stdout)
	if fp == nil || !strings.Contains(first.stdout, "alice") || !strings.Contains(first.stdout, home) {
		t.Fatalf("id output lacks name, fingerprint or home:\n%s", first.stdout)
	}
	again := identityOf(t, home)
	if again.Fingerprint != fp[1] || again.Name != "alice" || again.Created || again.Home != home || len(again.KeyID) != 16 {
		t.Errorf("second run: %+v, want alice %s not created", again, fp[1])
	}
	t.Run("global json flag", func(t *testing.T) {
		if got := jsonLines[idJSON](t, herald(t, "--home", home, "--json", "id").stdout); got[0].Fingerprint != fp[1] {
			t.Errorf("--json id: %+v", got)
		}
	})
	t.Run("rename", func(t *testing.T) {
		res := herald(t, "--home", home, "--name", "alice2", "id", "--json")
		if got := jsonLines[idJSON](t, res.stdout)[0]; got.Name != "alice2" || got.Fingerprint != fp[1] {
			t.Errorf("after rename: %+v", got)
		}
		if !strings.Contains(res.stderr, "renamed") {
			t.Errorf("rename not reported: %q", res.stderr)
		}
	})
}

// meet runs `herald peers` in home while the identity in peerHome beacons
// on the same simulated LAN (beaconFrom), and returns what the command
// listed.
func meet(t *testing.T, home, peerHome string) []peerRow {
	t.Helper()
	memnet := multicast.NewMemNet(1)
	defer beaconFrom(t, memnet, peerHome)()
	res := cliRun{args: []string{"--home", home, "peers", "--wait", "1s", "--json"}, network: memnet.Host(multicast.Link{})}.exec(t)
	if res.code != 0 {
		t.Fatalf("peers: exit %d: %s", res.code, res.stderr)
	}
	return jsonLines[peerRow](t, res.stdout)
}

func TestPeersAndTrustFlow(t *testing.T) {
	alice, bob := t.TempDir(), t.TempDir()
	herald(t, "--home", alice, "--name", "alice", "id")
	herald(t, "--home", bob, "--name", "bob", "id")
	bobID := identityOf(t, bob)

	if rows := meet(t, alice, bob); len(rows) != 1 || rows[0].Fingerprint != bobID.Fingerprint ||
		rows[0].Name != "bob" || rows[0].Trust != "seen" || rows[0].Address == "" {
		t.Fatalf("alice lists %+v, want only bob %s (seen, with address)", rows, bobID.Fingerprint)
	}

	// Keys merely seen are not kept on disk (a flood must not grow
	// trust.json): alice trusts bob by his full fingerprint, which pins
	// it, and names or prefixes only resolve keys this process heard.
	known := func() []peerRow {
		t.Helper()
		return jsonLines[peerRow](t, herald(t, "--home", alice, "peers", "--known", "--json").stdout)
	}
	if rows := known(); len(rows) != 0 {
		t.Fatalf("alice's store keeps strangers on disk: %+v", rows)
	}
	if res := (cliRun{args: []string{"--home", alice, "trust", bobID.Fingerprint[:9]}}).exec(t); res.code != exitUsage || !strings.Contains(res.stderr, "full fingerprint") {
		t.Errorf("trust by a prefix of an unheard key: exit %d %q, want %d and a hint", res.code, res.stderr, exitUsage)
	}
	typed := strings.ToLower(strings.ReplaceAll(bobID.Fingerprint, "-", " "))
	if out := herald(t, "--home", alice, "trust", typed).stdout; !strings.Contains(out, "trusted "+bobID.Fingerprint) {
		t.Errorf("trust printed %q", out)
	}
	if rows := known(); len(rows) != 1 || rows[0].Fingerprint != bobID.Fingerprint || rows[0].Trust != "trusted" {
		t.Fatalf("after trust: %+v", rows)
	}
	// Meeting bob again records his key and name under the pin.
	if rows := meet(t, alice, bob); len(rows) != 1 || rows[0].Trust != "trusted" || rows[0].Name != "bob" {
		t.Fatalf("alice meets trusted bob as %+v", rows)
	}
	if rows := known(); len(rows) != 1 || rows[0].Name != "bob" {
		t.Fatalf("pinned key not recorded with its name: %+v", rows)
	}
	if out := herald(t, "--home", alice, "untrust", "BOB").stdout; !strings.Contains(out, "no longer trusting bob") {
		t.Errorf("untrust printed %q", out)
	}
	if rows := known(); len(rows) != 0 {
		t.Fatalf("after untrust: %+v", rows)
	}
	if res := (cliRun{args: []string{"--home", alice, "trust", "bob"}}).exec(t); res.code != exitUsage || !strings.Contains(res.stderr, "herald peers") {
		t.Errorf("trusting an unheard name: exit %d %q, want %d and a hint", res.code, res.stderr, exitUsage)
	}
}

func TestChannelRoundTrip(t *testing.T) {
	alice, bob := t.TempDir(), t.TempDir()
	if out := herald(t, "--home", alice, "channel", "list").stdout; !strings.Contains(out, openChannelNote) {
		t.Errorf("fresh home does not say it is on the open channel:\n%s", out)
	}
	created := jsonLines[channelJSON](t, herald(t, "--home", alice, "channel", "new", "--json", "class").stdout)[0]
	if created.Name != "class" || !created.Default || !strings.HasPrefix(created.JoinCode, "class-") {
		t.Fatalf("channel new: %+v", created)
	}
	if out := herald(t, "--home", bob, "channel", "join", created.JoinCode).stdout; !strings.Contains(out, "joined channel class") {
		t.Errorf("join printed %q", out)
	}
	pass := "correct horse battery staple\n"
	for _, home := range []string{alice, bob} {
		res := cliRun{args: []string{"--home", home, "channel", "join", "--passphrase", "room"}, stdin: pass}.exec(t)
		if res.code != 0 {
			t.Fatalf("join --passphrase: exit %d: %s", res.code, res.stderr)
		}
	}
	lists := [][]channelJSON{}
	for _, home := range []string{alice, bob} {
		lists = append(lists, jsonLines[channelJSON](t, herald(t, "--home", home, "channel", "list", "--json").stdout))
	}
	if !slices.Equal(lists[0], lists[1]) || len(lists[0]) != 3 || lists[0][0].Name != "class" || !lists[0][2].Open {
		t.Errorf("channel lists differ or are wrong:\n alice %+v\n bob   %+v", lists[0], lists[1])
	}
	if out := herald(t, "--home", bob, "channel", "list").stdout; !strings.Contains(out, "room") || !strings.Contains(out, openChannelNote) {
		t.Errorf("text list:\n%s", out)
	}
	herald(t, "--home", bob, "channel", "leave", "class")
	herald(t, "--home", bob, "channel", "leave", "room")
	if out := herald(t, "--home", bob, "channel", "list").stdout; !strings.Contains(out, openChannelNote) || strings.Contains(out, "class") {
		t.Errorf("after leaving all:\n%s", out)
	}
}

func TestExitCodes(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  int
	}{
		{"no command", nil, "", exitOK},
		{"help", []string{"--help"}, "", exitOK},
		{"unknown command", []string{"bogus"}, "", exitUsage},
		{"unknown global flag", []string{"--bogus", "id"}, "", exitUsage},
		{"unknown command flag", []string{"id", "--nope"}, "", exitUsage},
		{"missing argument", []string{"trust"}, "", exitUsage},
		{"extra argument", []string{"trust", "a", "b"}, "", exitUsage},
		{"flag after argument", []string{"trust", "alice", "--json"}, "", exitUsage},
		{"unknown subcommand", []string{"channel", "bogus"}, "", exitUsage},
		{"channel new without name", []string{"channel", "new"}, "", exitUsage},
		{"bad channel name", []string{"channel", "new", "no spaces"}, "", exitUsage},
		{"reserved channel name", []string{"channel", "new", "open"}, "", exitUsage},
		{"bad join code", []string{"channel", "join", "class-0000-0000"}, "", exitUsage},
		{"empty passphrase", []string{"channel", "join", "--passphrase", "room"}, "\n", exitUsage},
		{"leave unknown channel", []string{"channel", "leave", "nope"}, "", exitUsage},
		{"zero wait", []string{"peers", "--wait", "0s"}, "", exitUsage},
		{"bad group", []string{"--group", "nonsense", "peers"}, "", exitUsage},
		{"unicast group", []string{"--group", "198.18.0.1:4772", "peers"}, "", exitUsage},
		{"bad log level", []string{"--log-level", "loud", "id"}, "", exitUsage},
		{"bad demo loss", []string{"demo", "--loss", "0.9"}, "", exitUsage},
		{"no such interface", []string{"--iface", "herald-none0", "peers", "--wait", "1s"}, "", exitNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := cliRun{args: append([]string{"--home", home}, tt.args...), stdin: tt.stdin}.exec(t)
			if res.code != tt.want {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tt.want, res.stdout, res.stderr)
			}
			if tt.want != exitOK && !strings.HasPrefix(res.stderr, "herald: ") {
				t.Errorf("error not reported on stderr as 'herald: ...': %q", res.stderr)
			}
		})
	}
}

func TestExitCodeMapping(t *testing.T) {
	// The codes are a documented interface: pin the numbers.
	want := map[int]int{exitOK: 0, exitError: 1, exitUsage: 2, exitNetwork: 3, exitTrust: 4, exitPartial: 5, exitTimeout: 6}
	for got, w := range want {
		if got != w {
			t.Errorf("exit code constant %d, documented %d", got, w)
		}
	}
}

func TestDemoShowsBothFingerprints(t *testing.T) {
	out := herald(t, "demo").stdout
	started := regexp.MustCompile(`(alice|bob)\s+started, fingerprint (\S+)`).FindAllStringSubmatch(out, -1)
	sees := regexp.MustCompile(`(alice|bob)\s+sees (alice|bob), fingerprint (\S+)`).FindAllStringSubmatch(out, -1)
	if len(started) != 2 || len(sees) != 2 {
		t.Fatalf("demo output lacks start or sight lines:\n%s", out)
	}
	fp := map[string]string{started[0][1]: started[0][2], started[1][1]: started[1][2]}
	for _, s := range sees {
		if s[1] == s[2] || s[3] != fp[s[2]] {
			t.Errorf("%s sees %s with %s, want %s", s[1], s[2], s[3], fp[s[2]])
		}
	}
	if !strings.Contains(out, "demo complete") {
		t.Errorf("demo did not complete:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	out := herald(t, "version").stdout
	if !strings.HasPrefix(out, "herald ") || !strings.Contains(out, "go1.") || !strings.Contains(out, "protocol 1") {
		t.Errorf("version output:\n%s", out)
	}
	v := jsonLines[versionJSON](t, herald(t, "version", "--json").stdout)
	if len(v) != 1 || v[0].Version == "" || v[0].Go == "" {
		t.Errorf("version --json: %+v", v)
	}
}
