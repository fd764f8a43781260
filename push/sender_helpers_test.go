package push

import (
	"net/netip"
	"testing"

	"github.com/herald-lan/herald/node"
)

// newBareSender is a sender with its tables but no socket or source: for
// tests of status and NACK handling. blocks blocks of k shards of 64 bytes.
func newBareSender(t *testing.T, n *node.Node, blocks, k int) *sender {
	t.Helper()
	l, err := newLayout(int64(blocks*k*64), k, 64)
	if err != nil {
		t.Fatal(err)
	}
	cfg := SendConfig{Node: n, OnEvent: func(Event) {}, GiveUp: 20e9}
	s := &sender{cfg: cfg, n: n, layout: l, table: newReceiverTable(cfg, keyPolicy{}, l.blocks),
		repairs: newRepairQueue(), rc: newRateController(1e8, 1e8), statuses: make(chan statusMsg, 16)}
	s.out = newShardOutput(nil, netip.AddrPort{}, l)
	return s
}
