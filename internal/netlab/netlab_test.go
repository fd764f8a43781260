package netlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testTimeout bounds every test that builds a lab.
const testTimeout = 60 * time.Second

// newTestLab skips when labs cannot be built and closes the lab at the end
// of the test, also when it fails.
func newTestLab(t *testing.T, cfg Config) *Lab {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("network namespaces unavailable: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	l, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

func namespaceList(t *testing.T) []string {
	t.Helper()
	names, err := listNamespaces(context.Background())
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	return names
}

func TestConfigRejected(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no receivers", Config{Receivers: 0}},
		{"too many receivers", Config{Receivers: MaxReceivers + 1}},
		{"negative rate", Config{Receivers: 1, RateMbit: -1}},
		{"rate too high", Config{Receivers: 1, RateMbit: MaxRateMbit + 1}},
		{"prefix with digits", Config{Receivers: 1, Prefix: "hl1"}},
		{"prefix too long", Config{Receivers: 1, Prefix: "heraldx"}},
		{"prefix with slash", Config{Receivers: 1, Prefix: "a/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), tt.cfg)
			if !errors.Is(err, ErrBadConfig) {
				t.Fatalf("New(%+v) = %v, want ErrBadConfig", tt.cfg, err)
			}
		})
	}
}

func TestLabLayout(t *testing.T) {
	l := newTestLab(t, Config{Receivers: 2, RateMbit: 100})
	ctx := context.Background()
	want := []struct{ name, addr string }{
		{l.ID + "-s", "198.18.0.1"}, {l.ID + "-r1", "198.18.0.2"}, {l.ID + "-r2", "198.18.0.3"},
	}
	hosts := l.Hosts()
	if len(hosts) != len(want) {
		t.Fatalf("%d hosts, want %d", len(hosts), len(want))
	}
	for i, w := range want {
		h := hosts[i]
		t.Run(w.name, func(t *testing.T) {
			if h.Name != w.name || h.Addr.String() != w.addr || h.Iface != HostIface {
				t.Fatalf("host %+v, want %s %s %s", h, w.name, w.addr, HostIface)
			}
			if len(h.Name) > 15 {
				t.Errorf("namespace name %q longer than 15", h.Name)
			}
			checks := []struct {
				args []string
				want string
			}{
				{[]string{"ip", "-n", h.Name, "-4", "addr", "show", "dev", HostIface}, w.addr + "/24"},
				{[]string{"ip", "-n", h.Name, "route", "show"}, "239.0.0.0/8 dev eth0"},
				{[]string{"tc", "-n", h.Name, "qdisc", "show", "dev", HostIface}, "rate 100Mbit"},
				{[]string{"ip", "netns", "exec", h.Name, "nft", "list", "chain", "inet", NftTable, "output"}, "ip daddr 239.0.0.0/8 accept"},
			}
			for _, c := range checks {
				out, err := run(ctx, l.log, nil, c.args[0], c.args[1:]...)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(out), c.want) {
					t.Errorf("%v: %q lacks %q", c.args, out, c.want)
				}
			}
			out, err := run(ctx, l.log, nil, "ip", "-n", h.Name, "route", "show", "default")
			if err != nil || strings.TrimSpace(string(out)) != "" {
				t.Errorf("host has a default route %q (%v); it must have none", out, err)
			}
		})
	}
	t.Run("bridge without snooping", func(t *testing.T) {
		out, err := run(ctx, l.log, nil, "ip", "-n", l.BridgeNS, "-d", "link", "show", BridgeName)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"mcast_snooping 0", "mcast_querier 0"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("bridge details lack %q: %s", want, out)
			}
		}
	})
}

