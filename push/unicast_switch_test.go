package push

import (
	"context"
	"fmt"
	"net/netip"
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
	if h.deafToData && isDataGroup(group) {
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
			rep := pushAll(t, l, 2<<20, fixedRateK32)
			if rep.Completed != 3 {
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
		})
	}
}

// TestDeafRule drives watchDeaf with statuses at chosen times: deafness
// needs a whole watch (two halves of deafGrace) and a first half with
// enough written; a receiver that hears, or whose own socket dropped the
// shards, stays on multicast.
func TestDeafRule(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	n, host := teacherNode(t, func() time.Time { return clock })
	data := netip.MustParseAddrPort("239.255.73.9:4772")
	conn, err := host.Listen(netip.MustParseAddrPort("239.255.74.9:4772"))
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort("127.0.0.1:9") // the node has no unicast socket: nothing goes there
	shard := append(protocol.AppendDataHeader(nil, protocol.SessionID{1}, 0, 0), make([]byte, 64)...)
	cases := []struct {
		name     string
		state    byte
		nacks    int    // manifest chunks asked for
		written  int    // data shards written per 100 ms
		received uint32 // shards it received per 100 ms
		overflow uint32 // and its socket dropped
		want     bool
		// nackEvery: the manifest NACKs ride only every nackEvery-th
		// status (a receiver holds a chunk's NACK after asking); 0: all.
		nackEvery int
		within    time.Duration // switched this soon at the latest; 0: unbounded
		// nackSteps: the manifest NACKs ride only the first nackSteps
		// statuses (it got a copy then); 0: all.
		nackSteps int
	}{
		{"hears the data group", protocol.StateReceiving, 0, 100, 100, 0, false, 0, 0, 0},
		{"hears a tenth of it", protocol.StateReceiving, 0, 100, 15, 0, false, 0, 0, 0},
		{"hears none", protocol.StateReceiving, 0, 100, 0, 0, true, 0, 0, 0},
		{"its own socket dropped them", protocol.StateReceiving, 0, 100, 0, 100, false, 0, 0, 0},
		{"too little written to judge", protocol.StateReceiving, 0, 5, 0, 0, false, 0, 0, 0},
		{"hears none at a low rate", protocol.StateReceiving, 0, 40, 0, 0, true, 0, 0, 0},
		{"no manifest though it went out", protocol.StateJoined, 2, 1, 0, 0, true, 0, 0, 0},
		{"has part of the manifest", protocol.StateJoined, 1, 1, 0, 0, false, 0, 0, 0},
		{"asks for the manifest every third status", protocol.StateJoined, 2, 2, 0, 0, true, 3, 500 * time.Millisecond, 0},
		// A lossy receiver that lost the first three copies whole, then got
		// one: it was judged on a single copy in the first half (deaf at
		// 400 ms) before deafManifestCopies.
		{"lost the first copies of the manifest", protocol.StateJoined, 2, 1, 0, 0, false, 0, 0, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newBareSender(t, n, 10, 4)
			s.announce.ManifestParts = 2
			s.out.conn = newUnicastMirror(conn, n, data)
			u := s.uni()
			var key [32]byte
			key[0] = byte(len(c.name))
			u.copies.accepted(key, [32]byte{}, addr, true)
			var counts shardCounts
			switched := time.Duration(-1)
			for step := range 40 { // a status every 100 ms for four seconds
				for range c.written {
					u.WriteBatch([][]byte{shard}, data)
				}
				counts.received += c.received
				counts.lost += c.overflow
				counts.overflow += c.overflow
				m := statusMsg{from: key, state: c.state, counts: counts}
				for i := range c.nacks {
					if (c.nackEvery <= 1 || step%c.nackEvery == 0) && (c.nackSteps == 0 || step < c.nackSteps) {
						m.nacks = append(m.nacks, protocol.Nack{Block: manifestNack | uint32(i)})
					}
				}
				s.handleStatus(m)
				if p := s.table.peers[key]; p.unicast && switched < 0 {
					switched = time.Duration(step) * 100 * time.Millisecond
				}
				clock = clock.Add(100 * time.Millisecond)
			}
			if got := switched >= 0; got != c.want {
				t.Fatalf("switched to unicast: %v, want %v", got, c.want)
			}
			half := deafGrace
			if c.state == protocol.StateJoined {
				half = deafGraceManifest
			}
			watches := time.Duration(1)
			if c.state == protocol.StateReceiving {
				watches = deafStrikes
			}
			if c.want && switched < watches*2*half {
				t.Errorf("switched after %v, before %d whole watches (%v)", switched, watches, watches*2*half)
			}
			if c.within > 0 && switched > c.within {
				t.Errorf("switched after %v, want within %v", switched, c.within)
			}
		})
	}
}
