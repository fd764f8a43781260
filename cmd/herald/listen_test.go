package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/syncbuf"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
)

// msgWait bounds every wait of the messaging CLI tests.
const msgWait = 20 * time.Second

// msgPeer is a library herald node on a MemNet: the other side of a
// messaging command under test (one urfave/cli app runs at a time).
type msgPeer struct {
	node *node.Node
	eng  *message.Engine
	pres *presence.Presence
	msgs chan message.Message
}

// startMsgPeer runs a node named name with presence and a message engine,
// beaconing every 100 ms so the command under test learns it quickly.
func startMsgPeer(t *testing.T, net *multicast.MemNet, name string, cfg message.Config) *msgPeer {
	t.Helper()
	n, err := node.Open(node.Config{Home: t.TempDir(), Name: name, Network: net.Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	pres := presence.New(n, protocol.OfferListen)
	cfg.Node, cfg.Peers = n, pres
	eng, err := message.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &msgPeer{node: n, eng: eng, pres: pres, msgs: make(chan message.Message, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.RunWith(ctx, func(ctx context.Context) error {
			var wg sync.WaitGroup
			wg.Go(func() { pres.Run(ctx) })
			wg.Go(func() { eng.Run(ctx) })
			wg.Go(func() {
				for ctx.Err() == nil {
					beaconNow(n)
					sleepCtx(ctx, 100*time.Millisecond)
				}
			})
			for m := range eng.Messages() {
				p.msgs <- m
			}
			wg.Wait()
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return p
}

// waitPeer waits until p hears the node with fingerprint fp, and a
// little more, so that node has heard p's beacons too and can name it.
func (p *msgPeer) waitPeer(t *testing.T, fp string) {
	t.Helper()
	deadline := time.Now().Add(msgWait)
	for {
		for _, info := range p.pres.Peers() {
			if info.Fingerprint == fp {
				time.Sleep(300 * time.Millisecond)
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never heard %s", p.node.ID.Name, fp)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// next returns the next message p shows.
func (p *msgPeer) next(t *testing.T) message.Message {
	t.Helper()
	select {
	case m := <-p.msgs:
		return m
	case <-time.After(msgWait):
		t.Fatalf("%s: no message within %v", p.node.ID.Name, msgWait)
		return message.Message{}
	}
}

// bgCLI is a command running in the background of a test.
type bgCLI struct {
	stdout, stderr syncbuf.Buffer
	cancel         context.CancelFunc
	code           chan int
}

// startCLI runs the CLI with args on network until stop, reading stdin.
func startCLI(t *testing.T, network multicast.Network, stdin io.Reader, args ...string) *bgCLI {
	t.Helper()
	b := &bgCLI{code: make(chan int, 1)}
	app := newApp(&b.stdout, &b.stderr)
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	app.Reader = stdin
	ctx, cancel := context.WithTimeout(withNetwork(context.Background(), network), 2*msgWait)
	b.cancel = cancel
	go func() { b.code <- runApp(ctx, app, append([]string{"herald"}, args...)) }()
	t.Cleanup(func() { b.stop() })
	return b
}

// waitOutput waits until stdout contains want, and returns stdout.
func (b *bgCLI) waitOutput(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(msgWait)
	for {
		out := b.stdout.String()
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("stdout lacks %q after %v:\n%s\nstderr:\n%s", want, msgWait, out, b.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the command (as Ctrl-C would) and returns its exit code.
func (b *bgCLI) stop() int {
	b.cancel()
	code := <-b.code
	b.code <- code // stop may be called again (cleanup)
	return code
}

// TestListenShowsRunsHookAndRecords: a message from a peer is printed as
// JSON, handed to --exec in the environment only (its shell syntax stays
// inert), and kept in the history.
func TestListenShowsRunsHookAndRecords(t *testing.T) {
	net := multicast.NewMemNet(1)
	home, dir := t.TempDir(), t.TempDir()
	herald(t, "--home", home, "--name", "carol", "id")
	carol := identityOf(t, home).Fingerprint
	alice := startMsgPeer(t, net, "alice", message.Config{RetainFirst: 50 * time.Millisecond})

	hookOut, pwned := filepath.Join(dir, "hook.txt"), filepath.Join(dir, "pwned")
	hook := fmt.Sprintf(`sh -c 'printf "%%s|%%s|%%s|%%s" "$HERALD_SENDER" "$HERALD_KIND" "$HERALD_PRIORITY" "$HERALD_TEXT" > "$0"' %s`, hookOut)
	cli := startCLI(t, net.Host(multicast.Link{Loss: 0.1}), nil, "--home", home, "listen", "--json", "--exec", hook)

	alice.waitPeer(t, carol)
	text := "pay $(touch " + pwned + ") `touch " + pwned + "` \x1b[31mred\nsecond line"
	go alice.eng.Post(context.Background(), message.Post{Channel: identity.OpenChannel(), Text: text,
		Announce: true, Priority: true, Retain: 3 * time.Second}) // re-sent until the listener has joined

	out := cli.waitOutput(t, `"kind":"announce"`)
	entries := jsonLines[history.Entry](t, out)
	if len(entries) != 1 {
		t.Fatalf("listen printed %d messages, want 1:\n%s", len(entries), out)
	}
	e := entries[0]
	if e.Text != text || e.Sender != "alice" || e.Fingerprint != alice.node.ID.Fingerprint() ||
		e.Channel != "open" || !e.Priority || e.Trust != "seen" {
		t.Fatalf("printed %+v", e)
	}
	waitFile(t, hookOut, "alice|announce|high|"+text)
	time.Sleep(300 * time.Millisecond) // retained re-sends keep arriving
	if code := cli.stop(); code != exitOK {
		t.Fatalf("listen exit %d: %s", code, cli.stderr.String())
	}
	if got := jsonLines[history.Entry](t, cli.stdout.String()); len(got) != 1 {
		t.Fatalf("retained message printed %d times", len(got))
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("message text was run by a shell")
	}
	kept := jsonLines[history.Entry](t, herald(t, "--home", home, "history", "--json").stdout)
	if len(kept) != 1 || kept[0].Text != text || kept[0].ID != e.ID {
		t.Fatalf("history holds %+v, want the one message", kept)
	}
}

// TestListenChannelFilter: listen --channel shows that channel only.
func TestListenChannelFilter(t *testing.T) {
	net := multicast.NewMemNet(2)
	home := t.TempDir()
	herald(t, "--home", home, "--name", "carol", "id")
	code := jsonLines[channelJSON](t, herald(t, "--home", home, "channel", "new", "--json", "class").stdout)[0].JoinCode
	class, err := identity.ParseJoinCode(code)
	if err != nil {
		t.Fatal(err)
	}
	carol := identityOf(t, home).Fingerprint
	alice := startMsgPeer(t, net, "alice", message.Config{RetainFirst: 50 * time.Millisecond})
	cli := startCLI(t, net.Host(multicast.Link{}), nil, "--home", home, "listen", "--channel", "class")
	alice.waitPeer(t, carol)
	for _, p := range []message.Post{
		{Channel: identity.OpenChannel(), Text: "on the open channel", Retain: 2 * time.Second},
		{Channel: class, Text: "on class", Retain: 2 * time.Second},
	} {
		go alice.eng.Post(context.Background(), p)
	}
	out := cli.waitOutput(t, "on class")
	time.Sleep(300 * time.Millisecond)
	cli.stop()
	if strings.Contains(cli.stdout.String(), "open channel") {
		t.Fatalf("--channel class printed the open channel:\n%s", out)
	}
	if !strings.Contains(out, "#class alice ("+alice.node.ID.Fingerprint()+", seen): on class") {
		t.Fatalf("unexpected line format:\n%s", out)
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(msgWait)
	for {
		got, err := os.ReadFile(path)
		if err == nil && string(got) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q (%v), want %q", path, got, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReportRejections(t *testing.T) {
	var b strings.Builder
	reportRejections(&b, message.Stats{})
	if b.Len() != 0 {
		t.Fatalf("nothing refused, yet printed %q", b.String())
	}
	reportRejections(&b, message.Stats{BadSignature: 1, WrongKey: 2, ChangedKey: 3})
	if got := b.String(); got != "refused packets: 1 bad signature, 2 wrong key, 3 changed key\n" {
		t.Fatalf("got %q", got)
	}
}
