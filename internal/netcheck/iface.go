package netcheck

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// IP and UDP header sizes: a herald datagram of protocol.MaxDatagram bytes
// needs MTU >= MaxDatagram + these to leave unfragmented.
const (
	headersV4 = 20 + 8
	headersV6 = 40 + 8
)

// chooseInterface names the interface herald sends on: the one asked for,
// else the first up, multicast-capable, non-loopback interface with an
// address of the family (multicast.Config's rule).
func chooseInterface(name string, is6 bool) (*net.Interface, error) {
	if name != "" {
		return net.InterfaceByName(name)
	}
	all, err := multicast.Interfaces()
	if err != nil {
		return nil, err
	}
	for i := range all {
		ifi := &all[i]
		if ifi.Flags&net.FlagLoopback == 0 && addrOf(ifi, is6).IsValid() {
			return ifi, nil
		}
	}
	return nil, errors.New("no up, multicast-capable interface with an address")
}

// addrOf is ifi's first address of the family, global before link-local.
func addrOf(ifi *net.Interface, is6 bool) netip.Addr {
	addrs, _ := ifi.Addrs()
	var linkLocal netip.Addr
	for _, a := range addrs {
		pfx, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(pfx.IP)
		if !ok || ip.Unmap().Is6() != is6 {
			continue
		}
		ip = ip.Unmap()
		if ip.IsLinkLocalUnicast() {
			if !linkLocal.IsValid() {
				linkLocal = ip.WithZone(ifi.Name)
			}
			continue
		}
		return ip
	}
	return linkLocal
}

// checkInterface reports the chosen interface, its flags and MTU.
func checkInterface(ifi *net.Interface, err error, is6 bool) Result {
	const check = "interface"
	if err != nil {
		return fail(check, "bring a network interface up (ip link set eth0 up) or name one with --iface",
			"no interface to use: %v", err)
	}
	switch {
	case ifi.Flags&net.FlagUp == 0:
		return fail(check, fmt.Sprintf("ip link set %s up", ifi.Name), "%s is down", ifi.Name)
	case ifi.Flags&net.FlagMulticast == 0:
		return fail(check, fmt.Sprintf("ip link set %s multicast on", ifi.Name), "%s lacks the MULTICAST flag", ifi.Name)
	}
	need := protocol.MaxDatagram + headersV4
	if is6 {
		need = protocol.MaxDatagram + headersV6
	}
	if ifi.MTU < need {
		return fail(check, fmt.Sprintf("ip link set %s mtu 1500 (herald needs at least %d)", ifi.Name, need),
			"%s MTU %d is below the %d bytes of a full herald datagram: every data packet would fragment", ifi.Name, ifi.MTU, need)
	}
	addr := addrOf(ifi, is6)
	if !addr.IsValid() {
		return fail(check, fmt.Sprintf("give %s an address (DHCP or ip addr add ...)", ifi.Name),
			"%s has no %s address: peers could not answer it", ifi.Name, family(is6))
	}
	return pass(check, "%s %s, up, MULTICAST, MTU %d >= %d", ifi.Name, addr, ifi.MTU, need)
}

func family(is6 bool) string {
	if is6 {
		return "IPv6"
	}
	return "IPv4"
}

// checkRoute asks the kernel which way the control group goes (connect on
// a UDP socket runs the same route lookup a send does, with policy rules
// and every table) and compares it with the chosen interface.
func checkRoute(ifi *net.Interface, group netip.AddrPort) Result {
	const check = "route"
	rangeOf := "224.0.0.0/4"
	if group.Addr().Is6() {
		rangeOf = "ff00::/8"
	}
	dev := "eth0"
	if ifi != nil {
		dev = ifi.Name
	}
	fix := fmt.Sprintf("ip route add %s dev %s (and make it permanent in your network configuration)", rangeOf, dev)
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(group))
	if err != nil {
		return warn(check, fix, "no route for %s (%v): herald pins its interface and still sends, but other multicast tools and the kernel's own choice fail", group.Addr(), err)
	}
	local := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	c.Close()
	out := interfaceWith(local)
	if ifi != nil && out != ifi.Name {
		return warn(check, fix, "the kernel routes %s out of %s (source %s), not %s: a VPN or a second interface took multicast; herald pins %s, other tools do not",
			group.Addr(), nameOr(out), local, ifi.Name, ifi.Name)
	}
	return pass(check, "%s goes out of %s", group.Addr(), nameOr(out))
}

func nameOr(s string) string {
	if s == "" {
		return "an unknown interface"
	}
	return s
}

// interfaceWith names the interface holding addr.
func interfaceWith(addr netip.Addr) string {
	all, _ := net.Interfaces()
	for i := range all {
		addrs, _ := all[i].Addrs()
		for _, a := range addrs {
			if pfx, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(pfx.IP); ok && ip.Unmap() == addr.WithZone("") {
					return all[i].Name
				}
			}
		}
	}
	return ""
}
