//go:build linux

package netcheck

import (
	"context"
	"errors"
	"net/netip"
	"os/exec"
	"strings"
	"time"
)

// checkFirewall reads the nftables ruleset (which also holds iptables-nft
// rules) and judges herald's packets against it.
func checkFirewall(ctx context.Context, group netip.AddrPort, local netip.Addr, iface string) Result {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nft", "-j", "list", "ruleset").Output()
	if errors.Is(err, exec.ErrNotFound) {
		return warn("firewall", "install nftables, or read `iptables -S INPUT` yourself for rules dropping UDP "+portOf(group)+" or 224.0.0.0/4",
			"nft not found; the firewall was not checked")
	}
	if err != nil {
		var ee *exec.ExitError
		msg := err.Error()
		if errors.As(err, &ee) {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return warn("firewall", "run herald doctor as root (sudo) so it can read the firewall", "cannot read the ruleset: %s", msg)
	}
	rs, err := parseNft(out)
	if err != nil {
		return warn("firewall", "check `nft list ruleset` by hand", "%v", err)
	}
	packets := heraldPackets(group, local, iface)
	verdicts := make([]verdictOf, len(packets))
	for i, p := range packets {
		verdicts[i] = rs.evaluate(p)
	}
	return judgeFirewall("nftables", verdicts, packets, group.Port())
}

func portOf(group netip.AddrPort) string {
	return strings.TrimPrefix(group.String(), group.Addr().String()+":")
}
