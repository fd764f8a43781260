package netcheck

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
)

// probePacket is one kind of datagram herald sends or receives, as the
// firewall sees it. Fields the evaluator cannot know (a peer's address)
// are left invalid: a match on them is "unknown".
type probePacket struct {
	what     string // for messages: "multicast to 239.255.72.1:4772"
	hook     string // "input" or "output" (prerouting/postrouting follow)
	is6      bool
	src, dst netip.Addr
	dport    uint16
	pkttype  string // "multicast" or "host"
	dsttype  string // fib daddr type: "multicast" or "local"
	iface    string // iifname on input, oifname on output
}

// nftRuleset is `nft -j list ruleset`, reduced to chains and rules.
type nftRuleset struct {
	chains map[string]*nftChain // by family/table/name
}

type nftChain struct {
	family, table, name string
	hook, policy        string
	prio                int
	rules               []nftRule
}

type nftRule struct {
	handle int
	expr   []map[string]json.RawMessage
}

// parseNft reads nft's JSON output.
func parseNft(b []byte) (*nftRuleset, error) {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("netcheck: nft JSON: %w", err)
	}
	rs := &nftRuleset{chains: make(map[string]*nftChain)}
	var rules []struct {
		Family, Table, Chain string
		Handle               int
		Expr                 []map[string]json.RawMessage
	}
	for _, obj := range doc.Nftables {
		if raw, ok := obj["chain"]; ok {
			var c struct {
				Family, Table, Name, Hook, Policy string
				Prio                              int
			}
			if json.Unmarshal(raw, &c) == nil {
				rs.chains[c.Family+"/"+c.Table+"/"+c.Name] = &nftChain{family: c.Family, table: c.Table, name: c.Name, hook: c.Hook, policy: c.Policy, prio: c.Prio}
			}
		}
		if raw, ok := obj["rule"]; ok {
			var r struct {
				Family, Table, Chain string
				Handle               int
				Expr                 []map[string]json.RawMessage
			}
			if json.Unmarshal(raw, &r) == nil {
				rules = append(rules, r)
			}
		}
	}
	for _, r := range rules {
		if c := rs.chains[r.Family+"/"+r.Table+"/"+r.Chain]; c != nil {
			c.rules = append(c.rules, nftRule{handle: r.Handle, expr: r.Expr})
		}
	}
	return rs, nil
}

// verdictOf is what the ruleset does with p.
type verdictOf struct {
	dropped bool
	maybe   bool   // a drop rule with a match the evaluator cannot decide
	where   string // "inet filter input handle 6" of the deciding rule or policy
}

// evaluate runs p through every base chain of its hooks; the first chain
// that drops it decides. Only families that see p are consulted.
func (rs *nftRuleset) evaluate(p probePacket) verdictOf {
	hooks := []string{"prerouting", "input"}
	if p.hook == "output" {
		hooks = []string{"output", "postrouting"}
	}
	var maybe verdictOf
	for _, hook := range hooks {
		for _, c := range rs.chains {
			if c.hook != hook || !familySees(c.family, p.is6) {
				continue
			}
			v, decided := rs.runChain(c, p, 0)
			if decided && v.dropped {
				return v
			}
			if !decided && c.policy == "drop" {
				return verdictOf{dropped: true, where: fmt.Sprintf("%s %s %s policy drop", c.family, c.table, c.name)}
			}
			if v.maybe && !maybe.maybe {
				maybe = v
			}
		}
	}
	return maybe
}

func familySees(family string, is6 bool) bool {
	switch family {
	case "inet":
		return true
	case "ip":
		return !is6
	case "ip6":
		return is6
	}
	return false
}

// maxJumpDepth bounds jump/goto recursion (nft itself allows 16 levels).
const maxJumpDepth = 16