func TestMulticastDelivery(t *testing.T) {
	l := newTestLab(t, Config{Receivers: 2})
	tests := []struct {
		name      string
		permille  int
		delivered bool
	}{
		{"no loss reaches every receiver", NoLoss, true},
		{"total outage reaches none", TotalLoss, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, r := range l.Receivers {
				if err := l.SetLoss(r, tt.permille); err != nil {
					t.Fatal(err)
				}
			}
			// A fresh port per case, so a late datagram of one case cannot
			// satisfy the next.
			group := "239.255.90.1:" + []string{"9911", "9912"}[i]
			var listeners []*helperProc
			for _, r := range l.Receivers {
				p, err := startHelper(ctx, t, l, r, "listen", group, HostIface, "1500ms")
				if err != nil {
					t.Fatal(err)
				}
				if line := p.nextLine(); line != "ready" {
					t.Fatalf("receiver %s: first line %q, want ready", r.Name, line)
				}
				listeners = append(listeners, p)
			}
			sender, err := startHelper(ctx, t, l, l.Sender, "send", group, "20", "20ms")
			if err != nil {
				t.Fatal(err)
			}
			if out, code, err := sender.finish(); err != nil || code != 0 {
				t.Fatalf("sender: code %d, %v, %q", code, err, out)
			}
			for i, p := range listeners {
				out, code, err := p.finish()
				if err != nil {
					t.Fatalf("receiver %d: %v", i+1, err)
				}
				got := code == 0 && strings.Contains(out, "got")
				if got != tt.delivered {
					t.Errorf("receiver %d: delivered=%v (exit %d, %q), want %v", i+1, got, code, out, tt.delivered)
				}
				if !got && code != exitTimeout {
					t.Errorf("receiver %d: exit %d, want timeout %d", i+1, code, exitTimeout)
				}
			}
			c, err := l.Counters(ctx, l.Sender)
			if err != nil {
				t.Fatal(err)
			}
			if c.TxPackets < 20 {
				t.Errorf("sender tx_packets %d, want >= 20", c.TxPackets)
			}
			for _, h := range l.Hosts() {
				if drops, err := l.GuardDrops(ctx, h); err != nil || drops != 0 {
					t.Errorf("%s: guard drops %d (%v), want 0", h.Name, drops, err)
				}
			}
		})
	}
}

