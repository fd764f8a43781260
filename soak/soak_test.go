// Package soak runs herald's engines for a long time and checks that
// nothing grows: goroutines, heap and open descriptors.
package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

// sample is what the soak watches.
type sample struct {
	goroutines int
	heapMiB    float64
	fds        int
}

func measure() sample {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, _ := os.ReadDir("/proc/self/fd")
	return sample{goroutines: runtime.NumGoroutine(), heapMiB: float64(ms.HeapInuse) / (1 << 20), fds: len(fds)}
}

// TestSoak pushes files and posts messages in a loop for $HERALD_SOAK
// (e.g. 10m) on a lossy in-memory LAN, and fails if goroutines, heap or
// descriptors keep growing after the first round.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("HERALD_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("soak runs only when HERALD_SOAK is a duration, e.g. HERALD_SOAK=10m go test ./soak -timeout 15m " +
			"(HERALD_SOAK_HEAP=FILE writes a heap profile at the end)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := multicast.NewMemNet(42)
	open := func(name string, loss float64) *node.Node {
		n, err := node.Open(node.Config{Home: t.TempDir(), Name: name, Network: net.Host(multicast.Link{Loss: loss})})
		if err != nil {
			t.Fatal(err)
		}
		go n.Run(ctx)
		return n
	}
	sender := open("teacher", 0)
	var receivers []*node.Node
	var recipients []identity.Peer
	for i := range 3 {
		r := open(fmt.Sprintf("student%d", i), 0.05)
		receivers = append(receivers, r)
		recipients = append(recipients, identity.Peer{Name: r.ID.Name, SignPub: r.ID.SignPub, BoxPub: r.ID.BoxPub})
	}
	chat, err := message.New(message.Config{Node: sender})
	if err != nil {
		t.Fatal(err)
	}
	go chat.Run(ctx)
	var listeners []*message.Engine
	for _, r := range receivers {
		e, err := message.New(message.Config{Node: r})
		if err != nil {
			t.Fatal(err)
		}
		go e.Run(ctx)
		listeners = append(listeners, e)
	}
	src := filepath.Join(t.TempDir(), "lesson.bin")
	os.WriteFile(src, []byte(strings.Repeat("soak ", 400_000)), 0o644)

	var first sample
	var samples []sample
	deadline := time.Now().Add(d)
	for round := 0; time.Now().Before(deadline); round++ {
		dirs := make([]string, len(receivers))
		results := make(chan error, len(receivers))
		for i, r := range receivers {
			dirs[i] = t.TempDir()
			cfg := push.ReceiveConfig{Node: r, Dir: dirs[i], Once: true, AcceptAny: true, SenderTimeout: 10 * time.Second}
			go func() { results <- push.Receive(ctx, cfg) }()
		}
		source, err := push.NewSource([]string{src})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := push.Send(ctx, push.SendConfig{Node: sender, Source: source, Recipients: recipients, Wait: 5 * time.Second, Rate: 100e6})
		if err != nil || !rep.OK() {
			t.Fatalf("round %d: push %v %+v", round, err, rep)
		}
		for range receivers {
			if err := <-results; err != nil {
				t.Fatalf("round %d: receive: %v", round, err)
			}
		}
		for _, d := range dirs {
			os.RemoveAll(d)
		}
		text := fmt.Sprintf("round %d done", round)
		if _, err := chat.Post(ctx, message.Post{Channel: identity.OpenChannel(), Text: text, Announce: true}); err != nil {
			t.Fatal(err)
		}
		for _, l := range listeners {
			for got := false; !got; {
				select {
				case m := <-l.Messages():
					got = m.Text == text
				case <-time.After(10 * time.Second):
					t.Fatalf("round %d: announcement lost", round)
				}
			}
		}
		s := measure()
		if round == 1 {
			first = s
		}
		samples = append(samples, s)
		if round%10 == 0 {
			t.Logf("round %d: %d goroutines, heap %.1f MiB, %d fds", round, s.goroutines, s.heapMiB, s.fds)
		}
	}
	if len(samples) < 3 {
		t.Fatalf("only %d rounds in %v", len(samples), d)
	}
	last := samples[len(samples)-1]
	if path := os.Getenv("HERALD_SOAK_HEAP"); path != "" {
		// While every engine is still alive, so their state shows.
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	t.Logf("%d rounds: goroutines %d -> %d, heap %.1f -> %.1f MiB, fds %d -> %d",
		len(samples), first.goroutines, last.goroutines, first.heapMiB, last.heapMiB, first.fds, last.fds)
	if last.goroutines > first.goroutines+5 || last.fds > first.fds+5 || last.heapMiB > first.heapMiB*1.25+4 {
		t.Fatalf("growth: first %+v, last %+v", first, last)
	}
}
