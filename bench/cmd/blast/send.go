package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/herald-lan/herald/multicast"
)

const (
	// batchLen datagrams go to the kernel per WriteBatch call: with UDP GSO
	// that is one sendmsg train, as herald's sender sends.
	batchLen = 64
	// endRepeats end markers are sent, endGap apart, so that a lossy
	// receiver still sees one.
	endRepeats = 20
	endGap     = 2 * time.Millisecond
	// paceQuantum: the pacer sleeps only when this far ahead, since Go
	// timers cannot sleep for microseconds.
	paceQuantum = time.Millisecond
)

type sendResult struct {
	Bytes     int64   `json:"bytes"`
	Datagrams int64   `json:"datagrams"`
	Seconds   float64 `json:"seconds"`
	Mbit      float64 `json:"mbit"`
}

func runSend(args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	groupFlag := fs.String("group", "239.255.77.9:7709", "multicast group:port (239/8 only)")
	ifaceFlag := fs.String("iface", "eth0", "interface to send on")
	totalBytes := fs.Int64("bytes", 50<<20, "payload bytes to send (rounded up to whole datagrams)")
	size := fs.Int("size", 1400, "datagram size in bytes (UDP payload)")
	rateMbit := fs.Float64("rate-mbit", 0, "pace to this many Mbit/s of UDP payload; 0 = as fast as the socket accepts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	group, err := parseGroup(*groupFlag)
	if err != nil {
		return err
	}
	if *size < minPayload || *size > 65000 {
		return fmt.Errorf("size %d not in %d..65000", *size, minPayload)
	}
	count := (*totalBytes + int64(*size) - 1) / int64(*size)
	if count < 1 || count > maxDatagrams {
		return fmt.Errorf("bytes %d gives %d datagrams, want 1..%d", *totalBytes, count, maxDatagrams)
	}
	conn, err := openBlastConn(*ifaceFlag, group.AddrPort())
	if err != nil {
		return err
	}
	defer conn.Close()
	res, err := blast(conn, group.AddrPort(), uint32(count), *size, *rateMbit)
	if err != nil {
		return err
	}
	return printJSON(res)
}

// openBlastConn opens a socket of herald's own transport (package
// multicast: UDP GSO on send, GRO and an 8 MiB receive buffer on receive),
// joined to group on the named interface with loopback off. The ceiling
// then pays the same kernel path per byte as herald, and nothing else.
// The send buffer stays the OS default: blast is not paced, and only a
// buffer smaller than the lab's tbf queue makes the socket push back
// instead of the qdisc dropping whole GSO trains.
func openBlastConn(ifaceName string, group netip.AddrPort) (multicast.Conn, error) {
	network, err := multicast.NewUDP(multicast.Config{Iface: ifaceName, DisableLoopback: true, SendBuffer: -1})
	if err != nil {
		return nil, err
	}
	return network.Listen(group)
}

// openSender is a plain socket for ping's single datagrams.
func openSender(ifaceName string) (*ipv4.PacketConn, error) {
	ifi, err := net.InterfaceByName(ifaceName)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		return nil, err
	}
	p := ipv4.NewPacketConn(c)
	for _, set := range []func() error{
		func() error { return p.SetMulticastInterface(ifi) },
		func() error { return p.SetMulticastTTL(1) },
		func() error { return p.SetMulticastLoopback(false) },
	} {
		if err := set(); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// blast sends count data datagrams, then the end markers.
func blast(conn multicast.Conn, group netip.AddrPort, count uint32, size int, rateMbit float64) (sendResult, error) {
	payloads := make([][]byte, batchLen)
	for i := range payloads {
		payloads[i] = make([]byte, size)
	}
	start := time.Now()
	var sent uint32
	for sent < count {
		n := min(int(count-sent), batchLen)
		for i := range n {
			header{kind: kindData, seq: sent + uint32(i), total: count}.put(payloads[i])
		}
		if _, err := conn.WriteBatch(payloads[:n], group); err != nil {
			return sendResult{}, err
		}
		sent += uint32(n)
		if rateMbit > 0 {
			due := start.Add(time.Duration(float64(sent) * float64(size) * 8 / rateMbit * 1e3))
			if ahead := time.Until(due); ahead > paceQuantum {
				time.Sleep(ahead)
			}
		}
	}
	elapsed := time.Since(start).Seconds()
	end := make([]byte, headerLen)
	header{kind: kindEnd, total: count}.put(end)
	for range endRepeats {
		if _, err := conn.WriteBatch([][]byte{end}, group); err != nil {
			return sendResult{}, err
		}
		time.Sleep(endGap)
	}
	bytes := int64(count) * int64(size)
	return sendResult{Bytes: bytes, Datagrams: int64(count), Seconds: elapsed, Mbit: float64(bytes) * 8 / elapsed / 1e6}, nil
}
