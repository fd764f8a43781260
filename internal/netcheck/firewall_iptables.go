package netcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// parseIptablesSave reads the filter table of `iptables-save` (legacy
// iptables, whose rules nft does not show) into the nft evaluator's form:
// each rule becomes a list of nft JSON matches and a verdict, so one
// evaluator judges both. is6 selects the address family the chains are
// named for ("ip" or "ip6"). Options the translation does not know make
// the rule's match unknown, as in nft.
func parseIptablesSave(out []byte, is6 bool) *nftRuleset {
	family := "ip"
	if is6 {
		family = "ip6"
	}
	rs := &nftRuleset{chains: make(map[string]*nftChain)}
	hooks := map[string]string{"INPUT": "input", "OUTPUT": "output", "PREROUTING": "prerouting", "POSTROUTING": "postrouting"}
	table := ""
	handle := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case table != "filter" && table != "raw":
		case strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			if len(f) < 2 {
				continue
			}
			c := &nftChain{family: family, table: table, name: f[0], hook: hooks[f[0]]}
			if f[1] != "-" {
				c.policy = strings.ToLower(f[1])
			}
			rs.chains[family+"/"+table+"/"+f[0]] = c
		case strings.HasPrefix(line, "-A "):
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			c := rs.chains[family+"/"+table+"/"+f[1]]
			if c == nil {
				continue
			}
			handle++
			c.rules = append(c.rules, nftRule{handle: handle, expr: iptablesRule(f[2:], family)})
		}
	}
	return rs
}

// iptablesRule translates the options of one -A line.
func iptablesRule(args []string, family string) []map[string]json.RawMessage {
	var expr []map[string]json.RawMessage
	add := func(key string, v any) {
		b, _ := json.Marshal(v)
		expr = append(expr, map[string]json.RawMessage{key: b})
	}
	match := func(neg bool, left map[string]any, right any) {
		op := "=="
		if neg {
			op = "!="
		}
		add("match", map[string]any{"op": op, "left": left, "right": right})
	}
	unknown := func() { match(false, map[string]any{"unknown": true}, 0) }
	neg := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch a {
		case "!":
			neg = true
			continue
		case "-p", "--protocol":
			match(neg, map[string]any{"meta": map[string]any{"key": "l4proto"}}, next())
		case "-d", "--destination":
			match(neg, map[string]any{"payload": map[string]any{"protocol": family, "field": "daddr"}}, addrRight(next()))
		case "-s", "--source":
			match(neg, map[string]any{"payload": map[string]any{"protocol": family, "field": "saddr"}}, addrRight(next()))
		case "-i", "--in-interface":
			match(neg, map[string]any{"meta": map[string]any{"key": "iifname"}}, strings.ReplaceAll(next(), "+", "*"))
		case "-o", "--out-interface":
			match(neg, map[string]any{"meta": map[string]any{"key": "oifname"}}, strings.ReplaceAll(next(), "+", "*"))
		case "--dport", "--destination-port", "--dports", "--destination-ports":
			match(neg, map[string]any{"payload": map[string]any{"protocol": "th", "field": "dport"}}, portsRight(next()))
		case "--pkt-type":
			match(neg, map[string]any{"meta": map[string]any{"key": "pkttype"}}, strings.ToLower(next()))
		case "--dst-type":
			match(neg, map[string]any{"fib": map[string]any{"result": "type", "flags": []string{"daddr"}}}, strings.ToLower(next()))
		case "--state", "--ctstate":
			match(neg, map[string]any{"ct": map[string]any{"key": "state"}}, map[string]any{"set": strings.Split(strings.ToLower(next()), ",")})
		case "-m", "--match":
			next() // the module's options follow and are translated above
		case "-j", "--jump", "-g", "--goto":
			target := next()
			switch target {
			case "ACCEPT", "DROP", "REJECT", "RETURN":
				add(strings.ToLower(target), nil)
			case "LOG", "NFLOG", "MARK", "CONNMARK", "CT", "NOTRACK", "TRACE":
				// not a verdict: the packet goes on
			default:
				kind := "jump"
				if a == "-g" || a == "--goto" {
					kind = "goto"
				}
				add(kind, map[string]string{"target": target})
			}
			if target != "LOG" && target != "NFLOG" && target != "MARK" && target != "CONNMARK" && target != "CT" && target != "NOTRACK" && target != "TRACE" {
				return expr // what follows are the target's own options
			}
			skipTargetOptions(args, &i)
		case "-c":
			next()
			next()
		case "--comment":
			if w := next(); strings.HasPrefix(w, `"`) {
				for !strings.HasSuffix(w, `"`) || len(w) == 1 {
					if w = next(); w == "" {
						break
					}
				}
			}
		default:
			if strings.HasPrefix(a, "-") {
				unknown()
				if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
					i++
				}
			}
		}
		neg = false
	}
	return expr
}

// addrRight is an nft right side for an address or CIDR.
func addrRight(s string) any {
	addr, bits, ok := strings.Cut(s, "/")
	if !ok {
		return s
	}
	n, err := strconv.Atoi(bits)
	if err != nil {
		return s // a dotted mask: compared as text, so never equal
	}
	return map[string]any{"prefix": map[string]any{"addr": addr, "len": n}}
}

// portsRight is an nft right side for "4772", "4000:5000" or "53,4772".
func portsRight(s string) any {
	var set []any
	for _, p := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(p, ":")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		switch {
		case isRange && err1 == nil && err2 == nil:
			set = append(set, map[string]any{"range": []int{a, b}})
		case !isRange && err1 == nil:
			set = append(set, a)
		default:
			set = append(set, fmt.Sprintf("bad port %q", p))
		}
	}
	return map[string]any{"set": set}
}

// skipTargetOptions moves i past the options of a non-verdict target
// (--log-prefix "x y", --set-mark 1), to the next match or -j.
func skipTargetOptions(args []string, i *int) {
	for *i+1 < len(args) && args[*i+1] != "-j" && args[*i+1] != "-m" && args[*i+1] != "-p" {
		*i++
	}
}
