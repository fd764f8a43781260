package push

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
)

// memLab is one sender and n receivers on an in-memory network.
type memLab struct {
	net       *multicast.MemNet
	sender    *node.Node
	receivers []*node.Node
	hosts     []multicast.Network
	dirs      []string
	ctx       context.Context
}

func newMemLab(t *testing.T, n int, link multicast.Link) *memLab {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &memLab{net: multicast.NewMemNet(int64(n)*7 + 1), ctx: ctx}
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	open := func(name string, host multicast.Network) *node.Node {
		nd, err := node.Open(node.Config{Home: t.TempDir(), Name: name, Network: host})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); nd.Run(ctx) }()
		return nd
	}
	l.sender = open("teacher", l.net.Host(multicast.Link{}))
	for i := range n {
		h := l.net.Host(link)
		l.hosts = append(l.hosts, h)
		l.receivers = append(l.receivers, open(fmt.Sprintf("student%02d", i), h))
		l.dirs = append(l.dirs, t.TempDir())
	}
	// Again after the temporary folders, so the nodes stop before those
	// are removed (cleanups run last first): a node saves state as it stops.
	t.Cleanup(func() { cancel(); wg.Wait() })
	return l
}

func (l *memLab) recipients() []identity.Peer {
	var ps []identity.Peer
	for _, r := range l.receivers {
		ps = append(ps, identity.Peer{Name: r.ID.Name, SignPub: r.ID.SignPub, BoxPub: r.ID.BoxPub, Fingerprint: r.ID.Fingerprint()})
	}
	return ps
}

// startReceivers runs a --once receiver per host and returns their results.
func (l *memLab) startReceivers(t *testing.T, cfg func(i int, c *ReceiveConfig)) []chan error {
	var out []chan error
	for i, r := range l.receivers {
		c := ReceiveConfig{Node: r, Dir: l.dirs[i], AcceptAny: true, Once: true, SenderTimeout: 5 * time.Second}
		if cfg != nil {
			cfg(i, &c)
		}
		ch := make(chan error, 1)
		go func() { ch <- Receive(l.ctx, c) }()
		out = append(out, ch)
	}
	return out
}

// checkReceived waits (bounded) for every receiver's result and checks
// each wrote src as "lesson".
func (l *memLab) checkReceived(t *testing.T, results []chan error, src string) {
	t.Helper()
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
}

func writeTree(t *testing.T, size int, seed uint64) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "lesson")
	rng := rand.New(rand.NewPCG(seed, 1))
	files := map[string]int{"big.bin": size, "notes/a.txt": 1000, "notes/empty.txt": 0, "notes/sub/c.dat": 70_000}
	for name, n := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "emptydir"), 0o750); err != nil {
		t.Fatal(err)
	}
	return root
}

// sameTree fails unless dst holds exactly src's files, bytes and modes.
func sameTree(t *testing.T, src, dst string) {
	t.Helper()
	count := 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		q := filepath.Join(dst, rel)
		si, _ := d.Info()
		di, err := os.Stat(q)
		if err != nil {
			return fmt.Errorf("missing %s: %w", rel, err)
		}
		if si.Mode().Perm() != di.Mode().Perm() && !si.IsDir() {
			return fmt.Errorf("%s mode %v, want %v", rel, di.Mode().Perm(), si.Mode().Perm())
		}
		if !si.IsDir() {
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(q)
			if !bytes.Equal(a, b) {
				return fmt.Errorf("%s differs", rel)
			}
		}
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count < 2 {
		t.Fatal("compared nothing")
	}
}

