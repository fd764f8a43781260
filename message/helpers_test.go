package message

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
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
)

// testWait bounds every wait in these tests.
const testWait = 15 * time.Second

// lab is a MemNet with herald nodes on it, all stopped at cleanup.
type lab struct {
	t   testing.TB
	net *multicast.MemNet
	ctx context.Context
	wg  sync.WaitGroup
}

func newLab(t testing.TB, seed int64) *lab {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testWait)
	l := &lab{t: t, net: multicast.NewMemNet(seed), ctx: ctx}
	t.Cleanup(func() {
		cancel()
		l.wg.Wait()
	})
	return l
}

// peer is one node with a message engine, collecting what it shows.
type peer struct {
	node *node.Node
	eng  *Engine
	pres *presence.Presence

	mu   sync.Mutex
	got  []Message
	more chan struct{} // signalled on every message
}

type peerOpts struct {
	link     multicast.Link
	presence bool
	cfg      Config // Node and Peers are filled in
}

// peer starts a node named name with its own home.
func (l *lab) peer(name string, o peerOpts) *peer {
	l.t.Helper()
	n, err := node.Open(node.Config{Home: l.t.TempDir(), Name: name, Network: l.net.Host(o.link)})
	if err != nil {
		l.t.Fatal(err)
	}
	p := &peer{node: n, more: make(chan struct{}, 1)}
	cfg := o.cfg
	cfg.Node = n
	if cfg.RepeatGap == 0 {
		cfg.RepeatGap = 5 * time.Millisecond
	}
	if o.presence {
		p.pres = presence.New(n, protocol.OfferListen)
		cfg.Peers = p.pres
	}
	if p.eng, err = New(cfg); err != nil {
		l.t.Fatal(err)
	}
	// Join the control group now, so nothing sent after this returns is
	// missed by this peer.
	if err := n.Send(beaconOf(n)); err != nil {
		l.t.Fatal(err)
	}
	l.wg.Go(func() { n.Run(l.ctx) })
	l.wg.Go(func() { p.eng.Run(l.ctx) })
	if p.pres != nil {
		l.wg.Go(func() { p.pres.Run(l.ctx) })
	}
	l.wg.Go(func() {
		for m := range p.eng.Messages() {
			p.mu.Lock()
			p.got = append(p.got, m)
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
	})
	return p
}

func beaconOf(n *node.Node) []byte {
	b := protocol.Beacon{BoxKey: n.ID.BoxPub, Name: n.ID.Name}
	pkt, _ := n.Signer.Append(nil, b)
	return pkt
}

func (p *peer) messages() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.got...)
}

// waitFor waits until p has shown at least count messages.
func (p *peer) waitFor(t testing.TB, count int) []Message {
	t.Helper()
	deadline := time.After(testWait)
	for {
		if got := p.messages(); len(got) >= count {
			return got
		}
		select {
		case <-p.more:
		case <-deadline:
			got := p.messages()
			t.Fatalf("%s showed %d messages, want %d", p.node.ID.Name, len(got), count)
			return got
		}
	}
}

// eventually polls cond until it holds or testWait passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawSender injects datagrams into the control group from its own host,
// as an attacker on the LAN would.
type rawSender struct {
	conn  multicast.Conn
	group netip.AddrPort
}

func (l *lab) rawSender(group netip.AddrPort) *rawSender {
	l.t.Helper()
	conn, err := l.net.Host(multicast.Link{}).Listen(group)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { conn.Close() })
	return &rawSender{conn: conn, group: group}
}

func (r *rawSender) send(t testing.TB, pkts ...[]byte) {
	t.Helper()
	if _, err := r.conn.WriteBatch(pkts, r.group); err != nil {
		t.Fatal(err)
	}
}

// capture reads datagrams of type typ from the raw sender's conn.
func (r *rawSender) capture(t testing.TB, typ protocol.Type, count int) [][]byte {
	t.Helper()
	var out [][]byte
	msgs := make([]multicast.Message, 8)
	for i := range msgs {
		msgs[i].Buf = make([]byte, protocol.MaxDatagram)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(out) < count {
			n, err := r.conn.ReadBatch(msgs)
			if err != nil {
				return
			}
			for _, m := range msgs[:n] {
				if h, err := protocol.ParseHeader(m.Buf[:m.N]); err == nil && h.Type == typ {
					out = append(out, append([]byte(nil), m.Buf[:m.N]...))
				}
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(testWait):
		r.conn.Close()
		<-done
		t.Fatalf("captured %d %v packets, want %d", len(out), typ, count)
	}
	return out
}

func mustChannel(t testing.TB, name string) identity.Channel {
	t.Helper()
	ch, err := identity.NewChannel(name, "")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// textOf is a distinct text of size bytes for each i < 62.
func textOf(i, size int) string {
	const symbols = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	s := string(symbols[i%len(symbols)]) + fmt.Sprintf(" message %d ", i)
	for len(s) < size {
		s += fmt.Sprintf("%d.", len(s))
	}
	return s[:max(size, 1)]
}
