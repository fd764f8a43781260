//go:build linux

package multicast

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readOne reads one datagram or fails after timeout, closing c so the
// reading goroutine ends.
func readOne(t testing.TB, c Conn, timeout time.Duration) Message {
	t.Helper()
	type result struct {
		m   Message
		err error
	}
	done := make(chan result, 1)
	go func() {
		ms := newMessages(1, 2048)
		_, err := c.ReadBatch(ms)
		done <- result{ms[0], err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("ReadBatch on %v: %v", c.LocalAddr(), r.err)
		}
		return r.m
	case <-time.After(timeout):
		c.Close()
		<-done
		t.Fatalf("no datagram on %v within %v", c.LocalAddr(), timeout)
		return Message{}
	}
}

func TestUDPGroupDeliveryAndIsolation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		iface  string
		veth   bool
		noFlag bool // lo without MULTICAST, as on a stock Linux host
		groupA string
		groupB string // same port, other group: must not reach A's Conns
		src    string // expected source address; "" = don't check
	}{
		// lo's addresses are host-scoped, so Linux sends from 0.0.0.0 there.
		{"ipv4 on lo", "lo", false, false, "239.255.72.250:47250", "239.255.72.251:47250", ""},
		{"ipv4 every interface (lo only)", "", false, false, "239.255.72.250:47250", "239.255.72.251:47250", ""},
		{"ipv4 fallback to lo without MULTICAST", "", false, true, "239.255.72.250:47250", "239.255.72.251:47250", ""},
		{"ipv4 on named lo without MULTICAST", "lo", false, true, "239.255.72.250:47250", "239.255.72.251:47250", ""},
		{"ipv4 on veth", "hv0", true, false, "239.255.72.250:47250", "239.255.72.251:47250", vethAddr4},
		{"ipv6 link-local on veth", "hv0", true, false, "[ff12::4872]:47250", "[ff12::4873]:47250", "link-local"},
		{"ipv6 site-local on veth", "hv0", true, false, "[ff15::4872]:47250", "[ff15::4873]:47250", "link-local"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enterMulticastNetns(t)
			if tc.veth {
				addVethPair(t, "hv0")
			}
			if tc.noFlag {
				if err := setLoopbackFlags(unix.IFF_UP); err != nil {
					t.Fatal(err)
				}
			}
			groupA, groupB := netip.MustParseAddrPort(tc.groupA), netip.MustParseAddrPort(tc.groupB)
			nw, err := NewUDP(Config{Iface: tc.iface})
			if err != nil {
				t.Fatal(err)
			}
			sender := mustListen(t, nw, groupA)
			peer := mustListen(t, nw, groupA) // same group and port: SO_REUSEADDR
			other := mustListen(t, nw, groupB)

			payloads := [][]byte{[]byte("alpha"), []byte("beta"), bytes.Repeat([]byte{7}, 1400)}
			if n, err := sender.WriteBatch(payloads, groupA); n != len(payloads) || err != nil {
				t.Fatalf("WriteBatch = %d, %v", n, err)
			}
			for name, c := range map[string]Conn{"peer": peer, "sender (loopback)": sender} {
				for i, want := range payloads {
					m := readOne(t, c, 5*time.Second)
					if !bytes.Equal(m.Buf[:m.N], want) {
						t.Fatalf("%s datagram %d = %q, want %q", name, i, m.Buf[:m.N], want)
					}
					if m.Src.Port() != groupA.Port() {
						t.Errorf("%s: Src port %d, want the group port %d", name, m.Src.Port(), groupA.Port())
					}
					if tc.src == "link-local" && !m.Src.Addr().IsLinkLocalUnicast() ||
						tc.src != "" && tc.src != "link-local" && m.Src.Addr().String() != tc.src {
						t.Errorf("%s: Src %v, want %s", name, m.Src, tc.src)
					}
					if tc.src != "" && m.Src.Addr().WithZone("") != sender.LocalAddr().Addr().WithZone("") {
						t.Errorf("%s: Src %v differs from sender LocalAddr %v", name, m.Src, sender.LocalAddr())
					}
				}
			}

			// B's datagram goes first; if the Conns on A could see it, it
			// would be read before A's marker.
			if _, err := sender.WriteBatch([][]byte{[]byte("for B")}, groupB); err != nil {
				t.Fatal(err)
			}
			if _, err := sender.WriteBatch([][]byte{[]byte("marker")}, groupA); err != nil {
				t.Fatal(err)
			}
			if m := readOne(t, other, 5*time.Second); string(m.Buf[:m.N]) != "for B" {
				t.Errorf("group B conn read %q, want \"for B\"", m.Buf[:m.N])
			}
			for name, c := range map[string]Conn{"peer": peer, "sender": sender} {
				if m := readOne(t, c, 5*time.Second); string(m.Buf[:m.N]) != "marker" {
					t.Errorf("%s on group A read %q, want \"marker\": datagrams of group B leak in", name, m.Buf[:m.N])
				}
			}
		})
	}
}

