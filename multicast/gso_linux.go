//go:build linux

package multicast

import (
	"encoding/binary"
	"errors"
	"net"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// UDP generic segmentation offload (Linux 4.18+): one sendmsg carries up to
// gsoMaxSegments equal-sized datagrams, and the kernel (or the NIC) cuts
// them apart as late as it can. Over a bridge it stays one packet until the
// receiving socket, which is most of the per-datagram cost of a push.
const (
	gsoMaxSegments = 64
	gsoMaxBytes    = 65000 // stays under the 65507-byte UDP payload limit
)

// gsoState remembers whether this socket's kernel path takes GSO; the first
// refusal turns it off for good and the batch falls back to sendmmsg.
type gsoState struct{ off atomic.Bool }

// gsoOOB is the control message asking for segments of size seg.
func gsoOOB(b []byte, seg int) []byte {
	b = b[:unix.CmsgSpace(2)]
	h := (*unix.Cmsghdr)(unsafePointer(&b[0]))
	h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(b[unix.CmsgLen(0):], uint16(seg))
	return b
}

// writeGSO sends payloads as trains of equal-sized segments. It returns
// how many payloads went out; ok is false when GSO is unusable here and
// nothing was sent from the failed train.
func (c *UDPConn) writeGSO(payloads [][]byte, dst *net.UDPAddr, buf []byte) (sent int, ok bool, err error) {
	uc, isUDP := c.pc.(*net.UDPConn)
	if !isUDP || c.gso.off.Load() {
		return 0, false, nil
	}
	var oob [64]byte
	for sent < len(payloads) {
		seg := len(payloads[sent])
		n, train := 0, buf[:0]
		// A train is equal-sized payloads, optionally ended by a shorter one.
		for sent+n < len(payloads) && n < gsoMaxSegments && len(train)+seg <= gsoMaxBytes {
			p := payloads[sent+n]
			if len(p) > seg || (len(p) < seg && n == 0) {
				break
			}
			train = append(train, p...)
			n++
			if len(p) < seg {
				break
			}
		}
		if n <= 1 {
			return sent, sent > 0, nil // let sendmmsg take the rest
		}
		if _, _, err := uc.WriteMsgUDP(train, gsoOOB(oob[:], seg), dst); err != nil {
			if errors.Is(err, unix.EIO) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOPROTOOPT) || errors.Is(err, unix.EOPNOTSUPP) {
				c.gso.off.Store(true)
				return sent, sent > 0, nil
			}
			return sent, true, err
		}
		sent += n
	}
	return sent, true, nil
}
