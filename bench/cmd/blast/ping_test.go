package main

import (
	"errors"
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestPingRoundTrip(t *testing.T) {
	tests := []ping{
		{seq: 0, count: 1, sent: 1},
		{seq: 149, count: 150, sent: time.Unix(1795321048, 153322146).UnixNano()},
		{seq: maxPings - 1, count: maxPings, sent: 1<<63 - 1},
	}
	for _, p := range tests {
		b := make([]byte, pingLen+10)
		for i := range b {
			b[i] = 0xee // put must not depend on a zeroed buffer
		}
		p.put(b)
		got, err := parsePing(b)
		if err != nil || got != p {
			t.Errorf("parsePing(put(%+v)) = %+v, %v", p, got, err)
		}
	}
}

func TestPingRejects(t *testing.T) {
	valid := make([]byte, pingLen)
	ping{seq: 1, count: 2, sent: 1e18}.put(valid)
	mutate := func(f func(b []byte)) []byte {
		b := append([]byte(nil), valid...)
		f(b)
		return b
	}
	data := make([]byte, pingLen)
	header{kind: kindData, seq: 1, total: 2}.put(data)
	tests := []struct {
		name string
		b    []byte
	}{
		{"truncated", valid[:pingLen-1]},
		{"bad magic", mutate(func(b []byte) { b[1] = 'X' })},
		{"blast data", data},
		{"seq beyond count", mutate(func(b []byte) { b[offSeq+3] = 2 })},
		{"zero count", mutate(func(b []byte) { clear(b[offTotal : offTotal+4]) })},
		{"count too large", mutate(func(b []byte) { copy(b[offTotal:], []byte{0xff, 0xff, 0xff, 0xff}) })},
		{"no send time", mutate(func(b []byte) { clear(b[offSentNano:]) })},
		{"negative send time", mutate(func(b []byte) { b[offSentNano] = 0x80 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parsePing(tt.b); !errors.Is(err, errNotBlast) {
				t.Fatalf("parsePing = %v, want errNotBlast", err)
			}
		})
	}
}

// TestPingNotBlastData: a blast receiver on the same group must not count
// a ping as data.
func TestPingNotBlastData(t *testing.T) {
	b := make([]byte, pingLen)
	ping{seq: 0, count: 3, sent: 1}.put(b)
	if _, err := parseHeader(b); !errors.Is(err, errNotBlast) {
		t.Fatalf("parseHeader(ping) = %v, want errNotBlast", err)
	}
}

func TestPingLineLatency(t *testing.T) {
	sent := time.Unix(100, 0)
	l := newPingLine(ping{seq: 7, count: 9, sent: sent.UnixNano()}, sent.Add(1234567*time.Nanosecond), sent.Add(250*time.Microsecond))
	if l.Seq != 7 || l.LatencyMS != 1.234567 || l.RecvNS-l.SentNS != 1234567 || l.KernelMS == nil || *l.KernelMS != 0.25 {
		t.Fatalf("newPingLine = %+v", l)
	}
	if l := newPingLine(ping{seq: 7, count: 9, sent: sent.UnixNano()}, sent.Add(time.Millisecond), time.Time{}); l.KernelMS != nil {
		t.Fatalf("newPingLine without a kernel stamp = %+v", l)
	}
}

// TestParseListenOOB builds the two control messages a listener asks for
// (and one it does not) and reads them back.
func TestParseListenOOB(t *testing.T) {
	at := time.Unix(1795321048, 153322146)
	ts := unix.NsecToTimespec(at.UnixNano())
	pi := unix.Inet4Pktinfo{Ifindex: 3, Addr: [4]byte{239, 255, 77, 10}}
	var oob []byte
	add := func(level, typ int, data []byte) {
		b := make([]byte, unix.CmsgSpace(len(data)))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = int32(level), int32(typ)
		h.SetLen(unix.CmsgLen(len(data)))
		copy(b[unix.CmsgLen(0):], data)
		oob = append(oob, b...)
	}
	add(unix.SOL_SOCKET, unix.SO_RCVBUF, []byte{1, 2, 3, 4}) // ignored
	add(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)))
	add(unix.IPPROTO_IP, unix.IP_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&pi)), unix.SizeofInet4Pktinfo))
	dst, kernel := parseListenOOB(oob)
	if !dst.Equal(net.IPv4(239, 255, 77, 10)) || !kernel.Equal(at) {
		t.Fatalf("parseListenOOB = %v, %v; want 239.255.77.10, %v", dst, kernel, at)
	}
	if dst, kernel := parseListenOOB(oob[:unix.CmsgSpace(4)]); dst != nil || !kernel.IsZero() {
		t.Fatalf("parseListenOOB without them = %v, %v", dst, kernel)
	}
}
