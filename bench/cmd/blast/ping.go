package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// The latency floor: `blast ping` multicasts count small datagrams, one
// every interval, each carrying its sequence number and the sender's clock
// just before the send; `blast listen` prints, per datagram, its receipt
// time minus that send time. Hosts of one machine (network namespaces)
// share the clock, so this is the one-way latency of the lab itself: no
// crypto, no framing, no process hops but the kernel's.
//
// Ping datagram, big endian:
//
//	0      4     5        8       12       16              24
//	+------+-----+--------+-------+--------+---------------+--- padding (zero) ---+
//	| BLST | 2   | unused |  seq  | count  | sent unix ns  |                      |
//	+------+-----+--------+-------+--------+---------------+----------------------+
//
// It shares the blast header (kind kindPing, total = count), so a blast
// receiver on the same group drops it, and adds the send time.
const (
	kindPing    = 2
	offSentNano = headerLen
	pingLen     = headerLen + 8
	// maxPings bounds one ping run.
	maxPings = 1 << 20
)

type ping struct {
	seq, count uint32
	sent       int64 // unix nanoseconds
}

func (p ping) put(b []byte) {
	copy(b, magic)
	b[offKind] = kindPing
	clear(b[offKind+1 : offSeq])
	binary.BigEndian.PutUint32(b[offSeq:], p.seq)
	binary.BigEndian.PutUint32(b[offTotal:], p.count)
	binary.BigEndian.PutUint64(b[offSentNano:], uint64(p.sent))
}

func parsePing(b []byte) (ping, error) {
	if len(b) < pingLen || string(b[:len(magic)]) != magic || b[offKind] != kindPing {
		return ping{}, errNotBlast
	}
	p := ping{seq: binary.BigEndian.Uint32(b[offSeq:]), count: binary.BigEndian.Uint32(b[offTotal:]),
		sent: int64(binary.BigEndian.Uint64(b[offSentNano:]))}
	if p.count == 0 || p.count > maxPings || p.seq >= p.count || p.sent <= 0 {
		return ping{}, errNotBlast
	}
	return p, nil
}

// pingLine is what `blast listen` prints per datagram: LatencyMS is when
// the listening process had the datagram, KernelMS (when the kernel
// stamped it, SO_TIMESTAMPNS) when it reached the socket; the difference
// is the wakeup of the listener.
type pingLine struct {
	Seq       uint32   `json:"seq"`
	SentNS    int64    `json:"sent_ns"`
	RecvNS    int64    `json:"recv_ns"`
	LatencyMS float64  `json:"latency_ms"`
	KernelMS  *float64 `json:"kernel_ms,omitempty"`
}

// newPingLine: kernel is the kernel's receive stamp, zero if none.
func newPingLine(p ping, recv, kernel time.Time) pingLine {
	ns := recv.UnixNano()
	l := pingLine{Seq: p.seq, SentNS: p.sent, RecvNS: ns, LatencyMS: float64(ns-p.sent) / 1e6}
	if !kernel.IsZero() {
		k := float64(kernel.UnixNano()-p.sent) / 1e6
		l.KernelMS = &k
	}
	return l
}

// parseListenOOB returns the destination address (IP_PKTINFO) and the
// kernel's receive time (SCM_TIMESTAMPNS) of a datagram; either is zero
// when absent.
func parseListenOOB(oob []byte) (dst net.IP, kernel time.Time) {
	cms, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, time.Time{}
	}
	for _, cm := range cms {
		switch {
		case cm.Header.Level == unix.SOL_SOCKET && cm.Header.Type == unix.SCM_TIMESTAMPNS && len(cm.Data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&cm.Data[0]))
			kernel = time.Unix(ts.Unix())
		case cm.Header.Level == unix.IPPROTO_IP && cm.Header.Type == unix.IP_PKTINFO && len(cm.Data) >= unix.SizeofInet4Pktinfo:
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&cm.Data[0]))
			dst = net.IP(slices.Clone(pi.Addr[:]))
		}
	}
	return dst, kernel
}

type pingResult struct {
	Datagrams int     `json:"datagrams"`
	Seconds   float64 `json:"seconds"`
}

func runPing(args []string) error {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	groupFlag := fs.String("group", "239.255.77.10:7710", "multicast group:port (239/8 only)")
	ifaceFlag := fs.String("iface", "eth0", "interface to send on")
	count := fs.Int("count", 150, "datagrams to send")
	interval := fs.Duration("interval", 80*time.Millisecond, "time between datagrams")
	size := fs.Int("size", 200, "datagram size in bytes (UDP payload)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	group, err := parseGroup(*groupFlag)
	if err != nil {
		return err
	}
	if *count < 1 || *count > maxPings {
		return fmt.Errorf("count %d not in 1..%d", *count, maxPings)
	}
	if *size < pingLen || *size > 65000 {
		return fmt.Errorf("size %d not in %d..65000", *size, pingLen)
	}
	if *interval <= 0 {
		return fmt.Errorf("interval %v must be positive", *interval)
	}
	conn, err := openSender(*ifaceFlag)
	if err != nil {
		return err
	}
	defer conn.Close()
	start := time.Now()
	buf := make([]byte, *size)
	next := start
	for seq := range *count {
		time.Sleep(time.Until(next))
		next = next.Add(*interval)
		ping{seq: uint32(seq), count: uint32(*count), sent: time.Now().UnixNano()}.put(buf)
		if _, err := conn.WriteTo(buf, nil, group); err != nil {
			return err
		}
	}
	return printJSON(pingResult{Datagrams: *count, Seconds: time.Since(start).Seconds()})
}

func runListen(args []string) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	groupFlag := fs.String("group", "239.255.77.10:7710", "multicast group:port (239/8 only)")
	ifaceFlag := fs.String("iface", "eth0", "interface to join on")
	count := fs.Int("count", 150, "exit after this many distinct datagrams")
	timeout := fs.Duration("timeout", time.Minute, "give up this long after start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, p, group, err := joinGroup(*groupFlag, *ifaceFlag)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := p.SetControlMessage(ipv4.FlagDst, true); err != nil {
		return err
	}
	if raw, err := c.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) // best effort
		})
	}
	if err := c.SetReadDeadline(time.Now().Add(*timeout)); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "ready")
	out := json.NewEncoder(os.Stdout)
	buf := make([]byte, 65536)
	oob := make([]byte, 256)
	seen := map[uint32]bool{}
	for len(seen) < *count {
		n, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
		recv := time.Now()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("timeout after %d of %d datagrams", len(seen), *count)
		}
		if err != nil {
			return err
		}
		dst, kernel := parseListenOOB(oob[:oobn])
		if !dst.Equal(group.IP) {
			continue // another group on the same port
		}
		pg, err := parsePing(buf[:n])
		if err != nil || seen[pg.seq] {
			continue
		}
		seen[pg.seq] = true
		if err := out.Encode(newPingLine(pg, recv, kernel)); err != nil {
			return err
		}
	}
	return nil
}
