package push

import (
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// chunkLog records the index of every manifest chunk a receiver's data
// socket read, in order.
type chunkLog struct {
	mu      sync.Mutex
	indexes []uint32
}

// chunkLogHost wraps a host so its data-group sockets log manifest chunks.
type chunkLogHost struct {
	multicast.Network
	log *chunkLog
}

func (h chunkLogHost) Listen(group netip.AddrPort) (multicast.Conn, error) {
	c, err := h.Network.Listen(group)
	if err != nil {
		return nil, err
	}
	data, _ := protocol.SessionGroups(protocol.ControlGroupV4, protocol.SessionID{})
	if group.Addr().As4()[1] == data.As4()[1] && group.Addr().As4()[2] == data.As4()[2] {
		return chunkLogConn{c, h.log}, nil
	}
	return c, nil
}

type chunkLogConn struct {
	multicast.Conn
	log *chunkLog
}

func (c chunkLogConn) ReadBatch(ms []multicast.Message) (int, error) {
	n, err := c.Conn.ReadBatch(ms)
	for _, m := range ms[:n] {
		if sp, perr := protocol.ParseSigned(m.Buf[:m.N]); perr == nil && sp.Type == protocol.TypeManifest {
			if mc, cerr := protocol.ParseManifestChunk(sp.Body); cerr == nil {
				c.log.mu.Lock()
				c.log.indexes = append(c.log.indexes, mc.Index)
				c.log.mu.Unlock()
			}
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
	logged := func(n multicast.Network) multicast.Network { return chunkLogHost{n, log} }
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