func TestCloseRemovesEverything(t *testing.T) {
	l := newTestLab(t, Config{Receivers: 3, RateMbit: 10})
	// A process left running in a namespace must not keep it alive.
	straggler := l.Command(context.Background(), l.Receivers[0], "sleep", "30")
	if err := straggler.Start(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_ = straggler.Wait() // killed by Close
	tests := []struct {
		name  string
		check func() error
	}{
		{"second Close is a no-op", l.Close},
		{"SetLoss after Close", func() error {
			if err := l.SetLoss(l.Receivers[0], 10); !errors.Is(err, ErrClosed) {
				return errors.New("SetLoss after Close did not return ErrClosed: " + errString(err))
			}
			return nil
		}},
		{"no namespace left", func() error {
			for _, n := range namespaceList(t) {
				if strings.HasPrefix(n, l.ID) {
					return errors.New("namespace left: " + n)
				}
			}
			return nil
		}},
		{"lock file removed", func() error {
			if _, err := os.Stat(filepath.Join(lockDir, l.ID+sweepLockSuffix)); !errors.Is(err, os.ErrNotExist) {
				return errors.New("lock file still there: " + errString(err))
			}
			return nil
		}},
		{"straggler killed", func() error {
			if straggler.ProcessState == nil || straggler.ProcessState.Success() {
				return errors.New("sleep in the namespace was not killed")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func TestSweep(t *testing.T) {
	const prefix = "hlswp" // its own family, so other tests' labs are never candidates
	live := newTestLab(t, Config{Receivers: 1, Prefix: prefix})
	ctx := context.Background()
	// A crashed run: namespaces of an id nobody holds a lock on.
	stale := prefix + "beef"
	for _, role := range []string{"-br", "-s", "-r1"} {
		if _, err := run(ctx, live.log, nil, "ip", "netns", "add", stale+role); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = removeLabNamespaces(context.Background(), stale) })
	removed, err := Sweep(ctx, prefix)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	slices.Sort(removed)
	if want := []string{stale + "-br", stale + "-r1", stale + "-s"}; !slices.Equal(removed, want) {
		t.Errorf("Sweep removed %q, want %q", removed, want)
	}
	names := namespaceList(t)
	tests := []struct {
		ns      string
		present bool
	}{
		{stale + "-s", false}, {stale + "-br", false},
		{live.Sender.Name, true}, {live.Receivers[0].Name, true}, {live.BridgeNS, true},
	}
	for _, tt := range tests {
		t.Run(tt.ns, func(t *testing.T) {
			if got := slices.Contains(names, tt.ns); got != tt.present {
				t.Errorf("present=%v, want %v", got, tt.present)
			}
		})
	}
}

func TestBurstLoss(t *testing.T) {
	l := newTestLab(t, Config{Receivers: 1})
	r := l.Receivers[0]
	tests := []struct {
		name    string
		burst   Burst
		wantErr error
	}{
		{"toggles and cleans up", Burst{Permille: 500, MeanOutage: 5 * time.Millisecond, Seed: 1}, nil},
		{"zero permille rejected", Burst{Permille: 0, MeanOutage: time.Millisecond}, ErrBadConfig},
		{"total permille rejected", Burst{Permille: 1000, MeanOutage: time.Millisecond}, ErrBadConfig},
		{"sub-millisecond outage rejected", Burst{Permille: 10, MeanOutage: time.Microsecond}, ErrBadConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if err := l.RunBurstLoss(ctx, r, tt.burst); !errors.Is(err, tt.wantErr) {
				t.Fatalf("RunBurstLoss = %v, want %v", err, tt.wantErr)
			}
			out, err := exec.Command("ip", "netns", "exec", r.Name, "nft", "list", "chain", "inet", NftTable, "input").CombinedOutput()
			if err != nil {
				t.Fatalf("nft: %v %s", err, out)
			}
			if strings.Contains(string(out), "drop") {
				t.Errorf("loss rule left after RunBurstLoss: %s", out)
			}
		})
	}
}

func TestSetLossRejects(t *testing.T) {
	l := newTestLab(t, Config{Receivers: 1})
	tests := []struct {
		name     string
		host     Host
		permille int
		want     error
	}{
		{"negative", l.Receivers[0], -1, ErrBadConfig},
		{"over 1000", l.Receivers[0], 1001, ErrBadConfig},
		{"foreign host", Host{Name: "not-a-lab-ns"}, 10, ErrUnknownHost},
		{"valid", l.Receivers[0], 50, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.SetLoss(tt.host, tt.permille); !errors.Is(err, tt.want) {
				t.Fatalf("SetLoss(%d) = %v, want %v", tt.permille, err, tt.want)
			}
		})
	}
}

// TestRandomLossRate checks that SetLoss drops about the asked fraction.
// 400 datagrams at 300 permille: mean 280 received, standard deviation about
// 9, so the bounds below are more than 8 deviations wide.
func TestRandomLossRate(t *testing.T) {
	const sent, permille, low, high = 400, 300, 200, 360
	l := newTestLab(t, Config{Receivers: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := l.Receivers[0]
	if err := l.SetLoss(r, permille); err != nil {
		t.Fatal(err)
	}
	group := "239.255.90.2:9913"
	counter, err := startHelper(ctx, t, l, r, "count", group, HostIface, "2s")
	if err != nil {
		t.Fatal(err)
	}
	if line := counter.nextLine(); line != "ready" {
		t.Fatalf("first line %q, want ready", line)
	}
	sender, err := startHelper(ctx, t, l, l.Sender, "send", group, "400", "1ms")
	if err != nil {
		t.Fatal(err)
	}
	if out, code, err := sender.finish(); err != nil || code != 0 {
		t.Fatalf("sender: code %d, %v, %q", code, err, out)
	}
	out, code, err := counter.finish()
	if err != nil || code != 0 {
		t.Fatalf("counter: code %d, %v, %q", code, err, out)
	}
	got, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("counter output %q: %v", out, err)
	}
	t.Logf("received %d of %d at %d permille loss", got, sent, permille)
	if got < low || got > high {
		t.Errorf("received %d of %d at %d permille loss, want %d..%d", got, sent, permille, low, high)
	}
}

func TestKillProcesses(t *testing.T) {
	l := newTestLab(t, Config{Receivers: 2})
	var sleepers []*exec.Cmd
	for _, h := range l.Hosts() {
		c := l.Command(context.Background(), h, "sleep", "30")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		sleepers = append(sleepers, c)
	}
	// Start returns once ip is forked, before it entered the namespace
	// and exec'd sleep (same pid): a process still in the root namespace
	// is not the lab's to kill, and the test raced it (CI, once).
	for _, c := range sleepers {
		comm := fmt.Sprintf("/proc/%d/comm", c.Process.Pid)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if b, _ := os.ReadFile(comm); strings.TrimSpace(string(b)) == "sleep" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: sleep not started within 5 s", comm)
			}
		}
	}
	if err := l.KillProcesses(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, c := range sleepers {
		t.Run(l.Hosts()[i].Name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- c.Wait() }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("sleep exited cleanly; want killed")
				}
			case <-time.After(5 * time.Second):
				_ = c.Process.Kill()
				t.Fatal("sleep still running 5 s after KillProcesses")
			}
		})
	}
}

func TestCommandRunsAsSeparateHost(t *testing.T) {
	l := newTestLab(t, Config{Receivers: 2})
	for _, h := range l.Hosts() {
		t.Run(h.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := l.Command(ctx, h, "sh", "-c", `cat /proc/sys/kernel/hostname; ip -4 -o addr show dev eth0`).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			lines := strings.SplitN(string(out), "\n", 2)
			if lines[0] != h.Name {
				t.Errorf("hostname %q, want %q", lines[0], h.Name)
			}
			if len(lines) < 2 || !strings.Contains(lines[1], h.Addr.String()+"/24") {
				t.Errorf("eth0 inside the command: %q, want %s/24", out, h.Addr)
			}
		})
	}
	if name, err := os.Hostname(); err == nil && strings.HasPrefix(name, l.ID) {
		t.Errorf("the test's own hostname changed to %q", name)
	}
}
