package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// rcvBuf is forced (SO_RCVBUFFORCE, needs CAP_NET_ADMIN) so the ceiling is
// not set by net.core.rmem_max; on failure the default stays.
const rcvBuf = 8 << 20

type recvResult struct {
	Bytes      int64   `json:"bytes"`
	Datagrams  int64   `json:"datagrams"`
	Expected   int64   `json:"expected"`
	Duplicates int64   `json:"duplicates"`
	Seconds    float64 `json:"seconds"`
	Mbit       float64 `json:"mbit"`
	End        string  `json:"end"` // "marker", "idle" or "timeout"
}

func runRecv(args []string) error {
	fs := flag.NewFlagSet("recv", flag.ContinueOnError)
	groupFlag := fs.String("group", "239.255.77.9:7709", "multicast group:port (239/8 only)")
	ifaceFlag := fs.String("iface", "eth0", "interface to join on")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up this long after start")
	idle := fs.Duration("idle", 3*time.Second, "stop this long after the last datagram")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, p, group, err := joinGroup(*groupFlag, *ifaceFlag)
	if err != nil {
		return err
	}
	defer c.Close()
	forceRcvBuf(c)
	fmt.Fprintln(os.Stderr, "ready")
	res, err := count(p, group.IP, time.Now().Add(*timeout), *idle)
	if err != nil {
		return err
	}
	return printJSON(res)
}

// joinGroup listens on the group's port and joins it on the named
// interface; the caller closes the connection.
func joinGroup(groupSpec, ifaceName string) (*net.UDPConn, *ipv4.PacketConn, *net.UDPAddr, error) {
	group, err := parseGroup(groupSpec)
	if err != nil {
		return nil, nil, nil, err
	}
	ifi, err := net.InterfaceByName(ifaceName)
	if err != nil {
		return nil, nil, nil, err
	}
	lc, err := net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", group.Port))
	if err != nil {
		return nil, nil, nil, err
	}
	c := lc.(*net.UDPConn)
	p := ipv4.NewPacketConn(c)
	if err := p.JoinGroup(ifi, &net.UDPAddr{IP: group.IP}); err != nil {
		c.Close()
		return nil, nil, nil, err
	}
	return c, p, group, nil
}

func forceRcvBuf(c net.PacketConn) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	if raw, err := sc.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcvBuf)
		})
	}
}

// count reads datagrams of the group until an end marker, idle time after
// the last datagram, or the deadline.
func count(p *ipv4.PacketConn, group net.IP, deadline time.Time, idle time.Duration) (recvResult, error) {
	msgs := make([]ipv4.Message, batchLen)
	for i := range msgs {
		msgs[i] = ipv4.Message{Buffers: [][]byte{make([]byte, 65536)}, OOB: ipv4.NewControlMessage(ipv4.FlagDst)}
	}
	if err := p.SetControlMessage(ipv4.FlagDst, true); err != nil {
		return recvResult{}, err
	}
	var (
		res         recvResult
		seen        []uint64 // bitmap, allocated from the first datagram's total
		total       uint32
		first, last time.Time
	)
	res.End = "timeout"
	for {
		wait := deadline
		if !last.IsZero() && last.Add(idle).Before(deadline) {
			wait = last.Add(idle)
		}
		if err := p.SetReadDeadline(wait); err != nil {
			return res, err
		}
		n, err := p.ReadBatch(msgs, 0)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if !last.IsZero() && time.Now().Before(deadline) {
				res.End = "idle"
			}
			break
		}
		if err != nil {
			return res, err
		}
		now := time.Now()
		ended := false
		for _, m := range msgs[:n] {
			var cm ipv4.ControlMessage
			if cm.Parse(m.OOB[:m.NN]) != nil || !cm.Dst.Equal(group) {
				continue // another group on the same port
			}
			h, err := parseHeader(m.Buffers[0][:m.N])
			if err != nil || (total != 0 && h.total != total) {
				continue
			}
			if total == 0 {
				total = h.total
				seen = make([]uint64, (total+63)/64)
				first = now
			}
			if h.kind == kindEnd {
				ended = true
				continue
			}
			last = now
			word, bit := h.seq/64, uint64(1)<<(h.seq%64)
			if seen[word]&bit != 0 {
				res.Duplicates++
				continue
			}
			seen[word] |= bit
			res.Datagrams++
			res.Bytes += int64(m.N)
		}
		if ended {
			res.End = "marker"
			break
		}
	}
	res.Expected = int64(total)
	if !last.IsZero() && last.After(first) {
		res.Seconds = last.Sub(first).Seconds()
		res.Mbit = float64(res.Bytes) * 8 / res.Seconds / 1e6
	}
	return res, nil
}
