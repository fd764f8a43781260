package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

// receiverIn runs a library receiver with the identity in home on its own
// simulated host, with the policy a user gets (trusted senders and the
// owners of joined channels; acceptAny as --accept-any), and returns its
// directory.
func receiverIn(t *testing.T, net *multicast.MemNet, home string, acceptAny bool) string {
	t.Helper()
	nd, err := node.Open(node.Config{Home: home, Network: net.Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		nd.RunWith(ctx, func(ctx context.Context) error {
			return push.Receive(ctx, push.ReceiveConfig{Node: nd, Dir: dir, AcceptAny: acceptAny})
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return dir
}

// TestMinReceiversCountsChannelMembers: `push --channel class
// --min-receivers N` counts only receivers that hold class. Two members
// and two receivers that would take anything (--accept-any) but never
// joined share the LAN: three are not enough, two are, and only the
// members get the file.
func TestMinReceiversCountsChannelMembers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lesson.txt")
	os.WriteFile(file, []byte(strings.Repeat("lesson ", 20_000)), 0o644)
	teacher := t.TempDir()
	code := jsonLines[channelJSON](t, herald(t, "--home", teacher, "channel", "new", "--json", "class").stdout)[0].JoinCode

	net := multicast.NewMemNet(7)
	var members, outsiders []string
	for range 2 {
		home := t.TempDir()
		herald(t, "--home", home, "channel", "join", code)
		members = append(members, receiverIn(t, net, home, false))
		outsiders = append(outsiders, receiverIn(t, net, t.TempDir(), true))
	}
	pushWith := func(min string) result {
		return cliRun{args: []string{"--home", teacher, "push", "--json", "--channel", "class", "--min-receivers", min, "--wait", "2s", file},
			network: net.Host(multicast.Link{})}.exec(t)
	}

	// Four receivers answer; the two that cannot open the channel's
	// grant refuse, and the wait counts 2 of 3.
	res := pushWith("3")
	if res.code != exitPartial || !strings.Contains(res.stdout, `"event":"waiting"`) || strings.Contains(res.stdout, `"bytes":3,"total":3`) ||
		strings.Contains(res.stdout, `"bytes":4,"total":3`) || !strings.Contains(res.stdout, `"expected":3,"completed":2`) {
		t.Fatalf("--min-receivers 3 with 2 members: exit %d, want %d with 2 of 3 counted\n%s\n%s", res.code, exitPartial, res.stdout, res.stderr)
	}
	res = pushWith("2")
	if res.code != exitOK || !strings.Contains(res.stdout, `"expected":2,"completed":2`) {
		t.Fatalf("--min-receivers 2 with 2 members: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, dir := range members {
		waitForPath(t, filepath.Join(dir, "lesson.txt"))
	}
	for _, dir := range outsiders {
		if _, err := os.Stat(filepath.Join(dir, "lesson.txt")); err == nil {
			t.Errorf("a receiver outside the channel wrote the file")
		}
	}
}
