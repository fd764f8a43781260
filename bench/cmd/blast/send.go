package main

import (
	"flag"
	"fmt"
	"net"
	"time"

	"golang.org/x/net/ipv4"
)

const (
	// batchLen datagrams go to the kernel per sendmmsg call.
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
	conn, err := openSender(*ifaceFlag)
	if err != nil {
		return err
	}
	defer conn.Close()
	res, err := blast(conn, group, uint32(count), *size, *rateMbit)
	if err != nil {
		return err
	}
	return printJSON(res)
}

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
func blast(p *ipv4.PacketConn, group *net.UDPAddr, count uint32, size int, rateMbit float64) (sendResult, error) {
	msgs := make([]ipv4.Message, batchLen)
	for i := range msgs {
		msgs[i] = ipv4.Message{Buffers: [][]byte{make([]byte, size)}, Addr: group}
	}
	start := time.Now()
	var sent uint32
	for sent < count {
		n := min(int(count-sent), batchLen)
		for i := range n {
			header{kind: kindData, seq: sent + uint32(i), total: count}.put(msgs[i].Buffers[0])
		}
		for off := 0; off < n; {
			w, err := p.WriteBatch(msgs[off:n], 0)
			if err != nil {
				return sendResult{}, err
			}
			off += w
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
		if _, err := p.WriteTo(end, nil, group); err != nil {
			return sendResult{}, err
		}
		time.Sleep(endGap)
	}
	bytes := int64(count) * int64(size)
	return sendResult{Bytes: bytes, Datagrams: int64(count), Seconds: elapsed, Mbit: float64(bytes) * 8 / elapsed / 1e6}, nil
}
