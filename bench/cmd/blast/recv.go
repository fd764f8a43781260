package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/herald-lan/herald/multicast"
)

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
	group, err := parseGroup(*groupFlag)
	if err != nil {
		return err
	}
	conn, err := openBlastConn(*ifaceFlag, group.AddrPort())
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintln(os.Stderr, "ready")
	res, err := count(conn, time.Now().Add(*timeout), *idle)
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

// count reads datagrams of the group until an end marker, idle time after
// the last datagram, or the deadline. The Conn has no read deadline, so a
// watchdog closes it when one of the last two passes.
func count(conn multicast.Conn, deadline time.Time, idle time.Duration) (recvResult, error) {
	msgs := make([]multicast.Message, batchLen)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 65536)
	}
	var (
		res         recvResult
		seen        []uint64 // bitmap, allocated from the first datagram's total
		total       uint32
		first       time.Time
		lastNanos   atomic.Int64 // last data datagram, for the watchdog
		stopWatch   = make(chan struct{})
		watchResult = make(chan string, 1)
	)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopWatch:
				watchResult <- ""
				return
			case now := <-tick.C:
				last := lastNanos.Load()
				switch {
				case now.After(deadline):
					conn.Close()
					watchResult <- "timeout"
					return
				case last != 0 && now.Sub(time.Unix(0, last)) > idle:
					conn.Close()
					watchResult <- "idle"
					return
				}
			}
		}
	}()
	var last time.Time
	for {
		n, err := conn.ReadBatch(msgs)
		if errors.Is(err, net.ErrClosed) {
			break
		}
		if err != nil {
			close(stopWatch)
			<-watchResult
			return res, err
		}
		now := time.Now()
		ended := false
		for _, m := range msgs[:n] {
			h, err := parseHeader(m.Buf[:m.N])
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
		if !last.IsZero() {
			lastNanos.Store(last.UnixNano())
		}
		if ended {
			res.End = "marker"
			break
		}
	}
	if res.End == "marker" {
		close(stopWatch)
	}
	if reason := <-watchResult; res.End == "" {
		res.End = reason // the watchdog closed the conn: "idle" or "timeout"
	}
	res.Expected = int64(total)
	if !last.IsZero() && last.After(first) {
		res.Seconds = last.Sub(first).Seconds()
		res.Mbit = float64(res.Bytes) * 8 / res.Seconds / 1e6
	}
	return res, nil
}