// runChain returns the verdict of c for p and whether the chain decided
// (accept or drop); an undecided base chain falls to its policy.
func (rs *nftRuleset) runChain(c *nftChain, p probePacket, depth int) (verdictOf, bool) {
	var maybe verdictOf
	for _, r := range c.rules {
		where := fmt.Sprintf("%s %s %s handle %d", c.family, c.table, c.name, r.handle)
		matched, unknown := true, false
		var verdict string
		var target string
		for _, e := range r.expr {
			for k, raw := range e {
				switch k {
				case "match":
					switch matchExpr(raw, p) {
					case matchNo:
						matched = false
					case matchUnknown:
						unknown = true
					}
				case "accept", "drop", "reject", "return":
					verdict = k
				case "jump", "goto":
					var t struct{ Target string }
					_ = json.Unmarshal(raw, &t)
					verdict, target = k, t.Target
				}
			}
		}
		if !matched || verdict == "" {
			continue
		}
		if unknown {
			if verdict == "drop" || verdict == "reject" {
				maybe = verdictOf{maybe: true, where: where}
			}
			continue
		}
		switch verdict {
		case "accept":
			return verdictOf{where: where}, true
		case "drop", "reject":
			return verdictOf{dropped: true, where: where}, true
		case "return":
			return maybe, false
		case "jump", "goto":
			sub := rs.chains[c.family+"/"+c.table+"/"+target]
			if sub == nil || depth >= maxJumpDepth {
				continue
			}
			v, decided := rs.runChain(sub, p, depth+1)
			if decided {
				return v, true
			}
			if v.maybe && !maybe.maybe {
				maybe = v
			}
			if verdict == "goto" {
				return maybe, false
			}
		}
	}
	return maybe, false
}

type matchResult int

const (
	matchYes matchResult = iota
	matchNo
	matchUnknown
)

// matchExpr decides one nft match for p.
func matchExpr(raw json.RawMessage, p probePacket) matchResult {
	var m struct {
		Op    string
		Left  map[string]json.RawMessage
		Right json.RawMessage
	}
	if json.Unmarshal(raw, &m) != nil {
		return matchUnknown
	}
	test := func(v value) matchResult {
		if !v.known {
			return matchUnknown
		}
		in, ok := rightContains(m.Right, v)
		if !ok {
			return matchUnknown
		}
		if m.Op == "!=" {
			in = !in
		} else if m.Op != "==" && m.Op != "in" {
			return matchUnknown
		}
		if in {
			return matchYes
		}
		return matchNo
	}
	return test(leftValue(m.Left, p))
}

// value is what a match's left side evaluates to for the probe packet.
type value struct {
	known bool
	addr  netip.Addr
	num   int
	str   string
	strs  []string // several names for one thing ("udp", "17")
}

func leftValue(left map[string]json.RawMessage, p probePacket) value {
	if raw, ok := left["payload"]; ok {
		var pl struct{ Protocol, Field string }
		_ = json.Unmarshal(raw, &pl)
		switch {
		case (pl.Protocol == "ip" && !p.is6) || (pl.Protocol == "ip6" && p.is6):
			switch pl.Field {
			case "daddr":
				return value{known: p.dst.IsValid(), addr: p.dst}
			case "saddr":
				return value{known: p.src.IsValid(), addr: p.src}
			case "protocol", "nexthdr":
				return value{known: true, strs: []string{"udp", "17"}}
			}
		case pl.Protocol == "ip" || pl.Protocol == "ip6":
			return value{known: true, str: "\x00other-family"} // never equal
		case pl.Protocol == "udp" || pl.Protocol == "th":
			if pl.Field == "dport" {
				return value{known: true, num: int(p.dport)}
			}
		case pl.Protocol == "tcp" || pl.Protocol == "icmp" || pl.Protocol == "icmpv6" || pl.Protocol == "sctp":
			return value{known: true, str: "\x00not-udp"}
		}
		return value{}
	}
	if raw, ok := left["meta"]; ok {
		var mt struct{ Key string }
		_ = json.Unmarshal(raw, &mt)
		switch mt.Key {
		case "l4proto":
			return value{known: true, strs: []string{"udp", "17"}}
		case "nfproto":
			if p.is6 {
				return value{known: true, strs: []string{"ipv6", "10"}}
			}
			return value{known: true, strs: []string{"ipv4", "2"}}
		case "pkttype":
			return value{known: true, str: p.pkttype}
		case "iifname":
			if p.hook == "input" {
				return value{known: p.iface != "", str: p.iface}
			}
		case "oifname":
			if p.hook == "output" {
				return value{known: p.iface != "", str: p.iface}
			}
		}
		return value{}
	}
	if raw, ok := left["fib"]; ok {
		var f struct {
			Result string
			Flags  []string
		}
		_ = json.Unmarshal(raw, &f)
		if f.Result == "type" && len(f.Flags) == 1 && f.Flags[0] == "daddr" {
			return value{known: true, str: p.dsttype}
		}
		return value{}
	}
	if raw, ok := left["ct"]; ok {
		var ct struct{ Key string }
		_ = json.Unmarshal(raw, &ct)
		if ct.Key == "state" {
			// herald's datagrams open no connection the firewall
			// would call established; judge them as new.
			return value{known: true, str: "new"}
		}
	}
	return value{}
}

