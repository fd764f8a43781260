package node

import (
	"net/netip"
	"sync"

	"github.com/herald-lan/herald/multicast"
)

// lazyNetwork creates the UDP transport on the first Listen, so commands
// that never touch the network (id, trust, channel) work on a machine
// without a multicast interface. Its errors are wrapped with ErrNetwork
// by the Node methods that call it. Safe for concurrent use.
type lazyNetwork struct {
	cfg  multicast.Config
	once sync.Once
	net  multicast.Network
	err  error
}

func (l *lazyNetwork) Listen(group netip.AddrPort) (multicast.Conn, error) {
	l.once.Do(func() { l.net, l.err = multicast.NewUDP(l.cfg) })
	if l.err != nil {
		return nil, l.err
	}
	return l.net.Listen(group)
}
