package multicast

import (
	"fmt"
	"net"
	"net/netip"
)

// Interfaces returns the interfaces that are up and multicast-capable, in
// the order the OS lists them.
func Interfaces() ([]net.Interface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("multicast: list interfaces: %w", err)
	}
	usable := all[:0]
	for _, ifi := range all {
		if isUsable(ifi) {
			usable = append(usable, ifi)
		}
	}
	return usable, nil
}

func isUsable(ifi net.Interface) bool {
	return ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0
}

// interfacePlan says where a Conn joins its group and where it sends.
type interfacePlan struct {
	join   []net.Interface
	egress net.Interface
	named  bool // egress was chosen by the user
}

// egressFor refines the default egress for one IP family: the first
// non-loopback interface with a unicast address of that family, since an
// interface without one (an IPv6-only link for an IPv4 group) sends with
// an unspecified source that receivers cannot answer.
func (p interfacePlan) egressFor(is6 bool) net.Interface {
	if p.named {
		return p.egress
	}
	for _, ifi := range p.join {
		if ifi.Flags&net.FlagLoopback == 0 && !sourceAddr(ifi, is6).IsUnspecified() {
			return ifi
		}
	}
	return p.egress
}

// planInterfaces resolves Config.Iface: the named interface alone, or every
// usable interface with the first non-loopback one as egress. Without any
// usable interface it falls back to an up loopback interface even without
// the MULTICAST flag (Linux's lo lacks it by default but loops IPv4
// multicast all the same), so herald processes on an offline machine
// still hear each other.
func planInterfaces(name string) (interfacePlan, error) {
	if name != "" {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return interfacePlan{}, fmt.Errorf("%w: %q: %v", ErrInterfaceNotFound, name, err)
		}
		if !isUsable(*ifi) && !isUpLoopback(*ifi) {
			return interfacePlan{}, fmt.Errorf("%w: interface %q is down or lacks the MULTICAST flag (flags %v): run `ip link set %s up multicast on`",
				ErrNoMulticastInterface, name, ifi.Flags, name)
		}
		return interfacePlan{join: []net.Interface{*ifi}, egress: *ifi, named: true}, nil
	}
	all, err := net.Interfaces()
	if err != nil {
		return interfacePlan{}, fmt.Errorf("multicast: list interfaces: %w", err)
	}
	var usable, loopbacks []net.Interface
	for _, ifi := range all {
		switch {
		case isUsable(ifi):
			usable = append(usable, ifi)
		case isUpLoopback(ifi):
			loopbacks = append(loopbacks, ifi)
		}
	}
	if len(usable) == 0 {
		usable = loopbacks
	}
	if len(usable) == 0 {
		return interfacePlan{}, fmt.Errorf("multicast: %w", ErrNoMulticastInterface)
	}
	plan := interfacePlan{join: usable, egress: usable[0]}
	for _, ifi := range usable {
		if ifi.Flags&net.FlagLoopback == 0 {
			plan.egress = ifi
			break
		}
	}
	return plan, nil
}

func isUpLoopback(ifi net.Interface) bool {
	return ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback != 0
}

// sourceAddr is the unicast address peers will see for datagrams leaving
// through ifi: its first global address of the family, else its first
// link-local one, else the unspecified address.
func sourceAddr(ifi net.Interface, want6 bool) netip.Addr {
	addrs, _ := ifi.Addrs() // an interface without addresses is a valid answer
	fallback := netip.IPv4Unspecified()
	if want6 {
		fallback = netip.IPv6Unspecified()
	}
	for _, a := range addrs {
		prefix, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(prefix.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		switch {
		case ip.Is6() != want6:
		case ip.IsLinkLocalUnicast():
			if fallback.IsUnspecified() {
				fallback = ip.WithZone(ifi.Name)
			}
		default:
			return ip
		}
	}
	return fallback
}

// validGroup unmaps group and checks it is a multicast address with a port.
func validGroup(group netip.AddrPort) (netip.AddrPort, error) {
	addr := group.Addr().Unmap()
	if !addr.IsMulticast() || group.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("multicast: %v: %w", group, ErrNotMulticastGroup)
	}
	return netip.AddrPortFrom(addr, group.Port()), nil
}

// needsZone reports whether binding to addr requires an interface index:
// IPv6 link-local and interface-local multicast scopes are per interface.
func needsZone(addr netip.Addr) bool {
	return addr.Is6() && (addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast())
}
