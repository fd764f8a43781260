package presence

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/syncbuf"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// fast is a tuning that lets tests see beacons, expiry and sweeps in
// milliseconds.
var fast = tuning{
	interval: 50 * time.Millisecond,
	jitter:   10 * time.Millisecond,
	quick:    10 * time.Millisecond,
	expire:   400 * time.Millisecond,
	sweep:    20 * time.Millisecond,
	maxPeers: MaxPeers,
}

// member is one node with its presence.
type member struct {
	node *node.Node
	p    *Presence
	log  *syncbuf.Buffer
	stop func() // stops the node and presence and waits; idempotent
}

// newMember opens a node with a fresh home on a new host of memnet and a
// Presence with fast tuning. It is started by start.
func newMember(t *testing.T, memnet *multicast.MemNet, name string, offers byte) *member {
	t.Helper()
	log := &syncbuf.Buffer{}
	n, err := node.Open(node.Config{
		Home: t.TempDir(), Name: name, Network: memnet.Host(multicast.Link{}),
		Logger: slog.New(slog.NewTextHandler(log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := New(n, offers)
	p.tuning = fast
	return &member{node: n, p: p, log: log, stop: func() {}}
}

// start joins the control group and runs m until the test ends (or
// m.stop).
func (m *member) start(t *testing.T) *member {
	t.Helper()
	if err := m.node.Join(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.node.RunWith(ctx, m.p.Run) }()
	var once sync.Once
	m.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: %v", m.node.ID.Name, err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("%s did not stop", m.node.ID.Name)
			}
		})
	}
	t.Cleanup(m.stop)
	return m
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// nextEvent waits for an event of kind, skipping others.
func nextEvent(t *testing.T, p *Presence, kind EventKind) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-p.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %v", kind)
			}
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %v event within 5 s", kind)
		}
	}
}

// injector sends beacons signed by arbitrary keys onto the control group.
type injector struct {
	t     *testing.T
	conn  multicast.Conn
	group netip.AddrPort
}

func newInjector(t *testing.T, memnet *multicast.MemNet, group netip.AddrPort) *injector {
	t.Helper()
	conn, err := memnet.Host(multicast.Link{}).Listen(group)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &injector{t: t, conn: conn, group: group}
}

// stranger is a throwaway identity that only exists as beacons.
type stranger struct {
	pub    ed25519.PublicKey
	signer *protocol.Signer
}

func newStranger(t *testing.T) stranger {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return stranger{pub: pub, signer: protocol.NewSigner(key)}
}

func (in *injector) beacon(s stranger, b protocol.Beacon) {
	in.t.Helper()
	pkt, _ := s.signer.Append(nil, b)
	if _, err := in.conn.WriteBatch([][]byte{pkt}, in.group); err != nil {
		in.t.Fatal(err)
	}
}
