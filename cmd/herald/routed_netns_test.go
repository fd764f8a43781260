package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// smcrouteConf is the router configuration the routed test runs, and the
// one README's "Across subnets" shows: every herald group (the control
// group and the per-push data and feedback groups all lie in
// 239.0.0.0/8) is forwarded from each subnet to the others, as (*,G)
// routes that smcroute installs when the first datagram of a group
// arrives.
const smcrouteConf = `mroute from ea group 239.0.0.0/8 to eb ec
mroute from eb group 239.0.0.0/8 to ea ec
mroute from ec group 239.0.0.0/8 to ea eb
`

// routedLab is three subnets (198.18.1.0/24, .2.0/24, .3.0/24), one host
// each, joined by a router namespace running smcrouted.
type routedLab struct {
	t      *testing.T
	ctx    context.Context
	id     string
	router string
	hosts  []netlab.Host // a, b, c
	homes  map[string]string
	bin    string
}

func newRoutedLab(t *testing.T) *routedLab {
	t.Helper()
	if err := netlab.Available(); err != nil {
		t.Skipf("namespace tests need root, ip and nft: %v", err)
	}
	smcrouted, err := exec.LookPath("smcrouted")
	if err != nil {
		t.Skip("smcrouted not installed (apt install smcroute)")
	}
	if testing.Short() {
		t.Skip("network namespaces; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	suffix := make([]byte, 2)
	rand.Read(suffix)
	l := &routedLab{t: t, ctx: ctx, id: "hrt" + hex.EncodeToString(suffix), homes: map[string]string{}}
	l.router = l.id + "-rt"
	l.bin = buildHerald(ctx, t)
	var made []string
	t.Cleanup(func() {
		for i := len(made) - 1; i >= 0; i-- {
			if pids, err := exec.Command("ip", "netns", "pids", made[i]).Output(); err == nil {
				for _, p := range strings.Fields(string(pids)) {
					exec.Command("kill", "-9", p).Run()
				}
			}
			exec.Command("ip", "netns", "del", made[i]).Run()
		}
	})
	addNS := func(name string) {
		l.ip("netns", "add", name)
		made = append(made, name)
		l.ip("netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		l.ip("-n", name, "link", "set", "lo", "up")
	}
	addNS(l.router)
	l.ip("netns", "exec", l.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	for i, side := range []string{"a", "b", "c"} {
		h := netlab.Host{Name: l.id + "-" + side, Iface: netlab.HostIface, Addr: netip.MustParseAddr(fmt.Sprintf("198.18.%d.2", i+1))}
		addNS(h.Name)
		rtIf := "e" + side
		l.ip("link", "add", h.Iface, "netns", h.Name, "type", "veth", "peer", "name", rtIf, "netns", l.router)
		l.ip("-n", l.router, "addr", "add", fmt.Sprintf("198.18.%d.1/24", i+1), "dev", rtIf)
		l.ip("-n", l.router, "link", "set", rtIf, "up")
		l.ip("-n", h.Name, "addr", "add", h.Addr.String()+"/24", "dev", h.Iface)
		l.ip("-n", h.Name, "link", "set", h.Iface, "up")
		l.ip("-n", h.Name, "route", "add", "198.18.0.0/15", "via", fmt.Sprintf("198.18.%d.1", i+1))
		l.ip("-n", h.Name, "route", "add", netlab.MulticastRoute, "dev", h.Iface)
		l.hosts = append(l.hosts, h)
		l.homes[h.Name] = t.TempDir()
		herald(t, "--home", l.homes[h.Name], "--name", side, "id")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "smcroute.conf")
	if err := os.WriteFile(conf, []byte(smcrouteConf), 0o644); err != nil {
		t.Fatal(err)
	}
	daemon := exec.CommandContext(ctx, "ip", "netns", "exec", l.router, smcrouted, "-n", "-f", conf,
		"-u", filepath.Join(dir, "smcroute.sock"), "-P", filepath.Join(dir, "smcroute.pid"), "-l", "info")
	var log strings.Builder
	daemon.Stdout, daemon.Stderr = &log, &log
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		daemon.Process.Kill()
		daemon.Wait()
		if t.Failed() {
			t.Logf("smcrouted:\n%s", log.String())
		}
	})
	time.Sleep(time.Second) // VIFs and routes installed
	return l
}

func (l *routedLab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.CommandContext(l.ctx, "ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// cmd runs herald on h with the TTL the routed LAN needs: 4 hops, of
// which the router uses one.
func (l *routedLab) cmd(h netlab.Host, ttl string, args ...string) *exec.Cmd {
	full := append([]string{"--home", l.homes[h.Name], "--iface", h.Iface, "--ttl", ttl}, args...)
	argv := append([]string{"netns", "exec", h.Name, "unshare", "--uts", "--", "sh", "-c",
		`echo "$0" > /proc/sys/kernel/hostname && exec "$@"`, h.Name, l.bin}, full...)
	return exec.CommandContext(l.ctx, "ip", argv...)
}

// TestRoutedMulticastSmcroute: three subnets joined by a router running
// smcroute. With the default TTL 1 nothing crosses; with --ttl 4
// presence, an announcement and a push to both other subnets do, and the
// pushed file arrives identical.
func TestRoutedMulticastSmcroute(t *testing.T) {
	l := newRoutedLab(t)
	a, b, c := l.hosts[0], l.hosts[1], l.hosts[2]
	fp := func(h netlab.Host) string { return identityOf(t, l.homes[h.Name]).Fingerprint }

	peers := func(ttl string) map[string][]peerRow {
		out := map[string][]peerRow{}
		cmds := map[string]*exec.Cmd{}
		bufs := map[string]*strings.Builder{}
		for _, h := range l.hosts {
			cmds[h.Name] = l.cmd(h, ttl, "peers", "--wait", "3s", "--json")
			bufs[h.Name] = &strings.Builder{}
			cmds[h.Name].Stdout = bufs[h.Name]
			if err := cmds[h.Name].Start(); err != nil {
				t.Fatal(err)
			}
		}
		for name, cmd := range cmds {
			if err := cmd.Wait(); err != nil && exitOf(err) != exitTimeout { // 6: nobody answered, no rows
				t.Fatalf("peers on %s: %v", name, err)
			}
			out[name] = jsonLines[peerRow](t, bufs[name].String())
		}
		return out
	}
	if got := peers("1"); len(got[a.Name])+len(got[b.Name])+len(got[c.Name]) != 0 {
		t.Fatalf("with TTL 1 the router must not forward, yet peers were heard: %+v", got)
	}
	got := peers("4")
	for _, h := range l.hosts {
		for _, other := range l.hosts {
			if other != h && !listsVia(got[h.Name], fp(other), "multicast") {
				t.Fatalf("%s does not list %s by multicast across the router: %+v", h.Name, other.Name, got[h.Name])
			}
		}
	}

	// Trust as README says: the receivers trust the sender they listed.
	for _, h := range []netlab.Host{b, c} {
		if out, err := l.cmd(h, "4", "trust", fp(a)).CombinedOutput(); err != nil {
			t.Fatalf("trust on %s: %v\n%s", h.Name, err, out)
		}
	}
	var listens []*lineWatcher
	for _, h := range []netlab.Host{b, c} {
		cmd := l.cmd(h, "4", "listen")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		listens = append(listens, watchLines(stdout))
	}
	time.Sleep(time.Second)
	if out, err := l.cmd(a, "4", "announce", "hello, other subnets").CombinedOutput(); err != nil {
		t.Fatalf("announce: %v\n%s", err, out)
	}
	for i, w := range listens {
		if !w.waitFor("hello, other subnets", 10*time.Second) {
			t.Errorf("listener on %s did not show the announcement:\n%s", l.hosts[i+1].Name, w)
		}
	}

	file := randomFile(t, t.TempDir(), "lesson.bin", 8<<20)
	var receivers []*exec.Cmd
	var dirs []string
	for _, h := range []netlab.Host{b, c} {
		d := t.TempDir()
		dirs = append(dirs, d)
		cmd := l.cmd(h, "4", "receive", "--once", "--dir", d)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		receivers = append(receivers, cmd)
	}
	time.Sleep(time.Second)
	out, err := l.cmd(a, "4", "push", "--json", "--to", fp(b)+","+fp(c), file).CombinedOutput()
	if exitOf(err) != exitOK {
		t.Fatalf("push --ttl 4 across the router: exit %d\n%s", exitOf(err), out)
	}
	if _, rep := pushEvents(t, string(out)); rep.Completed != 2 {
		t.Fatalf("report %+v, want both other subnets completed\n%s", rep, out)
	}
	for i, cmd := range receivers {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("receive on %s: %v", l.hosts[i+1].Name, err)
		}
		sameFile(t, file, filepath.Join(dirs[i], "lesson.bin"))
	}
}
