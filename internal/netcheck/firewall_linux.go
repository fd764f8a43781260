//go:build linux

package netcheck

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os/exec"
	"strings"
	"time"
)

// checkFirewall reads the nftables ruleset (which also holds iptables-nft
// rules) and, where legacy iptables is in use, its filter table, and
// judges herald's packets against both.
func checkFirewall(ctx context.Context, group netip.AddrPort, local netip.Addr, iface string) Result {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	packets := heraldPackets(group, local, iface)
	var rulesets []*nftRuleset
	var tools []string
	out, nftErr := exec.CommandContext(ctx, "nft", "-j", "list", "ruleset").Output()
	if nftErr == nil {
		rs, err := parseNft(out)
		if err != nil {
			return warn("firewall", "check `nft list ruleset` by hand", "%v", err)
		}
		rulesets, tools = append(rulesets, rs), append(tools, "nftables")
	}
	is6 := group.Addr().Is6()
	for _, save := range legacySaveTools(is6, nftErr == nil) {
		if out, err := exec.CommandContext(ctx, save).Output(); err == nil && bytes.Contains(out, []byte("\n-A ")) {
			rulesets, tools = append(rulesets, parseIptablesSave(out, is6)), append(tools, save)
			break
		}
	}
	if len(rulesets) == 0 {
		if errors.Is(nftErr, exec.ErrNotFound) {
			return warn("firewall", "read `iptables -S INPUT` yourself for rules dropping UDP "+portOf(group)+" or 224.0.0.0/4",
				"neither nft nor iptables-save could be run; the firewall was not checked")
		}
		msg := nftErr.Error()
		var ee *exec.ExitError
		if errors.As(nftErr, &ee) {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return warn("firewall", "run herald doctor as root (sudo) so it can read the firewall", "cannot read the ruleset: %s", msg)
	}
	verdicts := make([]verdictOf, len(packets))
	for i, p := range packets {
		for _, rs := range rulesets {
			if v := rs.evaluate(p); v.dropped || (v.maybe && !verdicts[i].dropped) {
				verdicts[i] = v
			}
			if verdicts[i].dropped {
				break
			}
		}
	}
	return judgeFirewall(strings.Join(tools, " and "), verdicts, packets, group.Port())
}

// legacySaveTools are the iptables-save commands to try: the legacy one
// (its rules are invisible to nft), and the plain one only without nft.
func legacySaveTools(is6, haveNft bool) []string {
	if is6 {
		if haveNft {
			return []string{"ip6tables-legacy-save"}
		}
		return []string{"ip6tables-legacy-save", "ip6tables-save"}
	}
	if haveNft {
		return []string{"iptables-legacy-save"}
	}
	return []string{"iptables-legacy-save", "iptables-save"}
}

func portOf(group netip.AddrPort) string {
	return strings.TrimPrefix(group.String(), group.Addr().String()+":")
}
