package netlab

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// Counters are the interface statistics of a host's eth0 (the kernel's
// /sys/class/net/eth0/statistics, as seen inside its namespace).
type Counters struct {
	TxBytes, TxPackets, RxBytes, RxPackets, TxDropped, RxDropped uint64
}

// Counters reads h's interface counters.
func (l *Lab) Counters(ctx context.Context, h Host) (Counters, error) {
	if err := l.member(h); err != nil {
		return Counters{}, err
	}
	out, err := run(ctx, l.log, nil, "ip", "-n", h.Name, "-s", "-j", "link", "show", "dev", h.Iface)
	if err != nil {
		return Counters{}, err
	}
	var links []struct {
		Stats struct {
			Rx struct{ Bytes, Packets, Dropped uint64 } `json:"rx"`
			Tx struct{ Bytes, Packets, Dropped uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		return Counters{}, fmt.Errorf("%w: ip -s -j link show: %d links, %v", ErrCommand, len(links), err)
	}
	s := links[0].Stats
	return Counters{
		TxBytes: s.Tx.Bytes, TxPackets: s.Tx.Packets, TxDropped: s.Tx.Dropped,
		RxBytes: s.Rx.Bytes, RxPackets: s.Rx.Packets, RxDropped: s.Rx.Dropped,
	}, nil
}

// guardPackets matches `packets N` in nft's listing of the guard counter.
var guardPackets = regexp.MustCompile(`packets (\d+)`)

// GuardDrops returns how many packets h tried to send outside the lab's
// ranges and the output guard dropped. Benchmarks report it; anything but 0
// means a tool tried to reach a foreign address.
func (l *Lab) GuardDrops(ctx context.Context, h Host) (uint64, error) {
	if err := l.member(h); err != nil {
		return 0, err
	}
	out, err := run(ctx, l.log, nil, "ip", "netns", "exec", h.Name, "nft", "list", "counter", "inet", NftTable, "guard")
	if err != nil {
		return 0, err
	}
	m := guardPackets.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%w: no packet count in %q", ErrCommand, out)
	}
	return strconv.ParseUint(string(m[1]), 10, 64)
}