func TestUDPBatchRead(t *testing.T) {
	enterMulticastNetns(t)
	nw, err := NewUDP(Config{Iface: "lo"})
	if err != nil {
		t.Fatal(err)
	}
	c := mustListen(t, nw, testGroupA)
	if _, err := c.WriteBatch(seqPayloads(50), testGroupA); err != nil {
		t.Fatal(err)
	}
	ms := newMessages(64, 64)
	var got []uint64
	for len(got) < 50 {
		n, err := c.ReadBatch(ms)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, seqsOf(ms[:n])...)
		if n > 1 {
			t.Logf("recvmmsg returned %d datagrams at once", n)
		}
	}
	for i, s := range got {
		if s != uint64(i) {
			t.Fatalf("datagram %d carries %d", i, s)
		}
	}
}

func TestUDPBuffers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		recv, send int
		wantRecv   int // minimum granted
	}{
		{"defaults, forced past rmem_max as root", 0, 0, DefaultRecvBuffer},
		{"explicit", 1 << 20, 1 << 20, 1 << 20},
		{"os default", -1, -1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enterMulticastNetns(t)
			nw, err := NewUDP(Config{Iface: "lo", RecvBuffer: tc.recv, SendBuffer: tc.send})
			if err != nil {
				t.Fatal(err)
			}
			b := mustListen(t, nw, testGroupA).(*UDPConn).Buffers()
			if b.Recv < tc.wantRecv || b.Send <= 0 {
				t.Errorf("Buffers() = %+v, want Recv >= %d", b, tc.wantRecv)
			}
			if tc.recv < 0 && b.Clamped() {
				t.Errorf("OS-default buffers reported as clamped: %+v", b)
			}
		})
	}
}

func TestUDPErrors(t *testing.T) {
	enterMulticastNetns(t)
	lo := Config{Iface: "lo"}
	nw, err := NewUDP(lo)
	if err != nil {
		t.Fatal(err)
	}
	v4 := mustListen(t, nw, testGroupA)

	squatter, err := net.ListenUDP("udp4", &net.UDPAddr{Port: 47299}) // no SO_REUSEADDR
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()

	// The calls run here, on the goroutine inside the namespace; subtests
	// (other goroutines, the host namespace) only check the results.
	for _, tc := range []struct {
		name string
		run  func() error
		want error
		hint string // the message must name the cause
	}{
		{"unknown interface", func() error { _, err := NewUDP(Config{Iface: "nope0"}); return err }, ErrInterfaceNotFound, "nope0"},
		{"ttl out of range", func() error { _, err := NewUDP(Config{Iface: "lo", TTL: 256}); return err }, ErrInvalidConfig, "TTL"},
		{"unicast group", func() error { _, err := nw.Listen(netip.MustParseAddrPort("198.18.0.1:47250")); return err }, ErrNotMulticastGroup, "198.18.0.1"},
		{"port zero", func() error { _, err := nw.Listen(netip.MustParseAddrPort("239.255.72.250:0")); return err }, ErrNotMulticastGroup, "port"},
		{"port held without reuse", func() error { _, err := nw.Listen(netip.MustParseAddrPort("239.255.72.250:47299")); return err }, ErrPortInUse, "47299"},
		{"send across families", func() error {
			_, err := v4.WriteBatch(seqPayloads(1), netip.MustParseAddrPort("[ff12::1]:47250"))
			return err
		}, ErrNotMulticastGroup, "families"},
		{"send to unicast", func() error {
			_, err := v4.WriteBatch(seqPayloads(1), netip.MustParseAddrPort("127.0.0.1:47250"))
			return err
		}, ErrNotMulticastGroup, ""},
	} {
		err := tc.run()
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("error %q does not mention %q", err, tc.hint)
			}
		})
	}

	// Last, because it takes lo down for the rest of the test: no
	// interface is left at all.
	if err := setLoopbackFlags(0); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{lo, {}} {
		if _, err := NewUDP(cfg); !errors.Is(err, ErrNoMulticastInterface) || !strings.Contains(err.Error(), "multicast-capable") {
			t.Errorf("NewUDP(%+v) without an up interface: %v, want ErrNoMulticastInterface", cfg, err)
		}
	}
	if _, err := nw.Listen(testGroupB); !errors.Is(err, ErrNoMulticastInterface) {
		t.Errorf("Listen after lo went down: %v, want ErrNoMulticastInterface", err)
	}
}

