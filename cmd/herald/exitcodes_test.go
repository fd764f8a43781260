package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/lockfile"
	"github.com/herald-lan/herald/internal/syncbuf"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

// refuserOn runs a library receiver that trusts nobody, so it refuses
// every push it is offered.
func refuserOn(t *testing.T, net *multicast.MemNet) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	nd, err := node.Open(node.Config{Home: t.TempDir(), Name: "strict", Network: net.Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nd.RunWith(ctx, func(ctx context.Context) error {
			return push.Receive(ctx, push.ReceiveConfig{Node: nd, Dir: t.TempDir()})
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// TestExitCodeTable drives the real CLI once per row of README's exit
// code table (and the rows issue reports asked for), checking the code
// and the message a person reads.
func TestExitCodeTable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(file, []byte(strings.Repeat("herald ", 30_000)), 0o644)
	type row struct {
		name     string
		code     int
		run      func(t *testing.T) result
		want     []string // in stderr
		wantNot  []string // not in stderr or stdout
		wantOnce string   // in stderr exactly once
	}
	rows := []row{
		{name: "success", code: exitOK, run: func(t *testing.T) result {
			return cliRun{args: []string{"version"}}.exec(t)
		}},
		{name: "other error: a second receive on one home", code: exitError, run: func(t *testing.T) result {
			home := t.TempDir()
			herald(t, "--home", home, "id")
			lock, err := lockfile.Acquire(filepath.Join(home, receiveLockName))
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Release()
			return cliRun{args: []string{"--home", home, "receive", "--dir", t.TempDir()}, network: multicast.NewMemNet(1).Host(multicast.Link{})}.exec(t)
		}, want: []string{"already runs 'herald receive'", "process "}, wantNot: []string{"waiting for pushes"}},
		{name: "usage: push of a missing file", code: exitUsage, run: func(t *testing.T) result {
			return cliRun{args: []string{"--home", t.TempDir(), "push", "nosuch.pdf"}}.exec(t)
		}, want: []string{"nosuch.pdf: no such file or folder"}, wantNot: []string{"lstat"}},
		{name: "network: unknown --iface, before any banner", code: exitNetwork, run: func(t *testing.T) result {
			return cliRun{args: []string{"--home", t.TempDir(), "--iface", "eth9", "receive", "--dir", t.TempDir()}}.exec(t)
		}, want: []string{"--iface eth9", "network interface not found", "hint: list the interfaces with 'ip link'"}, wantNot: []string{"waiting for pushes"}},
		{name: "trust: the open channel needs --no-encrypt", code: exitTrust, run: func(t *testing.T) result {
			return cliRun{args: []string{"--home", t.TempDir(), "push", file}, network: multicast.NewMemNet(2).Host(multicast.Link{})}.exec(t)
		}, want: []string{"readable by anyone", "--no-encrypt"}},
		{name: "partial: fewer receivers than required", code: exitPartial, run: func(t *testing.T) result {
			net := multicast.NewMemNet(3)
			receiverOn(t, net)
			return cliRun{args: []string{"--home", t.TempDir(), "push", "--no-encrypt", "--min-receivers", "2", "--wait", "1s", file},
				network: net.Host(multicast.Link{})}.exec(t)
		}, want: []string{"1 of 2 expected receivers completed"}},
		{name: "timeout: peers with nobody answering", code: exitTimeout, run: func(t *testing.T) result {
			return cliRun{args: []string{"--home", t.TempDir(), "peers", "--wait", "300ms"}, network: multicast.NewMemNet(4).Host(multicast.Link{})}.exec(t)
		}, want: []string{"no peers answered within 300ms"}},
		{name: "timeout: send without receipt says it once", code: exitTimeout, run: func(t *testing.T) result {
			net := multicast.NewMemNet(5)
			startMsgPeer(t, net, "deaf", message.Config{IgnorePrivate: true})
			return cliRun{args: []string{"--home", t.TempDir(), "send", "--to", "deaf", "--timeout", "1s", "hello?"},
				network: net.Host(multicast.Link{})}.exec(t)
		}, wantOnce: "no receipt", wantNot: []string{"context deadline exceeded", "message: "}},
		{name: "refused by every receiver", code: exitRefused, run: func(t *testing.T) result {
			net := multicast.NewMemNet(6)
			refuserOn(t, net)
			return cliRun{args: []string{"--home", t.TempDir(), "push", "--no-encrypt", "--wait", "2s", file},
				network: net.Host(multicast.Link{})}.exec(t)
		}, want: []string{"refused by every receiver", "does not trust this sender"}},
		{name: "interrupted push", code: exitInterrupted, run: interruptPush, want: []string{"interrupted: ", " % sent; push again to resume"},
			wantNot: []string{"context canceled"}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			res := row.run(t)
			t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			if res.code != row.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, row.code, res.stdout, res.stderr)
			}
			for _, w := range row.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			for _, w := range row.wantNot {
				if strings.Contains(res.stderr+res.stdout, w) {
					t.Errorf("output has %q:\n%s%s", w, res.stdout, res.stderr)
				}
			}
			if row.wantOnce != "" && strings.Count(res.stderr, row.wantOnce) != 1 {
				t.Errorf("stderr says %q %d times, want once:\n%s", row.wantOnce, strings.Count(res.stderr, row.wantOnce), res.stderr)
			}
		})
	}
	for _, d := range exitCodeDocs {
		if !slices.ContainsFunc(rows, func(r row) bool { return r.code == d.Code }) {
			t.Errorf("exit code %d (%s) has no row in this table", d.Code, d.Meaning)
		}
	}
}

