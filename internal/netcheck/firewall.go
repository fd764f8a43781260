package netcheck

import (
	"fmt"
	"net/netip"
	"strings"
)

// heraldPackets are the datagrams whose fate in the firewall decides
// whether herald works: multicast in and out on the control group, and
// unicast in at the control port (static peers, unicast fallback).
func heraldPackets(group netip.AddrPort, local netip.Addr, iface string) []probePacket {
	is6 := group.Addr().Is6()
	return []probePacket{
		{what: "incoming multicast to " + group.String(), hook: "input", is6: is6, dst: group.Addr(), dport: group.Port(),
			pkttype: "multicast", dsttype: "multicast", iface: iface},
		{what: fmt.Sprintf("incoming unicast to port %d", group.Port()), hook: "input", is6: is6, dst: local, dport: group.Port(),
			pkttype: "host", dsttype: "local", iface: iface},
		{what: "outgoing multicast to " + group.String(), hook: "output", is6: is6, dst: group.Addr(), dport: group.Port(),
			pkttype: "multicast", dsttype: "multicast", iface: iface},
	}
}

// judgeFirewall turns the verdicts on herald's packets into one result.
func judgeFirewall(tool string, verdicts []verdictOf, packets []probePacket, port uint16) Result {
	const check = "firewall"
	fix := fmt.Sprintf("allow UDP port %d and the group in the firewall, before the dropping rule (nft insert rule <family> <table> <chain> udp dport %d accept; ufw allow %d/udp; firewall-cmd --add-port=%d/udp --permanent)",
		port, port, port, port)
	var dropped, maybe []string
	for i, v := range verdicts {
		switch {
		case v.dropped:
			dropped = append(dropped, fmt.Sprintf("%s (%s)", packets[i].what, v.where))
		case v.maybe:
			maybe = append(maybe, fmt.Sprintf("%s (%s)", packets[i].what, v.where))
		}
	}
	switch {
	case len(dropped) > 0:
		return fail(check, fix, "%s drops %s", tool, strings.Join(dropped, "; "))
	case len(maybe) > 0:
		return warn(check, "read those rules: they drop some of herald's packets under conditions not checked here (loss, rate limits, sources)",
			"%s may drop %s", tool, strings.Join(maybe, "; "))
	}
	return pass(check, "%s lets herald's multicast and unicast on port %d through", tool, port)
}
