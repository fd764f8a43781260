//go:build linux

package netcheck

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// procSys is where sysctls are read; tests never change it, they change
// the namespace.
const procSys = "/proc/sys/"

func readSysctl(name string) (int, error) {
	b, err := os.ReadFile(procSys + strings.ReplaceAll(name, ".", "/"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// checkRPFilter reads the reverse-path filter that applies to ifi: the
// kernel uses the larger of "all" and the interface's value.
func checkRPFilter(ifi *net.Interface, is6 bool) Result {
	const check = "rp_filter"
	if is6 {
		return pass(check, "IPv6 has no rp_filter sysctl (firewall rpfilter rules are checked with the firewall)")
	}
	dev := "eth0"
	if ifi != nil {
		dev = ifi.Name
	}
	all, err := readSysctl("net.ipv4.conf.all.rp_filter")
	if err != nil {
		return warn(check, "", "cannot read net.ipv4.conf.all.rp_filter: %v", err)
	}
	own, err := readSysctl("net.ipv4.conf." + dev + ".rp_filter")
	if err != nil {
		own = 0
	}
	eff := max(all, own)
	switch eff {
	case 0:
		return pass(check, "off on %s", dev)
	case 2:
		return pass(check, "loose on %s: multicast from any routable source is accepted", dev)
	}
	return warn(check, fmt.Sprintf("sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.%s.rp_filter=2 (loose; persist in /etc/sysctl.d/)", dev),
		"strict on %s (all=%d, %s=%d): multicast from a source whose route back is not through %s (another subnet, a second interface, a VPN) is silently dropped",
		dev, all, dev, own, dev)
}

// checkRecvBuffer compares net.core.rmem_max and what a socket actually
// got with what herald asks for (multicast.DefaultRecvBuffer). herald as
// root forces past rmem_max (SO_RCVBUFFORCE); other users are clamped.
func checkRecvBuffer(asked, granted int, root bool) Result {
	limit, err := readSysctl("net.core.rmem_max")
	if err != nil {
		return warn("rmem", fmt.Sprintf("sysctl -w net.core.rmem_max=%d (persist in /etc/sysctl.d/)", asked), "cannot read net.core.rmem_max: %v", err)
	}
	return judgeRecvBuffer(asked, granted, limit, root)
}

// judgeRecvBuffer is checkRecvBuffer's verdict on the values read.
func judgeRecvBuffer(asked, granted, limit int, root bool) Result {
	const check = "rmem"
	fix := fmt.Sprintf("sysctl -w net.core.rmem_max=%d (persist in /etc/sysctl.d/)", asked)
	switch {
	case granted > 0 && granted < minUsefulRecvBuffer:
		return fail(check, fix, "the receive buffer got %s of the %s herald asks (net.core.rmem_max=%s): pushes will lose packets",
			size(granted), size(asked), size(limit))
	case limit < minUsefulRecvBuffer && !root:
		return fail(check, fix, "net.core.rmem_max=%s clamps herald's %s receive buffer: pushes will lose packets", size(limit), size(asked))
	case limit < minUsefulRecvBuffer:
		return warn(check, fix, "net.core.rmem_max=%s is below the %s herald asks: herald run as root forces past it, any other user is clamped and will lose packets",
			size(limit), size(asked))
	case granted > 0 && granted < asked:
		return warn(check, fix, "the receive buffer got %s of the %s herald asks (net.core.rmem_max=%s)", size(granted), size(asked), size(limit))
	}
	return pass(check, "receive buffer %s (asked %s, net.core.rmem_max=%s)", size(granted), size(asked), size(limit))
}

// minUsefulRecvBuffer is ~16 ms of a 1 Gbit/s push: below it a reader
// descheduled for a moment loses datagrams.
const minUsefulRecvBuffer = 2 << 20

func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
