package netlab

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// build creates the bridge namespace, then one namespace per host.
func (l *Lab) build(ctx context.Context) error {
	if err := l.addNamespace(ctx, l.BridgeNS); err != nil {
		return err
	}
	if err := l.ip(ctx, l.BridgeNS, "link", "add", BridgeName, "type", "bridge",
		"mcast_snooping", "0", "mcast_querier", "0", "stp_state", "0"); err != nil {
		return err
	}
	if err := l.ip(ctx, l.BridgeNS, "link", "set", BridgeName, "up"); err != nil {
		return err
	}
	for _, h := range l.Hosts() {
		if err := l.addHost(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// addNamespace creates ns, brings lo up and disables IPv6 before any
// interface exists, so no host ever sends router or listener solicitations.
func (l *Lab) addNamespace(ctx context.Context, ns string) error {
	if _, err := run(ctx, l.log, nil, "ip", "netns", "add", ns); err != nil {
		return err
	}
	l.mu.Lock()
	l.created = append(l.created, ns)
	l.mu.Unlock()
	if _, err := run(ctx, l.log, nil, "ip", "netns", "exec", ns, "sysctl", "-q", "-w",
		"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"); err != nil {
		return err
	}
	return l.ip(ctx, ns, "link", "set", "lo", "up")
}

// addHost creates h's namespace and its veth pair (created directly inside
// the two namespaces, never in the host's own), then addresses, routes,
// guard and shaping.
func (l *Lab) addHost(ctx context.Context, h Host) error {
	if err := l.addNamespace(ctx, h.Name); err != nil {
		return err
	}
	port := bridgePortName(h.Name)
	if _, err := run(ctx, l.log, nil, "ip", "link", "add", h.Iface, "netns", h.Name,
		"type", "veth", "peer", "name", port, "netns", l.BridgeNS); err != nil {
		return err
	}
	steps := [][]string{
		{"-n", l.BridgeNS, "link", "set", port, "master", BridgeName},
		{"-n", l.BridgeNS, "link", "set", port, "up"},
		{"-n", h.Name, "addr", "add", h.Addr.String() + "/" + strconv.Itoa(SubnetBits), "dev", h.Iface},
		{"-n", h.Name, "link", "set", h.Iface, "up"},
		{"-n", h.Name, "route", "add", MulticastRoute, "dev", h.Iface},
	}
	for _, s := range steps {
		if _, err := run(ctx, l.log, nil, "ip", s...); err != nil {
			return err
		}
	}
	if _, err := run(ctx, l.log, strings.NewReader(guardRuleset()), "ip", "netns", "exec", h.Name, "nft", "-f", "-"); err != nil {
		return err
	}
	if l.rateMbit > 0 {
		return l.shape(ctx, h)
	}
	return nil
}

// bridgePortName derives the bridge-side veth name from the namespace name:
// the role after the lab id ("s", "r12"), so it is short and unique within
// the bridge namespace.
func bridgePortName(ns string) string {
	return "p" + ns[strings.LastIndexByte(ns, '-')+1:]
}

// shape puts a tbf qdisc on h's egress. The burst is one millisecond of
// traffic (at least tbfMinBurstBytes), so the link never runs ahead of its
// rate by more than that.
func (l *Lab) shape(ctx context.Context, h Host) error {
	burst := max(l.rateMbit*1_000_000/8/1000, tbfMinBurstBytes)
	_, err := run(ctx, l.log, nil, "tc", "-n", h.Name, "qdisc", "replace", "dev", h.Iface, "root", "tbf",
		"rate", strconv.Itoa(l.rateMbit)+"mbit", "burst", strconv.Itoa(burst), "limit", strconv.Itoa(tbfLimitBytes))
	return err
}

// guardRuleset is the nftables table of every host namespace: an empty input
// chain for SetLoss and an output chain that only lets through traffic to the
// lab's own ranges; anything else is counted in the "guard" counter and
// dropped. The kernel's own IGMP reports (IGMPv3 goes to 224.0.0.22) are
// dropped uncounted: the bridge does not snoop, so they serve no purpose,
// and the counter is left to mean "a program tried a foreign address".
func guardRuleset() string {
	return fmt.Sprintf(`table inet %[1]s {
	counter guard { }
	chain input {
		type filter hook input priority 0; policy accept;
	}
	chain output {
		type filter hook output priority 0; policy accept;
		oif "lo" accept
		ip protocol igmp drop
		ip daddr %[2]s accept
		ip daddr %[3]s accept
		counter name guard drop
	}
}
`, NftTable, GuardUnicastRange, MulticastRoute)
}

func (l *Lab) ip(ctx context.Context, ns string, args ...string) error {
	_, err := run(ctx, l.log, nil, "ip", append([]string{"-n", ns}, args...)...)
	return err
}
