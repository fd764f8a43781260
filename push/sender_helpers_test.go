package push

import (
	"net/netip"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
)

// teacherNode opens a node named teacher on a one-host in-memory
// network, with the clock now, closed when the test ends; it returns the
// host too, for sockets of its own.
func teacherNode(t *testing.T, now func() time.Time) (*node.Node, *multicast.MemHost) {
	t.Helper()
	host := multicast.NewMemNet(1).Host(multicast.Link{})
	n, err := node.Open(node.Config{Home: t.TempDir(), Name: "teacher", Network: host, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, host
}

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