func TestUDPCloseUnblocksReader(t *testing.T) {
	enterMulticastNetns(t)
	nw, err := NewUDP(Config{Iface: "lo"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := nw.Listen(testGroupA)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.ReadBatch(newMessages(8, 100))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // let it block in recvmmsg
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ReadBatch after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadBatch still blocked 5s after Close")
	}
	if _, err := c.WriteBatch(seqPayloads(1), testGroupA); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteBatch after Close: %v, want net.ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestUDPLogsNothingByDefaultAndWarnsWhenAsked(t *testing.T) {
	enterMulticastNetns(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	// A buffer larger than the kernel will grant even with FORCE
	// (SO_RCVBUFFORCE caps at INT_MAX/2).
	nw, err := NewUDP(Config{Iface: "lo", RecvBuffer: 1 << 30, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	b := mustListen(t, nw, testGroupA).(*UDPConn).Buffers()
	if b.Clamped() != strings.Contains(logs.String(), "net.core.rmem_max") {
		t.Errorf("Buffers %+v, clamped=%v, but log is %q", b, b.Clamped(), logs.String())
	}
}

func BenchmarkUDPLoopback(b *testing.B) {
	const batch, size = 32, 1200
	var tx, rx Conn
	inMulticastNetns(b, func() {
		nw, err := NewUDP(Config{Iface: "lo"})
		if err != nil {
			b.Fatal(err)
		}
		tx, err = nw.Listen(testGroupB)
		if err != nil {
			b.Fatal(err)
		}
		rx, err = nw.Listen(testGroupA)
		if err != nil {
			b.Fatal(err)
		}
	})
	b.Cleanup(func() { tx.Close(); rx.Close() })
	payloads := make([][]byte, batch)
	for i := range payloads {
		payloads[i] = make([]byte, size)
	}
	ms := newMessages(batch, size)
	udp := rx.(*UDPConn)
	b.SetBytes(batch * size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tx.WriteBatch(payloads, testGroupA); err != nil {
			b.Fatal(err)
		}
		udp.pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		for got := 0; got < batch; {
			n, err := rx.ReadBatch(ms)
			if err != nil {
				b.Fatalf("after %d of %d datagrams: %v", got, batch, err)
			}
			got += n
		}
	}
}

// A socket whose receive buffer overflows counts the datagrams the kernel
// dropped for it (SPEC.md §9, receive-queue drops), and a socket that kept
// up counts none.
func TestUDPDroppedCountsOverflow(t *testing.T) {
	enterMulticastNetns(t)
	nw, err := NewUDP(Config{Iface: "lo", RecvBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	slow := mustListen(t, nw, testGroupA).(*UDPConn)
	if n, ok := slow.Dropped(); !ok || n != 0 {
		t.Fatalf("fresh socket: Dropped = %d, %v; want 0, true", n, ok)
	}
	// One datagram a write: a batch would go out as one GSO train that
	// loopback delivers (and drops) as one GRO buffer, counted once.
	for range 500 {
		if _, err := slow.WriteBatch([][]byte{make([]byte, 1000)}, testGroupA); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	n, ok := slow.Dropped()
	for n == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		n, ok = slow.Dropped()
	}
	if !ok || n < 100 {
		t.Fatalf("500 datagrams into a 4 KB buffer, none read: Dropped = %d, %v; want most of them", n, ok)
	}
	t.Logf("kernel dropped %d of 500", n)
}
