package webui

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/push"
)

// room is a test LAN on the memory network: alice runs herald ui, bob
// runs a receiver, a message engine and presence, as `herald receive`
// and `herald listen` would, and trusts alice the way README says.
type room struct {
	t         testing.TB
	net       *multicast.MemNet
	ctx       context.Context
	cancel    context.CancelFunc
	srv       *Server
	alice     *node.Node
	bob       *node.Node
	bobDir    string
	bobMsgs   chan message.Message
	bobPres   *presence.Presence
	bobEngine *message.Engine
	received  chan push.Event // bob's completed pushes
}

// testNode opens a node named name with a fresh home on net.
func testNode(t testing.TB, net *multicast.MemNet, name string) *node.Node {
	t.Helper()
	n, err := node.Open(node.Config{Home: t.TempDir(), Name: name, Network: net.Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newRoom starts alice's ui and bob, and waits until each sees the other
// and bob trusts alice.
func newRoom(t testing.TB, cfg Config) *room {
	t.Helper()
	net := multicast.NewMemNet(1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	r := &room{t: t, net: net, ctx: ctx, cancel: cancel, alice: testNode(t, net, "alice"), bob: testNode(t, net, "bob"),
		bobDir: t.TempDir(), bobMsgs: make(chan message.Message, 64), received: make(chan push.Event, 8)}
	cfg.Node = r.alice
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.TempDir = t.TempDir()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	r.bobPres = presence.New(r.bob, protocol.OfferReceive|protocol.OfferListen)
	eng, err := message.New(message.Config{Node: r.bob, Peers: r.bobPres})
	if err != nil {
		t.Fatal(err)
	}
	r.bobEngine = eng
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		if err := r.alice.RunWith(ctx, srv.Run); err != nil {
			t.Errorf("alice: %v", err)
		}
	})
	wg.Go(func() {
		r.bob.RunWith(ctx, func(ctx context.Context) error {
			var bg sync.WaitGroup
			bg.Go(func() { r.bobPres.Run(ctx) })
			bg.Go(func() { eng.Run(ctx) })
			bg.Go(func() {
				for m := range eng.Messages() {
					r.bobMsgs <- m
				}
			})
			push.Receive(ctx, push.ReceiveConfig{Node: r.bob, Dir: r.bobDir, OnEvent: func(e push.Event) {
				if e.Kind == push.EventComplete {
					r.received <- e
				}
			}})
			bg.Wait()
			return nil
		})
	})
	r.waitFor("both nodes to see each other and bob to trust alice", func() bool {
		if _, ok := r.bobPres.Lookup(r.alice.ID.SignPub); !ok {
			return false
		}
		if _, ok := srv.pres.Lookup(r.bob.ID.SignPub); !ok {
			return false
		}
		_, err := r.bob.Trust.Trust(r.alice.ID.Fingerprint())
		return err == nil
	})
	return r
}

// waitFor polls cond until it holds or the room's time runs out.
func (r *room) waitFor(what string, cond func() bool) {
	r.t.Helper()
	for !cond() {
		select {
		case <-r.ctx.Done():
			r.t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// client is a browser-like HTTP client signed in through the one-time
// URL: it keeps the cookie and sends the page's Origin.
func (r *room) client() *http.Client {
	r.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: originTransport{r.srv.origin}}
	resp, err := c.Get(r.srv.URL())
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("signing in: %s", resp.Status)
	}
	return c
}

// originTransport adds the Origin a page's fetch sends on a POST.
type originTransport struct{ origin string }

func (o originTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Header.Get("Origin") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Origin", o.origin)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// writeTree makes files (path -> content) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// addReceiver starts one more node that trusts alice and receives into a
// fresh folder (returned), as `herald receive` would; done gets each
// completion.
func (r *room) addReceiver(name string, done chan<- push.Event) (*node.Node, string) {
	r.t.Helper()
	n := testNode(r.t, r.net, name)
	pres := presence.New(n, protocol.OfferReceive)
	dir := r.t.TempDir()
	stopped := make(chan struct{})
	r.t.Cleanup(func() { r.cancel(); <-stopped })
	go func() {
		defer close(stopped)
		n.RunWith(r.ctx, func(ctx context.Context) error {
			go pres.Run(ctx)
			return push.Receive(ctx, push.ReceiveConfig{Node: n, Dir: dir, OnEvent: func(e push.Event) {
				if e.Kind == push.EventComplete {
					done <- e
				}
			}})
		})
	}()
	r.waitFor(name+" to trust alice and alice to see "+name, func() bool {
		if _, ok := r.srv.pres.Lookup(n.ID.SignPub); !ok {
			return false
		}
		_, err := n.Trust.Trust(r.alice.ID.Fingerprint())
		return err == nil
	})
	return n, dir
}
