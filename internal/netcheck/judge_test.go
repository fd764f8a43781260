package netcheck

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestJudgeClock(t *testing.T) {
	tests := []struct {
		offset time.Duration
		want   Status
		says   string
	}{
		{0, Pass, "+0s off"},
		{-30 * time.Second, Pass, "-30s off"},
		{90 * time.Second, Warn, "near the ±2m0s"},
		{5 * time.Minute, Fail, "+5m0s off our clock, beyond"},
		{-5 * time.Minute, Fail, "-5m0s off"},
	}
	for _, tt := range tests {
		r := judgeClock(&peerView{name: "bob", fp: "FP", offset: tt.offset, haveOffset: true})
		if r.Status != tt.want || !strings.Contains(r.Detail, tt.says) || r.Peer != "FP" || (r.Status != Pass && !strings.Contains(r.Fix, "set-ntp")) {
			t.Errorf("offset %v: %+v, want %v with %q", tt.offset, r, tt.want, tt.says)
		}
	}
}

func TestJudgePeers(t *testing.T) {
	static := []netip.AddrPort{netip.MustParseAddrPort("198.18.0.7:4772"), netip.MustParseAddrPort("198.18.0.9:4772")}
	views := []*peerView{
		{name: "m", fp: "M", multicast: true},
		{name: "u", fp: "U", unicast: true, addr: netip.MustParseAddrPort("198.18.0.7:4772")},
		{name: "d", fp: "D", multicast: true, deaf: true},
	}
	got := judgePeers(views, static, time.Second)
	want := map[string]Status{"peers/U": Warn, "deaf-peer/D": Warn, "static-peer/198.18.0.7:4772": Pass, "static-peer/198.18.0.9:4772": Fail, "peers/": Pass}
	seen := map[string]Status{}
	for _, r := range got {
		key := r.Check + "/" + r.Peer
		if r.Check == "static-peer" {
			key = r.Check + "/" + strings.Fields(r.Detail)[map[bool]int{true: 2, false: 0}[r.Status == Fail]]
		}
		seen[key] = r.Status
		if r.Status != Pass && r.Fix == "" {
			t.Errorf("%+v has no fix", r)
		}
	}
	for k, st := range want {
		if seen[k] != st {
			t.Errorf("%s: %v, want %v (all: %+v)", k, seen[k], st, got)
		}
	}
	if none := judgePeers(nil, nil, time.Second); len(none) != 1 || none[0].Status != Warn {
		t.Errorf("no peers: %+v, want one WARN", none)
	}
}

func TestJudgeProbe(t *testing.T) {
	full := pathReport{got: true, count: ProbeCount, bytes: ProbeCount * 1400, spanMicros: 45_000}
	tests := []struct {
		name   string
		mc, uc pathReport
		want   Status
	}{
		{"both whole", full, full, Pass},
		{"no answer", pathReport{}, pathReport{}, Fail},
		{"multicast lost", pathReport{got: true}, full, Fail},
		{"multicast lossy", pathReport{got: true, count: ProbeCount * 9 / 10}, full, Warn},
	}
	for _, tt := range tests {
		if r := judgeProbe("d", tt.mc, tt.uc); r.Status != tt.want || (r.Status != Pass && r.Fix == "") {
			t.Errorf("%s: %+v, want %v", tt.name, r, tt.want)
		}
	}
	if s := full.String(); s != "400/400 (100%) at 99.6 Mbit/s" {
		t.Errorf("report reads %q", s)
	}
}
