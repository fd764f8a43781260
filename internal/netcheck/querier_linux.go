//go:build linux

package netcheck

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Membership query types: IGMP (all versions) and MLD.
const (
	igmpQuery = 0x11
	mldQuery  = 130
)

// querierListener records IGMP/MLD membership queries heard on a raw
// socket (root only). Safe for concurrent use.
type querierListener struct {
	is6  bool
	conn net.PacketConn
	mu   sync.Mutex
	from netip.Addr
	err  error
}

func listenQuerier(is6 bool) *querierListener {
	network, addr := "ip4:2", "0.0.0.0"
	if is6 {
		network, addr = "ip6:58", "::"
	}
	c, err := net.ListenPacket(network, addr)
	return &querierListener{is6: is6, conn: c, err: err}
}

// run reads until ctx ends.
func (q *querierListener) run(ctx context.Context) {
	if q.conn == nil {
		return
	}
	stop := context.AfterFunc(ctx, func() { q.conn.Close() })
	defer stop()
	want := byte(igmpQuery)
	if q.is6 {
		want = mldQuery
	}
	buf := make([]byte, 1500)
	for {
		n, src, err := q.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if n > 0 && buf[0] == want {
			if ip, ok := netip.AddrFromSlice(src.(*net.IPAddr).IP); ok {
				q.mu.Lock()
				q.from = ip.Unmap()
				q.mu.Unlock()
			}
		}
	}
}

func (q *querierListener) result(window time.Duration, is6 bool) Result {
	const check = "querier"
	proto := "IGMP"
	if is6 {
		proto = "MLD"
	}
	if q.err != nil {
		return warn(check, "run herald doctor as root (sudo) to listen for "+proto+" queries",
			"cannot listen for %s queries: %v", proto, q.err)
	}
	q.mu.Lock()
	from := q.from
	q.mu.Unlock()
	if from.IsValid() {
		return pass(check, "%s querier %s heard", proto, from)
	}
	return warn(check, "if peers vanish after a few minutes, ask the network admin for an "+proto+" querier on this VLAN (switch or router; Linux bridge: ip link set br0 type bridge mcast_querier 1), or to turn snooping off",
		"no %s querier heard within %v (queries come every ~125 s; --wait 130s to be sure): a snooping switch without a querier ages groups out", proto, window)
}
