package soak

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// The attacker of TestSoakHostileLAN runs as this test binary re-executed
// in its own namespace (HERALD_SOAK_ATTACKER=seconds): for that long it
// sends, every millisecond or so, a beacon signed by a fresh key, a
// random datagram to the control group, and for every push it has seen
// announced, a status from a fresh key NACKing every block it names and
// a random datagram to the push's data group. It prints its totals on
// exit.

const attackerEnv = "HERALD_SOAK_ATTACKER"

func runAttacker(seconds string) int {
	d, err := time.ParseDuration(seconds)
	if err != nil {
		fmt.Fprintln(os.Stderr, "attacker:", err)
		return 2
	}
	control := netip.AddrPortFrom(protocol.ControlGroupV4, protocol.DefaultPort)
	ifi, err := net.InterfaceByName("eth0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "attacker:", err)
		return 2
	}
	in, err := net.ListenMulticastUDP("udp4", ifi, net.UDPAddrFromAddrPort(control))
	if err != nil {
		fmt.Fprintln(os.Stderr, "attacker:", err)
		return 2
	}
	defer in.Close()
	out, err := net.ListenUDP("udp4", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "attacker:", err)
		return 2
	}
	defer out.Close()
	announces := make(chan protocol.Announce, 16)
	go sniffAnnounces(in, announces)

	var keys, junk, nacks int
	sessions := map[protocol.SessionID]protocol.Announce{}
	send := func(pkt []byte, to netip.AddrPort) {
		out.WriteToUDPAddrPort(pkt, to)
	}
	deadline := time.Now().Add(d)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		select {
		case a := <-announces:
			if len(sessions) < 64 {
				sessions[a.Session] = a
			}
		case <-tick.C:
		}
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		signer := protocol.NewSigner(priv)
		var box [32]byte
		rand.Read(box[:])
		pkt, _ := signer.Append(nil, protocol.Beacon{BoxKey: box, Offers: protocol.OfferReceive, Name: fmt.Sprintf("teacher%d", keys%7)})
		send(pkt, control)
		keys++
		send(randomDatagram(), control)
		junk++
		for _, a := range sessions {
			data, fb := protocol.SessionGroups(control.Addr(), a.Session)
			st := protocol.Status{Session: a.Session, State: protocol.StateReceiving}
			for b := range min(a.Blocks, protocol.MaxNacks) {
				st.Nacks = append(st.Nacks, protocol.Nack{Block: b})
			}
			pkt, _ := signer.Append(nil, st)
			send(pkt, netip.AddrPortFrom(fb, control.Port()))
			send(randomDatagram(), netip.AddrPortFrom(data, control.Port()))
			nacks++
			junk++
		}
	}
	fmt.Printf("attacker: %d fresh keys, %d random datagrams, %d fake NACK statuses, %d sessions\n", keys, junk, nacks, len(sessions))
	return 0
}

func sniffAnnounces(c *net.UDPConn, out chan<- protocol.Announce) {
	buf := make([]byte, protocol.MaxDatagram)
	for {
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		p, err := protocol.ParseSigned(buf[:n])
		if err != nil || p.Type != protocol.TypeAnnounce {
			continue
		}
		if a, err := protocol.ParseAnnounce(p.Body); err == nil {
			select {
			case out <- a:
			default:
			}
		}
	}
}

func randomDatagram() []byte {
	n, _ := rand.Int(rand.Reader, big.NewInt(1400))
	b := make([]byte, n.Int64()+1)
	rand.Read(b)
	if n.Int64()%2 == 0 && len(b) > 8 {
		copy(b, protocol.AppendHeader(nil, protocol.TypeBeacon)) // a valid header, junk after it
	}
	return b
}
