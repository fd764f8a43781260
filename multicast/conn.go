package multicast

import "net/netip"

// Message is one received datagram. Buf is owned by the caller and is not
// retained by the Conn; ReadBatch fills Buf[:N] and sets Src. A datagram
// longer than Buf is truncated to len(Buf), as UDP does.
type Message struct {
	Buf []byte
	N   int
	Src netip.AddrPort
}

// Conn is a socket joined to one multicast group.
//
// Concurrency: one goroutine may call ReadBatch while any number of
// goroutines call WriteBatch, LocalAddr and Close.
type Conn interface {
	// ReadBatch blocks until at least one datagram is available, then fills
	// up to len(ms) messages and returns how many it filled. After Close it
	// returns an error wrapping net.ErrClosed.
	ReadBatch(ms []Message) (int, error)
	// WriteBatch sends each payload as one datagram to dst, which may be any
	// multicast group (not only the one this Conn listens on). It returns the
	// number of payloads sent; n < len(payloads) only with a non-nil error.
	WriteBatch(payloads [][]byte, dst netip.AddrPort) (int, error)
	// LocalAddr is the address peers see as Src of this Conn's datagrams:
	// the egress interface's unicast address (when it has one) and the
	// group port. Several Conns on one host share it.
	LocalAddr() netip.AddrPort
	// Close leaves the group and unblocks ReadBatch. It is idempotent.
	Close() error
}

// Network opens Conns.
//
// Concurrency: safe for concurrent use.
type Network interface {
	// Listen returns a Conn that receives only datagrams sent to group
	// (address and port). group must be a multicast address with a non-zero
	// port.
	Listen(group netip.AddrPort) (Conn, error)
}

// DropCounter is implemented by Conns that know how many datagrams
// addressed to them were dropped because their receive queue was full:
// the reader did not keep up (an overloaded receiver), as opposed to loss
// on the network. UDPConn counts with the kernel on Linux; MemConn counts
// its queue.
type DropCounter interface {
	// Dropped returns the count since the Conn was opened, and false
	// when the platform cannot tell.
	Dropped() (uint64, bool)
}

var (
	_ DropCounter = (*UDPConn)(nil)
	_ DropCounter = (*MemConn)(nil)
)

// Dropped returns c's drop count when it keeps one (see DropCounter).
func Dropped(c Conn) (uint64, bool) {
	if d, ok := c.(DropCounter); ok {
		return d.Dropped()
	}
	return 0, false
}
