package push

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Helpers for the hostile-input tests: receivers that keep serving (so a
// hostile session cannot end a --once receiver before the real push is
// judged), a real push to run alongside every attack, and a rogue host
// that reads and writes any group of the in-memory LAN.

// eventLog records one receiver's events. Safe for concurrent use.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func (l *eventLog) count(pred func(Event) bool) int {
	n := 0
	for _, e := range l.all() {
		if pred(e) {
			n++
		}
	}
	return n
}

// waitFor polls until an event matches, or fails the test after timeout.
func (l *eventLog) waitFor(t *testing.T, what string, timeout time.Duration, pred func(Event) bool) Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, e := range l.all() {
			if pred(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event within %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func kindIs(k EventKind, session string) func(Event) bool {
	return func(e Event) bool { return e.Kind == k && (session == "" || e.Session == session) }
}

// serve runs a receiver (not --once) on every lab host until the test
// ends, accepting any sender unless cfg says otherwise.
func serve(t *testing.T, l *memLab, cfg func(i int, c *ReceiveConfig)) []*eventLog {
	t.Helper()
	ctx, cancel := context.WithCancel(l.ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var logs []*eventLog
	for i, r := range l.receivers {
		lg := &eventLog{}
		c := ReceiveConfig{Node: r, Dir: l.dirs[i], AcceptAny: true, SenderTimeout: 5 * time.Second, OnEvent: lg.add}
		if cfg != nil {
			cfg(i, &c)
		}
		wg.Add(1)
		go func() { defer wg.Done(); Receive(ctx, c) }()
		logs = append(logs, lg)
	}
	return logs
}

// pushRun is a real push running beside an attack.
type pushRun struct {
	src  string
	done chan struct{}
	rep  *Report
	err  error
}

// startPush pushes a fresh tree of about size bytes to every lab receiver.
func startPush(t *testing.T, l *memLab, size int, mod func(*SendConfig)) *pushRun {
	t.Helper()
	p := &pushRun{src: writeTree(t, size, uint64(size)), done: make(chan struct{})}
	source, err := NewSource([]string{p.src})
	if err != nil {
		t.Fatal(err)
	}
	cfg := SendConfig{Node: l.sender, Source: source, Recipients: l.recipients(), Wait: 5 * time.Second, Rate: 200e6, K: 32}
	if mod != nil {
		mod(&cfg)
	}
	go func() { p.rep, p.err = Send(l.ctx, cfg); close(p.done) }()
	return p
}

// wait returns the report once the push ended; the push must have
// completed at every receiver.
func (p *pushRun) wait(t *testing.T) *Report {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the real push did not end within 60 s")
	}
	if p.err != nil || !p.rep.OK() {
		t.Fatalf("the real push failed: %v %+v", p.err, p.rep)
	}
	return p.rep
}

// check waits for the push and asserts that every receiver listed placed
// a byte-identical copy of the tree; it returns their completion events.
func (p *pushRun) check(t *testing.T, l *memLab, logs []*eventLog, receivers ...int) []Event {
	t.Helper()
	rep := p.wait(t)
	var out []Event
	for _, i := range receivers {
		e := logs[i].waitFor(t, "complete", 10*time.Second, kindIs(EventComplete, rep.Session))
		if len(e.Paths) == 0 && strings.HasPrefix(e.Name, "already received") {
			e.Paths = []string{filepath.Base(p.src)} // the same content from an earlier case
		}
		if len(e.Paths) != 1 {
			t.Fatalf("receiver %d placed %v", i, e.Paths)
		}
		sameTree(t, p.src, filepath.Join(l.dirs[i], e.Paths[0]))
		out = append(out, e)
	}
	return out
}

// rogue is a host on the lab LAN under an attacker's control: it holds its
// own signing key and can listen to and write any group.
type rogue struct {
	t      *testing.T
	host   multicast.Network
	key    ed25519.PrivateKey
	signer *protocol.Signer
	port   uint16
	ctl    netip.AddrPort
}

func newRogue(t *testing.T, l *memLab) *rogue {
	return newRogueOn(t, l, l.net.Host(multicast.Link{}))
}

// newRogueOn puts the attacker on host: the sender's own host stands for
// an attacker that spoofs the sender's source address.
func newRogueOn(t *testing.T, l *memLab, host multicast.Network) *rogue {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &rogue{t: t, host: host, key: key, signer: protocol.NewSigner(key), port: l.sender.Control.Port(), ctl: l.sender.Control}
}

func (r *rogue) pub() [32]byte { return [32]byte(r.key.Public().(ed25519.PublicKey)) }

func (r *rogue) listen(group netip.AddrPort) multicast.Conn {
	r.t.Helper()
	c, err := r.host.Listen(group)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { c.Close() })
	return c
}

// groups returns the data and feedback groups of session sid.
func (r *rogue) groups(sid protocol.SessionID) (data, feedback netip.AddrPort) {
	d, f := protocol.SessionGroups(r.ctl.Addr(), sid)
	return netip.AddrPortFrom(d, r.port), netip.AddrPortFrom(f, r.port)
}

// capture copies every datagram read from c to out until c is closed;
// out is never blocked on (a full channel drops).
func capture(c multicast.Conn, out chan<- []byte) {
	msgs := make([]multicast.Message, 32)
	for i := range msgs {
		msgs[i].Buf = make([]byte, protocol.MaxDatagram)
	}
	for {
		n, err := c.ReadBatch(msgs)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		for _, m := range msgs[:n] {
			select {
			case out <- slices.Clone(m.Buf[:m.N]):
			default:
			}
		}
	}
}

// sniffAnnounce reads the control group until an announce signed by
// sender arrives, and returns it with its raw bytes.
func sniffAnnounce(t *testing.T, in <-chan []byte, sender [32]byte) (protocol.Announce, []byte) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case b := <-in:
			s, err := protocol.ParseSigned(b)
			if err != nil || s.Type != protocol.TypeAnnounce || s.Sender != sender {
				continue
			}
			if a, err := protocol.ParseAnnounce(s.Body); err == nil {
				return a, b
			}
		case <-timeout:
			t.Fatal("no announce from the sender within 10 s")
		}
	}
}

