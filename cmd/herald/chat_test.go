package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/multicast"
)

// TestChatPlainLines runs chat with piped input: typed lines and /msg
// reach the peer, the peer's lines and its arrival are shown, /quit ends
// with exit 0.
func TestChatPlainLines(t *testing.T) {
	net := multicast.NewMemNet(21)
	home := t.TempDir()
	herald(t, "--home", home, "--name", "bob", "id")
	bob := identityOf(t, home).Fingerprint
	alice := startMsgPeer(t, net, "alice", message.Config{})
	in, typing := io.Pipe()
	cli := startCLI(t, net.Host(multicast.Link{Loss: 0.05}), in, "--home", home, "chat")
	defer typing.Close()

	cli.waitOutput(t, "* alice ("+alice.node.ID.Fingerprint()+") joined")
	alice.waitPeer(t, bob)
	if _, err := alice.eng.Post(context.Background(), message.Post{Channel: alice.node.Channels.Default(), Text: "hi bob"}); err != nil {
		t.Fatal(err)
	}
	cli.waitOutput(t, "#open alice ("+alice.node.ID.Fingerprint()+", seen): hi bob")

	fmt.Fprintln(typing, "hello alice")
	if m := alice.next(t); m.Text != "hello alice" || m.Kind != message.KindChat || m.Fingerprint != bob {
		t.Fatalf("alice shows %+v", m)
	}
	fmt.Fprintln(typing, "/msg alice psst")
	if m := alice.next(t); m.Text != "psst" || !m.Private {
		t.Fatalf("alice shows %+v", m)
	}
	cli.waitOutput(t, "private to alice ("+alice.node.ID.Fingerprint()+"): psst  [received]")
	fmt.Fprintln(typing, "/quit")
	select {
	case code := <-cli.code:
		cli.code <- code
		if code != exitOK {
			t.Fatalf("chat exit %d: %s", code, cli.stderr.String())
		}
	case <-time.After(msgWait):
		t.Fatal("/quit did not end chat")
	}
	if !strings.Contains(cli.stdout.String(), "bob (") || !strings.Contains(cli.stdout.String(), "): hello alice") {
		t.Fatalf("own line not shown:\n%s", cli.stdout.String())
	}
}

// TestChatTmux drives two `herald chat` processes in tmux, talking over
// real multicast on a loopback interface: in a private network namespace
// (lo with multicast on) when root, else on the host's lo if it allows
// multicast. It checks lines cross both ways and that a line being typed
// survives an incoming message intact.
func TestChatTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and drives tmux; skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt install tmux)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wrap := loopbackMulticast(ctx, t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "herald")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, "tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	group := fmt.Sprintf("239.77.%d.%d:%d", randByte(), randByte(), 20000+int(randByte())*100+int(randByte()%100))
	for _, name := range []string{"ann", "ben"} {
		home := filepath.Join(dir, name)
		herald(t, "--home", home, "--name", name, "id")
		shell := fmt.Sprintf("%s --home %s --iface lo --group %s chat; echo EXIT=$?; sleep 60", bin, home, group)
		tmux(append([]string{"new-session", "-d", "-s", name, "-x", "150", "-y", "20"}, wrap(shell)...)...)
	}
	pane := func(name string) string { return tmux("capture-pane", "-p", "-t", name) }
	waitPane := func(name, want string) string {
		t.Helper()
		deadline := time.Now().Add(msgWait)
		for {
			p := pane(name)
			if strings.Contains(p, want) {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's pane lacks %q:\n%s", name, want, p)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitPane("ann", "* ben (")
	waitPane("ben", "* ann (")

	tmux("send-keys", "-t", "ben", "-l", "draft in progress")
	waitPane("ben", "#open> draft in progress")
	tmux("send-keys", "-t", "ann", "-l", "hello from ann")
	tmux("send-keys", "-t", "ann", "Enter")
	p := waitPane("ben", "): hello from ann")
	lines := strings.Split(strings.TrimRight(p, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "#open> draft in progress" {
		t.Fatalf("ben's input line after an incoming message is %q:\n%s", last, p)
	}
	tmux("send-keys", "-t", "ben", "-l", ", done")
	tmux("send-keys", "-t", "ben", "Enter")
	waitPane("ann", "): draft in progress, done")
	for _, name := range []string{"ann", "ben"} {
		tmux("send-keys", "-t", name, "C-c")
		waitPane(name, "EXIT=0")
	}
}

func randByte() byte {
	var b [1]byte
	rand.Read(b[:])
	return b[0]
}

// loopbackMulticast finds a loopback interface that carries multicast and
// returns how to run a shell command on it: the host's lo if it has the
// MULTICAST flag, else a fresh network namespace whose lo gets it
// (removed at cleanup). It skips the test when neither is possible.
func loopbackMulticast(ctx context.Context, t *testing.T) func(shell string) []string {
	if lo, err := net.InterfaceByName("lo"); err == nil && lo.Flags&net.FlagMulticast != 0 && lo.Flags&net.FlagUp != 0 {
		return func(shell string) []string { return []string{shell} }
	}
	if os.Geteuid() != 0 {
		t.Skip("lo has no MULTICAST flag and a private namespace needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("lo has no MULTICAST flag and ip (iproute2) is missing to make a namespace")
	}
	var id [4]byte
	rand.Read(id[:])
	ns := "hchat-" + hex.EncodeToString(id[:])
	for _, args := range [][]string{{"netns", "add", ns}, {"-n", ns, "link", "set", "lo", "up", "multicast", "on"}} {
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			exec.Command("ip", "netns", "del", ns).Run()
			t.Skipf("cannot make a namespace with multicast on lo: ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	return func(shell string) []string { return []string{"ip", "netns", "exec", ns, "sh", "-c", shell} }
}
