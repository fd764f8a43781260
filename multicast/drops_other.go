//go:build !linux

package multicast

// socketDrops is unknown off Linux: the portable socket API has no
// counter of datagrams dropped at a full receive buffer, so such drops
// are reported as network loss there.
func (c *UDPConn) socketDrops() (uint64, bool) { return 0, false }