// sniffGrant reads the control group until a grant of session sid signed
// by sender arrives.
func sniffGrant(t *testing.T, in <-chan []byte, sender [32]byte, sid protocol.SessionID) (protocol.GrantView, protocol.Signed) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case b := <-in:
			s, err := protocol.ParseSigned(b)
			if err != nil || s.Type != protocol.TypeGrant || s.Sender != sender {
				continue
			}
			if g, err := protocol.ParseGrant(s.Body); err == nil && g.Session == sid {
				return g, s
			}
		case <-timeout:
			t.Fatal("no grant from the sender within 10 s")
		}
	}
}

// forgeShard builds a data packet with a valid tag under keys and
// contents that are not the sender's: what a key holder can inject.
func forgeShard(keys sessionKeys, sid protocol.SessionID, block uint32, idx byte, shardSize int) []byte {
	pkt := protocol.AppendDataHeader(make([]byte, 0, protocol.MaxDatagram), sid, block, idx)
	junk := make([]byte, shardSize)
	rand.Read(junk)
	nonce := protocol.DataNonce(block, idx)
	return keys.data.Seal(pkt, nonce[:], junk, pkt[:protocol.DataHeaderLen])
}

// every runs f every period in a goroutine until the returned stop is
// called (also on cleanup), and waits for it.
func every(t *testing.T, period time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	stop = func() { once.Do(func() { close(done) }); wg.Wait() }
	t.Cleanup(stop)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			f()
			select {
			case <-done:
				return
			case <-time.After(period):
			}
		}
	}()
	return stop
}

// testClock is a receiver's clock that a test can move forward.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// newMemLabClock is newMemLab whose receivers read the time from now.
func newMemLabClock(t *testing.T, n int, now func() time.Time) *memLab {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &memLab{net: multicast.NewMemNet(int64(n)*7 + 3), ctx: ctx}
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	open := func(name string, host multicast.Network, now func() time.Time) *node.Node {
		nd, err := node.Open(node.Config{Home: t.TempDir(), Name: name, Network: host, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); nd.Run(ctx) }()
		return nd
	}
	l.sender = open("teacher", l.net.Host(multicast.Link{}), nil)
	for i := range n {
		h := l.net.Host(multicast.Link{})
		l.hosts = append(l.hosts, h)
		l.receivers = append(l.receivers, open(fmt.Sprintf("student%02d", i), h, now))
		l.dirs = append(l.dirs, t.TempDir())
	}
	return l
}

func mustCode(t *testing.T, k int) *fec.Code {
	t.Helper()
	c, err := fec.New(k, 64)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
