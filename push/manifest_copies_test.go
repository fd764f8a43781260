package push

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// chunkLog records the index of every manifest chunk a receiver's data
// socket read, in order.
type chunkLog struct {
	mu      sync.Mutex
	indexes []uint32
}

// isDataGroup reports whether group is a session's data group (§6.1:
// its address's second and third bytes, whatever the session).
func isDataGroup(group netip.AddrPort) bool {
	data, _ := protocol.SessionGroups(protocol.ControlGroupV4, protocol.SessionID{})
	return group.Addr().As4()[1] == data.As4()[1] && group.Addr().As4()[2] == data.As4()[2]
}

// dataGroupHost wraps a host so wrap stands between its data-group
// sockets and the session reading them.
type dataGroupHost struct {
	multicast.Network
	wrap func(multicast.Conn) multicast.Conn
}

func (h dataGroupHost) Listen(group netip.AddrPort) (multicast.Conn, error) {
	c, err := h.Network.Listen(group)
	if err != nil || !isDataGroup(group) {
		return c, err
	}
	return h.wrap(c), nil
}

// manifestChunkIndex is the index of the manifest chunk m carries.
func manifestChunkIndex(m multicast.Message) (uint32, bool) {
	sp, err := protocol.ParseSigned(m.Buf[:m.N])
	if err != nil || sp.Type != protocol.TypeManifest {
		return 0, false
	}
	mc, err := protocol.ParseManifestChunk(sp.Body)
	return mc.Index, err == nil
}

type chunkLogConn struct {
	multicast.Conn
	log *chunkLog
}

func (c chunkLogConn) ReadBatch(ms []multicast.Message) (int, error) {
	n, err := c.Conn.ReadBatch(ms)
	for _, m := range ms[:n] {
		if i, ok := manifestChunkIndex(m); ok {
			c.log.mu.Lock()
			c.log.indexes = append(c.log.indexes, i)
			c.log.mu.Unlock()
		}
	}
	return n, err
}

// The manifest goes out twice, whole, before the sender looks at any
// NACK (manifestCopies): a receiver that loses a chunk's first copy has
// its second at once instead of a NACK round later, with the room idle.
func TestManifestSentTwice(t *testing.T) {
	log := &chunkLog{}
	plain := func(n multicast.Network) multicast.Network { return n }
	logged := func(n multicast.Network) multicast.Network {
		return dataGroupHost{n, func(c multicast.Conn) multicast.Conn { return chunkLogConn{c, log} }}
	}
	l := newUnicastMemLab(t, []func(multicast.Network) multicast.Network{logged, plain}, multicast.Link{})
	pushAll(t, l, 3<<20, fixedRateK32)
	log.mu.Lock()
	defer log.mu.Unlock()
	parts := int(slices.Max(log.indexes)) + 1
	if parts < 2 || len(log.indexes) < 2*parts {
		t.Fatalf("%d chunk datagrams of a %d-chunk manifest, want two copies", len(log.indexes), parts)
	}
	for i, idx := range log.indexes[:2*parts] {
		if int(idx) != i%parts {
			t.Fatalf("chunk datagrams %v: want indexes 0..%d twice, in order, first", log.indexes[:2*parts], parts-1)
		}
	}
}

// dropChunkConn drops the first copies of one manifest chunk.
type dropChunkConn struct {
	multicast.Conn
	index   uint32
	copies  int32
	dropped *atomic.Int32
}

func (c *dropChunkConn) ReadBatch(ms []multicast.Message) (int, error) {
	for {
		n, err := c.Conn.ReadBatch(ms)
		kept := 0
		for _, m := range ms[:n] {
			if i, ok := manifestChunkIndex(m); ok && i == c.index && c.dropped.Load() < c.copies {
				c.dropped.Add(1)
				continue
			}
			ms[kept] = m
			kept++
		}
		if kept > 0 || err != nil {
			return kept, err
		}
	}
}

// A receiver that lost a manifest chunk from both passes asks for it
// within a NACK hold, not at its next periodic status: a large group's
// period is seconds (here 10 s), and its status loop looked for NACKs
// only once something had arrived without being woken by the first chunk.
func TestManifestChunkLostFromBothPassesAskedSoon(t *testing.T) {
	var dropped atomic.Int32
	plain := func(n multicast.Network) multicast.Network { return n }
	lossy := func(n multicast.Network) multicast.Network {
		return dataGroupHost{n, func(c multicast.Conn) multicast.Conn { return &dropChunkConn{c, 1, 2, &dropped} }}
	}
	l := newUnicastMemLab(t, []func(multicast.Network) multicast.Network{lossy, plain}, multicast.Link{})
	src := writeTree(t, 3<<20, 21)
	results := l.startReceivers(t, func(_ int, c *ReceiveConfig) { c.StatusEvery = 10 * time.Second })
	source, err := NewSource([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Send(l.ctx, SendConfig{Node: l.sender, Source: source, Recipients: l.recipients(), Wait: 5 * time.Second, Rate: 200e6})
	if err != nil || !rep.OK() {
		t.Fatalf("send: %v %+v", err, rep)
	}
	l.checkReceived(t, results, src)
	if n := dropped.Load(); n != 2 {
		t.Fatalf("dropped %d copies of chunk 1, want 2", n)
	}
	// Asked at its next periodic status, the sender would have waited
	// out manifestWait (3 s) before the first pass.
	if rep.Waited >= manifestWait*2/3 {
		t.Fatalf("first data shard %v into the push: the lost chunk waited for a periodic status", rep.Waited)
	}
}
