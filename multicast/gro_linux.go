//go:build linux

package multicast

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// UDP GRO (Linux 5.0+): a socket with UDP_GRO set may receive several
// datagrams of one flow as one buffer plus a control message giving the
// segment size: one wakeup and one copy-out for up to 64 datagrams. The
// reader splits them again, so callers still see one Message per datagram.
const (
	groBuffers = 8
	groBufLen  = 65536
	groOOBLen  = 64
)

type groSegment struct {
	b   []byte
	src netip.AddrPort
}

// groReader holds the big receive buffers and the datagrams of the last
// read that did not fit the caller's batch. Single reader only.
type groReader struct {
	bufs    [groBuffers][]byte
	oobs    [groBuffers][]byte
	iov     [groBuffers][1][]byte
	msgs    []ipv4.Message
	pending []groSegment
	next    int
}

func (g *groReader) init() {
	g.msgs = make([]ipv4.Message, groBuffers)
	for i := range g.bufs {
		g.bufs[i] = make([]byte, groBufLen)
		g.oobs[i] = make([]byte, groOOBLen)
	}
}

// groSize returns the segment size from a UDP_GRO control message, or 0.
func groSize(oob []byte) int {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafePointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO && l >= unix.CmsgLen(4) {
			return int(binary.NativeEndian.Uint32(oob[unix.CmsgLen(0):]))
		}
		oob = oob[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(oob)):]
	}
	return 0
}

// readGRO fills ms from pending segments, reading more when none are left.
func (c *UDPConn) readGRO(ms []Message) (int, error) {
	g := &c.groRd
	if g.next == len(g.pending) {
		if g.msgs == nil {
			g.init()
		}
		for i := range g.msgs {
			g.iov[i][0] = g.bufs[i]
			g.msgs[i] = ipv4.Message{Buffers: g.iov[i][:], OOB: g.oobs[i]}
		}
		n, err := c.fam.ReadBatch(g.msgs, 0)
		if err != nil {
			return 0, err
		}
		g.pending, g.next = g.pending[:0], 0
		for i := range n {
			m := g.msgs[i]
			seg := groSize(m.OOB[:m.NN])
			if seg <= 0 {
				seg = m.N
			}
			src := addrPortOf(m.Addr)
			for off := 0; off < m.N; off += seg {
				g.pending = append(g.pending, groSegment{b: g.bufs[i][off:min(off+seg, m.N)], src: src})
			}
		}
	}
	k := 0
	for ; k < len(ms) && g.next < len(g.pending); k++ {
		s := g.pending[g.next]
		ms[k].N = copy(ms[k].Buf, s.b)
		ms[k].Src = s.src
		g.next++
	}
	return k, nil
}
