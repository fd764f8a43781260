package node

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/user"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// Config says where a Node keeps its state and how it reaches the LAN.
// The zero Config is usable: default home, default name, IPv4 control
// group on the default port, real UDP on the system's default interface.
type Config struct {
	Home string // identity.DefaultHome() when ""
	Name string // display name on first creation (default: user@hostname)

	Iface string // interface name for multicast; "" lets the kernel choose
	TTL   int    // multicast hop limit; 1 (this link only) when 0
	IPv6  bool   // use protocol.ControlGroupV6 instead of ControlGroupV4
	// Group overrides the control group address (its family wins over
	// IPv6). It must be a multicast address.
	Group netip.Addr
	Port  int // protocol.DefaultPort when 0

	// Network, when non-nil, is used instead of real UDP (tests and the
	// demo pass a multicast.MemNet host).
	Network multicast.Network
	Logger  *slog.Logger // silent when nil
	// Peers are static peers (SPEC.md §5.2): hosts sent every beacon by
	// unicast too, so discovery works where multicast does not. At most
	// MaxStaticPeers; a zero port means the control port.
	Peers []netip.AddrPort
	// Unicast is where the unicast socket binds. Zero: the control
	// connection's source address and the control port (any free port
	// when that is taken), and only on real UDP; a MemNet Network has no
	// unicast unless this is set.
	Unicast netip.AddrPort
	Now     func() time.Time
}

// controlGroup resolves the control group and port from cfg.
func (cfg Config) controlGroup() (netip.AddrPort, error) {
	port := cfg.Port
	if port == 0 {
		port = protocol.DefaultPort
	}
	if port < 1 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("%w: port %d not in 1..65535", ErrConfig, port)
	}
	group := cfg.Group
	switch {
	case !group.IsValid() && cfg.IPv6:
		group = protocol.ControlGroupV6
	case !group.IsValid():
		group = protocol.ControlGroupV4
	case !group.IsMulticast():
		return netip.AddrPort{}, fmt.Errorf("%w: control group %s is not a multicast address (use 239.0.0.0/8 or ff1x::/16)", ErrConfig, group)
	}
	return netip.AddrPortFrom(group.Unmap(), uint16(port)), nil
}

// staticPeers checks cfg.Peers and fills in the control port.
func (cfg Config) staticPeers(control netip.AddrPort) ([]netip.AddrPort, error) {
	if len(cfg.Peers) > MaxStaticPeers {
		return nil, fmt.Errorf("%w: %d static peers, at most %d", ErrConfig, len(cfg.Peers), MaxStaticPeers)
	}
	out := make([]netip.AddrPort, 0, len(cfg.Peers))
	for _, p := range cfg.Peers {
		addr := p.Addr().Unmap()
		if !addr.IsValid() || addr.IsMulticast() || addr.IsUnspecified() {
			return nil, fmt.Errorf("%w: static peer %s is not a unicast address", ErrConfig, p)
		}
		if addr.Is6() != control.Addr().Is6() {
			return nil, fmt.Errorf("%w: static peer %s is not of the control group's family (%s)", ErrConfig, p, control.Addr())
		}
		port := p.Port()
		if port == 0 {
			port = control.Port()
		}
		out = append(out, netip.AddrPortFrom(addr, port))
	}
	return out, nil
}

// DefaultName is the display name a new identity gets when none is
// given: "user@hostname", cut to identity.MaxPeerNameLen bytes and
// stripped of control characters, or "herald" when neither is known.
func DefaultName() string {
	who := ""
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ := os.Hostname()
	name := who
	switch {
	case who != "" && host != "":
		name = who + "@" + host
	case host != "":
		name = host
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	for len(name) > identity.MaxPeerNameLen {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if strings.TrimSpace(name) == "" {
		return "herald"
	}
	return name
}
