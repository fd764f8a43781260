package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// dropMulticastIn makes h deaf to every multicast group (its input chain
// drops 239.0.0.0/8; unicast still passes).
func (l *pushLab) dropMulticastIn(h netlab.Host) {
	l.t.Helper()
	l.inNS(h, "nft", "add", "rule", "inet", netlab.NftTable, "input", "ip", "daddr", "239.0.0.0/8", "drop")
}

// peersOf runs `herald [global...] peers --wait wait --json` on each host
// at once and returns the rows each listed.
func (l *pushLab) peersOf(hosts []netlab.Host, wait string, global map[string][]string) map[string][]peerRow {
	l.t.Helper()
	var mu sync.Mutex
	out := map[string][]peerRow{}
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Go(func() {
			args := append(append([]string{}, global[h.Name]...), "peers", "--wait", wait, "--json")
			b, err := l.cmd(h, args...).Output()
			if err != nil && exitOf(err) != exitTimeout { // 6: nobody answered, no rows
				l.t.Errorf("peers on %s: %v", h.Name, err)
				return
			}
			mu.Lock()
			out[h.Name] = jsonLines[peerRow](l.t, string(b))
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func listsVia(rows []peerRow, fp, via string) bool {
	for _, r := range rows {
		if r.Fingerprint == fp && r.Via == via {
			return true
		}
	}
	return false
}

// TestStaticPeersNetns: two hosts whose multicast is dropped both ways
// (nftables on each drops incoming 239.0.0.0/8) do not see each other,
// and do with --peer: on both sides, or on one side only (the other
// learns the first from its unicast beacons). Each lists the other as
// heard by unicast.
func TestStaticPeersNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("network namespaces; skipped with -short")
	}
	l := newPushLab(t, 1)
	a, b := l.lab.Sender, l.lab.Receivers[0]
	l.dropMulticastIn(a)
	l.dropMulticastIn(b)
	fpA, fpB := l.fingerprint(a), l.fingerprint(b)

	t.Run("without --peer nobody is heard", func(t *testing.T) {
		got := l.peersOf([]netlab.Host{a, b}, "2s", nil)
		if len(got[a.Name]) != 0 || len(got[b.Name]) != 0 {
			t.Fatalf("multicast is dropped, yet peers were listed: %+v", got)
		}
	})
	t.Run("--peer on both sides", func(t *testing.T) {
		got := l.peersOf([]netlab.Host{a, b}, "3s", map[string][]string{
			a.Name: {"--peer", b.Addr.String()},
			b.Name: {"--peer", b.Addr.String() + ":4772", "--peer", a.Addr.String() + ":4772"}, // itself too: harmless
		})
		if !listsVia(got[a.Name], fpB, "unicast") || !listsVia(got[b.Name], fpA, "unicast") {
			t.Fatalf("want each listing the other via unicast: %+v", got)
		}
	})
	t.Run("--peer on one side, from config", func(t *testing.T) {
		l.inNS(a, l.bin, "--home", l.homes[a.Name], "config", "set", "peers", b.Addr.String())
		got := l.peersOf([]netlab.Host{a, b}, "3s", nil)
		if !listsVia(got[a.Name], fpB, "unicast") || !listsVia(got[b.Name], fpA, "unicast") {
			t.Fatalf("want each listing the other via unicast: %+v", got)
		}
	})
}

// TestDeafListenerMessagesNetns: of three listeners one drops all
// incoming multicast (unicast allowed). The sender's long-running listen
// learns that it is deaf (it asks for unicast in its beacons), and an
// announcement and a private message from the sender's home then reach
// it by unicast, while the others get them by multicast.
func TestDeafListenerMessagesNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("network namespaces; skipped with -short")
	}
	l := newPushLab(t, 3)
	s, deaf := l.lab.Sender, l.lab.Receivers[2]
	l.dropMulticastIn(deaf)
	outs := map[string]*lineWatcher{}
	for _, h := range append([]netlab.Host{s}, l.lab.Receivers...) {
		outs[h.Name] = l.watch(h, "listen")
	}
	// The sender's listen hears the deaf host's beacons, answers it by
	// unicast and gets its request for unicast back within a few beacon
	// intervals, then remembers it in its home for the short-lived
	// announce and send below. Under load that chain takes longer than
	// its usual 6 s: wait for the record itself (bounded).
	remembered := filepath.Join(l.homes[s.Name], "unicast-peers.json")
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if b, err := os.ReadFile(remembered); err == nil && strings.Contains(string(b), `"addr"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sender's listen never recorded the deaf listener as wanting unicast (%s)", remembered)
		}
	}

	announced, err := l.cmd(s, "--log-level", "debug", "announce", "all hands at three").CombinedOutput()
	if exitOf(err) != exitOK {
		t.Fatalf("announce: exit %d\n%s", exitOf(err), announced)
	}
	for _, r := range l.lab.Receivers {
		if !outs[r.Name].waitFor("all hands at three", 10*time.Second) {
			mem, _ := os.ReadFile(remembered)
			t.Errorf("listener on %s did not show the announcement:\n%s\nannounce said:\n%s\nremembered: %s", r.Name, outs[r.Name], announced, mem)
		}
	}
	out, err := l.cmd(s, "send", "--to", l.fingerprint(deaf), "psst, deaf one").CombinedOutput()
	if exitOf(err) != exitOK {
		t.Fatalf("send to the deaf listener: exit %d (want the receipt back)\n%s", exitOf(err), out)
	}
	if !outs[deaf.Name].waitFor("psst, deaf one", 10*time.Second) {
		t.Errorf("deaf listener did not show the private message:\n%s", outs[deaf.Name])
	}
	// The other listeners saw the announcement by multicast only: they
	// never asked for unicast.
	peers, err := l.cmd(s, "doctor", "--wait", "3s", "--json").Output()
	if err != nil && exitOf(err) != exitError {
		t.Fatalf("doctor: %v", err)
	}
	if n := strings.Count(string(peers), `"deaf-peer"`); n != 1 || !strings.Contains(string(peers), l.fingerprint(deaf)) {
		t.Errorf("doctor on the sender names %d deaf peers, want only %s:\n%s", n, l.fingerprint(deaf), peers)
	}
}
