package push

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// impairedHost is a receiver's network with one fault: deaf to the push
// data groups (protocol.SessionGroups), or mute (its multicast writes
// vanish, as with a firewall's output drop).
type impairedHost struct {
	multicast.Network
	deafToData, mute bool
}

func (h impairedHost) Listen(group netip.AddrPort) (multicast.Conn, error) {
	c, err := h.Network.Listen(group)
	if err != nil {
		return nil, err
	}
	data, _ := protocol.SessionGroups(protocol.ControlGroupV4, protocol.SessionID{})
	if h.deafToData && group.Addr().As4()[2] == data.As4()[2] && group.Addr().As4()[1] == data.As4()[1] {
		return deafConn{c}, nil
	}
	if h.mute {
		return muteConn{c}, nil
	}
	return c, nil
}

// deafConn reads and discards everything.
type deafConn struct{ multicast.Conn }

func (d deafConn) ReadBatch(ms []multicast.Message) (int, error) {
	for {
		if n, err := d.Conn.ReadBatch(ms); err != nil {
			return n, err
		}
	}
}

// muteConn says it wrote, and wrote nothing.
type muteConn struct{ multicast.Conn }

func (m muteConn) WriteBatch(payloads [][]byte, _ netip.AddrPort) (int, error) {
	return len(payloads), nil
}

// newUnicastMemLab is a memLab whose nodes also have a unicast socket
// on 127.0.0.1. The sender lists the receivers as static peers, and
// beacons until the test ends, so each receiver knows the sender's
// unicast socket as SPEC §5.2 says; the receivers never beacon, so the
// sender's node never hears one ask for unicast.
func newUnicastMemLab(t *testing.T, hosts []func(multicast.Network) multicast.Network, link multicast.Link) *memLab {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &memLab{net: multicast.NewMemNet(int64(len(hosts))*11 + 3), ctx: ctx}
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	open := func(name string, host multicast.Network, peers []netip.AddrPort) *node.Node {
		nd, err := node.Open(node.Config{Home: t.TempDir(), Name: name, Network: host,
			Unicast: netip.MustParseAddrPort("127.0.0.1:0"), Peers: peers})
		if err != nil {
			t.Fatal(err)
		}
		if err := nd.Join(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); nd.Run(ctx) }()
		return nd
	}
	var peers []netip.AddrPort
	for i, wrap := range hosts {
		h := l.net.Host(link)
		l.hosts = append(l.hosts, h)
		r := open(fmt.Sprintf("student%02d", i), wrap(h), nil)
		l.receivers = append(l.receivers, r)
		l.dirs = append(l.dirs, t.TempDir())
		peers = append(peers, r.UnicastAddr())
	}
	l.sender = open("teacher", l.net.Host(multicast.Link{}), peers)
	beacon := func() { l.sender.SendBeacon(protocol.Beacon{BoxKey: l.sender.ID.BoxPub, Name: l.sender.ID.Name}) }
	beacon()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
				beacon()
			}
		}
	}()
	for _, r := range l.receivers { // each knows the sender's unicast socket
		for deadline := time.Now().Add(5 * time.Second); ; {
			if _, ok := r.UnicastRouteOf([32]byte(l.sender.ID.SignPub)); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no receiver learned the sender's unicast address")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return l
}

// TestUnicastByStatuses: among three receivers on a 3 %-lossy in-memory
// LAN, one does not hear the data groups (it hears the control group,
// so its node never asks for unicast): the sender finds it by its
// statuses and serves it by unicast; the others stay on multicast. One
// that cannot send multicast is heard through its statuses' unicast
// copies. Every receiver completes with identical files.
func TestUnicastByStatuses(t *testing.T) {
	plain := func(n multicast.Network) multicast.Network { return n }
	cases := []struct {
		name string
		odd  func(multicast.Network) multicast.Network
		path string
	}{
		{"deaf to the data group", func(n multicast.Network) multicast.Network { return impairedHost{Network: n, deafToData: true} }, "unicast"},
		{"cannot send multicast", func(n multicast.Network) multicast.Network { return impairedHost{Network: n, mute: true} }, "multicast"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newUnicastMemLab(t, []func(multicast.Network) multicast.Network{plain, c.odd, plain}, multicast.Link{Loss: 0.03})
			src := writeTree(t, 2<<20, 5)
			results := l.startReceivers(t, nil)
			source, err := NewSource([]string{src})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Send(l.ctx, SendConfig{Node: l.sender, Source: source, Recipients: l.recipients(),
				Wait: 5 * time.Second, Rate: 200e6, K: 32})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if !rep.OK() || rep.Completed != 3 {
				t.Fatalf("report: %+v", rep)
			}
			odd := identity.Fingerprint(l.receivers[1].ID.SignPub)
			for _, r := range rep.Receivers {
				want := "multicast"
				if r.Fingerprint == odd {
					want = c.path
				}
				if r.Path != want || (want == "unicast") != (r.UnicastBytes > 0) {
					t.Errorf("%s on %q with %d unicast bytes, want %s", r.Name, r.Path, r.UnicastBytes, want)
				}
			}
			for i, ch := range results {
				select {
				case err := <-ch:
					if err != nil {
						t.Fatalf("receiver %d: %v", i, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("receiver %d did not finish", i)
				}
				sameTree(t, src, filepath.Join(l.dirs[i], "lesson"))
			}
		})
	}
}