func TestPushOverLossyNetwork(t *testing.T) {
	cases := []struct {
		name      string
		receivers int
		link      multicast.Link
		size      int
	}{
		{"clean 1 receiver", 1, multicast.Link{}, 3 << 20},
		{"5% loss 3 receivers", 3, multicast.Link{Loss: 0.05}, 3 << 20},
		{"20% loss", 1, multicast.Link{Loss: 0.20}, 2 << 20},
		{"bursty loss", 2, multicast.Link{BurstLoss: 0.01, BurstLen: 20}, 2 << 20},
		{"reorder and duplicate", 2, multicast.Link{Loss: 0.02, Reorder: 0.05, Duplicate: 0.05}, 2 << 20},
		{"10 receivers 5% loss", 10, multicast.Link{Loss: 0.05}, 1 << 20},
	}
	if testing.Short() {
		cases = cases[1:2]
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newMemLab(t, c.receivers, c.link)
			rep := pushAll(t, l, c.size, fixedRateK32)
			if rep.Completed != c.receivers {
				t.Fatalf("report: %+v", rep)
			}
			t.Logf("%s: %d bytes, wire %.3fx, repair %d shards, %v", c.name, rep.Bytes, float64(rep.WireBytes)/float64(rep.Bytes), rep.Repair, rep.Elapsed)
		})
	}
}

// A receiver that is not among --to recipients cannot open the key and
// says so; the recipient completes.
func TestPushOnlyToRecipients(t *testing.T) {
	l := newMemLab(t, 2, multicast.Link{})
	src := writeTree(t, 100_000, 9)
	results := l.startReceivers(t, nil)
	source, _ := NewSource([]string{src})
	rep, err := Send(l.ctx, SendConfig{Node: l.sender, Source: source, Recipients: l.recipients()[:1], Wait: 3 * time.Second})
	if err != nil || !rep.OK() {
		t.Fatalf("send: %v %+v", err, rep)
	}
	if err := <-results[0]; err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, filepath.Join(l.dirs[0], "lesson"))
	if _, err := os.Stat(filepath.Join(l.dirs[1], "lesson")); err == nil {
		t.Fatal("non-recipient wrote the push")
	}
	// The non-recipient was never asked: it is not in the report (a --to
	// push to one of a room of students lists that student only).
	if len(rep.Receivers) != 1 || rep.Completed != 1 {
		t.Fatalf("report lists %+v, want the one recipient", rep.Receivers)
	}
}

// An untrusted sender is refused unless --accept-any or --from names it.
func TestPushUntrustedRefused(t *testing.T) {
	l := newMemLab(t, 2, multicast.Link{})
	src := writeTree(t, 10_000, 3)
	refusedEvents := make(chan Event, 16)
	results := l.startReceivers(t, func(i int, c *ReceiveConfig) {
		c.AcceptAny = false
		if i == 1 {
			c.From = []ed25519.PublicKey{l.sender.ID.SignPub}
		}
		c.OnEvent = func(e Event) {
			if e.Kind == EventRefused {
				refusedEvents <- e
			}
		}
	})
	source, _ := NewSource([]string{src})
	rep, err := Send(l.ctx, SendConfig{Node: l.sender, Source: source, Recipients: l.recipients(), Wait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Completed != 1 {
		t.Fatalf("want exactly the --from receiver complete: %+v", rep.Receivers)
	}
	if err := <-results[1]; err != nil {
		t.Fatal(err)
	}
	select {
	case <-refusedEvents:
	case <-time.After(time.Second):
		t.Fatal("untrusting receiver did not report a refusal")
	}
}

// With a carousel, a receiver that starts after the first pass still
// completes.
func TestPushCarouselLateJoiner(t *testing.T) {
	l := newMemLab(t, 1, multicast.Link{Loss: 0.05})
	src := writeTree(t, 400_000, 5)
	source, _ := NewSource([]string{src})
	done := make(chan *Report, 1)
	go func() {
		rep, err := Send(l.ctx, SendConfig{Node: l.sender, Source: source, NoEncrypt: true,
			Wait: 300 * time.Millisecond, Carousel: 3 * time.Second, Rate: 20e6})
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	time.Sleep(time.Second) // the first pass is long over
	results := l.startReceivers(t, nil)
	select {
	case err := <-results[0]:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("late receiver did not complete during the carousel")
	}
	sameTree(t, src, filepath.Join(l.dirs[0], "lesson"))
	if rep := <-done; rep == nil || rep.Completed != 1 {
		t.Fatalf("report: %+v", rep)
	}
}
