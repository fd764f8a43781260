package main

import (
	"strings"
	"testing"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/multicast"
)

// historyEntryJSON is one line of `history --json`.
type historyEntryJSON = history.Entry

// TestSendDelivered: send finds the peer by name from its beacons, the
// peer reads the message, its receipt ends send with exit 0.
func TestSendDelivered(t *testing.T) {
	net := multicast.NewMemNet(5)
	home := t.TempDir()
	herald(t, "--home", home, "--name", "alice", "id")
	alice := identityOf(t, home)
	bob := startMsgPeer(t, net, "bob", message.Config{})

	res := cliRun{args: []string{"--home", home, "send", "--to", "bob", "--wait", "5s", "meet at the door"},
		network: net.Host(multicast.Link{Loss: 0.2})}.exec(t)
	if res.code != exitOK || res.stdout != "delivered to bob ("+bob.node.ID.Fingerprint()+")\n" {
		t.Fatalf("send: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	m := bob.next(t)
	if !m.Private || m.Text != "meet at the door" || m.Fingerprint != alice.Fingerprint {
		t.Fatalf("bob shows %+v", m)
	}
	kept := jsonLines[historyEntryJSON](t, herald(t, "--home", home, "history", "--json", "--peer", "bob").stdout)
	if len(kept) != 1 || kept[0].Kind != "private" || !kept[0].Outgoing || kept[0].PeerName != "bob" {
		t.Fatalf("history holds %+v", kept)
	}
}

func TestSendExitCodes(t *testing.T) {
	t.Run("no receipt", func(t *testing.T) {
		net := multicast.NewMemNet(6)
		startMsgPeer(t, net, "deaf", message.Config{IgnorePrivate: true})
		res := cliRun{args: []string{"--home", t.TempDir(), "--name", "a", "send", "--to", "deaf", "--timeout", "1s", "hello?"},
			network: net.Host(multicast.Link{})}.exec(t)
		if res.code != exitTimeout || !strings.Contains(res.stderr, "no receipt from deaf") || strings.Contains(res.stderr, "deadline") {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitTimeout, res.stderr)
		}
	})
	t.Run("unknown peer", func(t *testing.T) {
		res := cliRun{args: []string{"--home", t.TempDir(), "--name", "a", "send", "--to", "nobody", "--wait", "0s", "hello?"},
			network: multicast.NewMemNet(7).Host(multicast.Link{})}.exec(t)
		if res.code != exitUsage {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
		}
	})
	t.Run("no recipient", func(t *testing.T) {
		res := cliRun{args: []string{"--home", t.TempDir(), "send", "hello?"}, network: multicast.NewMemNet(8).Host(multicast.Link{})}.exec(t)
		if res.code != exitUsage {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
		}
	})
}
