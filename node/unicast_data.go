package node

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// Unicast data (SPEC.md §6.11): a sender serves a receiver that does not
// hear the data group by unicast to the receiver's unicast socket, and
// receivers send their statuses by unicast to the sender's too. The
// reader hands such datagrams, unverified, to the push session that
// listens for them, which checks them exactly as it checks the group's.
const (
	// maxDataSinks bounds the sessions listening for unicast data.
	maxDataSinks = 64
	// dataSinkQueue bounds one session's queue; beyond it datagrams are
	// dropped and counted, as a full socket buffer would.
	dataSinkQueue = 4096
)

// dataSessionOf returns the session of a push session's datagram: a data
// shard, a manifest chunk, a shard hash list or a list seal (data group),
// or a status (feedback group).
func dataSessionOf(b []byte) (protocol.SessionID, bool) {
	h, err := protocol.ParseHeader(b)
	if err != nil {
		return protocol.SessionID{}, false
	}
	switch h.Type {
	case protocol.TypeData:
		d, err := protocol.ParseData(b)
		return d.Session, err == nil
	case protocol.TypeManifest, protocol.TypeHashes, protocol.TypeListSeal, protocol.TypeStatus:
		s, err := protocol.ParseSigned(b)
		if err != nil || len(s.Body) < len(protocol.SessionID{}) {
			return protocol.SessionID{}, false
		}
		return protocol.SessionID(s.Body[:len(protocol.SessionID{})]), true
	}
	return protocol.SessionID{}, false
}

// dataSinks are the sessions listening for unicast data. Safe for
// concurrent use.
type dataSinks struct {
	mu      sync.Mutex
	by      map[protocol.SessionID]*DataConn
	dropped uint64
}

// deliver queues a copy of b for its session's sink; it reports whether
// b was a data-group datagram (delivered or dropped).
func (d *dataSinks) deliver(b []byte, src netip.AddrPort) bool {
	sid, ok := dataSessionOf(b)
	if !ok {
		return false
	}
	d.mu.Lock()
	c := d.by[sid]
	d.mu.Unlock()
	if c == nil {
		return true
	}
	select {
	case c.queue <- datagram{b: append([]byte(nil), b...), src: src}:
	default:
		d.mu.Lock()
		d.dropped++
		d.mu.Unlock()
	}
	return true
}

type datagram struct {
	b   []byte
	src netip.AddrPort
}

// DataConn receives the unicast data of one push session. It implements
// multicast.Conn for reading; WriteBatch fails. One goroutine may call
// ReadBatch while others call Close.
type DataConn struct {
	n     *Node
	sid   protocol.SessionID
	local netip.AddrPort
	queue chan datagram
	done  chan struct{}
	once  sync.Once
}

var _ multicast.Conn = (*DataConn)(nil)

// ListenUnicastData returns a DataConn for session: the data shards,
// manifest chunks and hash lists a sender sends it by unicast, or, for
// the session's sender, the statuses its receivers send it so. Close it
// when the session ends.
func (n *Node) ListenUnicastData(session protocol.SessionID) (*DataConn, error) {
	d := &n.sinks
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.by == nil {
		d.by = make(map[protocol.SessionID]*DataConn)
	}
	if len(d.by) >= maxDataSinks {
		return nil, fmt.Errorf("node: %d sessions already listen for unicast data", maxDataSinks)
	}
	c := &DataConn{n: n, sid: session, local: n.UnicastAddr(), queue: make(chan datagram, dataSinkQueue), done: make(chan struct{})}
	d.by[session] = c
	return c, nil
}

// ReadBatch blocks for at least one datagram, then takes what is queued,
// up to len(ms). After Close it returns net.ErrClosed.
func (c *DataConn) ReadBatch(ms []multicast.Message) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	select {
	case m := <-c.queue:
		ms[0].N, ms[0].Src = copy(ms[0].Buf, m.b), m.src
	case <-c.done:
		return 0, net.ErrClosed
	}
	n := 1
	for n < len(ms) {
		select {
		case m := <-c.queue:
			ms[n].N, ms[n].Src = copy(ms[n].Buf, m.b), m.src
			n++
		default:
			return n, nil
		}
	}
	return n, nil
}

// WriteBatch is refused: a DataConn only receives.
func (c *DataConn) WriteBatch([][]byte, netip.AddrPort) (int, error) {
	return 0, fmt.Errorf("node: unicast data connection of session %x is receive-only", c.sid)
}

// LocalAddr is the Node's unicast address.
func (c *DataConn) LocalAddr() netip.AddrPort { return c.local }

// Close stops delivery and unblocks ReadBatch. Idempotent.
func (c *DataConn) Close() error {
	c.once.Do(func() {
		d := &c.n.sinks
		d.mu.Lock()
		if d.by[c.sid] == c {
			delete(d.by, c.sid)
		}
		d.mu.Unlock()
		close(c.done)
	})
	return nil
}
