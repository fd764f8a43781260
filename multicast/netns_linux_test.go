//go:build linux

package multicast

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Tests that need real multicast run in a fresh network namespace, so they
// never touch the host's interfaces and work although the host's lo has
// no MULTICAST flag. Unsharing applies to one OS thread: the goroutine is
// locked to it for good (never unlocked), and the runtime discards the
// thread when the goroutine ends. Sockets and interface lookups made on
// that goroutine live in the namespace; an open socket then works from any
// goroutine.

// enterMulticastNetns moves the calling test goroutine into a fresh
// network namespace whose lo is up with MULTICAST. Everything that opens
// sockets or resolves interfaces must run on this goroutine.
func enterMulticastNetns(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to create a network namespace with multicast on loopback")
	}
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		tb.Skipf("cannot create a network namespace (unshare CLONE_NEWNET: %v); multicast on loopback untestable here", err)
	}
	if err := setLoopbackFlags(unix.IFF_UP | unix.IFF_MULTICAST); err != nil {
		tb.Fatalf("bring lo up with MULTICAST in the test namespace: %v", err)
	}
}

// inMulticastNetns runs fn on a fresh goroutine inside its own namespace
// (see enterMulticastNetns), for benchmarks whose b.N rounds run on
// different goroutines. Sockets fn opens stay usable after it returns.
func inMulticastNetns(tb testing.TB, fn func()) {
	tb.Helper()
	done := make(chan struct{})
	skip := ""
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: this thread leaves with the goroutine
		if os.Geteuid() != 0 {
			skip = "needs root to create a network namespace"
			return
		}
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			skip = fmt.Sprintf("cannot create a network namespace: %v", err)
			return
		}
		if err := setLoopbackFlags(unix.IFF_UP | unix.IFF_MULTICAST); err != nil {
			skip = fmt.Sprintf("cannot bring lo up with MULTICAST: %v", err)
			return
		}
		fn()
	}()
	<-done
	if skip != "" {
		tb.Skip(skip)
	}
}

// setLoopbackFlags sets lo's interface flags with SIOCSIFFLAGS.
func setLoopbackFlags(flags uint16) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	ifr.SetUint16(flags)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// vethAddr4 is the IPv4 address addVethPair gives the test interface.
const vethAddr4 = "198.18.0.1"

// addVethPair creates a veth pair name<->name+"peer" in the test
// namespace, up, with vethAddr4 and with DAD off so its IPv6 link-local
// address is usable at once. IPv6 multicast is not delivered over lo on
// Linux (packets sent on lo are received but never accepted as multicast),
// so IPv6 tests use a veth, whose multicast loopback copy reaches local
// sockets exactly as on eth0. The shell inherits the namespace of the
// locked thread that forks it.
func addVethPair(tb testing.TB, name string) {
	tb.Helper()
	script := fmt.Sprintf(`set -e
ip link add %[1]s type veth peer name %[1]speer
sysctl -qw net.ipv6.conf.%[1]s.accept_dad=0
sysctl -qw net.ipv6.conf.%[1]speer.accept_dad=0
ip addr add %[2]s/24 dev %[1]s
ip link set %[1]s up
ip link set %[1]speer up`, name, vethAddr4)
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		tb.Skipf("cannot create a veth pair in the test namespace (needs iproute2 and the veth driver): %v: %s", err, out)
	}
	// The kernel adds the link-local address asynchronously after carrier.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			tb.Fatal(err)
		}
		if sourceAddr(*ifi, true).IsLinkLocalUnicast() {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s has no IPv6 link-local address after 5s", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