// rightContains reports whether v is in the match's right side (a
// value, a prefix, a range or a set of those); ok is false for forms the
// evaluator does not know.
func rightContains(raw json.RawMessage, v value) (in, ok bool) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		return anyContains(list, v)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		if set, found := obj["set"]; found {
			if json.Unmarshal(set, &list) == nil {
				return anyContains(list, v)
			}
			return false, false
		}
		if pfx, found := obj["prefix"]; found {
			var p struct {
				Addr string
				Len  int
			}
			if json.Unmarshal(pfx, &p) != nil {
				return false, false
			}
			prefix, err := netip.ParsePrefix(p.Addr + "/" + strconv.Itoa(p.Len))
			if err != nil || !v.addr.IsValid() {
				return false, false
			}
			return prefix.Contains(v.addr.WithZone("")), true
		}
		if rng, found := obj["range"]; found {
			var bounds []json.RawMessage
			if json.Unmarshal(rng, &bounds) != nil || len(bounds) != 2 {
				return false, false
			}
			return inRange(bounds[0], bounds[1], v)
		}
		return false, false
	}
	return scalarEquals(raw, v)
}

func anyContains(list []json.RawMessage, v value) (bool, bool) {
	allKnown := true
	for _, e := range list {
		in, ok := rightContains(e, v)
		if in {
			return true, true
		}
		allKnown = allKnown && ok
	}
	return false, allKnown
}

func scalarEquals(raw json.RawMessage, v value) (bool, bool) {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		if v.addr.IsValid() {
			return false, false
		}
		if len(v.strs) > 0 {
			return contains(v.strs, strconv.Itoa(n)), true
		}
		return v.str == "" && v.num == n, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false, false
	}
	switch {
	case v.addr.IsValid():
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false, false
		}
		return a == v.addr.WithZone(""), true
	case len(v.strs) > 0:
		return contains(v.strs, s), true
	case strings.ContainsAny(s, "*?["):
		ok, _ := path.Match(s, v.str) // interface wildcards such as "eth*"
		return ok, true
	}
	return s == v.str, true
}

func inRange(lo, hi json.RawMessage, v value) (bool, bool) {
	var a, b int
	if json.Unmarshal(lo, &a) == nil && json.Unmarshal(hi, &b) == nil && !v.addr.IsValid() && v.str == "" {
		return a <= v.num && v.num <= b, true
	}
	var sa, sb string
	if json.Unmarshal(lo, &sa) == nil && json.Unmarshal(hi, &sb) == nil && v.addr.IsValid() {
		x, err1 := netip.ParseAddr(sa)
		y, err2 := netip.ParseAddr(sb)
		if err1 != nil || err2 != nil {
			return false, false
		}
		a := v.addr.WithZone("")
		return x.Compare(a) <= 0 && a.Compare(y) <= 0, true
	}
	return false, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
