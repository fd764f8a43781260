package netcheck

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// nftDoc wraps rule objects as `nft -j list ruleset` prints them.
func nftDoc(chains, rules []string) []byte {
	var objs []string
	for _, c := range chains {
		objs = append(objs, `{"chain": `+c+`}`)
	}
	for _, r := range rules {
		objs = append(objs, `{"rule": `+r+`}`)
	}
	return []byte(`{"nftables": [{"metainfo": {"json_schema_version": 1}}, ` + strings.Join(objs, ", ") + `]}`)
}

const inputChain = `{"family": "inet", "table": "t", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "%s"}`

func rule(handle int, matches string, verdict string) string {
	return fmt.Sprintf(`{"family": "inet", "table": "t", "chain": "input", "handle": %d, "expr": [%s{%s}]}`, handle, matches, verdict)
}

func TestFirewallEvaluation(t *testing.T) {
	group := netip.MustParseAddrPort("239.255.72.1:4772")
	local := netip.MustParseAddr("198.18.0.2")
	const (
		udpPort     = `{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": {"set": [4772, {"range": [5000, 5010]}]}}}, `
		otherPort   = `{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 53}}, `
		mcastNet    = `{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "239.0.0.0", "len": 8}}}}, `
		pkttype     = `{"match": {"op": "==", "left": {"meta": {"key": "pkttype"}}, "right": "multicast"}}, `
		fibMcast    = `{"match": {"op": "==", "left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "multicast"}}, `
		randomLoss  = `{"match": {"op": "<", "left": {"numgen": {"mode": "random", "mod": 1000, "offset": 0}}, "right": 5}}, `
		tcp22       = `{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, `
		established = `{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, `
	)
	tests := []struct {
		name   string
		policy string
		rules  []string
		want   Status
		says   string
	}{
		{"empty accept", "accept", nil, Pass, "lets"},
		{"port dropped", "accept", []string{rule(5, udpPort, `"drop": null`)}, Fail, "incoming multicast to 239.255.72.1:4772 (inet t input handle 5); incoming unicast"},
		{"other port dropped", "accept", []string{rule(5, otherPort, `"drop": null`), rule(6, tcp22, `"drop": null`)}, Pass, "lets"},
		{"group dropped", "accept", []string{rule(6, mcastNet, `"reject": null`)}, Fail, "incoming multicast"},
		{"pkttype multicast dropped", "accept", []string{rule(7, pkttype, `"drop": null`)}, Fail, "handle 7"},
		{"fib multicast dropped", "accept", []string{rule(8, fibMcast, `"drop": null`)}, Fail, "handle 8"},
		{"random loss", "accept", []string{rule(9, randomLoss, `"drop": null`)}, Warn, "may drop"},
		{"policy drop, ssh only", "drop", []string{rule(3, established, `"accept": null`), rule(4, tcp22, `"accept": null`)}, Fail, "policy drop"},
		{"policy drop, herald allowed", "drop", []string{rule(4, udpPort, `"accept": null`)}, Pass, "lets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := parseNft(nftDoc([]string{fmt.Sprintf(inputChain, tt.policy)}, tt.rules))
			if err != nil {
				t.Fatal(err)
			}
			packets := heraldPackets(group, local, "eth0")
			var verdicts []verdictOf
			for _, p := range packets {
				verdicts = append(verdicts, rs.evaluate(p))
			}
			got := judgeFirewall("nftables", verdicts, packets, group.Port())
			if got.Status != tt.want || !strings.Contains(got.Detail, tt.says) {
				t.Errorf("got %v %q, want %v containing %q", got.Status, got.Detail, tt.want, tt.says)
			}
			if got.Status != Pass && got.Fix == "" {
				t.Error("no fix given")
			}
		})
	}
}

// The lab's own guard (output chain: lo, IGMP, the lab's ranges, then a
// catch-all drop) lets herald through.
func TestFirewallJumpAndGuard(t *testing.T) {
	doc := nftDoc([]string{
		`{"family": "inet", "table": "g", "name": "output", "handle": 1, "type": "filter", "hook": "output", "prio": 0, "policy": "accept"}`,
		`{"family": "inet", "table": "g", "name": "input", "handle": 2, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}`,
		`{"family": "inet", "table": "g", "name": "sub", "handle": 3}`,
	}, []string{
		`{"family": "inet", "table": "g", "chain": "output", "handle": 4, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "lo"}}, {"accept": null}]}`,
		`{"family": "inet", "table": "g", "chain": "output", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "239.0.0.0", "len": 8}}}}, {"accept": null}]}`,
		`{"family": "inet", "table": "g", "chain": "output", "handle": 6, "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}`,
		`{"family": "inet", "table": "g", "chain": "input", "handle": 7, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth*"}}, {"jump": {"target": "sub"}}]}`,
		`{"family": "inet", "table": "g", "chain": "sub", "handle": 8, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 4772}}, {"drop": null}]}`,
	})
	rs, err := parseNft(doc)
	if err != nil {
		t.Fatal(err)
	}
	packets := heraldPackets(netip.MustParseAddrPort("239.255.72.1:4772"), netip.MustParseAddr("198.18.0.2"), "eth0")
	want := []bool{true, true, false} // the jumped-to chain drops port 4772 on input; output passes
	for i, p := range packets {
		if v := rs.evaluate(p); v.dropped != want[i] {
			t.Errorf("%s: dropped=%v (%s), want %v", p.what, v.dropped, v.where, want[i])
		}
	}
}

// Legacy iptables rules, as iptables-save prints them, are judged by the
// same evaluator: ufw's policy drop with and without an allow for 4772,
// a comment, a multiport set, a pkttype match.
func TestFirewallIptablesSave(t *testing.T) {
	const head = "*filter\n:INPUT %s [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:ufw-user-input - [0:0]\n-A INPUT -j ufw-user-input\n"
	tests := []struct {
		name, policy, rules string
		want                Status
	}{
		{"accept, nothing", "ACCEPT", "", Pass},
		{"ufw default deny", "DROP", "-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT\n", Fail},
		{"ufw allows 4772", "DROP", "-A ufw-user-input -p udp -m multiport --dports 53,4772 -m comment --comment \"'dapp_herald'\" -j ACCEPT\n", Pass},
		{"pkttype multicast dropped", "ACCEPT", "-A INPUT -m pkttype --pkt-type multicast -j DROP\n", Fail},
		{"group range rejected", "ACCEPT", "-A INPUT -d 239.0.0.0/8 -p udp -j REJECT --reject-with icmp-port-unreachable\n", Fail},
		{"rate limit", "ACCEPT", "-A INPUT -p udp -m limit --limit 3/min -j DROP\n", Warn},
	}
	packets := heraldPackets(netip.MustParseAddrPort("239.255.72.1:4772"), netip.MustParseAddr("198.18.0.2"), "eth0")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := parseIptablesSave([]byte(fmt.Sprintf(head, tt.policy)+tt.rules+"COMMIT\n"), false)
			var verdicts []verdictOf
			for _, p := range packets {
				verdicts = append(verdicts, rs.evaluate(p))
			}
			if got := judgeFirewall("iptables-legacy-save", verdicts, packets, 4772); got.Status != tt.want {
				t.Errorf("got %v %q, want %v", got.Status, got.Detail, tt.want)
			}
		})
	}
}
