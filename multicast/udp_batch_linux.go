//go:build linux

package multicast

import "net"

// readBatch receives up to len(ms) datagrams with one recvmmsg.
func (c *UDPConn) readBatch(ms []Message) (int, error) {
	if c.gro {
		return c.readGRO(ms)
	}
	msgs := c.read.prepare(len(ms), func(i int) []byte { return ms[i].Buf })
	n, err := c.fam.ReadBatch(msgs, 0)
	n = max(n, 0) // x/net returns -1 with an error
	for i := range n {
		ms[i].N = msgs[i].N
		ms[i].Src = addrPortOf(msgs[i].Addr)
	}
	c.read.release()
	return n, err
}

// writeBatch sends payloads with as few sendmmsg calls as the kernel
// allows; it retries the remainder of a partial batch.
func (c *UDPConn) writeBatch(payloads [][]byte, dst *net.UDPAddr) (int, error) {
	s, _ := c.writes.Get().(*batchScratch)
	if s == nil {
		s = new(batchScratch)
	}
	defer func() {
		s.release()
		c.writes.Put(s)
	}()
	sent := 0
	if len(payloads) > 1 {
		if cap(s.gsoBuf) < gsoMaxBytes {
			s.gsoBuf = make([]byte, 0, gsoMaxBytes)
		}
		n, _, err := c.writeGSO(payloads, dst, s.gsoBuf)
		if err != nil || n == len(payloads) {
			return n, err
		}
		sent, payloads = n, payloads[n:]
	}
	msgs := s.prepare(len(payloads), func(i int) []byte { return payloads[i] })
	for i := range msgs {
		msgs[i].Addr = dst
	}
	done := 0
	for done < len(msgs) {
		n, err := c.fam.WriteBatch(msgs[done:], 0)
		done += max(n, 0) // x/net returns -1 with an error
		if err != nil {
			return sent + done, err
		}
	}
	return sent + done, nil
}
