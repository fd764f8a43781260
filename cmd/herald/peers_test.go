package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
)

// beaconFrom runs presence for the identity in home as a library node on
// memnet (urfave/cli apps share a global help flag, so two cannot run at
// once in one process) until stop is called.
func beaconFrom(t *testing.T, memnet *multicast.MemNet, home string) (stop func()) {
	t.Helper()
	n, err := node.Open(node.Config{Home: home, Network: memnet.Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.RunWith(ctx, presence.New(n, 0).Run) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node in %s: %v", home, err)
		}
	}
}

// TestPeersChannel: `herald peers --channel class` lists the peers that
// joined class, not the one that only shares the LAN, nor one holding
// another channel of the same name; asking for a channel nobody online
// holds, or one we did not join, fails with the documented codes.
func TestPeersChannel(t *testing.T) {
	teacher, student, outsider, lookalike := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	for _, h := range []string{teacher, student, outsider, lookalike} {
		herald(t, "--home", h, "id") // every host has the default name
	}
	code := jsonLines[channelJSON](t, herald(t, "--home", teacher, "channel", "new", "--json", "class").stdout)[0].JoinCode
	herald(t, "--home", student, "channel", "join", code)
	herald(t, "--home", lookalike, "channel", "new", "class")
	herald(t, "--home", teacher, "channel", "new", "empty")
	studentID := identityOf(t, student)

	memnet := multicast.NewMemNet(1)
	for _, h := range []string{student, outsider, lookalike} {
		t.Cleanup(beaconFrom(t, memnet, h))
	}
	peers := func(args ...string) result {
		return cliRun{args: append([]string{"--home", teacher, "peers", "--wait", "1s", "--json"}, args...), network: memnet.Host(multicast.Link{})}.exec(t)
	}

	res := peers("--channel", "class")
	if res.code != 0 {
		t.Fatalf("peers --channel class: exit %d: %s", res.code, res.stderr)
	}
	rows := jsonLines[peerRow](t, res.stdout)
	if len(rows) != 1 || rows[0].Fingerprint != studentID.Fingerprint || !slices.Equal(rows[0].Channels, []string{"class"}) {
		t.Fatalf("peers --channel class lists %+v, want only the student %s", rows, studentID.Fingerprint)
	}
	if all := jsonLines[peerRow](t, peers().stdout); len(all) != 3 {
		t.Fatalf("peers lists %d peers, want all 3: %+v", len(all), all)
	}
	if open := jsonLines[peerRow](t, peers("--channel", "open").stdout); len(open) != 3 {
		t.Fatalf("peers --channel open lists %d peers, want all 3", len(open))
	}
	if res := peers("--channel", "empty"); res.code != exitTimeout || !strings.Contains(res.stderr, "holds channel empty") {
		t.Fatalf("a channel nobody holds: exit %d, %q", res.code, res.stderr)
	}
	if res := peers("--channel", "nosuch"); res.code != exitUsage || !strings.Contains(res.stderr, "channel join") {
		t.Fatalf("a channel not joined: exit %d, %q", res.code, res.stderr)
	}
	if res := peers("--channel", "class", "--known"); res.code != exitUsage {
		t.Fatalf("--known with --channel: exit %d", res.code)
	}
}