// interruptPush starts a slow push and cancels it, as Ctrl-C does, once
// data is flowing.
func interruptPush(t *testing.T) result {
	big := filepath.Join(t.TempDir(), "big.bin")
	os.WriteFile(big, make([]byte, 4<<20), 0o644)
	net := multicast.NewMemNet(7)
	receiverOn(t, net)
	var stdout, stderr syncbuf.Buffer
	app := newApp(&stdout, &stderr)
	ctx, cancel := context.WithCancel(withNetwork(context.Background(), net.Host(multicast.Link{})))
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- runApp(ctx, app, []string{"herald", "--home", t.TempDir(), "push", "--no-encrypt", "--rate", "4M", "--min-receivers", "1", big})
	}()
	progress := regexp.MustCompile(`(?m)^push +\d+%`)
	for deadline := time.Now().Add(20 * time.Second); !progress.MatchString(stdout.String()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no progress within 20s:\n%s%s", stdout.String(), stderr.String())
		}
	}
	cancel()
	select {
	case c := <-code:
		if !strings.Contains(stdout.String(), "interrupted") {
			t.Errorf("the summary does not say the push was interrupted:\n%s", stdout.String())
		}
		return result{stdout: stdout.String(), stderr: stderr.String(), code: c}
	case <-time.After(20 * time.Second):
		t.Fatal("push did not stop within 20s of Ctrl-C")
	}
	return result{}
}

// TestLoopbackIfaceWarned: --iface lo works, but says only this machine
// will hear.
func TestLoopbackIfaceWarned(t *testing.T) {
	res := cliRun{args: []string{"--home", t.TempDir(), "--iface", "lo", "peers", "--wait", "300ms"}}.exec(t)
	if !strings.Contains(res.stderr, "--iface lo is the loopback interface") {
		t.Fatalf("no loopback warning (exit %d):\n%s", res.code, res.stderr)
	}
}

// A sender's own receive (another process on the same home) is not one
// of its receivers: the push finds nobody rather than a receiver "-".
func TestOwnReceiveIsNotAReceiver(t *testing.T) {
	home := t.TempDir()
	herald(t, "--home", home, "--name", "teacher", "id")
	net := multicast.NewMemNet(21)
	ctx, cancel := context.WithCancel(context.Background())
	own, err := node.Open(node.Config{Home: home, Network: net.Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		own.RunWith(ctx, func(ctx context.Context) error {
			return push.Receive(ctx, push.ReceiveConfig{Node: own, Dir: t.TempDir(), AcceptAny: true})
		})
	}()
	defer func() { cancel(); <-done }()
	file := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(file, []byte("lesson"), 0o644)
	res := cliRun{args: []string{"--home", home, "push", "--no-encrypt", "--wait", "1s", file}, network: net.Host(multicast.Link{})}.exec(t)
	if res.code != exitTimeout || strings.Contains(res.stdout, "receiver joined:") || !strings.Contains(res.stdout, "no receiver joined") {
		t.Fatalf("exit %d (want %d, nobody else listens)\n%s%s", res.code, exitTimeout, res.stdout, res.stderr)
	}
}

// receive --dir creates a folder that does not exist yet, and says so.
func TestReceiveCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lessons", "week1")
	cli := startCLI(t, multicast.NewMemNet(22).Host(multicast.Link{}), nil, "--home", t.TempDir(), "receive", "--dir", dir)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(cli.stderr.String(), "waiting for pushes"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("receive did not start:\n%s", cli.stderr.String())
		}
	}
	if code := cli.stop(); code != exitOK {
		t.Fatalf("exit %d\n%s", code, cli.stderr.String())
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() || !strings.Contains(cli.stderr.String(), "created "+dir) {
		t.Fatalf("--dir not created (%v) or not said:\n%s", err, cli.stderr.String())
	}
}
